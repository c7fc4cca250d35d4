"""Milliseconds per frame of a model bundle: ONNX Runtime (what the show runs) vs torch eager.

Run: ``.venv/bin/python -m benchmarks.generator_bench [BUNDLE] [--threads N] [--frames N]``

The torch figure is for a generator of the bundle's architecture (``network`` in its
provenance) with seeded random weights: the work per frame does not depend on the weights' values.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from installation.bundle import BundleSpec, resolve_bundle_paths
from installation.config import DEFAULT_MODEL
from models.bundles.checkpoint import generator_from_kwargs
from models.bundles.generator_export import Uint8ImageGraph, frozen_copy
from models.networks import Generator


def frame_ms(render, frames: int, warmup: int = 3) -> tuple[float, float]:
    """(median, fastest) wall-clock milliseconds of ``render()`` over ``frames`` calls."""
    for _ in range(warmup):
        render()
    times = []
    for _ in range(frames):
        start = time.perf_counter()
        render()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3), float(np.min(times) * 1e3)


def ort_ms_per_frame(onnx_path: Path, spec: BundleSpec, threads: int,
                     frames: int) -> tuple[float, float]:
    """ONNX Runtime (CPU provider), batch 1: (median, fastest) ms per frame."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    feeds = {"features": np.random.randn(1, spec.feature_spec.n_features).astype(np.float32),
             "noise": np.random.randn(1, spec.noise_dim).astype(np.float32)}
    return frame_ms(lambda: sess.run(None, feeds), frames)


def generator_like(spec: BundleSpec) -> Generator | None:
    """A torch generator with the bundle's architecture (seeded weights); None if unrecorded."""
    network = spec.provenance.get("network")
    if network is None:
        return None
    torch.manual_seed(0)
    return generator_from_kwargs(network)


def torch_ms_per_frame(spec: BundleSpec, threads: int, frames: int) -> float | None:
    """torch eager on a generator of the bundle's architecture, uint8 output included."""
    generator = generator_like(spec)
    if generator is None:
        return None
    torch.set_num_threads(threads)
    graph = Uint8ImageGraph(frozen_copy(generator))
    features = torch.randn(1, spec.feature_spec.n_features)
    noise = torch.randn(1, spec.noise_dim)
    with torch.inference_mode():
        return frame_ms(lambda: graph(features, noise), frames)[0]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bundle", nargs="?", default=str(DEFAULT_MODEL))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()
    onnx_path, json_path = resolve_bundle_paths(args.bundle)
    spec = BundleSpec.load(json_path)
    ort_ms, _ = ort_ms_per_frame(onnx_path, spec, args.threads, args.frames)
    print(f"bundle {args.bundle}: {spec.resolution} px, {onnx_path.stat().st_size / 1e6:.1f} MB")
    print(f"onnxruntime CPU, {args.threads} threads: {ort_ms:.1f} ms/frame "
          f"({1e3 / ort_ms:.1f} keyframes/s; target >= 8)")
    torch_ms = torch_ms_per_frame(spec, args.threads, args.frames)
    if torch_ms is not None:
        print(f"torch eager, {args.threads} threads: {torch_ms:.1f} ms/frame "
              f"(torch eager / onnxruntime = {torch_ms / ort_ms:.2f})")


if __name__ == "__main__":
    main()
