"""The live show's figures on BrainFlow's synthetic board with the bundled model.

Display frames per second with keyframe blending in a real pygame window (SDL's dummy driver
where there is no screen), keyframes per second, and latency from a sample's arrival to the
frame showing the keyframe it shaped (headless run, from ``frames.csv``).

Run: ``SDL_VIDEODRIVER=dummy .venv/bin/python -m benchmarks.show_bench``
"""

from __future__ import annotations

import csv
import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from installation.app import run_show
from installation.config import ShowOptions, validate


def display_rates(seconds: float = 10.0, model: str | None = None) -> dict:
    """Frames and keyframes per second of the windowed show on the synthetic board."""
    options = ShowOptions(duration=seconds, fullscreen=False)
    if model:
        options = dataclasses.replace(options, model=model)
    summary = run_show(validate(options))
    return {"display_fps": summary.fps, "keyframes_per_s": summary.keyframes_per_s}


def keyframe_latencies(seconds: float = 10.0, model: str | None = None) -> dict:
    """p50 and p95 of arrival-to-frame latency over the keyframes of a headless live run."""
    with tempfile.TemporaryDirectory() as out:
        options = ShowOptions(duration=seconds, headless=True, frames_out=out, frame_every=0)
        if model:
            options = dataclasses.replace(options, model=model)
        run_show(validate(options))
        latencies = _keyframe_latencies(Path(out) / "frames.csv")
    return {
        "latency_ms_p50": float(np.percentile(latencies, 50)),
        "latency_ms_p95": float(np.percentile(latencies, 95)),
        "latency_keyframes": int(latencies.size),
    }


def _keyframe_latencies(frames_csv: Path) -> np.ndarray:
    """``latency_ms`` of the rows where a new keyframe is first shown."""
    with open(frames_csv, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["keyframe"] == "1"]
    return np.array([float(r["latency_ms"]) for r in rows])


if __name__ == "__main__":
    figures = {**display_rates(), **keyframe_latencies()}
    for key, value in figures.items():
        print(f"{key} {value:.1f}")
