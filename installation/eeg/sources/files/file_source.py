"""A recording played back as a live source, in real time or as fast as the reader goes."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from installation.eeg.sources.base import Chunk, EndOfStream, Source, StreamInfo
from installation.eeg.sources.files.recording import Recording
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import SourceError

SPEEDS = ("realtime", "max")


class FileSource(Source):
    """Plays a recording file through the :class:`Source` interface.

    Parameters
    ----------
    path : str or Path
        Any file :func:`~installation.eeg.sources.files.recordings.load_recording` reads.
    speed : {"realtime", "max"}
        ``"realtime"`` releases samples as the wall clock since ``open()`` reaches their
        timestamps, a chunk at a time like a headset; ``"max"`` returns the next
        ``max_samples`` at once, so a recording renders offline exactly hop by hop.
    chunk_s : float
        Seconds per chunk: the default ``max_samples`` and the real-time delivery step.
    board : str or int, optional
        The board that wrote a BrainFlow CSV file.
    loop : bool
        Start again at the end instead of raising :class:`EndOfStream`; timestamps keep rising.
    """

    finite = True

    def __init__(
        self,
        path: str | Path,
        speed: str = "realtime",
        chunk_s: float = 1 / 32,
        board: str | int | None = None,
        loop: bool = False,
    ) -> None:
        if speed not in SPEEDS:
            raise SourceError(f"Unknown playback speed '{speed}'; use realtime or max.")
        if not chunk_s > 0:
            raise SourceError(f"chunk_s must be positive, not {chunk_s}; use e.g. 1/32.")
        self.path = Path(path)
        self.speed = speed
        self.chunk_s = float(chunk_s)
        self.board = board
        self.loop = loop
        self.recording: Recording | None = None
        self.position = 0  # samples delivered so far, counting every loop
        self._started = 0.0
        self._chunk_samples = 1
        self._period_s = 0.0

    def open(self) -> StreamInfo:
        """Load the recording and start its clock."""
        recording = load_recording(self.path, board=self.board)
        self.recording = recording
        self._chunk_samples = max(1, int(round(self.chunk_s * recording.sample_rate)))
        # One loop lasts the recording plus one sample period, so timestamps never repeat.
        self._period_s = float(recording.timestamps[-1]) + 1.0 / recording.sample_rate
        self.info = replace(recording.info, period_s=self._period_s if self.loop else None)
        self.position = 0
        self._started = time.perf_counter()
        return self.info

    def read(self, max_samples: int | None = None) -> Chunk | None:
        """Return the next samples: at once at max speed, when due in real time.

        Parameters
        ----------
        max_samples : int, optional
            At most this many samples; one chunk (``chunk_s``) at max speed when None.

        Returns
        -------
        Chunk or None
            None in real time when no sample is due yet.

        Raises
        ------
        EndOfStream
            After the last sample, unless looping.
        """
        if self.recording is None:
            raise SourceError("The file source was read before it was opened; call open() first.")
        if self._finished():
            raise EndOfStream
        if self.speed == "max":
            return self._take(max_samples or self._chunk_samples)
        due = self._due_samples()
        if due < self._chunk_samples and not self._due_ends_file(due):
            # Sleep until a whole chunk is due (at most chunk_s), as a headset delivers it.
            time.sleep((self._chunk_samples - due) / self.recording.sample_rate)
            due = self._due_samples()
        if due <= 0:
            return None
        return self._take(min(due, max_samples) if max_samples else due)

    def close(self) -> None:
        """Forget the recording; safe to call twice."""
        self.recording = None

    def _finished(self) -> bool:
        return not self.loop and self.position >= self.recording.n_samples

    def _due_ends_file(self, due: int) -> bool:
        return not self.loop and self.position + due >= self.recording.n_samples

    def _due_samples(self) -> int:
        """Samples whose timestamps the wall clock has reached, minus those delivered."""
        elapsed = time.perf_counter() - self._started
        loops, within = divmod(elapsed, self._period_s)
        if not self.loop and loops >= 1:
            return self.recording.n_samples - self.position
        in_loop = int(np.searchsorted(self.recording.timestamps, within, side="right"))
        return int(loops) * self.recording.n_samples + in_loop - self.position

    def _take(self, n_samples: int) -> Chunk:
        """The next ``n_samples`` (fewer at the end of an unlooped file), advancing."""
        total = self.recording.n_samples
        if not self.loop:
            n_samples = min(n_samples, total - self.position)
        indices = np.arange(self.position, self.position + n_samples)
        loops, offsets = np.divmod(indices, total)
        if loops[0] == loops[-1]:  # the usual case: one slice, copied so readers may modify it
            start = int(offsets[0])
            data = self.recording.data[:, start:start + n_samples].copy()
        else:
            data = self.recording.data[:, offsets]
        timestamps = self.recording.timestamps[offsets] + loops * self._period_s
        self.position += n_samples
        return Chunk(data, timestamps)
