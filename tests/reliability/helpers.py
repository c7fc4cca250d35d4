"""Shared helpers of the reliability tests: running the show and reading what it wrote."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def show_env() -> dict:
    """The environment for a show subprocess: no display, no sound, repo importable."""
    return dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
                PYTHONPATH=str(REPO))


def run_module(module: str, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m module args`` in the repository, captured."""
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=REPO,
                          env=show_env(), capture_output=True, text=True, timeout=timeout)


def read_frames(folder: Path) -> list[dict]:
    """Rows of a headless run's frames.csv."""
    with open(folder / "frames.csv", newline="") as f:
        return list(csv.DictReader(f))


def largest_gap(rows: list[dict]) -> float:
    """The longest time between consecutive frames of frames.csv, in seconds."""
    times = [float(r["time_s"]) for r in rows]
    return float(np.diff(times).max()) if len(times) > 1 else 0.0


def assert_one_line_error(result: subprocess.CompletedProcess) -> str:
    """Exit code 2, no traceback, an ``error:`` last line; return that line."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    assert "error: " in lines[-1], result.stderr[-2000:]  # ours, or argparse's "prog: error:"
    return lines[-1]
