"""The one feature pipeline: chunks of raw EEG in, one steering frame per hop out.

:class:`FeatureExtractor` is the pure step object that the live show, calibration and
``train.py`` all run, so the generator is fed exactly the features it learned from. Its output
depends only on the samples, never on how they were cut into chunks.

Line frequency: the spec's when it fixes one, else the one given (the show passes its
calibration profile's), else decided by
:func:`~installation.eeg.filtering.mains_frequency_at_start` on the stream's first second, as
calibration decides it: nothing is filtered until that second and the first window have
arrived, then the notch is built and the stream is filtered from its first sample on. The same
samples give the same choice offline and live.

Gaps: where a recording resumes after a stretch its reader had to skip
(:attr:`~installation.eeg.sources.base.StreamInfo.gaps`), the filters start again from the new
sample and no window reaches back across the gap, so samples from either side are never
glued together (the normaliser and smoother, which hold features rather than samples, go on).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.features import (
    ABSURD_UV,
    BandPowerFeatures,
    FeatureNormaliser,
    FeatureSmoother,
    hop_samples,
    window_samples,
)
from installation.eeg.filtering import (
    StreamingFilter,
    line_detection_samples,
    mains_frequency_at_start,
)
from installation.eeg.sources.base import Chunk, StreamInfo
from installation.errors import ConfigError, SourceError


@dataclass(frozen=True)
class FeatureFrame:
    """Features of one window, emitted once per hop.

    Attributes
    ----------
    eeg_time : float
        Timestamp (seconds from the source's start) of the newest sample in the window.
    arrival : float
        ``perf_counter`` arrival of the chunk that brought that sample (for latency figures).
    band_powers : ndarray, float64, shape (n_features,)
        Raw log10 band powers (µV²), region-major.
    z : ndarray, float64, shape (n_features,)
        Normalised features, clipped to ±5.
    steering : ndarray, float32, shape (n_features,)
        Smoothed vector fed to the generator.
    masked_channels : tuple of str
        Channels left out of this window (bad, flat, absurd or non-finite).
    """

    eeg_time: float
    arrival: float
    band_powers: np.ndarray
    z: np.ndarray
    steering: np.ndarray
    masked_channels: tuple[str, ...]


class FeatureExtractor:
    """Filter, window, band powers, z-scores and smoothing, hop by hop.

    Parameters
    ----------
    spec : FeatureSpec
        What the features are; validated against the stream's sample rate.
    info : StreamInfo
        Channel names and sample rate of the stream.
    normaliser : FeatureNormaliser, optional
        A calibration profile's normaliser; a running baseline when None.
    bad_channels : sequence of str
        Channel names to leave out (e.g. from calibration).
    line_freq : float, optional
        Mains frequency to notch when ``spec.line_freq`` is None (e.g. the calibration
        profile's); None = decide it from the stream's first second.
    """

    def __init__(self, spec: FeatureSpec, info: StreamInfo, normaliser=None, bad_channels=(),
                 line_freq: float | None = None):
        spec.validate(info.sample_rate)
        self.spec = spec
        self.info = info
        self.n_channels = info.n_channels
        self.window = window_samples(spec, info.sample_rate)
        self.hop = hop_samples(spec, info.sample_rate)
        self.dt = self.hop / info.sample_rate
        self.features = BandPowerFeatures(spec, info.channel_names, info.sample_rate, bad_channels)
        self.normaliser = _checked_normaliser(normaliser, spec)
        self.smoother = FeatureSmoother(spec)
        self.filter: StreamingFilter | None = None
        fixed = spec.line_freq if spec.line_freq is not None else line_freq
        if fixed is not None:
            self.filter = self._build_filter(float(fixed))
        self._first_drain_at = max(self.window, line_detection_samples(info.sample_rate))
        self._buffer = _SampleBuffer(self.n_channels, capacity=4 * self.window)
        self._pending: list[Chunk] = []
        self._n_received = 0
        self._next_end = self.window  # absolute index one past the newest sample of next window
        self._stretch_start = 0  # absolute index of the first sample after the last gap
        self._gaps = np.asarray(info.gaps, dtype=np.float64)
        self._gaps_passed = 0  # gaps at or before the newest sample's time (within a loop)

    @property
    def line_freq(self) -> float | None:
        """The notched mains frequency; None until decided from the stream's first second."""
        return None if self.filter is None else self.filter.line_freq

    @property
    def samples_received(self) -> int:
        """Samples pushed so far."""
        return self._n_received

    @property
    def samples_to_next_frame(self) -> int:
        """Samples still to come before the next frame is due (its window's end).

        A second extractor warmed on the newest samples of the same stream can start at the
        same phase, so the two emit their frames at the same samples (a profile swap's ramp).
        """
        return self._next_end - self._n_received

    def push(self, chunk: Chunk) -> list[FeatureFrame]:
        """Take the next chunk; return a frame for every hop it completes (maybe none).

        Parameters
        ----------
        chunk : Chunk
            The next samples of the stream, in order. Its arrays are kept (not copied) until
            the next hop is due, so a source must not reuse them.

        Returns
        -------
        list of FeatureFrame
            Oldest first.
        """
        if chunk.data.ndim != 2 or chunk.data.shape[0] != self.n_channels:
            raise SourceError(
                f"A chunk of shape {chunk.data.shape} arrived from a stream that announced "
                f"{self.n_channels} channels; reconnect the source."
            )
        if chunk.n_samples == 0:
            return []
        if not self._gaps.size:
            return self._push_stretch(chunk)
        frames = []
        for piece, after_gap in self._split_at_gaps(chunk):
            if after_gap:
                frames.extend(self._restart())
            frames.extend(self._push_stretch(piece))
        return frames

    def _push_stretch(self, chunk: Chunk) -> list[FeatureFrame]:
        """Take samples that continue the current stretch (no gap inside)."""
        self._pending.append(chunk)
        self._n_received += chunk.n_samples
        if self._n_received < self._next_end or (
                self.filter is None
                and self._n_received < self._stretch_start + self._first_drain_at):
            return []
        return self._drain()

    def _split_at_gaps(self, chunk: Chunk):
        """``(piece, after_gap)`` pieces of ``chunk``, cut where a stream gap is passed."""
        stamps = chunk.timestamps
        if self.info.period_s:
            stamps = np.mod(stamps, self.info.period_s)
        passed = np.searchsorted(self._gaps, stamps, side="right")
        previous = np.concatenate(([self._gaps_passed], passed[:-1]))
        self._gaps_passed = int(passed[-1])
        cuts = np.flatnonzero(passed > previous)  # a looping file's wrap lowers the count
        edges = [0, *cuts.tolist(), chunk.n_samples]
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            if b > a:
                yield (Chunk(chunk.data[:, a:b], chunk.timestamps[a:b], chunk.arrival),
                       a > 0 or bool(cuts.size and cuts[0] == 0))

    def _restart(self) -> list[FeatureFrame]:
        """End the stretch at a gap: emit what it completes, then start filters and windows anew.

        A stretch too short to decide the mains frequency on (under a second) is dropped.
        """
        frames = []
        if self._pending and (self.filter is not None or self._n_received - self._stretch_start
                              >= line_detection_samples(self.info.sample_rate)):
            frames = self._drain()
        self._pending = []
        if self.filter is not None:
            self.filter = self._build_filter(self.filter.line_freq)  # same notch, fresh state
        self._stretch_start = self._n_received
        self._buffer = _SampleBuffer(self.n_channels, capacity=4 * self.window)
        self._buffer.first_index = self._n_received
        self._next_end = self._n_received + self.window
        return frames

    def _drain(self) -> list[FeatureFrame]:
        """Filter the pending samples and emit a frame for each hop they complete."""
        chunks, self._pending = self._pending, []
        raw = chunks[0].data if len(chunks) == 1 else np.concatenate([c.data for c in chunks], 1)
        if self.filter is None:
            self.filter = self._build_filter(mains_frequency_at_start(raw, self.info.sample_rate))
        filtered = self.filter.process(raw)
        self._buffer.append(filtered, chunks, self._bad_samples(raw, filtered))
        frames = []
        while self._next_end <= self._n_received:
            frames.append(self._frame_ending_at(self._next_end))
            self._next_end += self.hop
        self._buffer.drop_before(self._next_end - self.window)
        return frames

    def _frame_ending_at(self, end: int) -> FeatureFrame:
        """Frame of the window of samples [end - window, end)."""
        window, timestamp, arrival = self._buffer.window(end - self.window, end)
        also_masked = self._buffer.channels_with_bad_samples(end - self.window, end)
        # the filter holds non-finite input, and absurd samples were noted as they arrived
        band_powers = self.features.compute(window, also_masked, prescreened=True)
        z = self.normaliser.update(band_powers, self.dt)
        steering = self.smoother.update(z, self.dt)
        return FeatureFrame(
            eeg_time=timestamp,
            arrival=arrival,
            band_powers=band_powers,
            z=z,
            steering=steering,
            masked_channels=self.features.masked_channels,
        )

    def _bad_samples(self, raw: np.ndarray, filtered: np.ndarray) -> np.ndarray | None:
        """Where the block is non-finite (raw) or beyond ±5 mV (filtered); None when nowhere.

        A channel is left out of exactly the windows that hold one of its bad samples.
        """
        bad = ~np.isfinite(raw) if self.filter.last_block_had_non_finite else None
        if _may_hold_absurd(filtered):
            absurd = np.abs(filtered) > ABSURD_UV
            bad = absurd if bad is None else bad | absurd
        return bad if bad is not None and bad.any() else None

    def _build_filter(self, line_freq: float) -> StreamingFilter:
        return StreamingFilter(
            self.info.sample_rate,
            self.n_channels,
            band=self.spec.band_pass,
            line_freq=line_freq,
            order=self.spec.filter_order,
        )


def _may_hold_absurd(filtered: np.ndarray) -> bool:
    """Whether a sample of ``filtered`` may lie beyond ±5 mV (never False when one does).

    One dot product screens the block: no sample passes ±5 mV while the sum of all squares
    stays under (5 mV)², which EEG blocks of a hop or two do by far.
    """
    flat = filtered.ravel()
    return not flat @ flat <= ABSURD_UV**2  # an overflow to inf (or a NaN) looks further


def _checked_normaliser(normaliser, spec: FeatureSpec) -> FeatureNormaliser:
    """The given normaliser if it fits the spec, a running baseline when None."""
    if normaliser is None:
        return FeatureNormaliser.running(spec.n_features)
    if normaliser.n_features != spec.n_features or (
        normaliser.spec is not None and not normaliser.spec.measures_like(spec)
    ):
        raise ConfigError(
            "The calibration profile was made with a different feature spec than the model "
            "uses; run calibration again with this model."
        )
    return normaliser


class _SampleBuffer:
    """Filtered samples with their timestamps and arrivals, addressed by absolute index.

    Appends write into a preallocated array; old samples are dropped by moving the start
    index, and the live part is moved to the front only when the array is full. While it holds
    samples marked bad (non-finite or absurd), a mask of them lies beside the samples.
    """

    def __init__(self, n_channels: int, capacity: int) -> None:
        self.data = np.zeros((n_channels, capacity), dtype=np.float32)  # what features take
        self.timestamps = np.zeros(capacity)
        self.arrivals = np.zeros(capacity)
        self.bad: np.ndarray | None = None  # (n_channels, capacity) bool while one is held
        self.newest_bad = -1  # absolute index of the newest bad sample
        self.first_index = 0  # absolute index of column `self.head`
        self.head = 0
        self.tail = 0

    def append(self, data: np.ndarray, chunks: list[Chunk], bad: np.ndarray | None = None):
        """Add filtered samples, where they are bad (or None), and their chunks' times."""
        n = data.shape[1]
        if self.tail + n > self.data.shape[1]:
            self._compact(n)
        self.data[:, self.tail : self.tail + n] = data
        if bad is not None:
            if self.bad is None:
                self.bad = np.zeros(self.data.shape, dtype=bool)
            last_bad_column = int(np.flatnonzero(bad.any(axis=0))[-1])
            self.newest_bad = self.first_index + self.tail - self.head + last_bad_column
        if self.bad is not None:
            self.bad[:, self.tail : self.tail + n] = False if bad is None else bad
        position = self.tail
        for chunk in chunks:
            stop = position + chunk.n_samples
            self.timestamps[position:stop] = chunk.timestamps
            self.arrivals[position:stop] = chunk.arrival
            position = stop
        self.tail += n

    def window(self, start: int, end: int):
        """View of samples [start, end), the timestamp and arrival of sample end - 1."""
        a = self.head + start - self.first_index
        b = self.head + end - self.first_index
        return self.data[:, a:b], float(self.timestamps[b - 1]), float(self.arrivals[b - 1])

    def channels_with_bad_samples(self, start: int, end: int) -> np.ndarray | None:
        """Boolean per channel: a bad sample lies in [start, end); None when none does."""
        if self.newest_bad < start:
            return None
        offset = self.head - self.first_index
        return self.bad[:, offset + start : offset + end].any(axis=1)

    def drop_before(self, index: int) -> None:
        """Forget samples older than absolute ``index``."""
        shift = min(max(index - self.first_index, 0), self.tail - self.head)
        self.head += shift
        self.first_index += shift
        if self.bad is not None and self.newest_bad < self.first_index:
            self.bad = None  # the last bad sample is gone: no mask to keep up per hop

    def _compact(self, incoming: int) -> None:
        """Move the live samples to the front, growing the arrays if they still do not fit."""
        live = self.tail - self.head
        capacity = max(self.data.shape[1], 2 * (live + incoming))
        for name in ("data", "timestamps", "arrivals", "bad"):
            old = getattr(self, name)
            if old is None:
                continue
            new = (
                old
                if capacity == old.shape[-1]
                else np.zeros_like(old, shape=old.shape[:-1] + (capacity,))
            )
            new[..., :live] = old[..., self.head : self.tail]
            setattr(self, name, new)
        self.head, self.tail = 0, live


def feature_frames(recording, spec: FeatureSpec, normaliser=None, bad_channels=(),
                   line_freq: float | None = None):
    """Run the live pipeline over a whole recording and return its frames.

    Parameters
    ----------
    recording : Recording
        A loaded recording (:func:`installation.eeg.sources.files.recordings.load_recording`);
        anything with ``info`` and ``chunks(n_samples)`` will do.
    spec : FeatureSpec
        The feature spec.
    normaliser : FeatureNormaliser, optional
        Profile normaliser; a running baseline when None.
    bad_channels : sequence of str
        Channels to leave out.
    line_freq : float, optional
        Mains frequency to notch, as the show takes its calibration profile's; None = decided
        from the recording's first second (see :class:`FeatureExtractor`).

    Returns
    -------
    list of FeatureFrame
        One per hop, oldest first (``arrival`` is when the block was read, not a live figure).
    """
    extractor = FeatureExtractor(spec, recording.info, normaliser, bad_channels, line_freq)
    # Blocks of 10 s: the output does not depend on the cut, and the buffer stays small.
    block = max(extractor.window, int(round(10 * recording.info.sample_rate)))
    frames: list[FeatureFrame] = []
    for chunk in recording.chunks(block):
        frames.extend(extractor.push(chunk))
    return frames


def extract_feature_sequence(recording, spec: FeatureSpec, normaliser=None, bad_channels=(),
                             line_freq: float | None = None):
    """Steering vectors and their EEG times for a whole recording (for ``train.py``).

    Parameters
    ----------
    recording, spec, normaliser, bad_channels, line_freq
        As for :func:`feature_frames`.

    Returns
    -------
    steering : ndarray, float32, shape (n_hops, n_features)
    eeg_times : ndarray, float64, shape (n_hops,)
        Timestamp of the newest sample in each window.
    """
    frames = feature_frames(recording, spec, normaliser, bad_channels, line_freq)
    steering = np.zeros((len(frames), spec.n_features), dtype=np.float32)
    for i, frame in enumerate(frames):
        steering[i] = frame.steering
    eeg_times = np.array([frame.eeg_time for frame in frames], dtype=np.float64)
    return steering, eeg_times


def expected_frame_count(n_samples: int, spec: FeatureSpec, sample_rate: float) -> int:
    """Frames a stream of ``n_samples`` samples yields: one per hop after the first window."""
    window = window_samples(spec, sample_rate)
    if n_samples < window:
        return 0
    return 1 + (n_samples - window) // hop_samples(spec, sample_rate)
