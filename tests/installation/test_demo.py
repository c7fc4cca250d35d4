from __future__ import annotations

import csv
import os
import subprocess
import sys

import numpy as np
import pygame
import pytest

from installation.demo import EXCERPT, EXCERPT_PROFILE, demo_options, display_available
from installation.eeg.profile import check_profile_fits, load_profile
from installation.eeg.sources.files.recordings import load_recording
from tests.conftest import REPO

DEFAULT_GRAPH = REPO / "assets" / "default" / "generator.onnx"
SETTLE_S = 5.0  # the steering's slow baseline follows a new state within a few seconds


def test_no_display_means_headless(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("DISPLAY", ":0")
    assert not display_available()
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    assert display_available()
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not display_available()
    options = demo_options(4, windowed=False, out="somewhere")
    assert options.headless and options.frames_out == "somewhere" and options.duration == 4
    assert options.source == f"file:{EXCERPT}" and options.profile == str(EXCERPT_PROFILE)
    assert demo_options(None, windowed=False, out="x").duration is None  # the excerpt, once
    synthetic = demo_options(None, windowed=False, out="x", source="synthetic")
    assert synthetic.source == "synthetic" and synthetic.profile is None
    assert synthetic.duration == 20  # a source that never ends: 20 s headless


def test_windowed_demo_loops_the_excerpt_until_quit(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    monkeypatch.setenv("DISPLAY", ":0")
    options = demo_options(None, windowed=False, out="unused")
    assert options.duration is None and options.fullscreen and not options.headless
    assert options.source == f"file:{EXCERPT},loop=1"


def test_the_excerpt_is_small_real_eeg_its_profile_fits():
    assert EXCERPT.stat().st_size < 400_000 and (EXCERPT.parent / "CREDITS.md").is_file()
    recording = load_recording(EXCERPT)
    assert recording.n_samples / recording.sample_rate > 40
    assert [a.description for a in recording.annotations] == ["eyes open", "eyes closed"]
    assert 5 < np.std(recording.data) < 200  # microvolts of a scalp, not a test signal
    check_profile_fits(load_profile(EXCERPT_PROFILE), recording.info)  # raises if it does not


def run_demo(out, *args: str) -> subprocess.CompletedProcess:
    """``python -m installation.demo`` headless (no display), into ``out``."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["SDL_VIDEODRIVER"] = "dummy"
    return subprocess.run([sys.executable, "-m", "installation.demo", "--out", str(out), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def test_demo_renders_headless_and_says_where(tmp_path):
    if not DEFAULT_GRAPH.is_file():
        pytest.skip("the default bundle assets/default has not been built")
    out = tmp_path / "demo-frames"
    result = run_demo(out, "--seconds", "3")
    assert result.returncode == 0, result.stderr
    assert f"into {out}" in result.stdout
    assert "fps" in result.stdout and "keyframes/s" in result.stdout
    assert (out / "frames.csv").is_file()
    assert list(out.glob("frame-*.png"))


def settled_frames(folder) -> dict[str, list[np.ndarray]]:
    """Saved frames per caption, pooled to 128 px, leaving out each state's first seconds."""
    with open(folder / "frames.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    onsets: dict[str, float] = {}
    frames: dict[str, list[np.ndarray]] = {}
    for row in rows:
        caption, eeg_time = row["caption"], float(row["eeg_time"])
        png = folder / f"frame-{int(row['frame']):06d}.png"
        if not caption:
            continue
        onsets.setdefault(caption, eeg_time)
        if png.is_file() and eeg_time >= onsets[caption] + SETTLE_S:
            image = pygame.surfarray.array3d(pygame.image.load(str(png))).astype(np.float32)
            frames.setdefault(caption, []).append(pooled(image))
    return frames


def pooled(image: np.ndarray, size: int = 128) -> np.ndarray:
    """An image average-pooled to ``size`` px (the painting's shape and colour, not its grain)."""
    factor = image.shape[0] // size
    return image[:size * factor, :size * factor].reshape(size, factor, size, factor, 3).mean((1, 3))


def mean_distance(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """RMS distance (0-255) between the mean images of two sets."""
    return float(np.sqrt(((np.mean(a, 0) - np.mean(b, 0)) ** 2).mean()))


def test_the_demo_paints_eyes_open_and_eyes_closed_apart(tmp_path):
    """The brain's point, held: the two states' mean paintings lie at least three times farther
    apart than the two halves of one state (a model that loses it fails here)."""
    if not DEFAULT_GRAPH.is_file():
        pytest.skip("the default bundle assets/default has not been built")
    out = tmp_path / "demo-frames"
    result = run_demo(out)
    assert result.returncode == 0, result.stderr
    assert "The recording says 'eyes open'" in result.stderr
    assert "The recording says 'eyes closed'" in result.stderr
    assert (out / "strip.png").is_file() and "strip:" in result.stdout
    frames = settled_frames(out)
    opened, closed = frames["eyes open"], frames["eyes closed"]
    assert len(opened) >= 6 and len(closed) >= 6
    between = mean_distance(opened, closed)
    halves = [mean_distance(s[:len(s) // 2], s[len(s) // 2:]) for s in (opened, closed)]
    assert between >= 3 * float(np.mean(halves)), (between, halves)
