"""--record: a session folder written as data comes, readable after kill -9, replayable."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from installation.eeg.sources.files.recordings import load_recording
from installation.eeg.sources.files.session_folder import (
    read_keyframe_log,
    read_session_eeg,
    read_session_folder,
)
from installation.eeg.sources.files.session_format import EEG_FILE, KEYFRAME_FILE
from installation.errors import ConfigError, SourceError
from installation.outputs.recorder import SessionRecorder
from tests.helpers import REPO, RememberingRuntime, read_frames, run_module, show_env
from tests.installation.tiny_bundle import write_tiny_bundle


def _keyframe(eeg_time: float, n_features: int = 25, noise_dim: int = 8):
    return SimpleNamespace(eeg_time=eeg_time, signal_lost=False, masked_channels=("O1",),
                           steering=np.full(n_features, 0.5, np.float32),
                           noise=np.linspace(-1, 1, noise_dim).astype(np.float32))


def _record(folder, recording, n_chunks: int, chunk: int = 7) -> SessionRecorder:
    recorder = SessionRecorder(folder, recording.info, "file:test", sync_s=0.05)
    for i, piece in enumerate(recording.chunks(chunk)):
        if i == n_chunks:
            break
        recorder.add_chunk(piece)
        recorder.add_keyframe(_keyframe(float(piece.timestamps[-1])))
    recorder.close()
    return recorder


def test_recorded_folder_reads_back_exactly(eyes_open_edf, tmp_path):
    recording = load_recording(eyes_open_edf)
    recorder = _record(tmp_path / "rec", recording, n_chunks=50)
    assert recorder.samples_written == 350 and not recorder.failed
    again = load_recording(tmp_path / "rec")
    assert again.channel_names == recording.channel_names
    assert again.sample_rate == recording.sample_rate
    np.testing.assert_array_equal(again.data, recording.data[:, :350])
    np.testing.assert_allclose(again.timestamps, recording.timestamps[:350])
    log = read_keyframe_log(tmp_path / "rec")
    assert len(log) == 50 and log[0]["masked"] == ["O1"]
    assert len(log[0]["steering"]) == 25 and len(log[0]["noise"]) == 8


def test_torn_tail_is_dropped_and_a_corrupt_record_passed_over(eyes_open_edf, tmp_path):
    recording = load_recording(eyes_open_edf)
    folder = tmp_path / "rec"
    _record(folder, recording, n_chunks=10)
    blob = (folder / EEG_FILE).read_bytes()
    record_size = len(blob) // 10
    (folder / EEG_FILE).write_bytes(blob[: 9 * record_size + record_size // 2])  # torn
    eeg = read_session_eeg(folder, recording.info.n_channels)
    assert eeg.records == 9 and eeg.torn_bytes == record_size // 2
    np.testing.assert_array_equal(eeg.data, recording.data[:, :63])
    flipped = bytearray(blob)
    flipped[5 * record_size + 100] ^= 0x10  # a bit flip inside record 6
    (folder / EEG_FILE).write_bytes(bytes(flipped))
    eeg = read_session_eeg(folder, recording.info.n_channels)
    assert eeg.records == 9 and eeg.gaps == (35,) and eeg.skipped_bytes == record_size
    with open(folder / KEYFRAME_FILE, "a") as f:
        f.write('{"eeg_time": 1.0, "stee')  # the line a crash cut
    assert len(read_keyframe_log(folder)) == 10


def test_bad_folders_are_one_sentence(eyes_open_edf, tmp_path):
    recording = load_recording(eyes_open_edf)
    with pytest.raises(SourceError, match="without a session.json"):
        load_recording(tmp_path)
    folder = tmp_path / "rec"
    _record(folder, recording, n_chunks=2)
    with pytest.raises(ConfigError, match="already holds a recording"):
        SessionRecorder(folder, recording.info)
    (folder / EEG_FILE).write_bytes(b"EEGC\x01")
    with pytest.raises(SourceError, match="no whole EEG record"):
        read_session_folder(folder)
    (folder / "session.json").write_text(json.dumps({"format": "x"}))
    with pytest.raises(SourceError, match="not a session header"):
        load_recording(folder)


def _wait_for_seconds(folder, rate: float, n_channels: int, seconds: float, deadline: float):
    """Poll the recording on disk until it holds ``seconds`` of EEG; return what it holds."""
    held = 0.0
    while time.perf_counter() < deadline:
        if (folder / EEG_FILE).exists():
            held = read_session_eeg(folder, n_channels).data.shape[1] / rate
            if held >= seconds:
                return held
        time.sleep(0.05)
    raise AssertionError(f"only {held:.2f} s recorded before the deadline")


def test_kill_9_keeps_everything_but_the_last_second(eyes_open_edf, tmp_path):
    recording = load_recording(eyes_open_edf)
    rate, n_channels = recording.sample_rate, recording.info.n_channels
    bundle = write_tiny_bundle(tmp_path / "tiny")
    folder = tmp_path / "rec"
    show = subprocess.Popen(
        [sys.executable, "-m", "installation", "--source", f"file:{eyes_open_edf}", "--model",
         str(bundle), "--headless", "--frames-out", str(tmp_path / "live"), "--frame-every",
         "0", "--fps", "20", "--record", str(folder)],
        cwd=REPO, env=show_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        first = _wait_for_seconds(folder, rate, n_channels, 0.5, time.perf_counter() + 120)
        first_at = time.perf_counter()
        _wait_for_seconds(folder, rate, n_channels, first + 3.0, first_at + 60)
        killed_at = time.perf_counter()
        show.kill()  # SIGKILL: no cleanup, no final flush
    finally:
        show.kill()
        show.wait(30)
    assert show.returncode == -9
    eeg = read_session_eeg(folder, n_channels)
    n = eeg.data.shape[1]
    # consecutive samples of the known recording: none lost, none doubled, none altered
    np.testing.assert_array_equal(eeg.data, recording.data[:, :n])
    np.testing.assert_allclose(eeg.timestamps, recording.timestamps[:n])
    assert n / rate >= first + (killed_at - first_at) - 1.5  # at most the last second lost
    keyframes = read_keyframe_log(folder)
    assert keyframes and all(np.isfinite(k["steering"]).all() for k in keyframes)
    eeg_times = [k["eeg_time"] for k in keyframes]
    assert eeg_times == sorted(eeg_times) and eeg_times[-1] <= n / rate + 0.1

    out = tmp_path / "replay"
    result = run_module("installation", "--source", f"file:{folder}", "--model", bundle,
                        "--headless", "--speed", "max", "--frames-out", out, "--frame-every",
                        "0", timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = read_frames(out)
    assert rows and float(rows[-1]["eeg_time"]) == pytest.approx(n / rate, abs=0.2)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_stops_the_recording_not_the_show(eyes_open_edf, tmp_path):
    recording = load_recording(eyes_open_edf)
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / EEG_FILE).symlink_to("/dev/full")  # every write fails with ENOSPC
    events = []
    recorder = SessionRecorder(folder, recording.info, "file:test", events.append, sync_s=0.05)
    for chunk in recording.chunks(32):
        recorder.add_chunk(chunk)  # never raises, never blocks
    deadline = time.perf_counter() + 10
    while not recorder.failed and time.perf_counter() < deadline:
        time.sleep(0.02)
    recorder.close()
    assert recorder.failed
    assert [e.kind for e in events] == ["error"] and "free disk space" in events[0].message


def test_the_keyframe_log_renders_every_keyframe_again(eyes_closed_edf, tmp_path):
    from installation.app import run_show
    from installation.config import ShowOptions
    from installation.engine.generator_runtime import GeneratorRuntime

    tiny = write_tiny_bundle(tmp_path / "tiny")
    runtime = RememberingRuntime(GeneratorRuntime.load(tiny, "cpu", 1))
    run_show(ShowOptions(source=f"file:{eyes_closed_edf}", headless=True, speed="max",
                         frames_out=str(tmp_path / "frames"), frame_every=0, duration=5.0,
                         record=str(tmp_path / "rec")), runtime=runtime)
    log = read_keyframe_log(tmp_path / "rec")
    assert len(log) == len(runtime.images) > 50
    for entry, image in zip(log, runtime.images, strict=True):
        again = runtime.runtime.generate(np.array(entry["steering"], np.float32),
                                         np.array(entry["noise"], np.float32))
        np.testing.assert_array_equal(again, image)
    eeg = load_recording(tmp_path / "rec")
    source = load_recording(eyes_closed_edf)
    np.testing.assert_array_equal(eeg.data, source.data[:, :eeg.n_samples])


def test_a_full_queue_drops_new_items_counts_them_and_says_so(eyes_open_edf, tmp_path):
    """The queue to the writer is bounded: what does not fit is dropped, counted to the sample,
    and told in the HUD; what was queued is written whole."""
    recording = load_recording(eyes_open_edf)
    recorder = SessionRecorder(tmp_path / "rec", recording.info, "file:test", max_queued=2)
    assert recorder.status_lines() == []
    pushed = 0
    for piece in recording.chunks(32):  # far faster than the writer can encode and write
        recorder.add_chunk(piece)
        recorder.add_keyframe(_keyframe(float(piece.timestamps[-1])))
        pushed += piece.n_samples
    recorder.close()
    assert recorder.samples_dropped > 0 and not recorder.failed
    assert recorder.samples_written + recorder.samples_dropped == pushed
    lines = recorder.status_lines()
    assert len(lines) == 1 and f"{recorder.samples_dropped} EEG samples" in lines[0]
    assert f"{recorder.keyframes_dropped} keyframe lines" in lines[0]
    written = read_session_eeg(tmp_path / "rec", recording.info.n_channels)
    assert written.data.shape[1] == recorder.samples_written and written.torn_bytes == 0
    assert len(read_keyframe_log(tmp_path / "rec")) + recorder.keyframes_dropped == len(
        list(recording.chunks(32)))
