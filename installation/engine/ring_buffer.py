"""The hand-off between the source thread and the steering thread: a ring of recent samples.

One writer pushes chunks, one reader asks for what is new since the count it last saw. Samples
are copied in and out of the ring outside the lock; the lock only guards the counters, so
neither side ever waits on the other's copying. Because the writer may overwrite the oldest
slots while a lagging reader copies them, the reader checks afterwards how far the writer got
and drops any sample that may have been overwritten (a seqlock-style check): what it returns
is always exactly what was pushed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from installation.eeg.sources.base import Chunk


@dataclass(frozen=True)
class BufferedChunk(Chunk):
    """A :class:`Chunk` read from a :class:`RingBuffer`, with the reader's bookkeeping.

    Attributes
    ----------
    dropped : int
        Samples the reader missed before this chunk because it fell more than the buffer's
        capacity behind (they were overwritten before it asked).
    end_count : int
        The ring's sample count after this chunk's last sample: pass it to the next
        :meth:`RingBuffer.since` call.
    """

    dropped: int = 0
    end_count: int = 0


class RingBuffer:
    """The newest ``capacity_samples`` samples of a stream, with their timestamps.

    Thread-safe for one writer (:meth:`push`) and one reader (:meth:`since`).

    Parameters
    ----------
    n_channels : int
        Rows per chunk.
    capacity_samples : int
        Samples kept; a reader more than this far behind loses the oldest ones.
    """

    def __init__(self, n_channels: int, capacity_samples: int) -> None:
        if n_channels < 1 or capacity_samples < 1:
            raise ValueError("a ring buffer needs at least one channel and one sample of room")
        self.n_channels = int(n_channels)
        self.capacity = int(capacity_samples)
        self._data = np.zeros((self.n_channels, self.capacity), dtype=np.float32)
        self._timestamps = np.zeros(self.capacity, dtype=np.float64)
        self._lock = threading.Lock()
        self._total = 0  # samples published to readers
        self._writing_to = 0  # samples the writer may be overwriting slots for (>= _total)
        self._arrival = 0.0

    def push(self, chunk: Chunk) -> None:
        """Append a chunk's samples (only its newest ``capacity`` if it is longer).

        Parameters
        ----------
        chunk : Chunk
            ``data`` of shape (n_channels, n) and ``timestamps`` of shape (n,).
        """
        data, stamps = chunk.data, chunk.timestamps
        if data.ndim != 2 or data.shape[0] != self.n_channels or stamps.shape != data.shape[1:]:
            raise ValueError(
                f"chunk of shape {data.shape} with {stamps.shape} timestamps does not fit a "
                f"ring of {self.n_channels} channels"
            )
        n_new = data.shape[1]
        if n_new == 0:
            return
        with self._lock:
            start = self._total
            self._writing_to = start + n_new
        kept = min(n_new, self.capacity)
        slots = np.arange(start + n_new - kept, start + n_new) % self.capacity
        self._data[:, slots] = data[:, n_new - kept:]
        self._timestamps[slots] = stamps[n_new - kept:]
        with self._lock:
            self._total = start + n_new
            self._arrival = chunk.arrival

    def since(self, seen: int) -> BufferedChunk | None:
        """The samples pushed after the first ``seen`` samples.

        Parameters
        ----------
        seen : int
            The ``end_count`` of the previous chunk read (0 at first).

        Returns
        -------
        BufferedChunk or None
            None when nothing new was pushed. If the reader fell more than ``capacity``
            samples behind, the chunk holds the newest samples still intact and ``dropped``
            says how many were lost in between; ``end_count`` is where to continue.
        """
        with self._lock:
            total, arrival = self._total, self._arrival
        if total <= seen:
            return None
        first = max(seen, total - self.capacity)
        data, stamps = self._copy(first, total)
        with self._lock:
            overwritten_below = self._writing_to - self.capacity
        if overwritten_below > first:  # the writer lapped us while we copied: cut those off
            cut = min(overwritten_below, total) - first
            data, stamps, first = data[:, cut:], stamps[cut:], first + cut
        return BufferedChunk(data, stamps, arrival, dropped=first - seen, end_count=total)

    def _copy(self, first: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the samples numbered ``first`` to ``stop`` (exclusive)."""
        slots = np.arange(first, stop) % self.capacity
        return self._data[:, slots], self._timestamps[slots]
