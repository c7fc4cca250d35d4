"""A recording played as a source: hop by hop at max speed, paced in real time, looped."""

from __future__ import annotations

import time

import numpy as np
import pytest

from installation.eeg.sources import open_source
from installation.eeg.sources.base import EndOfStream
from installation.eeg.sources.files.file_source import FileSource
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import SourceError
from tests.conftest import shared_file

MUSE_SHORT = "eeg/xdf/muselsl2/sub-P031_ses-S001_task-Default_run-001_eeg.xdf"


def _read_all(source: FileSource, max_samples: int | None = None) -> list:
    chunks = []
    while True:
        try:
            chunk = source.read(max_samples)
        except EndOfStream:
            return chunks
        if chunk is not None:
            chunks.append(chunk)


def test_max_speed_delivers_the_whole_file_hop_by_hop(eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    hop = round(recording.sample_rate / 15)
    with FileSource(eyes_open_edf, speed="max") as source:
        assert source.info == recording.info
        chunks = _read_all(source, hop)
    assert [chunk.n_samples for chunk in chunks[:-1]] == [hop] * (len(chunks) - 1)
    assert 0 < chunks[-1].n_samples <= hop
    np.testing.assert_array_equal(np.hstack([c.data for c in chunks]), recording.data)
    np.testing.assert_array_equal(
        np.concatenate([c.timestamps for c in chunks]), recording.timestamps
    )


def test_max_speed_default_chunk_is_chunk_s(eyes_open_edf):
    with FileSource(eyes_open_edf, speed="max", chunk_s=0.25) as source:
        assert source.read().n_samples == 40  # 160 Hz


def test_realtime_paces_by_the_wall_clock(eyes_open_edf):
    with FileSource(eyes_open_edf, speed="realtime", chunk_s=1 / 32) as source:
        started = time.perf_counter()
        delivered = 0
        while time.perf_counter() - started < 0.3:
            chunk = source.read()
            delivered += 0 if chunk is None else chunk.n_samples
    assert 0 < delivered <= 0.5 * source.info.sample_rate  # about 0.3 s of a 61 s file


def test_realtime_ends_with_every_sample(tmp_path):
    from brainflow.data_filter import DataFilter

    table = np.zeros((32, 40))  # 0.16 s of the synthetic board's layout
    table[1:17] = np.arange(40 * 16).reshape(16, 40)
    table[30] = 1.7e9 + np.arange(40) / 250
    path = tmp_path / "short.csv"
    DataFilter.write_file(table, str(path), "w")
    with FileSource(path, speed="realtime", chunk_s=0.02, board="SYNTHETIC_BOARD") as source:
        chunks = _read_all(source)
    np.testing.assert_array_equal(np.hstack([c.data for c in chunks]), table[1:17])


def test_loop_continues_with_rising_timestamps():
    path = shared_file(MUSE_SHORT)
    recording = load_recording(path)
    n = recording.n_samples
    with FileSource(path, speed="max", loop=True) as source:
        chunks = [source.read(500) for _ in range(2 * n // 500 + 2)]
    data = np.hstack([c.data for c in chunks])
    stamps = np.concatenate([c.timestamps for c in chunks])
    np.testing.assert_array_equal(data[:, n:2 * n], recording.data)
    assert np.all(np.diff(stamps) > 0)
    assert stamps[n] > recording.timestamps[-1]


def test_open_source_plays_a_file_spec(eyes_open_edf):
    source = open_source(f"file:{eyes_open_edf}", speed="max")
    with source:
        assert source.read(7).data.shape == (64, 7)


def test_reading_before_open_says_so(eyes_open_edf):
    with pytest.raises(SourceError, match="open"):
        FileSource(eyes_open_edf, speed="max").read()


def test_unknown_speed():
    with pytest.raises(SourceError, match="realtime or max"):
        FileSource("x.edf", speed="fast")
