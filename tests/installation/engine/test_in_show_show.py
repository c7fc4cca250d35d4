"""Calibration inside the running show: a real LSL outlet, the show headless, a request midway.

The outlet plays one person's rest, then another's (S001, then S026: the wearer changes); the
show is asked to calibrate while it runs. The new profile must come into use and be saved in
the profiles folder, and the painting must never stop (no step of ``time_s`` in frames.csv over
0.5 s).
"""

from __future__ import annotations

import threading
import time
import uuid

from pythonosc.udp_client import SimpleUDPClient

from benchmarks.wearer_change import SwitchingOutlet
from calibration.cli import run_headless
from installation.app import ShowRemote, run_show
from installation.config import ShowOptions
from installation.eeg.baseline.profile_builder import save_profile
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.profile import load_profile
from installation.eeg.profile_folder import profile_files
from installation.eeg.sources.files.recordings import load_recording
from installation.eeg.sources.files.session_timeline import (
    read_profile_timeline,
    read_session_events,
)
from installation.engine.in_show_calibration import REFUSED_RUNNING
from tests.conftest import shared_file
from tests.helpers import largest_gap, read_frames
from tests.installation.control.test_channel import free_udp_port
from tests.installation.tiny_bundle import write_tiny_bundle

FPS = 20.0
CALIBRATION_S = 4.0


def test_a_calibration_requested_in_a_running_show_takes_over_without_stopping_it(tmp_path):
    first = load_recording(shared_file("eeg/physionet_eegmmidb/S001R01.edf"))
    second = load_recording(shared_file("eeg/physionet_eegmmidb/S026R01.edf"))
    name = f"wearers-{uuid.uuid4().hex[:8]}"
    outlet = SwitchingOutlet(first, second, name, switch_s=4.0)
    outlet.start()
    assert outlet.ready.wait(10)
    out, profiles = tmp_path / "frames", tmp_path / "profiles"
    options = ShowOptions(source=f"lsl:{name}", model=str(write_tiny_bundle(tmp_path / "tiny")),
                          headless=True, frames_out=str(out), frame_every=0, duration=16.0,
                          fps=FPS, threads=1, calibration_s=CALIBRATION_S,
                          profiles=str(profiles))
    remote = ShowRemote()
    answers = []

    def ask() -> None:  # once the second wearer streams and the signal flows
        time.sleep(6.0)
        answers.append(remote.calibrate())
        answers.append(remote.calibrate())  # a second request while the first runs

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    try:
        summary = run_show(options, remote=remote)
    finally:
        outlet.stop.set()
        outlet.join(10)
        asker.join(10)
    assert answers == [None, REFUSED_RUNNING], answers
    reasons = [reason for _, reason in summary.profile_changes]
    assert reasons == ["calibration"], summary.profile_changes  # no profile at the start
    saved = profile_files(profiles)
    assert len(saved) == 1
    profile = load_profile(saved[0])
    assert profile["channel_names"] == list(first.channel_names)
    assert profile["baseline_s"] == CALIBRATION_S
    rows = read_frames(out)
    assert len(rows) > 10 * FPS
    assert largest_gap(rows) <= 0.5  # the painting never stopped
    # the swap began after the calibration's 4 s, and keyframes went on after it
    swap_eeg = summary.profile_changes[0][0]
    assert max(float(r["eeg_time"]) for r in rows) > swap_eeg + 2.0


def test_an_osc_calibrate_swaps_the_profile_live_and_the_session_keeps_both(tmp_path):
    """The issue's check: a real LSL outlet, ``/show/calibrate`` over OSC, the new profile in
    use and saved in the session folder beside the first wearer's, the painting never stopped."""
    first_path = shared_file("eeg/physionet_eegmmidb/S001R01.edf")
    first = load_recording(first_path)
    second = load_recording(shared_file("eeg/physionet_eegmmidb/S026R01.edf"))
    # the first wearer's profile, made by the calibration command's own code
    start_profile = run_headless(f"file:{first_path}", FeatureSpec(), 10.0, 0.0,
                                 is_file=True).profile
    save_profile(start_profile, tmp_path / "s001.json")
    name = f"wearers-osc-{uuid.uuid4().hex[:8]}"
    outlet = SwitchingOutlet(first, second, name, switch_s=4.0)
    outlet.start()
    assert outlet.ready.wait(10)
    port = free_udp_port()
    out, session = tmp_path / "frames", tmp_path / "session"
    options = ShowOptions(source=f"lsl:{name}", model=str(write_tiny_bundle(tmp_path / "tiny")),
                          profile=str(tmp_path / "s001.json"), headless=True,
                          frames_out=str(out), frame_every=0, duration=16.0, fps=FPS,
                          threads=1, calibration_s=CALIBRATION_S, record=str(session),
                          control=str(port))

    def cue() -> None:  # as a TouchDesigner or Max patch would, once the second wearer streams
        time.sleep(6.0)
        SimpleUDPClient("127.0.0.1", port).send_message("/show/calibrate", 1)

    cuer = threading.Thread(target=cue, daemon=True)
    cuer.start()
    try:
        summary = run_show(options)
    finally:
        outlet.stop.set()
        outlet.join(10)
        cuer.join(10)
    assert [reason for _, reason in summary.profile_changes] == ["start", "calibration"]
    timeline = read_profile_timeline(session)
    assert [stretch.reason for stretch in timeline] == ["start", "calibration"]
    assert timeline[0].profile["mean"] == start_profile["mean"]
    new = timeline[1].profile
    assert new["baseline_s"] == CALIBRATION_S and new["mean"] != start_profile["mean"]
    assert timeline[1].start == summary.profile_changes[1][0]
    kinds = [event.kind for event in read_session_events(session)]
    assert kinds[:2] == ["calibration_started", "calibration_done"], kinds
    rows = read_frames(out)
    assert len(rows) > 10 * FPS
    assert largest_gap(rows) <= 0.5  # the painting never stopped
