"""Eyes-closed check: occipital alpha must rise when the eyes close (the Berger effect).

Alpha power comes from the show's own feature pipeline (the ``occipital/alpha`` entry of the
feature vector), so the check measures exactly what will steer the painting. A headset without
an occipital channel gets the pipeline's fallback, the mean over all usable channels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from installation.eeg.feature_pipeline import feature_frames
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.montage import region_of
from installation.errors import ConfigError

# Closing the eyes raises posterior alpha (Berger 1929; eyes-closed vs eyes-open rest, Barry et
# al. 2007, Clin Neurophysiol 118:2765). Measured here: PhysioNet eegmmidb S001 R02 over R01 gives
# 12.3x through this pipeline (~15x in the PSD); the two halves of R01 give 1.03x and 0.97x.
# 1.5x is half again the open-eyes level: well clear of run-to-run drift, and still passed by
# weak responders whose alpha only doubles.
ALPHA_RATIO_THRESHOLD = 1.5
ALPHA_BAND = "alpha"
ALPHA_REGION = "occipital"


@dataclass(frozen=True)
class AlphaCheck:
    """Outcome of the eyes-closed check.

    Attributes
    ----------
    ratio : float
        Mean alpha power eyes closed over mean alpha power eyes open.
    passed : bool
        ``ratio >= threshold``.
    threshold : float
        The ratio required.
    where : str
        ``"occipital"`` or ``"all channels"`` (no occipital channel on this headset).
    open_power_uv2, closed_power_uv2 : float
        Mean alpha power (µV²) in each condition.
    """

    ratio: float
    passed: bool
    threshold: float
    where: str
    open_power_uv2: float
    closed_power_uv2: float

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def alpha_feature_index(spec: FeatureSpec) -> int | list[int]:
    """Position of ``occipital/alpha`` in the feature vector, or of every region's alpha.

    Raises
    ------
    ConfigError
        When the spec has no band named ``alpha``.
    """
    names = spec.band_names
    if ALPHA_BAND not in names:
        raise ConfigError(
            f"The feature spec has no 'alpha' band (it has {', '.join(names)}); the eyes-closed "
            "check needs one, so add it to the spec."
        )
    band = names.index(ALPHA_BAND)
    if ALPHA_REGION in spec.regions:
        return spec.regions.index(ALPHA_REGION) * len(spec.bands) + band
    return [r * len(spec.bands) + band for r in range(len(spec.regions))]


def alpha_ratio(
    open_band_powers,
    closed_band_powers,
    spec: FeatureSpec,
    channel_names,
    threshold: float = ALPHA_RATIO_THRESHOLD,
) -> AlphaCheck:
    """Compare alpha power between eyes-open and eyes-closed feature vectors.

    Parameters
    ----------
    open_band_powers, closed_band_powers : ndarray, shape (n_frames, n_features)
        ``FeatureFrame.band_powers`` (log10 µV²) of each condition.
    spec : FeatureSpec
        The spec the vectors were made with.
    channel_names : sequence of str
        The headset's channels (to say whether the occipital figure is a fallback).
    threshold : float
        Ratio required to pass.

    Returns
    -------
    AlphaCheck
    """
    index = alpha_feature_index(spec)
    open_power = _mean_alpha_power(open_band_powers, index, "eyes-open")
    closed_power = _mean_alpha_power(closed_band_powers, index, "eyes-closed")
    has_occipital = any(region_of(name) == ALPHA_REGION for name in channel_names)
    where = ALPHA_REGION if has_occipital and isinstance(index, int) else "all channels"
    ratio = closed_power / open_power if open_power > 0 else float("inf")
    return AlphaCheck(
        ratio=float(ratio),
        passed=bool(ratio >= threshold),
        threshold=float(threshold),
        where=where,
        open_power_uv2=open_power,
        closed_power_uv2=closed_power,
    )


def _mean_alpha_power(band_powers, index, condition: str) -> float:
    """Mean linear alpha power (µV²) over frames; the vectors hold log10 powers."""
    band_powers = np.asarray(band_powers, dtype=np.float64)
    if band_powers.ndim != 2 or band_powers.shape[0] == 0:
        raise ConfigError(
            f"The {condition} step produced no feature vectors; record it for longer."
        )
    alpha = 10.0 ** band_powers[:, index]
    return float(np.mean(alpha))


def check_recordings(open_recording, closed_recording, spec=None, threshold=None) -> AlphaCheck:
    """Eyes-closed check between two recordings of the same headset.

    Parameters
    ----------
    open_recording, closed_recording : Recording
        Eyes open and eyes closed (anything :func:`feature_frames` takes).
    spec : FeatureSpec, optional
        Defaults to the show's default spec.
    threshold : float, optional
        Defaults to :data:`ALPHA_RATIO_THRESHOLD`.

    Returns
    -------
    AlphaCheck
    """
    spec = spec or FeatureSpec()
    opened = [frame.band_powers for frame in feature_frames(open_recording, spec)]
    closed = [frame.band_powers for frame in feature_frames(closed_recording, spec)]
    return alpha_ratio(
        np.array(opened),
        np.array(closed),
        spec,
        open_recording.info.channel_names,
        ALPHA_RATIO_THRESHOLD if threshold is None else threshold,
    )
