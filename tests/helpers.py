"""Shared test helpers: running the commands, reading what the show wrote, judging errors."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tests.conftest import REPO


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


def assert_user_error(code: int, stderr: str, *words: str, argparse_ok: bool = False) -> str:
    """Exit code 2, no traceback, one ``error: <sentence>`` last line holding ``words``.

    With ``argparse_ok`` the line may also be argparse's own ``prog: error: ...``. Returns the
    line.
    """
    assert code == 2, (code, stderr[-2000:])
    assert "Traceback" not in stderr, stderr[-2000:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    last = lines[-1]
    assert ("error: " in last) if argparse_ok else last.startswith("error: "), stderr[-2000:]
    for word in words:
        assert word in last, (word, last)
    return last


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str,
                          argparse_ok: bool = False) -> str:
    """:func:`assert_user_error` on a finished subprocess."""
    return assert_user_error(result.returncode, result.stderr, *words, argparse_ok=argparse_ok)


class RememberingRuntime:
    """A real GeneratorRuntime that keeps every painting it made (to compare with a replay)."""

    def __init__(self, runtime) -> None:
        self.runtime, self.images = runtime, []

    def __getattr__(self, name):
        return getattr(self.runtime, name)

    def generate(self, steering, noise=None):
        """The runtime's painting, remembered."""
        self.images.append(self.runtime.generate(steering, noise))
        return self.images[-1]


def ignore_sigint() -> None:
    """As a background job of a shell script starts: with SIGINT ignored, inherited."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def catches_sigint(pid: int) -> bool:
    """Whether process ``pid`` has a handler for SIGINT (Linux: its ``SigCgt`` mask)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> 1 & 1)  # bit n-1 stands for signal n
    return False


def interrupt_when(process: subprocess.Popen, ready, wait_s: float = 60) -> str:
    """Send SIGINT once ``ready()`` holds (or after ``wait_s``); the stderr after it exits.

    A process still running a minute after the signal is killed (its return code then says so).
    """
    try:
        deadline = time.monotonic() + wait_s
        while process.poll() is None and not ready() and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        return process.communicate(timeout=60)[1]
    finally:
        if process.poll() is None:
            process.kill()
