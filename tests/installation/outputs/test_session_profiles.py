"""The session remembers: each profile in use and the show's moments, written and read back."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installation.eeg.feature_pipeline import feature_frames
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.features import FeatureNormaliser
from installation.eeg.profile import PROFILE_FORMAT
from installation.eeg.sources.files.recordings import load_recording
from installation.eeg.sources.files.session_folder import read_session_eeg
from installation.eeg.sources.files.session_format import (
    EVENTS_FILE,
    PROFILES_INDEX_FILE,
    SESSION_PROFILE_FILE,
)
from installation.eeg.sources.files.session_timeline import (
    profile_at,
    read_profile_timeline,
    read_session_events,
    wearer_stretches,
)
from installation.errors import ConfigError
from installation.outputs.recorder import SessionRecorder
from tests.conftest import shared_file

SPEC = FeatureSpec()


def recording_profile(recording, seconds: float | None = None) -> dict:
    """A profile as calibration writes it, from (the first ``seconds`` of) a recording."""
    frames = feature_frames(recording, SPEC)
    if seconds is not None:
        frames = [f for f in frames if f.eeg_time <= seconds]
    stats = FeatureNormaliser.profile_from(SPEC, np.array([f.band_powers for f in frames]))
    return {**stats, "format": PROFILE_FORMAT, "channel_names": list(recording.channel_names),
            "sample_rate": recording.sample_rate, "bad_channels": [], "line_freq": 60}


def record_two_wearers(folder, first, second, start_profile=None, chunk: int = 32,
                       calibration_s: float = 4.0):
    """Record ``first`` then ``second`` as one session, as the show does across a wearer change.

    ``second`` is played on after ``first`` on the same clock; an in-show calibration starts at
    its first sample, and its profile (the statistics of ``second``'s first ``calibration_s``)
    comes into use ``calibration_s`` later. Returns ``(recorder, switch_s, swap_s, profile)``.
    """
    recorder = SessionRecorder(folder, first.info, "file:test", sync_s=0.05,
                               profile=start_profile)
    if start_profile is not None:
        recorder.add_profile(start_profile, 0.0, "start")  # the app may say it again: no-op
    offset = first.timestamps[-1] + 1 / first.sample_rate
    switch_s, swap_s = float(offset), float(offset + calibration_s)
    new_profile = recording_profile(second, calibration_s)
    for piece in first.chunks(chunk):
        recorder.add_chunk(piece)
    recorder.add_event("calibration_started", switch_s, "")
    swapped = False
    for piece in second.chunks(chunk):
        piece = type(piece)(piece.data, piece.timestamps + offset)
        if not swapped and piece.timestamps[0] >= swap_s:
            recorder.add_event("calibration_done", swap_s, "good")
            recorder.add_profile(new_profile, swap_s, "calibration")
            swapped = True
        recorder.add_chunk(piece)
    recorder.close()
    return recorder, switch_s, swap_s, new_profile


@pytest.fixture
def two_people(eyes_open_edf):
    return load_recording(eyes_open_edf), load_recording(
        shared_file("eeg/physionet_eegmmidb/S026R01.edf"))


def test_every_profile_in_use_is_kept_with_its_eeg_time(two_people, tmp_path):
    first, second = two_people
    start = recording_profile(first)
    folder = tmp_path / "rec"
    recorder, switch_s, swap_s, new = record_two_wearers(folder, first, second, start)
    assert not recorder.failed
    assert json.loads((folder / SESSION_PROFILE_FILE).read_text()) == start  # as before
    index = [json.loads(line) for line in (folder / PROFILES_INDEX_FILE).read_text().splitlines()]
    assert [(e["n"], e["reason"], e["file"]) for e in index] == [
        (0, "start", "profile.json"), (1, "calibration", "profiles/001.json")]
    assert index[0]["eeg_time"] is None and index[1]["eeg_time"] == swap_s
    timeline = read_profile_timeline(folder)
    assert [(s.start, s.end, s.reason) for s in timeline] == [
        (None, swap_s, "start"), (swap_s, None, "calibration")]
    assert timeline[0].profile == start and timeline[1].profile == new
    assert profile_at(timeline, 1.0) == start and profile_at(timeline, swap_s + 0.01) == new
    assert profile_at(timeline, -5.0) == start and profile_at(timeline, float("nan")) == start
    events = read_session_events(folder)
    assert [(e.kind, e.eeg_time, e.detail) for e in events] == [
        ("calibration_started", switch_s, ""), ("calibration_done", swap_s, "good")]
    assert all(e.show_s is not None and e.show_s >= 0 for e in events)
    # the new wearer begins where their calibration began, not where its profile took over
    stamps = read_session_eeg(folder, first.info.n_channels).timestamps
    (a0, b0, s0), (a1, b1, s1) = wearer_stretches(folder, stamps)
    assert (a0, b0, a1, b1) == (0, first.n_samples, first.n_samples, len(stamps))
    assert s0.profile == start and s1.profile == new


def test_a_show_without_a_profile_and_an_older_session(two_people, tmp_path):
    first, second = two_people
    folder = tmp_path / "rec"
    _, _, swap_s, new = record_two_wearers(folder, first, second, None)
    assert not (folder / SESSION_PROFILE_FILE).exists()
    timeline = read_profile_timeline(folder)
    assert [(s.start, s.end, s.profile is None) for s in timeline] == [
        (None, swap_s, True), (swap_s, None, False)]
    # a session of the version before: profile.json alone, in use throughout
    old = tmp_path / "old"
    old.mkdir()
    (old / SESSION_PROFILE_FILE).write_text(json.dumps(new))
    (timeline,) = read_profile_timeline(old)
    assert (timeline.start, timeline.end, timeline.profile) == (None, None, new)
    assert read_session_events(old) == []
    (nothing,) = read_profile_timeline(tmp_path / "nowhere")
    assert nothing.profile is None


def test_damaged_lines_and_files_are_skipped_never_raised(two_people, tmp_path, caplog):
    first, second = two_people
    folder = tmp_path / "rec"
    _, _, swap_s, new = record_two_wearers(folder, first, second, recording_profile(first))
    with open(folder / PROFILES_INDEX_FILE, "a") as f:
        for bad in ('{"n": 2, "eeg_time": 1e308, "reason": "x", "file": null}',
                    '{"n": 3, "eeg_time": "soon", "reason": "x", "file": null}',
                    '{"n": 4, "eeg_time": 5.0, "reason": "x", "file": "../../etc/passwd"}',
                    '[1, 2]', '{"n": 5, "eeg_ti'):
            f.write(bad + "\n")
    with open(folder / EVENTS_FILE, "a") as f:
        f.write('{"kind": "blackout_on", "eeg_time": NaN}\n{"kind": 7}\n"x"\n'
                '{"kind": "blackout_off", "eeg_time": null, "show_s": 3.5, "detail": [1]}\n')
    timeline = read_profile_timeline(folder)
    assert [s.start for s in timeline] == [None, swap_s]
    events = read_session_events(folder)
    assert [(e.kind, e.eeg_time, e.show_s, e.detail) for e in events][-1] == (
        "blackout_off", None, 3.5, "")
    assert len(events) == 3
    assert "skipped 5 torn or damaged" in caplog.text and "skipped 3 torn" in caplog.text
    # a profile file that is no profile: its stretch reads without one
    (folder / "profiles" / "001.json").write_text('{"format": "eeg-painting-profile/1"}')
    assert read_profile_timeline(folder)[1].profile is None
    assert "unusable" in caplog.text


def test_a_step_back_in_eeg_time_keeps_the_timeline_in_order(tmp_path, eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    a, b = recording_profile(recording, 20), recording_profile(recording)
    recorder = SessionRecorder(tmp_path / "rec", recording.info, sync_s=0.05, profile=a)
    recorder.add_profile(b, 30.0, "calibration")
    recorder.add_profile(a, 10.0, "calibration")  # the source's clock restarted
    recorder.add_profile(a, 11.0, "calibration")  # already in use: nothing new
    recorder.add_profile(None, float("inf"), "reset")  # back to the running baseline
    recorder.add_profile({"mean": [np.float32(1)]}, 12.0, "calibration")  # no JSON: left out
    recorder.close()
    timeline = read_profile_timeline(tmp_path / "rec")
    assert [(s.start, s.end, s.reason, s.file) for s in timeline] == [
        (None, 30.0, "start", "profile.json"), (30.0, 30.0, "calibration", "profiles/001.json"),
        (30.0, 30.0, "calibration", "profiles/002.json"), (30.0, None, "reset", None)]


def test_profiles_and_events_from_many_threads_are_all_written(tmp_path, eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    recorder = SessionRecorder(tmp_path / "rec", recording.info, sync_s=0.05, max_queued=4)

    def report(thread: int) -> None:
        for i in range(50):
            recorder.add_event("blackout_on" if i % 2 else "blackout_off", thread + i / 100,
                               f"{thread}")
            recorder.add_chunk(next(recording.chunks(8)))  # the bounded queue overflows

    threads = [threading.Thread(target=report, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recorder.close()
    assert len(read_session_events(tmp_path / "rec")) == 200  # none dropped
    assert recorder.samples_dropped > 0


def test_a_folder_with_only_the_new_logs_is_a_recording(tmp_path, eyes_open_edf):
    info = load_recording(eyes_open_edf).info
    for name in (PROFILES_INDEX_FILE, EVENTS_FILE):
        folder = tmp_path / name
        folder.mkdir()
        (folder / name).write_text("")
        with pytest.raises(ConfigError, match="already holds a recording"):
            SessionRecorder(folder, info)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(index=st.one_of(st.binary(max_size=400), st.lists(st.dictionaries(
    st.sampled_from(["n", "eeg_time", "reason", "file", "kind", "detail", "show_s"]),
    st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=20),
              st.sampled_from(["profile.json", "profiles/001.json", "../x.json"])),
    max_size=5), max_size=6).map(lambda rows: "\n".join(map(json.dumps, rows)).encode())))
def test_any_bytes_in_the_logs_read_without_raising(tmp_path, index):
    folder = tmp_path / "fuzz"
    folder.mkdir(exist_ok=True)
    for name in (PROFILES_INDEX_FILE, EVENTS_FILE):
        (folder / name).write_bytes(index)
    timeline = read_profile_timeline(folder)
    assert timeline and timeline[0].start is None and timeline[-1].end is None
    starts = [s.start for s in timeline if s.start is not None]
    assert starts == sorted(starts) and all(np.isfinite(starts))
    assert isinstance(profile_at(timeline, 3.0), (dict, type(None)))
    assert all(isinstance(e.kind, str) for e in read_session_events(folder))
    first, stop, _ = wearer_stretches(folder, np.arange(100.0))[-1]
    assert 0 <= first <= stop == 100
