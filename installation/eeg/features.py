"""Feature steps: band powers per region, their z-scores, and the smoothed steering vector.

Each class is a step object with a pure method (``compute`` or ``update``); the live show,
calibration and training chain them through :mod:`installation.eeg.feature_pipeline`.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
from scipy import signal

try:  # SciPy's FFT kernel without scipy.fft's dispatch (~13 µs of ~35 a window saved)
    from scipy.fft._pocketfft.pypocketfft import r2c as _r2c_kernel
except ImportError:  # pragma: no cover - a future SciPy may move it; the public path still works
    _r2c_kernel = None

from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.montage import region_of
from installation.errors import ConfigError

FLAT_STD_UV = 0.1  # a channel whose filtered window varies less than this is not connected
ABSURD_UV = 5000.0  # filtered EEG never reaches 5 mV; such a window is an artefact or a rail
POWER_FLOOR_UV2 = 1e-12  # keeps log10 finite for a band that holds no power at all
Z_CLIP = 5.0
STD_FLOOR = 1e-3  # log10 units; keeps z finite while a running baseline has seen one value
MAX_CACHED_MASKS = 256  # distinct channel masks remembered (region weights, names)


class BandPowerFeatures:
    """Log10 band power (µV²) per (region, band), region-major, from one window of EEG.

    Uses a Hann-windowed periodogram: one ``rfft`` over all channels per window and precomputed
    band weights, then the mean over the usable channels of each region: of their log powers
    (``spec.region_mean == "log"``, a geometric mean: every electrode weighs the same, so one
    with a higher gain cannot dominate) or of their powers (``"power"``, older bundles). A
    region without a usable channel takes the mean over all usable channels, so every headset
    gives the same vector shape.

    Parameters
    ----------
    spec : FeatureSpec
        Bands, regions and window length.
    channel_names : sequence of str
        One cleaned name per data row; names that are no electrode position belong to no
        region but still count towards "all usable channels".
    sample_rate : float
        Samples per second.
    bad_channels : sequence of str
        Names to leave out of every window (e.g. from calibration).
    """

    def __init__(self, spec: FeatureSpec, channel_names, sample_rate: float, bad_channels=()):
        spec.validate(sample_rate)
        self.spec = spec
        self.channel_names = tuple(channel_names)
        self.sample_rate = float(sample_rate)
        self.n_window = window_samples(spec, sample_rate)
        self.bad_mask = _bad_channel_mask(self.channel_names, bad_channels)
        self._any_bad = bool(self.bad_mask.any())
        if self.n_window < 4:
            raise ConfigError("The feature window must span at least 4 samples; lengthen it.")
        # Spectra are computed in float32: ample for log powers and ~30% faster per window.
        taper = signal.get_window("hann", self.n_window)  # periodic: see compute()
        self._band_weights = _band_weights(spec, self.n_window, sample_rate, taper)
        self._band_weights = self._band_weights.astype(np.float32)
        self._taper = taper.astype(np.float32)
        self._membership = _region_membership(spec.regions, self.channel_names)
        self._region_weights_cache: dict[bytes, np.ndarray] = {}
        self._masked_names_cache: dict[bytes, tuple[str, ...]] = {}
        self._previous = np.zeros(spec.n_features)
        self._masked = self.bad_mask.copy()
        self._log_mean = spec.region_mean == "log"

    @property
    def masked_channels(self) -> tuple[str, ...]:
        """Names of the channels left out of the last window (bad, flat, absurd, non-finite)."""
        key = self._masked.tobytes()
        names = self._masked_names_cache.get(key)
        if names is None:
            if len(self._masked_names_cache) >= MAX_CACHED_MASKS:
                self._masked_names_cache.clear()
            names = tuple(n for n, m in zip(self.channel_names, self._masked, strict=True) if m)
            self._masked_names_cache[key] = names
        return names

    def compute(self, window: np.ndarray, also_masked: np.ndarray | None = None,
                prescreened: bool = False) -> np.ndarray:
        """Feature vector of one window.

        Parameters
        ----------
        window : ndarray, shape (n_channels, n_window)
            Filtered EEG in µV, oldest sample first (float32 avoids a conversion).
        also_masked : ndarray of bool, shape (n_channels,), optional
            Extra channels to leave out of this window (e.g. whose raw input was non-finite).
        prescreened : bool
            The caller vouches that ``window`` is finite and that ``also_masked`` already
            holds every channel with a sample beyond ±5 mV in it (the streaming pipeline tracks
            both as samples arrive); skips the scan of the whole window.

        Returns
        -------
        ndarray, float64, shape (n_features,)
            log10 band powers, region-major; the previous vector (zeros before any) when no
            channel is usable. Never NaN. Treat it as read-only.
        """
        window = np.asarray(window, dtype=np.float32)
        if window.shape != (len(self.channel_names), self.n_window):
            raise ConfigError(
                f"A feature window must have shape {(len(self.channel_names), self.n_window)}, "
                f"got {window.shape}."
            )
        peak = None
        if not prescreened:
            peak = np.maximum.reduce(np.abs(window), axis=1)  # NaN/inf in a row show up here
            if not np.isfinite(peak).all():
                finite = np.isfinite(peak)[:, None]
                window = np.where(finite, window, 0.0)  # 0 * NaN would leak into the means
                peak = np.where(finite[:, 0], peak, np.inf)  # masked below as absurd
        spectrum = _rfft(window * self._taper)
        # Remove the window's (Hann-weighted) mean: a periodic Hann spreads a constant over
        # bins 0 and 1 only, as X0 and -X0/2. Bin 0 carries no weight, so fixing bin 1 is all.
        spectrum[:, 1] += 0.5 * spectrum[:, 0]
        squares = spectrum.view(np.float32)  # re, im side by side: |X|² is their squares' sum
        squares *= squares
        channel_band = squares @ self._band_weights  # (n_channels, n_bands + 1) µV²
        masked = self._unusable(peak, channel_band[:, -1], also_masked)
        self._masked = masked
        if masked.all():
            return self._previous.copy()
        # Each electrode counts equally, whatever its gain: the region's figure is the mean of
        # its channels' log powers, so one loud channel (a loose electrode, 5x the others'
        # amplitude) shifts it by a constant the profile absorbs instead of drowning the rest.
        weights = self._region_weights(masked)
        if self._log_mean:
            log_power = np.log10(np.maximum(channel_band[:, :-1], POWER_FLOOR_UV2))
            region_band = (weights @ log_power).astype(np.float64)  # (n_regions, n_bands)
        else:
            region_band = np.log10(np.maximum(weights @ channel_band[:, :-1], POWER_FLOOR_UV2),
                                   dtype=np.float64)
        self._previous = region_band.ravel()
        return self._previous

    def _unusable(self, peak, variance, also_masked) -> np.ndarray:
        """Channels that are bad, non-finite, flat (std < 0.1 µV) or absurd (> 5 mV).

        ``variance`` is the detrended periodogram's total power, a Hann-weighted estimate of
        the window's variance that comes with the spectrum for free; ``peak`` is inf for rows
        that held NaN or inf, and None when the caller screened the window itself.
        """
        masked = variance < FLAT_STD_UV**2
        if peak is not None:
            masked |= peak > ABSURD_UV
        if self._any_bad:
            masked |= self.bad_mask
        if also_masked is not None:
            masked |= also_masked
        return masked

    def _region_weights(self, masked: np.ndarray) -> np.ndarray:
        """(n_regions, n_channels) averaging weights for this set of usable channels, cached."""
        key = masked.tobytes()
        weights = self._region_weights_cache.get(key)
        if weights is None:
            if len(self._region_weights_cache) >= MAX_CACHED_MASKS:  # flapping channels
                self._region_weights_cache.clear()
            weights = _averaging_weights(self._membership, ~masked)
            self._region_weights_cache[key] = weights
        return weights


def _rfft(x: np.ndarray) -> np.ndarray:
    """``scipy.fft.rfft(x, axis=1)``, straight through the kernel where SciPy has it."""
    if _r2c_kernel is None:
        return scipy.fft.rfft(x, axis=1)
    return _r2c_kernel(x, (1,), True, 0, None, 1)


def window_samples(spec: FeatureSpec, sample_rate: float) -> int:
    """Samples in one analysis window."""
    return max(1, int(round(spec.window_s * sample_rate)))


def hop_samples(spec: FeatureSpec, sample_rate: float) -> int:
    """Samples between successive feature vectors."""
    return max(1, int(round(spec.hop_s * sample_rate)))


def _bad_channel_mask(channel_names: tuple[str, ...], bad_channels) -> np.ndarray:
    """Boolean mask of the named bad channels; an unknown name is a ConfigError."""
    lookup = {name.upper(): i for i, name in enumerate(channel_names)}
    mask = np.zeros(len(channel_names), dtype=bool)
    for name in bad_channels:
        index = lookup.get(str(name).strip().upper())
        if index is None:
            raise ConfigError(
                f"Bad channel {name!r} is not one of this stream's channels "
                f"({', '.join(channel_names)}); check the name."
            )
        mask[index] = True
    return mask


def _band_weights(spec: FeatureSpec, n_window: int, sample_rate: float, taper: np.ndarray):
    """(2 n_freqs, n_bands + 1) weights turning squared rfft parts into band power in µV².

    Folds the periodogram scaling (1 / (fs · Σw²)), the one-sided doubling and the bin width
    into the band masks so a window needs one matrix product. Rows come in pairs (real and
    imaginary part of a bin). The last column sums every bin but DC: the window's variance,
    used to spot flat channels.
    """
    freqs = np.fft.rfftfreq(n_window, 1.0 / sample_rate)
    scale = np.full(freqs.size, 2.0 / (sample_rate * np.sum(taper**2)))
    scale[0] /= 2.0
    if n_window % 2 == 0:
        scale[-1] /= 2.0
    bin_width = sample_rate / n_window
    weights = np.zeros((freqs.size, len(spec.bands) + 1))
    weights[1:, -1] = scale[1:] * bin_width  # bin 0 never counts: compute() detrends
    for j, (name, low, high) in enumerate(spec.bands):
        in_band = (freqs >= low) & (freqs < high)
        if not in_band.any():
            raise ConfigError(
                f"Band {name!r} ({low}-{high} Hz) holds no frequency bin of a {spec.window_s} s "
                f"window ({bin_width:g} Hz apart); widen the band or lengthen the window."
            )
        weights[in_band, j] = scale[in_band] * bin_width
    weights[0] = 0.0
    return np.repeat(weights, 2, axis=0)


def _region_membership(regions: tuple[str, ...], channel_names) -> np.ndarray:
    """(n_regions, n_channels) booleans: which channel lies in which region."""
    names = [region_of(n) for n in channel_names]
    return np.array([[name == region for name in names] for region in regions], dtype=bool)


def _averaging_weights(membership: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Mean over each region's usable channels, or over all usable channels when it has none."""
    members = membership & usable[None, :]
    counts = members.sum(axis=1, keepdims=True)
    fallback = np.broadcast_to(usable, members.shape)
    members = np.where(counts > 0, members, fallback)
    return members / members.sum(axis=1, keepdims=True)


class FeatureNormaliser:
    """Z-scores feature vectors against a calibration profile or a running baseline.

    Build it with :meth:`from_profile` (fixed mean/std from calibration) or :meth:`running`
    (exponentially forgetting mean and variance). Output is clipped to ±5.

    Parameters
    ----------
    n_features : int
        Length of the vectors.
    mean, std : ndarray, optional
        Fixed statistics (profile mode); both or neither.
    tau_s : float
        Time constant of the running baseline in seconds (running mode).
    spec : FeatureSpec, optional
        The spec the statistics were made with (profile mode), checked by the pipeline.
    """

    def __init__(self, n_features: int, mean=None, std=None, tau_s: float = 60.0, spec=None):
        if tau_s <= 0:
            raise ConfigError(f"The baseline time constant must be positive, got {tau_s} s.")
        self.n_features = int(n_features)
        self.tau_s = float(tau_s)
        self.spec = spec
        self.fixed = mean is not None
        self.mean = np.zeros(n_features) if mean is None else np.array(mean, dtype=np.float64)
        self._variance = np.ones(n_features) if std is None else np.array(std, np.float64) ** 2
        self.n_seen = 0
        self._inverse_std: np.ndarray | None = None  # fixed statistics only
        self._forgetting_dt, self._forgetting_alpha = None, 0.0

    @classmethod
    def running(cls, n_features: int, tau_s: float = 60.0) -> FeatureNormaliser:
        """A running baseline, warm-started from the first vectors.

        Until ``1 / n`` falls below the forgetting factor it is the plain mean and variance of
        the vectors seen so far.
        """
        return cls(n_features, tau_s=tau_s)

    @classmethod
    def from_profile(cls, profile: dict) -> FeatureNormaliser:
        """Fixed statistics from a calibration profile.

        Parameters
        ----------
        profile : dict
            ``{"feature_spec": FeatureSpec.to_dict(), "mean": [...], "std": [...]}``, the lists
            holding one value per feature.
        """
        try:
            spec = FeatureSpec.from_dict(profile["feature_spec"])
            mean = np.asarray(profile["mean"], dtype=np.float64)
            std = np.asarray(profile["std"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"The calibration profile lacks or garbles {exc}; run calibration again."
            ) from None
        n = spec.n_features
        if mean.shape != (n,) or std.shape != (n,):
            raise ConfigError(
                f"The calibration profile's mean and std must hold {n} values each, got "
                f"{mean.size} and {std.size}; run calibration again."
            )
        if not (np.isfinite(mean).all() and np.isfinite(std).all()) or (std <= 0).any():
            raise ConfigError(
                "The calibration profile holds non-finite means or non-positive standard "
                "deviations; run calibration again."
            )
        return cls(n, mean=mean, std=std, spec=spec)

    @staticmethod
    def profile_from(spec: FeatureSpec, band_powers: np.ndarray) -> dict:
        """Calibration profile (JSON-ready) from band-power vectors (n_frames, n_features)."""
        band_powers = np.asarray(band_powers, dtype=np.float64)
        if band_powers.ndim != 2 or band_powers.shape[0] < 2:
            raise ConfigError("A calibration profile needs at least two feature vectors.")
        std = np.maximum(band_powers.std(axis=0), STD_FLOOR)
        return {
            "feature_spec": spec.to_dict(),
            "mean": band_powers.mean(axis=0).tolist(),
            "std": std.tolist(),
            "n_frames": int(band_powers.shape[0]),
        }

    @property
    def std(self) -> np.ndarray:
        """Current standard deviations (floored)."""
        return np.maximum(np.sqrt(self._variance), STD_FLOOR)

    def update(self, x: np.ndarray, dt: float) -> np.ndarray:
        """Z-score one vector (updating the running baseline first), clipped to ±5.

        Parameters
        ----------
        x : ndarray, shape (n_features,)
            Band powers (log10).
        dt : float
            Seconds since the previous vector.
        """
        x = np.asarray(x, dtype=np.float64)
        if self.fixed:
            if self._inverse_std is None:
                self._inverse_std = 1.0 / self.std
            z = x - self.mean
            z *= self._inverse_std
        else:
            z = self._update_baseline(x, dt)
            z /= self.std
        # in place, and not np.clip, which costs more per call on short vectors
        np.maximum(z, -Z_CLIP, out=z)
        return np.minimum(z, Z_CLIP, out=z)

    def _update_baseline(self, x: np.ndarray, dt: float) -> np.ndarray:
        """Exponential forgetting, warm-started as a plain cumulative mean/variance.

        Returns ``x`` minus the updated mean (a new array).
        """
        self.n_seen += 1
        if self.n_seen == 1:
            self.mean = x.copy()
            self._variance = np.zeros_like(x)
            return np.zeros_like(x)
        alpha = max(self._forgetting(dt), 1.0 / self.n_seen)
        deviation = x - self.mean
        step = alpha * deviation
        self._variance += step * deviation
        self._variance *= 1.0 - alpha
        self.mean += step
        deviation -= step
        return deviation

    def _forgetting(self, dt: float) -> float:
        """``1 - exp(-dt / tau)``, cached for the last ``dt`` (the hop is usually constant)."""
        if dt != self._forgetting_dt:
            self._forgetting_dt, self._forgetting_alpha = dt, 1.0 - math.exp(-dt / self.tau_s)
        return self._forgetting_alpha


class FeatureSmoother:
    """Two EMAs of z: a slow "motion" and a fast "pulse" (fast minus slow), each with a gain.

    Parameters
    ----------
    spec : FeatureSpec
        Supplies ``fast_tau_s``, ``slow_tau_s``, ``pulse_gain`` and ``motion_gain``.
    """

    def __init__(self, spec: FeatureSpec) -> None:
        if spec.fast_tau_s <= 0 or spec.slow_tau_s <= 0:
            raise ConfigError("The smoothing time constants must be positive seconds.")
        self.spec = spec
        self._taus = (spec.fast_tau_s, spec.slow_tau_s)
        # steering = motion * slow + pulse * (fast - slow) = gains @ [fast, slow]
        self._gains = np.array([spec.pulse_gain, spec.motion_gain - spec.pulse_gain])
        held = spec.held_features
        self._held = held if held.any() else None  # None: nothing held, no mask per hop
        self._state: np.ndarray | None = None  # rows: fast EMA, slow EMA
        self._alphas: dict[float, np.ndarray] = {}

    def update(self, z: np.ndarray, dt: float) -> np.ndarray:
        """Steering vector ``motion_gain * slow + pulse_gain * (fast - slow)`` as float32.

        The spec's held bands stay at 0, the calibration baseline.

        Parameters
        ----------
        z : ndarray, shape (n_features,)
            Normalised features.
        dt : float
            Seconds since the previous vector (the EMAs use ``1 - exp(-dt / tau)``).
        """
        if self._state is None:
            self._state = np.vstack([z, z]).astype(np.float64)
        else:
            self._state += self._alpha(dt) * (z - self._state)
        steering = (self._gains @ self._state).astype(np.float32)
        if self._held is not None:
            steering[self._held] = 0.0
        return steering

    def _alpha(self, dt: float) -> np.ndarray:
        """(2, 1) EMA weights for this time step, cached (the hop is usually constant)."""
        alpha = self._alphas.get(dt)
        if alpha is None:
            alpha = np.array([[1.0 - math.exp(-dt / tau)] for tau in self._taus])
            self._alphas[dt] = alpha
        return alpha
