"""``make bench``: every speed figure of the project, measured in one run.

Prints one line per figure as it is measured, then, as the last line, one JSON object with all
of them (the keys issue #8 names, plus a few more). Targets on a 2-core machine are printed
beside the figures; nothing here asserts them.

Run: ``SDL_VIDEODRIVER=dummy .venv/bin/python -m benchmarks [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

TARGETS = {
    "onnx_speedup_over_torch": (">=", 1.2),
    "roofline_fraction": (">=", 0.70),
    "display_fps": (">=", 55.0),
    "keyframes_per_s": (">=", 8.0),
    "latency_ms_p95": ("<", 150.0),
    "features_realtime_factor": (">=", 1000.0),
}


def generator_figures(threads: int, frames: int) -> dict:
    """ONNX Runtime vs torch eager on the default bundle, its GFLOP per frame, the roofline."""
    from benchmarks.generator_bench import ort_ms_per_frame, torch_ms_per_frame
    from benchmarks.roofline import generator_gflop_per_frame, matmul_gflops
    from installation.bundle import BundleSpec, resolve_bundle_paths
    from models.default_bundle import DEFAULT_OUT

    onnx_path, json_path = resolve_bundle_paths(DEFAULT_OUT)
    spec = BundleSpec.load(json_path)
    onnx_ms = ort_ms_per_frame(onnx_path, spec, threads, frames)
    torch_ms = torch_ms_per_frame(spec, threads, frames)
    gflop = generator_gflop_per_frame(spec)
    peak = matmul_gflops()
    return {
        "resolution": spec.resolution,
        "generator_ms_onnx": onnx_ms,
        "generator_ms_torch": torch_ms,
        "onnx_speedup_over_torch": torch_ms / onnx_ms if torch_ms else None,
        "matmul_gflops": peak,
        "generator_gflop_per_frame": gflop,
        "generator_gflops_onnx": gflop / (onnx_ms / 1e3),
        "roofline_fraction": gflop / (onnx_ms / 1e3) / peak,
    }


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


def verdicts(figures: dict) -> dict:
    """For each target: whether the figure meets it (None when not measured)."""
    out = {}
    for key, (op, bound) in TARGETS.items():
        value = figures.get(key)
        out[key] = None if value is None else (value >= bound if op == ">=" else value < bound)
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure, print each figure, and end with the JSON object."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs, noisier figures")
    args = parser.parse_args(argv)
    figures: dict = {"cpu_count": os.cpu_count()}
    figures.update(features_figures())
    figures.update(generator_figures(threads=os.cpu_count() or 1, frames=10 if args.quick else 40))
    figures.update(show_figures(seconds=5.0 if args.quick else 15.0))
    figures.update(training_figures(steps=4 if args.quick else 12))
    met = verdicts(figures)
    for key, value in figures.items():
        target = TARGETS.get(key)
        note = f"  (target {target[0]} {target[1]:g}: {'met' if met[key] else 'NOT met'})" \
            if target and value is not None else ""
        print(f"{key}: {value:.4g}{note}" if isinstance(value, float) else f"{key}: {value}")
    figures["targets_met"] = met
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
