"""A kiosk starts before the headset: the show paints on its own, then connects when it appears.

A real pylsl outlet on loopback appears two seconds after the show started (headless, and in a
real X window under Xvfb); the show must not exit, must paint meanwhile and must then listen.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid

import numpy as np
import pylsl
import pytest

from tests.conftest import REPO
from tests.helpers import assert_one_line_error, read_frames, show_env
from tests.installation.screen.test_screenshot import xvfb_display, xwd_pixels  # noqa: F401 - a fixture
from tests.installation.tiny_bundle import write_tiny_bundle

LABELS = ["Fp1", "Fp2", "C3", "C4", "P3", "P4", "O1", "O2"]
RATE = 250.0
OUTLET_AFTER_S = 1.0  # after the show said it waits (its next try comes 0.5 s later, then 1 s)


def stream_eeg(name: str, stop: threading.Event) -> None:
    """Open an EEG outlet and stream a 10 Hz sine in real time until stopped."""
    info = pylsl.StreamInfo(name, "EEG", len(LABELS), RATE, pylsl.cf_float32, name)
    info.set_channel_labels(LABELS)
    outlet = pylsl.StreamOutlet(info)
    sent, started = 0, time.perf_counter()
    while not stop.is_set():
        due = int((time.perf_counter() - started) * RATE)
        t = np.arange(sent, due) / RATE
        if len(t):
            chunk = 20 * np.sin(2 * np.pi * 10 * t)[:, None] * np.ones(len(LABELS))
            outlet.push_chunk(np.ascontiguousarray(chunk, np.float32))
        sent = due
        stop.wait(0.02)


def run_until_it_appears(spec: str, args: list, env: dict, appear,
                         look=lambda moment: None) -> tuple[int, str, str]:
    """Start the show on ``spec``; once it says it waits, wait a while more, then ``appear()``.

    ``appear`` is called with a stop event set when the show has ended; ``look`` is called
    with ``"waiting"`` just before the source appears and ``"connected"`` a second after the
    show said it connected. Returns the exit code, stdout and stderr of the show.
    """
    show = subprocess.Popen([sys.executable, "-m", "installation", "--source", spec,
                             *map(str, args)], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    stop, waiting, connected, errors = (threading.Event(), threading.Event(), threading.Event(),
                                        [])

    def read_errors() -> None:
        for line in show.stderr:
            errors.append(line)
            if "waiting for the EEG source" in line:
                waiting.set()
            if "Connected to" in line:
                connected.set()

    reader = threading.Thread(target=read_errors, daemon=True)
    reader.start()
    source = threading.Thread(target=appear, args=(stop,), daemon=True)
    try:
        if waiting.wait(60) and not stop.wait(OUTLET_AFTER_S):
            look("waiting")
            source.start()
            if connected.wait(10) and not stop.wait(1.0):
                look("connected")
        out = show.stdout.read()
        code = show.wait(120)
    finally:
        stop.set()
        show.kill()
        reader.join(5)
        if source.is_alive():
            source.join(5)
    return code, out, "".join(errors)


def run_with_late_outlet(args: list, env: dict, look=lambda moment: None):
    """The show on an LSL stream whose outlet starts after the show said it waits."""
    name = f"late-{uuid.uuid4().hex[:8]}"
    return run_until_it_appears(f"lsl:{name}", args, env, lambda stop: stream_eeg(name, stop),
                                look)


def test_headless_show_waits_paints_and_connects(tmp_path):
    bundle = write_tiny_bundle(tmp_path / "tiny")
    out = tmp_path / "frames"
    code, stdout, stderr = run_with_late_outlet(
        ["--model", bundle, "--headless", "--duration", "6", "--frames-out", out,
         "--frame-every", "0"], show_env())
    assert code == 0, stderr
    rows = read_frames(out)
    states = [r["signal"] for r in rows]
    assert states[0] == "waiting" and states[-1] == "ok"
    first_ok = states.index("ok")
    assert set(states[:first_ok]) == {"waiting"}  # waiting, then listening: no flicker
    waited_s = float(rows[first_ok]["time_s"])
    assert waited_s > 1.0  # painted on its own while the outlet was not there
    assert sum(int(r["keyframe"]) for r in rows[:first_ok]) >= 5  # the drift kept painting
    assert "Connected to LSL stream" in stderr
    assert "source: LSL stream" in stdout


def test_window_show_waits_then_connects_in_a_real_x_server(xvfb_display, tmp_path):  # noqa: F811
    bundle = write_tiny_bundle(tmp_path / "tiny")
    env = dict(show_env(), SDL_VIDEODRIVER="x11", DISPLAY=xvfb_display)
    env.pop("SDL_AUDIODRIVER", None)
    screens = {}

    def look(moment: str) -> None:
        screens[moment] = xwd_pixels(xvfb_display)

    code, stdout, stderr = run_with_late_outlet(
        ["--model", bundle, "--windowed", "--duration", "6", "--fps", "30"], env, look)
    assert code == 0, stderr
    assert "Connected to LSL stream" in stderr
    frames = int(stdout.split(" frames in ")[0].split()[-1])
    assert frames > 30 * 3  # the window kept its pace before and after the connection
    assert "source: LSL stream" in stdout
    if screens.get("waiting") is None:
        pytest.skip("xwd is not on PATH (apt-get install x11-apps) to look at the screen")
    waiting, listening = (screens[m][..., :3].astype(int) for m in ("waiting", "connected"))
    # The tiny painting never reaches pure white (128 ± 100): white is the HUD's text, shown
    # while the show waits (what for), hidden again once it listens.
    assert (waiting == 255).all(axis=-1).sum() > 200
    assert (listening == 255).all(axis=-1).sum() == 0
    assert waiting.std() > 20 and listening.std() > 20  # a painting both times


def test_a_recording_that_appears_later_is_played(eyes_open_edf, tmp_path):
    bundle = write_tiny_bundle(tmp_path / "tiny")
    late = tmp_path / "usb-stick" / "S001R01.edf"  # a drive mounted after the show started
    out = tmp_path / "frames"

    def mount(stop) -> None:
        late.parent.mkdir()
        os.symlink(eyes_open_edf, late)

    code, stdout, stderr = run_until_it_appears(
        f"file:{late}", ["--model", bundle, "--headless", "--duration", "6", "--frames-out", out,
                         "--frame-every", "0"], show_env(), mount)
    assert code == 0, stderr
    states = [r["signal"] for r in read_frames(out)]
    assert states[0] == "waiting" and states[-1] == "ok"
    assert f"Recording {late} does not exist" in stderr  # what the HUD said it waited for
    assert "Connected to" in stderr


@pytest.mark.parametrize("spec, words", [
    ("brainflow:NO_SUCH_BOARD", "NO_SUCH_BOARD"),
    ("brainflow:SYNTHETIC_BOARD,colour=blue", "colour"),
])
def test_a_bad_spec_still_exits_at_once(spec, words, tmp_path):
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "installation", "--source", spec,
                             "--headless", "--frames-out", str(tmp_path)], cwd=REPO,
                            env=show_env(), capture_output=True, text=True, timeout=60)
    assert_one_line_error(result, words)
    assert time.perf_counter() - started < 30  # no waiting for a spec no headset can fix
    assert os.listdir(tmp_path) == []
