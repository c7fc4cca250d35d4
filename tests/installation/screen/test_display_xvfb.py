"""Fit and fill as the X server shows them (Xvfb, fullscreen), on both drawing paths."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO
from tests.installation.screen.test_screenshot import xvfb_display, xwd_pixels  # noqa: F401 - a fixture

MAT = (40, 90, 160)

# The show's DisplayLoop fullscreen on a red-and-green painting (no blue, far from the mat),
# then the X server's own picture of the screen, taken while the window is open.
SCRIPT = """
import sys
import numpy as np
from installation.screen.display import DisplayLoop
from installation.screen.hud import ShowStatus
from installation.engine.steering import Keyframe
from tests.installation.screen.test_screenshot import xwd_pixels

mode, path, out = sys.argv[1:4]
rng = np.random.default_rng(0)
image = np.zeros((256, 256, 3), np.uint8)
image[..., 0] = rng.integers(150, 256, (256, 256))
image[..., 1] = rng.integers(0, 100, (256, 256))
zeros = np.zeros(1, np.float32)
frames = [Keyframe(image, 1.0, 0.0, 0.0, zeros, zeros)]
display = DisplayLoop(lambda: frames.pop() if frames else None, ShowStatus("test", "cpu"),
                      fullscreen=True, fps=30, mode=mode, mat="#285aa0", path=path)
display.open()
for _ in range(10):
    display.step()
print(display.screen.name, *display.screen_size)
np.save(out, xwd_pixels(sys.argv[4]))
display.close()
"""


@pytest.mark.parametrize("path", ["auto", "renderer"])
@pytest.mark.parametrize("mode", ["fit", "fill"])
def test_the_x_screen_shows_the_mat_only_in_fit(xvfb_display, tmp_path, mode, path):  # noqa: F811
    if shutil.which("xwd") is None:
        pytest.skip("xwd is not on PATH (apt-get install x11-apps)")
    out = tmp_path / "screen.npy"
    env = dict(os.environ, SDL_VIDEODRIVER="x11", DISPLAY=xvfb_display)
    child = subprocess.run([sys.executable, "-c", SCRIPT, mode, path, str(out), xvfb_display],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    name, width, height = child.stdout.split()
    assert name in (("surface", "renderer") if path == "auto" else (path,))
    screen = np.load(out)[..., 2::-1]  # xwd gives BGRX
    assert screen.shape[:2] == (int(height), int(width)) == (768, 1024)
    mat = np.all(screen == MAT, axis=-1)
    centre = screen[384 - 100: 384 + 100, 512 - 100: 512 + 100]
    assert centre[..., 0].min() > 120 and not np.all(centre == MAT, axis=-1).any()
    if mode == "fit":  # a square painting on 4:3: bars of (1024 - 768) / 2 = 128 px each side
        assert mat[:, :128].all() and mat[:, -128:].all()
        assert not mat[:, 130:-130].any()
    else:
        assert not mat.any()
