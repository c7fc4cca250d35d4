"""Causal streaming filter (band-pass + mains notch) whose state carries from chunk to chunk.

The live show, calibration and training all filter through :class:`StreamingFilter`, so the
generator is fed exactly what it learned from. Because the state carries across calls, any way
of cutting a stream into chunks gives the same output as one pass over the whole stream.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from installation.errors import ConfigError

try:  # SciPy's compiled kernel without sosfilt's per-call reshaping (~20 µs a call saved)
    from scipy.signal._sosfilt import _sosfilt as _sosfilt_kernel
except ImportError:  # pragma: no cover - a future SciPy may move it; the public path still works
    _sosfilt_kernel = None

LINE_FREQUENCIES = (50.0, 60.0)
DEFAULT_LINE_FREQ = 50.0  # mains frequency assumed when neither 50 nor 60 Hz stands out
# A line peak must stand this many times above its neighbours' median power to count.
LINE_PEAK_RATIO = 4.0
# The mains frequency is decided once per stream, on its first second of raw samples, by
# calibration and the feature pipeline alike (see ``mains_frequency_at_start``).
LINE_DETECTION_S = 1.0


def design_sos(
    sample_rate: float,
    band: tuple[float, float] = (1.0, 40.0),
    line_freq: float | None = 50.0,
    order: int = 4,
    notch_q: float = 30.0,
) -> np.ndarray:
    """Second-order sections of a Butterworth band-pass followed by a mains notch.

    Parameters
    ----------
    sample_rate : float
        Samples per second.
    band : (float, float)
        Pass band edges in Hz; both must lie strictly between 0 and the Nyquist frequency.
    line_freq : float or None
        Mains frequency to notch (its fundamental only); None, or at/above Nyquist, skips it.
    order : int
        Butterworth order (the band-pass has twice as many poles).
    notch_q : float
        Quality factor of the notch (centre frequency over -3 dB width).

    Returns
    -------
    ndarray, shape (n_sections, 6)
        The cascade, ready for :func:`scipy.signal.sosfilt`.
    """
    _check_design(sample_rate, band, line_freq, order, notch_q)
    nyquist = sample_rate / 2.0
    sos = signal.butter(order, band, btype="bandpass", output="sos", fs=sample_rate)
    if line_freq is not None and line_freq < nyquist:
        b, a = signal.iirnotch(line_freq, notch_q, fs=sample_rate)
        sos = np.vstack([sos, signal.tf2sos(b, a)])
    return sos


def _check_design(sample_rate, band, line_freq, order, notch_q) -> None:
    """Raise ConfigError with one sentence when a filter setting cannot work."""
    if not np.isfinite(sample_rate) or sample_rate <= 0:
        raise ConfigError(f"The sample rate must be a positive number of Hz, got {sample_rate}.")
    low, high = band
    nyquist = sample_rate / 2.0
    if not 0 < low < high:
        raise ConfigError(f"The band-pass {low}-{high} Hz must have 0 < low < high; fix the band.")
    if high >= nyquist:
        raise ConfigError(
            f"The band-pass upper edge {high} Hz is at or above the Nyquist frequency "
            f"{nyquist:g} Hz of a {sample_rate:g} Hz source; lower it."
        )
    if line_freq is not None and line_freq <= 0:
        raise ConfigError(f"The line frequency must be 50 or 60 Hz, got {line_freq}.")
    if int(order) != order or order < 1:
        raise ConfigError(f"The filter order must be a positive integer, got {order}.")
    if notch_q <= 0:
        raise ConfigError(f"The notch quality factor must be positive, got {notch_q}.")


class StreamingFilter:
    """Causal band-pass + notch over all channels, state kept between :meth:`process` calls.

    The state is seeded from the first sample of each channel (``sosfilt_zi * x[:, 0]``), so a
    DC offset of tens of millivolts starts in steady state instead of ringing through the
    high-pass for seconds. Non-finite input samples are replaced by the channel's last finite
    value (a NaN would otherwise poison the filter state for good); callers that care mark such
    channels themselves.

    Parameters
    ----------
    sample_rate : float
        Samples per second.
    n_channels : int
        Rows of every block passed to :meth:`process`.
    band, line_freq, order, notch_q
        See :func:`design_sos`.
    """

    def __init__(
        self,
        sample_rate: float,
        n_channels: int,
        band: tuple[float, float] = (1.0, 40.0),
        line_freq: float | None = 50.0,
        order: int = 4,
        notch_q: float = 30.0,
    ) -> None:
        if n_channels < 1:
            raise ConfigError(f"The filter needs at least one channel, got {n_channels}.")
        self.sample_rate = float(sample_rate)
        self.n_channels = int(n_channels)
        self.band = (float(band[0]), float(band[1]))
        self.line_freq = None if line_freq is None else float(line_freq)
        self.sos = np.ascontiguousarray(design_sos(sample_rate, band, line_freq, order, notch_q))
        self._zi: np.ndarray | None = None
        self._last_input = np.zeros(self.n_channels)
        self.last_block_had_non_finite = False  # lets callers skip their own scan

    @property
    def notches_line(self) -> bool:
        """Whether the cascade includes the mains notch (False when it is at/above Nyquist)."""
        return self.line_freq is not None and self.line_freq < self.sample_rate / 2.0

    def process(self, x: np.ndarray) -> np.ndarray:
        """Filter the next block of the stream.

        Parameters
        ----------
        x : ndarray, shape (n_channels, n_samples)
            Raw samples (µV), oldest first.

        Returns
        -------
        ndarray, float64, shape (n_channels, n_samples)
            Filtered samples.
        """
        y = np.array(x, dtype=np.float64, order="C")  # a copy: the kernel filters in place
        if y.ndim != 2 or y.shape[0] != self.n_channels:
            raise ConfigError(
                f"The filter was built for {self.n_channels} channels but got an array of shape "
                f"{y.shape}; pass (n_channels, n_samples) blocks."
            )
        self.last_block_had_non_finite = y.shape[1] > 0 and not np.isfinite(y).all()
        if y.shape[1] == 0:
            return y
        if self.last_block_had_non_finite:
            self._hold_non_finite(y)
        if self._zi is None:
            # state layout (n_channels, n_sections, 2), the one SciPy's kernel works in
            self._zi = signal.sosfilt_zi(self.sos)[None, :, :] * y[:, 0, None, None]
        self._last_input = y[:, -1].copy()
        if _sosfilt_kernel is None:
            y, zi = signal.sosfilt(self.sos, y, axis=1, zi=self._zi.transpose(1, 0, 2))
            self._zi = np.ascontiguousarray(zi.transpose(1, 0, 2))
            return y
        _sosfilt_kernel(self.sos, y, self._zi)
        return y

    def _hold_non_finite(self, x: np.ndarray) -> None:
        """Replace, in place, each non-finite sample by the last finite one of its channel."""
        previous = self._last_input
        for col in range(x.shape[1]):  # rare path: only blocks that contain NaN/inf come here
            column = x[:, col]
            bad = ~np.isfinite(column)
            column[bad] = previous[bad]
            previous = column


def detect_line_frequency(data: np.ndarray, sample_rate: float) -> float | None:
    """Tell 50 Hz from 60 Hz mains by which stands out more above its spectral neighbours.

    Each channel's Hann-windowed power spectrum is normalised to unit total power, the spectra
    are averaged (so one loud channel does not decide alone), and the peak near each candidate
    is compared with the median power 3-6 Hz either side of it.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Raw samples, at least about half a second.
    sample_rate : float
        Samples per second.

    Returns
    -------
    float or None
        50.0 or 60.0, or None when neither stands out (the caller then assumes 50 Hz).
    """
    data = np.asarray(data, dtype=np.float64)
    data = data[np.isfinite(data).all(axis=1)]
    if data.shape[0] == 0 or data.shape[1] < sample_rate / 2:
        return None
    spectrum, freqs = _normalised_mean_spectrum(data, sample_rate)
    ratios = {f0: _peak_ratio(spectrum, freqs, f0) for f0 in LINE_FREQUENCIES}
    best = max(ratios, key=ratios.get)
    return best if ratios[best] >= LINE_PEAK_RATIO else None


def line_detection_samples(sample_rate: float) -> int:
    """Raw samples :func:`mains_frequency_at_start` needs: ``LINE_DETECTION_S`` of the stream."""
    return max(1, int(round(LINE_DETECTION_S * sample_rate)))


def mains_frequency_at_start(data: np.ndarray, sample_rate: float) -> float:
    """The mains frequency of a stream, decided on its first ``LINE_DETECTION_S`` seconds.

    The one rule for every stage that has to choose the notch itself (calibration, the feature
    pipeline when neither the spec nor a profile fixes it): the same samples give the same
    choice everywhere.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Raw samples from the stream's first sample on, at least
        :func:`line_detection_samples` of them; later samples are not looked at.
    sample_rate : float
        Samples per second.

    Returns
    -------
    float
        50.0 or 60.0; ``DEFAULT_LINE_FREQ`` (50 Hz) when neither stands out.
    """
    n = line_detection_samples(sample_rate)
    if data.shape[1] < n:
        raise ValueError(f"mains detection needs {n} samples, got {data.shape[1]}")
    found = detect_line_frequency(data[:, :n], sample_rate)
    return DEFAULT_LINE_FREQ if found is None else found


def _normalised_mean_spectrum(data: np.ndarray, sample_rate: float):
    """Channel-averaged power spectrum, each channel scaled to unit total power."""
    data = signal.detrend(data, axis=1, type="linear")
    window = signal.get_window("hann", data.shape[1])
    power = np.abs(np.fft.rfft(data * window, axis=1)) ** 2
    total = power[:, 1:].sum(axis=1, keepdims=True)
    power = power[total[:, 0] > 0] / total[total[:, 0] > 0]
    freqs = np.fft.rfftfreq(data.shape[1], 1.0 / sample_rate)
    if power.shape[0] == 0:
        return np.zeros_like(freqs), freqs
    return power.mean(axis=0), freqs


def _peak_ratio(spectrum: np.ndarray, freqs: np.ndarray, f0: float) -> float:
    """Peak power within ±1.5 Hz of f0 over the median power 3-6 Hz away; 0 if unmeasurable."""
    offset = np.abs(freqs - f0)
    peak = spectrum[offset <= 1.5]
    neighbours = spectrum[(offset >= 3.0) & (offset <= 6.0)]
    if peak.size == 0 or neighbours.size == 0 or f0 >= freqs[-1]:
        return 0.0
    floor = np.median(neighbours)
    if floor <= 0:
        return np.inf if peak.max() > 0 else 0.0
    return float(peak.max() / floor)
