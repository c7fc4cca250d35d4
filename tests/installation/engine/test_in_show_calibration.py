"""The in-show calibration: one implementation with the calibration command, refusals, verdicts.

Real recordings (PhysioNet eegmmidb rest, eyes open then closed) are pushed chunk by chunk as
the show's source thread pushes them; the calibration runs in its own real thread.
"""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np
import pygame
import pytest

from calibration.cli import run_headless
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.sources.files.recordings import load_recording
from installation.engine.in_show_calibration import (
    REFUSED_LOST,
    REFUSED_WAITING,
    InShowCalibration,
)
from installation.errors import ConfigError
from installation.screen.display import DisplayLoop
from installation.screen.hud import ShowStatus
from tests.conftest import shared_file

S001_OPEN = "eeg/physionet_eegmmidb/S001R01.edf"
S001_CLOSED = "eeg/physionet_eegmmidb/S001R02.edf"


class Recorder:
    """What the app would be told: profiles handed on and events."""

    def __init__(self) -> None:
        self.profiles, self.events, self.signal = [], [], "ok"

    def use(self, profile: dict) -> None:
        self.profiles.append(profile)

    def event(self, kind, eeg_time, detail) -> None:
        self.events.append((kind, eeg_time, detail))


def calibration(told: Recorder, **kwargs) -> InShowCalibration:
    return InShowCalibration(FeatureSpec(), told.use, lambda: told.signal,
                             on_event=told.event, **kwargs)


def run_to_verdict(cal: InShowCalibration, recording, chunk: int = 37) -> None:
    """Push the recording as a source thread would until the calibration's verdict."""
    for piece in recording.chunks(chunk):
        cal.push(piece)
        if not cal.running:
            break
    deadline = time.monotonic() + 60
    while cal.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not cal.running


def test_the_in_show_calibration_makes_the_calibration_commands_profile(tmp_path):
    """The same samples through the show and through ``python -m calibration``: one profile."""
    path = shared_file(S001_OPEN)
    recording = load_recording(path)
    told = Recorder()
    cal = calibration(told, source_spec=f"file:{path}", baseline_s=10.0, eyes_closed_s=5.0,
                      profiles_dir=tmp_path / "profiles")
    cal.attach(recording.info)
    assert cal.request() is None
    run_to_verdict(cal, recording)
    command = run_headless(f"file:{path}", FeatureSpec(), 10.0, 5.0, is_file=True).profile
    in_show = cal.result.profile  # eyes open throughout: the eyes-closed check fails in both
    for key in ("mean", "std"):
        np.testing.assert_allclose(in_show[key], command[key], rtol=0, atol=1e-6)
    for key in ("bad_channels", "line_freq", "channel_states", "channel_names", "eyes_closed",
                "sample_rate", "feature_names", "baseline_s"):
        assert in_show[key] == command[key], key
    assert not in_show["eyes_closed"]["passed"] and told.profiles == []  # a bad verdict
    kinds = [kind for kind, _, _ in told.events]
    assert kinds == ["calibration_started", "calibration_done"]
    assert "eyes-closed alpha" in told.events[-1][2] and "failed" in told.events[-1][2]


def test_a_good_verdict_hands_the_profile_on_and_saves_it(tmp_path):
    recording = load_recording(shared_file(S001_OPEN))
    told = Recorder()
    cal = calibration(told, baseline_s=8.0, profiles_dir=tmp_path / "profiles")
    cal.attach(recording.info)
    assert cal.request() is None
    run_to_verdict(cal, recording)
    assert told.profiles == [cal.result.profile]
    assert cal.saved_to is not None and cal.saved_to.parent == tmp_path / "profiles"
    assert json.loads(cal.saved_to.read_text())["mean"] == told.profiles[0]["mean"]
    assert "signal good" in told.events[-1][2] and "takes over" in told.events[-1][2]
    assert cal.lines()[0].startswith("calibration: Verdict: signal good")


def test_the_eyes_closed_step_follows_and_its_check_is_in_the_profile():
    opened, closed = load_recording(shared_file(S001_OPEN)), load_recording(
        shared_file(S001_CLOSED))
    told = Recorder()
    cal = calibration(told, baseline_s=6.0, eyes_closed_s=6.0)
    cal.attach(opened.info)
    assert cal.request() is None
    six_s = int(6 * opened.sample_rate)
    for piece in opened.chunks(40):  # exactly the first 6 s: eyes open
        cal.push(piece)
        if piece.timestamps[-1] * opened.sample_rate + 1 >= six_s:
            break
    lines = _wait_lines(cal)
    assert lines[0].startswith("calibration: Step 2 of 2: eyes closed: close your eyes, ")
    run_to_verdict(cal, closed)
    check = told.profiles[0]["eyes_closed"]
    assert check["passed"] and check["ratio"] > 1.5


def _wait_lines(cal, timeout: float = 5.0) -> list[str]:
    """The HUD lines once the calibration thread has caught up with the queue."""
    deadline = time.monotonic() + timeout
    while cal._queue and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(3 * 0.1)
    return cal.lines()


def test_requests_are_refused_while_waiting_or_lost_and_said_on_the_hud():
    told = Recorder()
    cal = calibration(told, baseline_s=5.0)
    told.signal = "waiting"
    assert cal.request() == REFUSED_WAITING  # no source yet
    assert cal.lines() == ["calibration: " + REFUSED_WAITING]
    cal.attach(load_recording(shared_file(S001_OPEN)).info)
    told.signal = "lost"
    assert cal.request() == REFUSED_LOST
    assert [kind for kind, _, _ in told.events] == ["calibration_refused"] * 2
    assert told.events[0][1] is None  # no EEG seen yet
    assert not cal.running and told.profiles == []


def test_a_bad_verdict_keeps_the_old_profile_and_says_what_to_fix():
    recording = load_recording(shared_file(S001_OPEN))
    data = recording.data.copy()
    data[: 3 * len(data) // 4] = 0.0  # three quarters of the channels flat: the signal is bad
    recording = dataclasses.replace(recording, data=data)
    told = Recorder()
    cal = calibration(told, baseline_s=5.0)
    cal.attach(recording.info)
    assert cal.request() is None
    run_to_verdict(cal, recording)
    assert told.profiles == []  # the old profile stays
    lines = cal.lines()
    assert "signal bad" in lines[0]
    assert any(line.startswith("next: check") and "press C" in line for line in lines)
    assert lines[-1] == "The old profile stays."
    assert any(": flat, std 0.00 µV (limit 0.5 µV)" in line for line in lines)


def test_losing_the_signal_ends_the_calibration_and_the_old_profile_stays():
    recording = load_recording(shared_file(S001_OPEN))
    told = Recorder()
    cal = calibration(told, baseline_s=30.0)
    cal.attach(recording.info)
    assert cal.request() is None
    for piece in recording.chunks(40):
        cal.push(piece)
        if piece.timestamps[-1] > 4:
            break
    told.signal = "lost"
    deadline = time.monotonic() + 10
    while cal.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not cal.running and told.profiles == []
    assert "signal was lost" in cal.lines()[0]
    assert told.events[-1][0] == "calibration_done"


def test_the_progress_lines_count_down_and_give_each_channels_state_with_its_limit():
    recording = load_recording(shared_file(S001_OPEN))
    told = Recorder()
    cal = calibration(told, baseline_s=20.0)
    cal.attach(recording.info)
    assert cal.request() is None
    for piece in recording.chunks(40):
        cal.push(piece)
        if piece.timestamps[-1] > 8:
            break
    lines = _wait_lines(cal)
    assert lines[0].startswith("calibration: Step 1 of 1: baseline: eyes open, look at the "
                               "painting, ")
    left = float(lines[0].split(", ")[-1].split(" s left")[0])
    assert 10 <= left <= 13
    assert lines[1] == "channels: 64/64 good"  # 64 channels: only the bad ones are listed
    cal.stop()


@pytest.mark.parametrize("baseline_s, eyes_closed_s", [(0.0, 0.0), (5.0, -1.0)])
def test_impossible_durations_are_one_sentence(baseline_s, eyes_closed_s):
    with pytest.raises(ConfigError, match="duration"):
        calibration(Recorder(), baseline_s=baseline_s, eyes_closed_s=eyes_closed_s)


def test_key_c_asks_for_a_calibration_in_the_window(tmp_path):
    asked = []
    status = ShowStatus("test", "cpu")
    status.overlay_sources.append(lambda: ["calibration: Step 1 of 1"])
    display = DisplayLoop(lambda: None, status, fps=0, window_size=(96, 64),
                          snapshot_dir=tmp_path, on_calibrate=lambda: asked.append(1))
    display.open()
    try:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_c, mod=0,
                                             unicode="c"))
        assert display.step()
        assert asked == [1]
        assert not display.hud.visible  # the countdown shows with the HUD hidden
        assert display.overlay_lines(0.0) == ["calibration: Step 1 of 1"]
    finally:
        display.close()
