"""The groups of figures ``make bench`` measures, each run in a process of its own."""

from __future__ import annotations

import sys


def generator_figures(threads: int, frames: int) -> dict:
    """ONNX Runtime vs torch eager on the default bundle, and its GFLOP per frame."""
    from benchmarks.generator_bench import ort_ms_per_frame, torch_ms_per_frame
    from benchmarks.roofline import generator_gflop_per_frame
    from installation.bundle import BundleSpec, resolve_bundle_paths
    from installation.config import DEFAULT_MODEL

    onnx_path, json_path = resolve_bundle_paths(DEFAULT_MODEL)
    spec = BundleSpec.load(json_path)
    onnx_ms, onnx_best_ms = ort_ms_per_frame(onnx_path, spec, threads, frames)
    torch_ms = torch_ms_per_frame(spec, threads, frames)
    gflop = generator_gflop_per_frame(spec)
    return {
        "resolution": spec.resolution,
        "generator_ms_onnx": onnx_ms,
        "generator_ms_torch": torch_ms,
        "onnx_speedup_over_torch": torch_ms / onnx_ms if torch_ms else None,
        "generator_gflop_per_frame": gflop,
        "generator_ms_onnx_fastest": onnx_best_ms,
        "generator_gflops_onnx": gflop / (onnx_ms / 1e3),
        # the matrix-multiply peak is a fastest run too: compare like with like
        "generator_gflops_onnx_fastest": gflop / (onnx_best_ms / 1e3),
    }


def matmul_figures() -> dict:
    """The machine's float32 matrix-multiply roofline (best of NumPy and ONNX Runtime)."""
    from benchmarks.roofline import matmul_gflops

    return {"matmul_gflops": matmul_gflops()}


def show_figures(seconds: float) -> dict:
    """Display fps, keyframes per second and latency on the synthetic board."""
    from benchmarks.show_bench import display_rates, keyframe_latencies

    return {**display_rates(seconds), **keyframe_latencies(seconds)}


def features_figures() -> dict:
    """Filter and features in multiples of real time on the 64-channel recording."""
    from benchmarks.features_bench import DEFAULT_PATH, features_realtime_factor

    if not DEFAULT_PATH.exists():
        print(f"skipped features: {DEFAULT_PATH} is absent", file=sys.stderr)
        return {"features_realtime_factor": None}
    return {"features_realtime_factor": features_realtime_factor(DEFAULT_PATH)}


def training_figures(steps: int) -> dict:
    """Images per second of the tiny training configuration (one torch thread, see README)."""
    import torch

    from benchmarks.train_bench import sec_per_kimg
    from models.configs import CONFIGS

    torch.set_num_threads(1)
    cfg = CONFIGS["tiny"]
    seconds = sec_per_kimg("tiny", cfg.resolution, cfg.batch, steps)
    return {"train_tiny_sec_per_kimg": seconds, "train_tiny_img_per_s": 1000.0 / seconds}
