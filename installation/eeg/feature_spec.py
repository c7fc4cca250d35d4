"""The feature specification: what a feature vector means.

It is shared by the show, calibration, training and the model bundle (``generator.json``), so the
generator is fed exactly what it learned from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from installation.errors import ConfigError, checked_number

DEFAULT_BANDS: tuple[tuple[str, float, float], ...] = (
    ("delta", 1.0, 4.0),
    ("theta", 4.0, 8.0),
    ("alpha", 8.0, 13.0),
    ("beta", 13.0, 30.0),
    ("low_gamma", 30.0, 40.0),
)
REGION_MEANS = ("log", "power")
# A spec written before ``region_mean`` existed averaged power; reading it keeps that meaning.
LEGACY_REGION_MEAN = "power"
DEFAULT_HELD_BANDS: tuple[str, ...] = ("low_gamma",)
# A spec written before ``held_bands`` existed steered with every band.
LEGACY_HELD_BANDS: tuple[str, ...] = ()
# Keys older bundles wrote that no longer mean anything (``extra`` was never read); ignored.
RETIRED_KEYS = ("extra",)
DEFAULT_REGIONS: tuple[str, ...] = ("frontal", "central", "temporal", "parietal", "occipital")

# The documented ranges of a spec's numbers (docs/show.md): wide enough for any headset and
# any sensible training, narrow enough that a damaged file cannot ask for a petabyte window,
# an unstable filter or a steering vector of a million entries.
MAX_WINDOW_S = 60.0
MAX_FREQUENCY_HZ = 1000.0
MAX_FILTER_ORDER = 10
MAX_TAU_S = 3600.0
MAX_GAIN = 10.0
MAX_BANDS = 32
MAX_REGIONS = 16
_FIX = "correct the feature spec, or export the model again"


@dataclass(frozen=True)
class FeatureSpec:
    """How a window of EEG becomes a feature vector.

    The vector holds one log10 band power (µV²) per (region, band) pair, region-major:
    ``[region0/band0, region0/band1, ..., region1/band0, ...]``. A region with no usable channel
    takes the mean over all usable channels, so every headset gives the same shape.

    Attributes
    ----------
    bands : tuple of (name, low_hz, high_hz)
        Frequency bands.
    regions : tuple of str
        Scalp regions the channels are grouped into.
    window_s : float
        Analysis window length in seconds.
    hop_s : float
        Seconds between successive feature vectors.
    band_pass : (float, float)
        Edges of the streaming band-pass filter in Hz.
    line_freq : float or None
        Mains frequency to notch (50 or 60); None means detect it from the signal.
    filter_order : int
        Butterworth order of the band-pass.
    fast_tau_s, slow_tau_s : float
        Time constants of the smoothing EMAs ("pulse" and "motion").
    pulse_gain, motion_gain : float
        Weights of the fast and slow parts in the steering vector. A 4 s motion and a small
        pulse keep the painting steady within one state of mind, so that a change of state
        (eyes closing: alpha rising over the back of the head) is the big move; with 2 s and
        0.5 the keyframes shimmered (median step between keyframes halves, 27.7 -> 13.9).
    region_mean : {"log", "power"}
        How a region's channels are averaged: "log" takes the mean of their log powers (every
        electrode weighs the same, whatever its gain); "power", the log of their mean power, is
        what bundles made before it had a name were trained on.
    held_bands : tuple of str, optional
        Bands that are measured (and reported to the feeds) but held at the calibration
        baseline in the steering vector. At the scalp the 30-40 Hz band carries the muscles of
        the face and jaw, and 1-4 Hz the eyes' blinks and movements, more than the brain;
        holding them stops a clenched jaw or a glance from out-painting the state of mind.
        None (the default) holds low gamma where the bands have one: it lifts the default's
        S026, eyes closed against open, from 1.34 to 2.44 (:mod:`benchmarks.people_contrast`).
        Delta stays steering: it also carries drowsiness, and holding it too cost the
        paintings' colour and composition.
    """

    bands: tuple[tuple[str, float, float], ...] = DEFAULT_BANDS
    regions: tuple[str, ...] = DEFAULT_REGIONS
    window_s: float = 1.0
    hop_s: float = 1.0 / 15.0
    band_pass: tuple[float, float] = (1.0, 40.0)
    line_freq: float | None = None
    filter_order: int = 4
    fast_tau_s: float = 0.25
    slow_tau_s: float = 4.0
    pulse_gain: float = 0.2
    motion_gain: float = 1.0
    region_mean: str = "log"
    held_bands: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        # None: this version's choice, the muscle band, where the spec has one
        if self.held_bands is None:
            object.__setattr__(self, "held_bands",
                               tuple(b for b in DEFAULT_HELD_BANDS if b in self.band_names))

    @property
    def n_features(self) -> int:
        """Length of the feature vector."""
        return len(self.bands) * len(self.regions)

    @property
    def feature_names(self) -> list[str]:
        """``region/band`` for each entry of the vector."""
        return [f"{r}/{b[0]}" for r in self.regions for b in self.bands]

    @property
    def band_names(self) -> tuple[str, ...]:
        """The bands' names, in order."""
        return tuple(band[0] for band in self.bands)

    @property
    def held_features(self) -> np.ndarray:
        """Boolean mask, one entry per feature: True where its band is held."""
        held = [name in self.held_bands for name in self.band_names]
        return np.tile(np.array(held, dtype=bool), len(self.regions))

    def measures_like(self, other: FeatureSpec) -> bool:
        """True when both specs give the same band powers (they may hold different bands)."""
        return replace(self, held_bands=()) == replace(other, held_bands=())

    def validate(self, sample_rate: float | None = None) -> FeatureSpec:
        """Check the values and return self; raise ConfigError with one sentence otherwise.

        Every number must be finite and in its documented range: ``window_s`` in (0, 60],
        ``hop_s`` in (0, window_s], band and band-pass edges in [0, 1000] Hz with low < high
        (the band-pass low edge above 0), 1 to 32 bands and 1 to 16 regions, ``filter_order``
        a whole number from 1 to 10, the time constants in (0, 3600] s and the gains in
        [0, 10].
        """
        self._validate_numbers()
        if self.hop_s > self.window_s:
            raise ConfigError("The feature hop must not be longer than the window.")
        lo, hi = self.band_pass
        if not 0 < lo < hi:
            raise ConfigError(f"The band-pass {lo}-{hi} Hz must have 0 < low < high.")
        for name, b_lo, b_hi in self.bands:
            if not 0 <= b_lo < b_hi:
                raise ConfigError(f"Band {name!r} must have 0 <= low < high, got {b_lo}-{b_hi} Hz.")
        if sample_rate is not None:
            nyquist = sample_rate / 2
            if hi >= nyquist:
                raise ConfigError(
                    f"The band-pass upper edge {hi} Hz is at or above the Nyquist frequency "
                    f"{nyquist:g} Hz of a {sample_rate:g} Hz source; lower it."
                )
            if any(b_hi > nyquist for _, _, b_hi in self.bands):
                raise ConfigError(
                    f"A feature band reaches above the Nyquist frequency {nyquist:g} Hz of a "
                    f"{sample_rate:g} Hz source; use lower bands."
                )
        if self.region_mean not in REGION_MEANS:
            raise ConfigError(f"The region mean must be one of {', '.join(REGION_MEANS)}, got "
                              f"{self.region_mean!r}.")
        unknown = set(self.held_bands) - set(self.band_names)
        if unknown:
            raise ConfigError(f"The held bands {sorted(unknown)} are not among the feature "
                              "bands; check the spelling.")
        if self.line_freq not in (None, 50.0, 60.0, 50, 60):
            raise ConfigError(f"The line frequency must be 50 or 60 Hz, got {self.line_freq}.")
        return self

    def _validate_numbers(self) -> None:
        """Each number finite and in its range (see :meth:`validate`); a ConfigError otherwise."""
        checked_number(self.window_s, "The feature window_s", 0, MAX_WINDOW_S, fix=_FIX,
                       low_open=True)
        checked_number(self.hop_s, "The feature hop_s", 0, MAX_WINDOW_S, fix=_FIX, low_open=True)
        checked_number(len(self.bands), "The number of feature bands", 1, MAX_BANDS, fix=_FIX)
        checked_number(len(self.regions), "The number of feature regions", 1, MAX_REGIONS,
                       fix=_FIX)
        edges = [("band_pass", edge) for edge in self.band_pass]
        edges += [(f"band {band[0]!r}", edge) for band in self.bands for edge in band[1:]]
        for name, edge in edges:
            checked_number(edge, f"The feature {name} edge", 0, MAX_FREQUENCY_HZ, fix=_FIX)
        checked_number(self.filter_order, "The feature filter_order", 1, MAX_FILTER_ORDER,
                       fix=_FIX, integer=True)
        for name in ("fast_tau_s", "slow_tau_s"):
            checked_number(getattr(self, name), f"The feature {name}", 0, MAX_TAU_S, fix=_FIX,
                           low_open=True)
        for name in ("pulse_gain", "motion_gain"):
            checked_number(getattr(self, name), f"The feature {name}", 0, MAX_GAIN, fix=_FIX)

    def to_dict(self) -> dict:
        """JSON-ready form (tuples become lists)."""
        d = asdict(self)
        d["bands"] = [list(b) for b in self.bands]
        d["regions"] = list(self.regions)
        d["band_pass"] = list(self.band_pass)
        d["held_bands"] = list(self.held_bands)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> FeatureSpec:
        """Inverse of :meth:`to_dict`; unknown keys are an error, missing keys take defaults."""
        known = set(cls.__dataclass_fields__) | set(RETIRED_KEYS)
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"Unknown feature-spec keys {sorted(unknown)}; check the spelling.")
        kw = {k: v for k, v in d.items() if k not in RETIRED_KEYS}
        kw.setdefault("region_mean", LEGACY_REGION_MEAN)
        kw["held_bands"] = tuple(str(b) for b in kw.get("held_bands", LEGACY_HELD_BANDS))
        if "bands" in kw:
            kw["bands"] = tuple((str(n), _edge(lo), _edge(hi)) for n, lo, hi in kw["bands"])
        if "regions" in kw:
            kw["regions"] = tuple(str(r) for r in kw["regions"])
        if "band_pass" in kw:
            lo, hi = kw["band_pass"]
            kw["band_pass"] = (_edge(lo), _edge(hi))
        return cls(**kw).validate()


def _edge(value) -> float:
    """A frequency edge as read from a file: a number (a string or a boolean is refused)."""
    return checked_number(value, "A feature band edge", 0, MAX_FREQUENCY_HZ, fix=_FIX)
