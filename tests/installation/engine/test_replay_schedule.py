"""A recorded session played again shows what the wall showed: its profiles and its blackouts.

The live show (headless, a real recording at its own pace, recording the session) is asked to
calibrate inside the show and is blacked out over OSC; its session is then replayed at
``--speed max`` and re-rendered. The replay must swap the profile on the sample the live show
swapped (its steering then equals the live keyframes'), start with the session's own profile
rather than the profiles folder's newest, and fade to the mat where the wall faded; so must
the re-render.
"""

from __future__ import annotations

import shutil
import threading
import time

import av
import numpy as np
import pygame
import pytest
from pythonosc.udp_client import SimpleUDPClient

from installation.app import ShowRemote, run_show
from installation.config import ShowOptions, parse_colour
from installation.eeg.sources.base import Chunk
from installation.eeg.sources.files.recordings import load_recording
from installation.eeg.sources.files.session_folder import read_keyframes
from installation.eeg.sources.files.session_format import PROFILES_INDEX_FILE
from installation.eeg.sources.files.session_timeline import read_session_events
from installation.engine.generator_runtime import GeneratorRuntime
from installation.engine.replay_schedule import ReplaySchedule
from installation.outputs.recorder import SessionRecorder
from installation.render import read_session_log, render_frames, render_session, session_blackouts
from installation.screen.blackout import FADE_S
from installation.screen.frame_canvas import FrameCanvas
from tests.conftest import shared_file
from tests.helpers import read_frames
from tests.installation.control.test_channel import free_udp_port
from tests.installation.tiny_bundle import write_tiny_bundle

FPS = 20.0
MAT = "#ff00ff"  # a colour no painting of the tiny model is made of
CALIBRATION_S = 3.0


def _calibrate_then_black_out(remote: ShowRemote, port: int, sent: list) -> None:
    """Calibrate once the show paints from the EEG; black the wall out for 2 s meanwhile."""
    deadline = time.monotonic() + 15
    while remote.calibrate() is not None and time.monotonic() < deadline:
        time.sleep(0.2)  # refused while the source opens and the signal settles
    sent.append("calibrate")
    client = SimpleUDPClient("127.0.0.1", port)
    time.sleep(1.0)
    client.send_message("/show/blackout", 1)
    time.sleep(2.0)
    client.send_message("/show/blackout", 0)
    sent.append("blackout")


@pytest.fixture(scope="module")
def live_session(tmp_path_factory):
    """A live headless show on S001R01 that calibrated once and blacked out once, recorded."""
    edf = shared_file("eeg/physionet_eegmmidb/S001R01.edf")
    root = tmp_path_factory.mktemp("live")
    model = write_tiny_bundle(root / "tiny")
    port, remote, sent = free_udp_port(), ShowRemote(), []
    steer = threading.Thread(target=_calibrate_then_black_out, args=(remote, port, sent),
                             daemon=True)
    steer.start()
    summary = run_show(ShowOptions(
        source=f"file:{edf}", model=str(model), headless=True, frames_out=str(root / "frames"),
        frame_every=0, duration=13.0, fps=FPS, threads=1, calibration_s=CALIBRATION_S,
        profiles=str(root / "profiles"), record=str(root / "rec"), control=str(port)),
        remote=remote)
    steer.join(10)
    assert sent == ["calibrate", "blackout"], "the show never calibrated or never blacked out"
    assert [reason for _, reason in summary.profile_changes] == ["calibration"]
    return root, model, summary


@pytest.fixture(scope="module")
def replay(live_session):
    """The session replayed at --speed max, PNG of every frame, the profiles folder given."""
    root, model, _ = live_session
    out = root / "replay"
    summary = run_show(ShowOptions(
        source=f"file:{root / 'rec'}", model=str(model), headless=True, speed="max",
        frames_out=str(out / "frames"), frame_every=1, fps=FPS, threads=1, mat=MAT,
        profiles=str(root / "profiles"), record=str(out / "rec")))
    return out, summary


def _paired(live_folder, replay_folder, offset: float):
    """Live and replayed keyframes at the same EEG time (the live show skips a hop now and then)."""
    again = {round(e["eeg_time"] + offset, 4): e for e in read_keyframes(replay_folder)}
    return [(e, again[round(e["eeg_time"], 4)]) for e in read_keyframes(live_folder)
            if round(e["eeg_time"], 4) in again]


def test_the_replay_swaps_the_profile_on_the_sample_the_live_show_did(live_session, replay):
    root, _, live = live_session
    out, summary = replay
    schedule = ReplaySchedule.read(root / "rec")
    (swap, _), = live.profile_changes
    assert summary.profile_changes == [(pytest.approx(swap - schedule.offset), "calibration")]
    pairs = _paired(root / "rec", out / "rec", schedule.offset)
    before = [p for p in pairs if p[0]["eeg_time"] <= swap]
    after = [p for p in pairs if p[0]["eeg_time"] > swap]
    assert len(before) > 20 and len(after) > 40, (len(before), len(after))
    # before the swap the session's own start (the running baseline), not the profiles
    # folder's newest (the calibration's, saved there); during and after the ramp, the same
    # blend on the same hops: a swap missing, or a hop early or late, moves these
    for shown, again in pairs:
        np.testing.assert_allclose(again["steering"], shown["steering"], atol=1e-4)
    # the replay recorded again keeps the swap
    again_swaps = ReplaySchedule.read(out / "rec").switches.due(np.inf)
    assert [(round(at, 4), s.reason) for at, s in again_swaps] == [
        (round(swap - schedule.offset, 4), "calibration")]


def test_without_its_profile_log_the_replay_steers_otherwise(live_session, tmp_path):
    """The check above can fail: the session without its profiles z-scores differently."""
    root, model, live = live_session
    bare = tmp_path / "bare"
    shutil.copytree(root / "rec", bare)
    (bare / PROFILES_INDEX_FILE).unlink()
    summary = run_show(ShowOptions(source=f"file:{bare}", model=str(model), headless=True,
                                   speed="max", frames_out=str(tmp_path / "frames"),
                                   frame_every=0, fps=FPS, threads=1, record=str(tmp_path / "r")))
    assert summary.profile_changes == []
    (swap, _), = live.profile_changes
    after = [(a, b) for a, b in _paired(root / "rec", tmp_path / "r", 0.0)
             if a["eeg_time"] > swap + 3.0]
    assert after and max(float(np.abs(a["steering"] - b["steering"]).max())
                         for a, b in after) > 0.1


def _blackout_span(folder, offset: float = 0.0) -> tuple[float, float]:
    kinds = {e.kind: e.eeg_time for e in read_session_events(folder)}
    return kinds["blackout_on"] - offset, kinds["blackout_off"] - offset


def _is_mat(image: np.ndarray, tolerance: int = 0) -> bool:
    return bool((np.abs(image.astype(int) - parse_colour(MAT)) <= tolerance).all())


def test_the_replay_fades_to_the_mat_where_the_wall_did(live_session, replay):
    root, _, _ = live_session
    out, _ = replay
    on, off = _blackout_span(root / "rec", ReplaySchedule.read(root / "rec").offset)
    assert off - on > 1.5
    dark, light = [], []
    for row in read_frames(out / "frames"):
        t = float(row["time_s"])
        image = pygame.surfarray.array3d(pygame.image.load(
            str(out / "frames" / f"frame-{int(row['frame']):06d}.png")))
        if on + FADE_S + 1e-6 <= t <= off:
            dark.append(_is_mat(image))
        elif t < on or t > off + FADE_S:
            light.append(_is_mat(image))
    assert len(dark) >= 10 and all(dark)
    assert len(light) >= 100 and not any(light)
    # and the replay, recorded, keeps the blackout at its EEG time
    again = [(e.kind, e.eeg_time) for e in read_session_events(out / "rec")]
    assert [kind for kind, _ in again] == ["blackout_on", "blackout_off"]


def test_the_re_render_fades_to_the_mat_where_the_wall_did(live_session, tmp_path):
    root, model, _ = live_session
    log = read_session_log(root / "rec")
    on, off = _blackout_span(root / "rec")
    blackouts = session_blackouts(log)
    entries = [float(e["eeg_time"]) for e in log.entries]
    first_on = entries.index(on)  # the keyframe on the wall when the blackout began
    assert blackouts == [(log.times[first_on], True), (log.times[entries.index(off)], False)]
    runtime = GeneratorRuntime.load(model, "cpu", 1)
    size = runtime.resolution
    canvas = FrameCanvas((size, size), mat=parse_colour(MAT))
    frames = list(render_frames(runtime, log, FPS, canvas, blackouts))
    (v_on, _), (v_off, _) = blackouts
    dark = [_is_mat(f) for k, f in enumerate(frames) if v_on + FADE_S <= k / FPS <= v_off]
    light = [_is_mat(f) for k, f in enumerate(frames) if k / FPS < v_on or k / FPS > v_off + 1]
    assert len(dark) >= 10 and all(dark) and len(light) > 100 and not any(light)
    # the MP4 the command writes too (H.264 is lossy: near the mat)
    out = tmp_path / "show.mp4"
    render_session(root / "rec", out, model, fps=FPS, mat=MAT, provider="cpu", threads=1,
                   progress=False)
    with av.open(str(out)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    middle = round((v_on + FADE_S + v_off) / 2 * FPS)
    assert _is_mat(decoded[middle], tolerance=12) and not _is_mat(decoded[0], tolerance=12)


def test_a_session_on_another_clock_is_aligned_to_the_replay(tmp_path, eyes_open_edf):
    """Recorded EEG times count on the live source's clock; the replay from its first sample."""
    recording = load_recording(eyes_open_edf)
    recorder = SessionRecorder(tmp_path / "rec", recording.info, "file:test", sync_s=0.05)
    for piece in recording.chunks(32):
        recorder.add_chunk(Chunk(piece.data, piece.timestamps + 100.0))
    profile = {"unusable": True}  # a switch is read back even where its file is damaged
    recorder.add_profile(profile, 112.5, "calibration")
    recorder.add_event("blackout_on", 105.0, "control")
    recorder.add_event("blackout_off", 104.0, "key")  # a clock that stepped back: kept in order
    recorder.add_event("calibration_started", 109.5, "")
    recorder.close()
    schedule = ReplaySchedule.read(tmp_path / "rec")
    assert schedule.offset == 100.0
    assert schedule.start.profile is None
    rate = recording.sample_rate
    assert schedule.samples_to_switch(None, rate) == round(12.5 * rate) + 1
    assert schedule.samples_to_switch(12.0, rate) == round(0.5 * rate)
    assert schedule.switches.due(12.4) == []
    ((at, stretch),) = schedule.switches.due(12.5)
    assert at == 12.5 and stretch.reason == "calibration" and stretch.profile is None
    assert schedule.samples_to_switch(13.0, rate) is None
    assert schedule.blackouts.due(4.9) == []
    assert schedule.blackouts.due(1e9) == [(5.0, True), (5.0, False)]


def test_a_live_paced_replay_swaps_the_profile_at_its_time_too(live_session, tmp_path):
    root, model, live = live_session
    (swap, _), = live.profile_changes
    summary = run_show(ShowOptions(source=f"file:{root / 'rec'}", model=str(model),
                                   headless=True, frames_out=str(tmp_path / "frames"),
                                   frame_every=0, fps=FPS, threads=1, duration=swap + 3.0))
    (at, reason), = summary.profile_changes
    # the source thread asks as the chunk holding the swap arrives; the worker takes it next
    assert reason == "calibration" and swap <= at <= swap + 0.5, (at, swap)
