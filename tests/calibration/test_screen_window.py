"""The operator's screen in a real X window (Xvfb): countdown, failure colour, repeat, tones, F.

A real recording with the eyes open in both steps fails the eyes-closed check: what the screen
shows when the artist did not close their eyes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from installation.eeg.baseline.quality import ChannelQuality, QualityThresholds
from installation.eeg.baseline.verdicts import channel_figure, quality_advice
from tests.conftest import REPO
from tests.installation.screen.test_screenshot import xvfb_display  # noqa: F401 - a fixture


def test_walk_through_the_steps_in_a_real_window(xvfb_display, eyes_open_edf,  # noqa: F811
                                                 tmp_path):
    env = dict(os.environ, SDL_VIDEODRIVER="x11", DISPLAY=xvfb_display, PYTHONPATH=str(REPO))
    child = subprocess.run([sys.executable, "-m", "tests.calibration.screen_walk",
                            str(eyes_open_edf), str(tmp_path)], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr[-3000:]
    seen = json.loads(child.stdout.strip().splitlines()[-1])
    countdown = seen["baseline_countdown"]
    assert countdown[0] == 4 and countdown == sorted(countdown, reverse=True)
    assert {4, 3, 2, 1} <= set(countdown)  # every second of the 4 s step is shown
    assert seen["progress_between_steps"] == 0.0  # the next step's bar starts empty
    assert "eyes-closed alpha" in seen["verdict"] and "(limit x1.5" in seen["verdict"]
    assert seen["verdict"].endswith("failed")
    assert "O1" in seen["advice"][0] and "press R to repeat" in seen["advice"][0]
    assert seen["failure_pixels"] > 500  # the verdict and the next step in the failure colour
    assert seen["bell"] == ["start", "end"]  # the eyes-closed step began and ended with a tone
    assert seen["written"] == ["profile.json", "quality.json", "quality.png"]
    assert seen["after_repeat"] == ["waiting", "eyes_closed", True, 0]  # R: the verdict goes
    assert seen["repeat_recording"]
    assert seen["bell_after_repeat"] == ["start", "end", "start", "end"]
    assert seen["window"] == [1280, 720] and seen["scale"] == 1.0
    assert seen["fullscreen"] == [True, 1024, 768]  # F: the whole X screen
    assert abs(seen["fullscreen_scale"] - 768 / 720) < 1e-6  # the text grew with it


def test_every_figure_says_its_limit_and_the_advice_names_the_channels():
    t = QualityThresholds()
    hum = [ChannelQuality(name, "line_noise", 20.0, 0.0, 0.0, 15.0, 0.0, -0.91)
           for name in ("O1", "O2")]
    loud = ChannelQuality("Fp1", "noisy", 140.0, 0.0, 0.0, 140.0, 0.0, -0.05)
    assert channel_figure(hum[0], t) == "line noise -0.91 (limit -0.3)"
    assert channel_figure(loud, t) == "rms 140 µV (limit 100 µV)"

    class Report:
        channels = (*hum, loud)

    advice = quality_advice(Report())
    assert advice == [
        "check Fp1 contact and ask the artist to sit still, then press R to repeat",
        "check O1 and O2 contact and move cables away from mains power, then press R to repeat",
    ]


def test_the_bell_is_silent_without_an_audio_device():
    script = ("from calibration.tones import StepBell\n"
              "b = StepBell(); b.ring('start'); b.ring('end'); b.close()\n"
              "print(b.played, b.enabled)")
    env = dict(os.environ, SDL_AUDIODRIVER="no_such_audio_driver", PYTHONPATH=str(REPO))
    child = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["['start',", "'end']", "False"]
