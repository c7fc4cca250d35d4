"""The show in a real X window under Xvfb: what the window shows is a painting, not black."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pygame
import pytest

from tests.conftest import REPO
from tests.installation.tiny_bundle import write_tiny_bundle

# Runs the CLI in a window and presses S once the show is under way (SDL's event queue is
# thread-safe), so the app saves what its window shows.
SHOW_SCRIPT = """
import sys, threading, time
import pygame
from installation.cli import main

def press_s():
    time.sleep(float(sys.argv[1]))
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_s, mod=0, unicode="s"))

threading.Thread(target=press_s, daemon=True).start()
sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture
def xvfb_display():
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not on PATH (apt-get install xvfb)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()  # Xvfb picks a free display and writes its number
    if not number:
        server.kill()
        pytest.skip("Xvfb did not start")
    yield f":{number}"
    server.terminate()
    server.wait(10)


def xwd_pixels(display: str) -> np.ndarray | None:
    """The whole X screen as (H, W, 3 or 4) bytes via `xwd -root`, None without xwd."""
    if shutil.which("xwd") is None:
        return None
    raw = subprocess.run(["xwd", "-root", "-silent", "-display", display],
                         capture_output=True, timeout=30, check=True).stdout
    header = np.frombuffer(raw[:100], ">u4")
    header_size, width, height = int(header[0]), int(header[4]), int(header[5])
    bytes_per_pixel, bytes_per_line = int(header[11]) // 8, int(header[12])
    n_colors = int(header[19])
    assert bytes_per_pixel in (3, 4)
    start = header_size + 12 * n_colors
    data = np.frombuffer(raw[start:start + height * bytes_per_line], np.uint8)
    rows = data.reshape(height, bytes_per_line)[:, : bytes_per_pixel * width]
    return rows.reshape(height, width, bytes_per_pixel)


def centre(pixels: np.ndarray, fraction: float = 0.3) -> np.ndarray:
    h, w = pixels.shape[:2]
    dh, dw = int(h * fraction / 2), int(w * fraction / 2)
    return pixels[h // 2 - dh: h // 2 + dh, w // 2 - dw: w // 2 + dw, :3]


def test_window_shows_a_painting(xvfb_display, tmp_path):
    bundle = write_tiny_bundle(tmp_path / "tiny", size=64)
    snapshots = tmp_path / "snapshots"
    env = dict(os.environ, SDL_VIDEODRIVER="x11", DISPLAY=xvfb_display)
    show = subprocess.Popen(
        [sys.executable, "-c", SHOW_SCRIPT, "3", "--source", "synthetic", "--model", str(bundle),
         "--windowed", "--duration", "6", "--snapshots", str(snapshots)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(4.5)  # let the window fill (not a timed assertion: the show runs 6 s)
        screen = xwd_pixels(xvfb_display)
        stdout, stderr = show.communicate(timeout=120)
    finally:
        if show.poll() is None:
            show.kill()
    assert show.returncode == 0, stderr
    saved = sorted(snapshots.glob("snapshot-eeg*.png"))
    assert len(saved) == 1, stdout + stderr
    painting = pygame.surfarray.array3d(pygame.image.load(str(saved[0]))).swapaxes(0, 1)
    assert painting.shape[:2] == (64, 64)  # S saves the painting at its own size
    assert centre(painting).std() > 20
    if screen is not None:  # the X server's own view of the screen, when xwd is installed
        assert centre(screen).std() > 20
