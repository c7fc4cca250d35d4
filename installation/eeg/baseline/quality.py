"""Per-channel signal quality: railed, flat, noisy, line noise or good, over sliding windows.

:class:`QualityMonitor` is a step object: ``push(data)`` takes raw microvolts as they come and
returns a :class:`WindowQuality` for every window step (3 s windows every 0.5 s, as the OpenBCI
GUI and timeflux_dsp's LineQuality look at the signal); ``summary()`` turns the windows seen so
far into one :class:`QualityReport` for the whole calibration. :func:`assess_quality` runs it
over an array in one call. Every threshold lives in :class:`QualityThresholds`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import signal

from installation.eeg.baseline.montage_outliers import ABNORMAL, flag_abnormal
from installation.eeg.filtering import (
    StreamingFilter,
    line_detection_samples,
    mains_frequency_at_start,
)
from installation.errors import ConfigError

GOOD = "good"
RAILED = "railed"
FLAT = "flat"
NOISY = "noisy"
LINE_NOISE = "line_noise"
STATES = (GOOD, RAILED, FLAT, NOISY, LINE_NOISE, ABNORMAL)


@dataclass(frozen=True)
class QualityThresholds:
    """Every figure that decides a channel's state, with where it comes from.

    Attributes
    ----------
    rail_uv : float
        Full scale of the amplifier in µV. Default: OpenBCI Cyton (ADS1299) at gain 24 with its
        4.5 V reference, 4.5 V / 24 = 187,500 µV; the Jordan recording sits at ±187500.02 µV.
    railed_fraction, near_railed_fraction : float
        Share of full scale at which a sample counts as railed / near-railed (OpenBCI GUI: 90%
        and 75% over the last 3 s).
    railed_share : float
        Share of a window's samples at the rail that makes the window railed; 0 means any
        sample, as in the OpenBCI GUI, which flags a window whose amplitude reaches 90%.
    flat_std_uv : float
        A raw window varying less than this is flat: an ADS1299's noise alone is ~1 µV
        peak-to-peak, scalp EEG 10-100 µV, so 0.5 µV std means nothing is connected.
    repeated_share : float
        Share of samples equal to the one before that makes a window flat ("data doesn't
        change", OpenBCI GUI). Real EEG at 1 µV resolution (PhysioNet eegmmidb) repeats ~5% of
        samples; a stalled or held stream repeats nearly all.
    noisy_rms_uv : float
        RMS of the 1-40 Hz (mains-notched) signal above which a channel is noisy: scalp EEG is
        typically 10-100 µV, so more is muscle, movement or a loose electrode.
    line_log_ratio : float
        log10(power after 1-65 Hz band-pass and notches at the mains frequency and harmonics /
        power after the band-pass alone), timflux_dsp's LineQuality. Below -0.3 more than half
        of the broadband power is mains hum, i.e. the hum is as strong as the EEG itself.
        Measured here: PhysioNet eegmat Subject00 -0.0001, eegmmidb S001R01 -0.01 at worst
        (notches take a little EEG too); OpenBCI's v6 GUI sample -1.3 to -1.9 (60 Hz hum).
    line_band_high_hz : float
        Upper edge of LineQuality's band-pass (capped at 45% of the sample rate).
    rms_band : (float, float)
        Band of the RMS figure, the show's own band-pass.
    window_s, step_s : float
        Window length and step (OpenBCI GUI and LineQuality: 3 s every 0.5 s).
    bad_window_share : float
        Share of a calibration's windows a channel must spend in a bad state to be called bad
        overall: a blink or one movement lasts a window or two, a loose electrode lasts.
    min_good_share : float
        Share of channels that must be good for the overall verdict to be good.
    abnormal_loud_ratio, abnormal_quiet_ratio : float
        A good channel whose RMS is more than ``abnormal_loud_ratio`` times, or less than
        ``abnormal_quiet_ratio`` times, the median of the good ones is abnormal
        (:mod:`~installation.eeg.baseline.montage_outliers`). Measured here: PhysioNet eegmmidb
        rest, every channel of S001, S005, S026 and S070 within 0.32-2.9 times the median (the
        largest, S026's frontal row, eye movement); BrainFlow's synthetic board 0.18-1.3. A
        loose electrode at 5x is flagged.
    """

    rail_uv: float = 187_500.0
    railed_fraction: float = 0.90
    near_railed_fraction: float = 0.75
    railed_share: float = 0.0
    flat_std_uv: float = 0.5
    repeated_share: float = 0.5
    noisy_rms_uv: float = 100.0
    line_log_ratio: float = -0.3
    line_band_high_hz: float = 65.0
    rms_band: tuple[float, float] = (1.0, 40.0)
    window_s: float = 3.0
    step_s: float = 0.5
    bad_window_share: float = 0.10
    min_good_share: float = 0.75
    abnormal_loud_ratio: float = 4.0
    abnormal_quiet_ratio: float = 0.1

    def to_dict(self) -> dict:
        """JSON-ready form."""
        d = asdict(self)
        d["rms_band"] = list(self.rms_band)
        return d


@dataclass(frozen=True)
class ChannelQuality:
    """One channel's state and the figures behind it.

    Attributes
    ----------
    name : str
        Channel name.
    state : str
        One of ``good``, ``railed``, ``flat``, ``noisy``, ``line_noise``, ``abnormal``.
    rms_uv : float
        RMS of the 1-40 Hz filtered signal (median over windows in a summary).
    railed_share, near_railed_share : float
        Share of samples at ≥ 90% / ≥ 75% of the rail.
    raw_std_uv : float
        Standard deviation of the raw signal (median over windows in a summary).
    repeated_share : float
        Share of samples equal to the previous one.
    line_log_ratio : float or None
        LineQuality's log10 power ratio (≤ 0; None when the mains frequency is above the band).
    bad_window_share : float
        Share of windows not good (1 or 0 for a single window).
    """

    name: str
    state: str
    rms_uv: float
    railed_share: float
    near_railed_share: float
    raw_std_uv: float
    repeated_share: float
    line_log_ratio: float | None
    bad_window_share: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready form with rounded figures."""
        d = asdict(self)
        for key, value in d.items():
            if isinstance(value, float):
                d[key] = round(value, 4)
        return d


@dataclass(frozen=True)
class WindowQuality:
    """States of all channels over one window.

    Attributes
    ----------
    end_s : float
        Seconds from the stream's start to the end of the window.
    channels : tuple of ChannelQuality
        One per channel, in stream order.
    """

    end_s: float
    channels: tuple[ChannelQuality, ...]


@dataclass(frozen=True)
class QualityReport:
    """Quality over a whole calibration.

    Attributes
    ----------
    channels : tuple of ChannelQuality
        Summary per channel.
    verdict : str
        ``good`` when at least ``min_good_share`` of the channels are good, else ``bad``.
    line_freq : float
        Mains frequency used (detected, or 50 Hz when neither stood out).
    sample_rate : float
        Samples per second.
    duration_s : float
        Seconds of data assessed.
    n_windows : int
        Windows the summary is made of.
    thresholds : QualityThresholds
        The thresholds used.
    """

    channels: tuple[ChannelQuality, ...]
    verdict: str
    line_freq: float
    sample_rate: float
    duration_s: float
    n_windows: int
    thresholds: QualityThresholds = field(default_factory=QualityThresholds)

    @property
    def bad_channels(self) -> list[str]:
        """Names of the channels that are not good."""
        return [c.name for c in self.channels if c.state != GOOD]

    @property
    def states(self) -> dict[str, str]:
        """Channel name to state."""
        return {c.name: c.state for c in self.channels}


def classify(
    rms_uv: float,
    railed_share: float,
    raw_std_uv: float,
    repeated_share: float,
    line_log_ratio: float | None,
    thresholds: QualityThresholds,
) -> str:
    """State of one channel in one window; the first problem found wins.

    Railed comes first (a channel stuck at the rail is also flat), then flat, noisy and line
    noise: the order in which an operator should fix them.

    Returns
    -------
    str
        One of :data:`STATES`.
    """
    t = thresholds
    if railed_share > t.railed_share:
        return RAILED
    if raw_std_uv < t.flat_std_uv or repeated_share >= t.repeated_share:
        return FLAT
    if rms_uv > t.noisy_rms_uv:
        return NOISY
    if line_log_ratio is not None and line_log_ratio < t.line_log_ratio:
        return LINE_NOISE
    return GOOD


class _HarmonicNotches:
    """Causal notches at the mains frequency and its harmonics below the band's top, stateful."""

    def __init__(self, sample_rate: float, n_channels: int, line_freq: float, top_hz: float):
        sections = []
        harmonic = line_freq
        while harmonic < top_hz * 1.5 and harmonic < 0.48 * sample_rate:
            b, a = signal.iirnotch(harmonic, 30.0, fs=sample_rate)
            sections.append(signal.tf2sos(b, a))
            harmonic += line_freq
        self.sos = np.vstack(sections) if sections else None
        self._zi = None
        self.n_channels = n_channels

    def process(self, x: np.ndarray) -> np.ndarray:
        if self.sos is None:
            return x
        if self._zi is None:
            self._zi = signal.sosfilt_zi(self.sos)[:, None, :] * x[None, :, 0, None]
        y, self._zi = signal.sosfilt(self.sos, x, axis=1, zi=self._zi)
        return y


class QualityMonitor:
    """Sliding-window signal quality of a stream, step by step.

    Until the first full window has arrived nothing is filtered; the mains frequency is then
    decided (unless given) by :func:`~installation.eeg.filtering.mains_frequency_at_start`, the
    rule the show's feature pipeline follows, and the filters run from the first sample on.

    Parameters
    ----------
    channel_names : sequence of str
        One name per data row.
    sample_rate : float
        Samples per second.
    line_freq : float, optional
        Mains frequency; detected from the first window when None.
    thresholds : QualityThresholds, optional
        Defaults to :class:`QualityThresholds`.
    """

    def __init__(self, channel_names, sample_rate: float, line_freq=None, thresholds=None):
        self.channel_names = tuple(channel_names)
        self.sample_rate = float(sample_rate)
        self.thresholds = thresholds or QualityThresholds()
        self.window = int(round(self.thresholds.window_s * self.sample_rate))
        self.step = max(1, int(round(self.thresholds.step_s * self.sample_rate)))
        if self.window < 8:
            raise ConfigError("The quality window must span at least 8 samples; lengthen it.")
        self.line_freq = None if line_freq is None else float(line_freq)
        self.line_top_hz = min(self.thresholds.line_band_high_hz, 0.45 * self.sample_rate)
        self._filters = None
        n = len(self.channel_names)
        self._raw = np.zeros((n, 0))
        self._rms_band = np.zeros((n, 0))
        self._line_band = np.zeros((n, 0))
        self._notched = np.zeros((n, 0))
        self._pending = np.zeros((n, 0))
        self._n_received = 0
        self._next_end = self.window
        self._last_sample = None
        self.windows: list[WindowQuality] = []

    @property
    def samples_received(self) -> int:
        """Samples pushed so far."""
        return self._n_received

    def push(self, data: np.ndarray) -> list[WindowQuality]:
        """Take the next raw samples; return the quality of every window step they complete.

        Parameters
        ----------
        data : ndarray, shape (n_channels, n_samples)
            Raw EEG in µV, oldest first.

        Returns
        -------
        list of WindowQuality
            Oldest first; also appended to :attr:`windows`.
        """
        data = np.asarray(data, dtype=np.float64)
        if data.ndim != 2 or data.shape[0] != len(self.channel_names):
            raise ConfigError(
                f"Quality data must have shape ({len(self.channel_names)}, n_samples), got "
                f"{data.shape}; pass one row per channel."
            )
        self._n_received += data.shape[1]
        if self._filters is None:
            self._pending = np.hstack([self._pending, data])
            if self._pending.shape[1] < self._samples_before_filtering:
                return []
            self._filters = self._build_filters(self._pending)
            data, self._pending = self._pending, self._pending[:, :0]
        self._append(data)
        out = []
        while self._n_received >= self._next_end:
            stop = self._raw.shape[1] - (self._n_received - self._next_end)
            window = self._assess(slice(stop - self.window, stop), self._next_end)
            out.append(window)
            self._next_end += self.step
        self.windows.extend(out)
        self._trim()
        return out

    @property
    def _samples_before_filtering(self) -> int:
        """Raw samples held back until the filters can be built (a window; mains detection)."""
        if self.line_freq is not None:
            return self.window
        return max(self.window, line_detection_samples(self.sample_rate))

    def _build_filters(self, first_samples: np.ndarray):
        if self.line_freq is None:
            self.line_freq = mains_frequency_at_start(first_samples, self.sample_rate)
        n = len(self.channel_names)
        rms = StreamingFilter(self.sample_rate, n, self.thresholds.rms_band, self.line_freq)
        line_band = (1.0, self.line_top_hz)
        band = StreamingFilter(self.sample_rate, n, line_band, line_freq=None)
        notches = _HarmonicNotches(self.sample_rate, n, self.line_freq, self.line_top_hz)
        return rms, band, notches

    def _append(self, data: np.ndarray) -> None:
        rms, band, notches = self._filters
        banded = band.process(data)
        self._raw = np.hstack([self._raw, data])
        self._rms_band = np.hstack([self._rms_band, rms.process(data)])
        self._line_band = np.hstack([self._line_band, banded])
        self._notched = np.hstack([self._notched, notches.process(banded)])

    def _trim(self) -> None:
        """Keep what the next window needs (plus one sample to count repeats across)."""
        keep = self.window + self.step + 1
        if self._raw.shape[1] > keep:
            cut = self._raw.shape[1] - keep
            self._raw = self._raw[:, cut:]
            self._rms_band = self._rms_band[:, cut:]
            self._line_band = self._line_band[:, cut:]
            self._notched = self._notched[:, cut:]

    def _assess(self, span: slice, end_index: int) -> WindowQuality:
        raw = self._raw[:, span]
        t = self.thresholds
        rail = np.abs(raw) >= t.railed_fraction * t.rail_uv
        near = np.abs(raw) >= t.near_railed_fraction * t.rail_uv
        rms = np.sqrt(np.mean(self._rms_band[:, span] ** 2, axis=1))
        std = raw.std(axis=1)
        repeated = np.mean(np.diff(raw, axis=1) == 0, axis=1)
        line = self._line_ratios(span)
        channels = []
        for i, name in enumerate(self.channel_names):
            ratio = None if line is None else float(line[i])
            figures = (float(rms[i]), float(rail[i].mean()), float(std[i]), float(repeated[i]))
            state = classify(figures[0], figures[1], figures[2], figures[3], ratio, t)
            channels.append(ChannelQuality(
                name, state, figures[0], figures[1], float(near[i].mean()), figures[2],
                figures[3], ratio, float(state != GOOD),
            ))
        return WindowQuality(end_index / self.sample_rate, tuple(channels))

    def _line_ratios(self, span: slice) -> np.ndarray | None:
        """LineQuality's log10(notched power / band power) per channel; None if unmeasurable."""
        if self.line_freq >= self.line_top_hz * 1.5 or self.line_freq >= 0.48 * self.sample_rate:
            return None
        band_power = np.mean(self._line_band[:, span] ** 2, axis=1)
        notched_power = np.mean(self._notched[:, span] ** 2, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.log10(notched_power / band_power)
        return np.where(band_power > 0, ratio, 0.0)

    def latest(self) -> WindowQuality | None:
        """The newest window's quality, or None before the first full window."""
        return self.windows[-1] if self.windows else None

    def recent_filtered(self) -> np.ndarray:
        """The newest samples of the 1-40 Hz filtered signal (up to a window and a step), µV."""
        return self._rms_band

    def summary(self, windows=None, duration_s: float | None = None) -> QualityReport:
        """Quality over every window seen so far, or over the windows given.

        A channel is bad when it spent at least ``bad_window_share`` of the windows in a bad
        state (see :func:`_overall_state` for which). Figures are medians over windows,
        railed shares means over windows.

        Parameters
        ----------
        windows : sequence of WindowQuality, optional
            E.g. only those of the recorded steps; all of :attr:`windows` when None.
        duration_s : float, optional
            Seconds of EEG the windows stand for; all samples received when None.

        Raises
        ------
        ConfigError
            Before the first full window.
        """
        windows = self.windows if windows is None else list(windows)
        if not windows:
            raise ConfigError(
                f"Signal quality needs at least {self.thresholds.window_s:g} s of EEG, got "
                f"{self._n_received / self.sample_rate:.1f} s; record for longer."
            )
        channels = tuple(
            _summarise_channel([w.channels[i] for w in windows], self.thresholds)
            for i in range(len(self.channel_names))
        )
        channels = flag_abnormal(channels, GOOD, self.thresholds.abnormal_loud_ratio,
                                 self.thresholds.abnormal_quiet_ratio)
        n_good = sum(c.state == GOOD for c in channels)
        verdict = GOOD if n_good >= self.thresholds.min_good_share * len(channels) else "bad"
        return QualityReport(
            channels=channels,
            verdict=verdict,
            line_freq=float(self.line_freq),
            sample_rate=self.sample_rate,
            duration_s=self._n_received / self.sample_rate if duration_s is None else duration_s,
            n_windows=len(windows),
            thresholds=self.thresholds,
        )


def _summarise_channel(windows: list[ChannelQuality], t: QualityThresholds) -> ChannelQuality:
    """One channel's windows into one state and median figures."""
    counts = Counter(w.state for w in windows)
    bad_share = 1.0 - counts[GOOD] / len(windows)
    state = _overall_state(counts, len(windows), t.bad_window_share)
    ratios = [w.line_log_ratio for w in windows if w.line_log_ratio is not None]
    return ChannelQuality(
        name=windows[0].name,
        state=state,
        rms_uv=float(np.median([w.rms_uv for w in windows])),
        railed_share=float(np.mean([w.railed_share for w in windows])),
        near_railed_share=float(np.mean([w.near_railed_share for w in windows])),
        raw_std_uv=float(np.median([w.raw_std_uv for w in windows])),
        repeated_share=float(np.median([w.repeated_share for w in windows])),
        line_log_ratio=float(np.median(ratios)) if ratios else None,
        bad_window_share=float(bad_share),
    )


def _overall_state(counts: Counter, n_windows: int, min_share: float) -> str:
    """The first problem (in fixing order) that lasted ``min_share`` of the windows.

    A channel railed for the first 15 s and flat afterwards is reported railed: that is what
    the operator sees and fixes first. Problems that each lasted less but add up to
    ``min_share`` give the most frequent of them.
    """
    for state in (RAILED, FLAT, NOISY, LINE_NOISE):
        if counts[state] >= min_share * n_windows:
            return state
    bad = Counter({state: n for state, n in counts.items() if state != GOOD})
    if bad and sum(bad.values()) >= min_share * n_windows:
        return bad.most_common(1)[0][0]
    return GOOD


def assess_quality(data, sample_rate: float, channel_names, line_freq=None, thresholds=None):
    """Quality of a whole array of raw EEG, window by window.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Raw EEG in µV.
    sample_rate : float
        Samples per second.
    channel_names : sequence of str
        One per row.
    line_freq : float, optional
        Mains frequency; detected when None.
    thresholds : QualityThresholds, optional
        Defaults to :class:`QualityThresholds`.

    Returns
    -------
    QualityReport
    """
    monitor = QualityMonitor(channel_names, sample_rate, line_freq, thresholds)
    monitor.push(data)
    return monitor.summary()
