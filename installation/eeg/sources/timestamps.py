"""Device timestamps turned into seconds since the first sample, rising, on one clock."""

from __future__ import annotations

import numpy as np

MIN_STEP_S = 1e-6  # keeps timestamps strictly rising when a device stamps a packet at once


def board_seconds(stamps: np.ndarray, sample_rate: float) -> np.ndarray | None:
    """Seconds since the first sample from a recording's timestamp column, if trustworthy.

    Parameters
    ----------
    stamps : ndarray, shape (n_samples,)
        Timestamps in seconds on any clock (BrainFlow writes Unix time).
    sample_rate : float
        Nominal samples per second.

    Returns
    -------
    ndarray or None
        ``stamps - stamps[0]`` when they are finite and strictly rising; None when they are
        not (zeros, repeats, a clock reset), so the caller counts samples instead.
    """
    stamps = np.asarray(stamps, dtype=np.float64)
    if stamps.size == 0 or not np.all(np.isfinite(stamps)) or sample_rate <= 0:
        return None
    if stamps.size > 1 and not np.all(np.diff(stamps) > 0):
        return None
    return stamps - stamps[0]


class StreamClock:
    """Turns a live stream's own timestamps into seconds since its first sample.

    The result always rises strictly from chunk to chunk: a jump backwards (a playback board
    starting its file again, a device clock reset) continues one sample period after the last
    timestamp; equal stamps (a packet stamped at once) are spread by ``MIN_STEP_S``. Without
    device timestamps, samples are counted at the nominal rate.

    Parameters
    ----------
    sample_rate : float
        Nominal samples per second.
    """

    def __init__(self, sample_rate: float) -> None:
        self.sample_rate = float(sample_rate)
        self._origin: float | None = None
        self._last: float | None = None
        self._count = 0

    def seconds(self, stamps: np.ndarray | None, n_samples: int) -> np.ndarray:
        """Seconds since the stream's first sample for the next ``n_samples`` samples.

        Parameters
        ----------
        stamps : ndarray, shape (n_samples,), optional
            The device's timestamps in seconds; None to count samples.
        n_samples : int
            Samples in this chunk.

        Returns
        -------
        ndarray, float64, shape (n_samples,)
        """
        if stamps is None or n_samples == 0:
            seconds = (self._count + np.arange(n_samples)) / self.sample_rate
        else:
            seconds = self._from_stamps(np.asarray(stamps, dtype=np.float64))
        self._count += n_samples
        if n_samples:
            self._last = float(seconds[-1])
        return seconds

    def _from_stamps(self, stamps: np.ndarray) -> np.ndarray:
        if self._origin is None:
            self._origin = float(stamps[0])
        seconds = stamps - self._origin
        if self._last is not None and seconds[0] <= self._last:
            shift = self._last + 1.0 / self.sample_rate - seconds[0]
            self._origin -= shift  # later chunks continue from here too
            seconds = seconds + shift
        steps = np.arange(seconds.size) * MIN_STEP_S
        return np.maximum.accumulate(seconds - steps) + steps
