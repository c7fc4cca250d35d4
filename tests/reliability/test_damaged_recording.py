"""A damaged ``eeg.bin`` keeps what is whole: the reader resynchronises, the gap stays a gap."""

from __future__ import annotations

import logging
import struct

import numpy as np

from installation.eeg.feature_pipeline import FeatureExtractor, feature_frames
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.sources.files.file_source import FileSource
from installation.eeg.sources.files.recordings import load_recording
from installation.eeg.sources.files.session_folder import read_session_eeg
from installation.eeg.sources.files.session_format import EEG_FILE, RECORD_HEADER
from installation.outputs.recorder import SessionRecorder

CHUNK = 8  # samples per record, about 1/20 s at 160 Hz as the show writes them
N_RECORDS = 250


def _recorded(edf, folder):
    """A real EDF recorded by the show's recorder, record by record; (recording, record size)."""
    recording = load_recording(edf)
    recorder = SessionRecorder(folder, recording.info, "file:test", sync_s=0.05)
    for i, piece in enumerate(recording.chunks(CHUNK)):
        if i == N_RECORDS:
            break
        recorder.add_chunk(piece)
    recorder.close()
    size = RECORD_HEADER.size + CHUNK * (8 + 4 * recording.info.n_channels)
    assert (folder / EEG_FILE).stat().st_size == N_RECORDS * size
    return recording, size


def _damage(folder, offset, new_bytes):
    blob = bytearray((folder / EEG_FILE).read_bytes())
    blob[offset:offset + len(new_bytes)] = new_bytes
    (folder / EEG_FILE).write_bytes(bytes(blob))


def test_flipped_bytes_lose_one_record_not_the_rest(eyes_open_edf, tmp_path, caplog):
    folder = tmp_path / "rec"
    recording, size = _recorded(eyes_open_edf, folder)
    _damage(folder, 10 * size + 40, bytes(b ^ 0xFF for b in range(20)))  # 20 bytes of record 11
    with caplog.at_level(logging.WARNING):
        again = load_recording(folder)
    n = N_RECORDS * CHUNK
    assert again.n_samples == n - CHUNK  # one record lost; before: 80 samples kept (4%)
    np.testing.assert_array_equal(again.data[:, :80], recording.data[:, :80])
    np.testing.assert_array_equal(again.data[:, 80:], recording.data[:, 88:n])
    # the timeline jumps over the lost record instead of gluing its neighbours
    np.testing.assert_allclose(again.timestamps[80:], recording.timestamps[88:n])
    assert again.gaps == (float(recording.timestamps[88]),)
    assert f"{size} damaged bytes" in caplog.text and "0.05 s of EEG missing" in caplog.text


def test_absurd_sample_count_is_not_trusted(eyes_open_edf, tmp_path):
    folder = tmp_path / "rec"
    recording, size = _recorded(eyes_open_edf, folder)
    _damage(folder, 3 * size + 4, struct.pack("<I", 0xFFFFFFF0))  # before: MemoryError
    eeg = read_session_eeg(folder, recording.info.n_channels)
    assert eeg.records == N_RECORDS - 1 and eeg.gaps == (3 * CHUNK,)
    assert eeg.skipped_bytes == size and eeg.torn_bytes == 0


def test_damage_everywhere_then_a_torn_tail(eyes_open_edf, tmp_path):
    folder = tmp_path / "rec"
    recording, size = _recorded(eyes_open_edf, folder)
    _damage(folder, 0, b"XXXX")  # the first record's magic
    _damage(folder, 100 * size + RECORD_HEADER.size + 3, b"\x00\x01")
    blob = (folder / EEG_FILE).read_bytes()
    (folder / EEG_FILE).write_bytes(blob[:-size // 2])  # and a crash mid-write
    eeg = read_session_eeg(folder, recording.info.n_channels)
    assert eeg.records == N_RECORDS - 3 and eeg.gaps == (99 * CHUNK,)
    assert eeg.skipped_bytes == 2 * size and eeg.torn_bytes == size - size // 2
    np.testing.assert_array_equal(eeg.data[:, :CHUNK], recording.data[:, CHUNK:2 * CHUNK])


def _windows_within_stretches(frames, gap, window_s, rate):
    """No frame's window (its oldest sample to its newest) holds samples from both sides."""
    for frame in frames:
        oldest = frame.eeg_time - window_s + 1 / rate
        assert not (frame.eeg_time >= gap and oldest < gap - 1e-9)


def test_the_pipeline_restarts_at_a_gap(eyes_open_edf, tmp_path):
    folder = tmp_path / "rec"
    recording, size = _recorded(eyes_open_edf, folder)
    _damage(folder, 120 * size + 30, b"\xff" * 20)
    damaged = load_recording(folder)
    spec = FeatureSpec()
    (gap,) = damaged.gaps
    frames = feature_frames(damaged, spec)
    _windows_within_stretches(frames, gap, spec.window_s, damaged.sample_rate)
    assert any(f.eeg_time < gap for f in frames) and any(f.eeg_time > gap for f in frames)
    # the same frames whatever the chunks (as the show's ring delivers them)
    extractor = FeatureExtractor(spec, damaged.info)
    live = [f for chunk in damaged.chunks(5) for f in extractor.push(chunk)]
    assert [f.eeg_time for f in live] == [f.eeg_time for f in frames]
    np.testing.assert_allclose([f.steering for f in live], [f.steering for f in frames],
                               atol=1e-5)
    # the stretch after the gap filtered anew: its first frame equals a fresh pipeline's
    after = damaged.timestamps >= gap
    fresh_info = damaged.info.__class__(damaged.channel_names, damaged.sample_rate, "after")
    fresh = FeatureExtractor(spec, fresh_info, line_freq=extractor.line_freq)
    first = fresh.push(type(next(damaged.chunks(1)))(damaged.data[:, after],
                                                     damaged.timestamps[after]))[0]
    restarted = next(f for f in frames if f.eeg_time > gap)
    np.testing.assert_allclose(restarted.band_powers, first.band_powers, rtol=1e-5)


def test_a_looping_replay_restarts_at_the_gap_every_loop(eyes_open_edf, tmp_path):
    folder = tmp_path / "rec"
    _, size = _recorded(eyes_open_edf, folder)
    _damage(folder, 60 * size + 30, b"\xff" * 20)
    source = FileSource(folder, speed="max", loop=True)
    info = source.open()
    (gap,) = info.gaps
    extractor = FeatureExtractor(FeatureSpec(), info)
    frames = []
    while source.position < 3 * source.recording.n_samples:
        frames.extend(extractor.push(source.read(37)))
    for loop in range(3):
        _windows_within_stretches(frames, gap + loop * info.period_s, 1.0, info.sample_rate)
    assert len({round(f.eeg_time // info.period_s) for f in frames}) >= 3
