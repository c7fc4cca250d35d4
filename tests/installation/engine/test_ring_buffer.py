"""The ring between the source thread and the steering thread: exact, bounded, thread-safe."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from installation.eeg.sources.base import Chunk
from installation.engine.ring_buffer import RingBuffer


def _chunk(start: int, n: int, n_channels: int = 3, arrival: float = 0.0) -> Chunk:
    """Samples numbered ``start``.. with every channel holding the number (and the timestamp)."""
    numbers = np.arange(start, start + n, dtype=np.float64)
    data = np.tile(numbers.astype(np.float32), (n_channels, 1)) + np.arange(n_channels)[:, None]
    return Chunk(data, numbers / 100.0, arrival)


def test_since_returns_what_was_pushed_after_the_count():
    ring = RingBuffer(3, 50)
    assert ring.since(0) is None
    ring.push(_chunk(0, 10, arrival=1.0))
    ring.push(_chunk(10, 5, arrival=2.0))
    chunk = ring.since(4)
    np.testing.assert_array_equal(chunk.data, _chunk(4, 11).data)
    np.testing.assert_array_equal(chunk.timestamps, np.arange(4, 15) / 100.0)
    assert chunk.dropped == 0 and chunk.end_count == 15 and chunk.arrival == 2.0
    assert ring.since(15) is None


def test_wrapping_keeps_order():
    ring = RingBuffer(3, 8)
    seen = 0
    received = []
    for start in range(0, 40, 5):
        ring.push(_chunk(start, 5))
        chunk = ring.since(seen)
        received.append(chunk.timestamps)
        seen = chunk.end_count
    np.testing.assert_array_equal(np.concatenate(received), np.arange(40) / 100.0)


def test_a_reader_that_fell_behind_gets_the_newest_and_a_dropped_count():
    ring = RingBuffer(3, 8)
    ring.push(_chunk(0, 5))
    ring.push(_chunk(5, 10))
    chunk = ring.since(2)
    assert chunk.dropped == 5  # samples 2..6 were overwritten
    np.testing.assert_array_equal(chunk.timestamps, np.arange(7, 15) / 100.0)
    assert chunk.end_count == 15


def test_a_chunk_longer_than_the_ring_keeps_its_newest_samples():
    ring = RingBuffer(3, 4)
    ring.push(_chunk(0, 10))
    chunk = ring.since(0)
    np.testing.assert_array_equal(chunk.timestamps, np.arange(6, 10) / 100.0)
    assert chunk.dropped == 6


def test_wrong_channel_count_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        RingBuffer(4, 10).push(_chunk(0, 3, n_channels=3))


def test_one_writer_one_reader_lose_nothing_when_the_reader_keeps_up():
    n_chunks, size = 400, 7
    ring = RingBuffer(3, 4096)
    received, done = [], threading.Event()

    def write():
        for i in range(n_chunks):
            ring.push(_chunk(i * size, size))
        done.set()

    def read():
        seen = 0
        while not (done.is_set() and seen == n_chunks * size):
            chunk = ring.since(seen)
            if chunk is not None:
                assert chunk.dropped == 0
                received.append(chunk.data)
                seen = chunk.end_count

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    data = np.hstack(received)
    np.testing.assert_array_equal(data, _chunk(0, n_chunks * size).data)


def test_a_lapped_reader_never_sees_a_torn_sample():
    """Tiny ring, fast writer: whatever the reader gets must be exactly what was pushed."""
    ring = RingBuffer(3, 16)
    done = threading.Event()
    problems = []

    def write():
        for i in range(3000):
            ring.push(_chunk(i * 5, 5))
        done.set()

    def read():
        seen = 0
        while not done.is_set():
            chunk = ring.since(seen)
            if chunk is None or chunk.n_samples == 0:
                continue
            numbers = np.round(chunk.timestamps * 100).astype(np.int64)
            expected = np.arange(chunk.end_count - chunk.n_samples, chunk.end_count)
            if not np.array_equal(numbers, expected) or not np.array_equal(
                chunk.data, _chunk(int(expected[0]), len(expected)).data
            ):
                problems.append(expected[0])
            if seen + chunk.dropped + chunk.n_samples != chunk.end_count:
                problems.append(-1)
            seen = chunk.end_count

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert problems == []
