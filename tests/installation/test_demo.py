from __future__ import annotations

import os
import subprocess
import sys

import pytest

from installation.demo import demo_options, display_available
from tests.conftest import REPO


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
    assert options.source == "synthetic"
    assert demo_options(None, windowed=False, out="x").duration == 20  # headless default


def test_windowed_demo_runs_until_quit(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    monkeypatch.setenv("DISPLAY", ":0")
    options = demo_options(None, windowed=False, out="unused")
    assert options.duration is None and options.fullscreen and not options.headless


def test_demo_renders_headless_and_says_where(tmp_path):
    if not (REPO / "assets" / "default" / "generator.onnx").is_file():
        pytest.skip("the default bundle assets/default has not been built")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["SDL_VIDEODRIVER"] = "dummy"
    out = tmp_path / "demo-frames"
    result = subprocess.run([sys.executable, "-m", "installation.demo", "--seconds", "3",
                             "--out", str(out)], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    assert f"into {out}" in result.stdout
    assert "fps" in result.stdout and "keyframes/s" in result.stdout
    assert (out / "frames.csv").is_file()
    assert list(out.glob("frame-*.png"))
