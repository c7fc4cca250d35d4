"""Building and writing the calibration profile (``profile.json``).

The profile holds baseline feature statistics plus what the calibration learned about the
headset: channels, rate, mains frequency, bad channels, the eyes-closed check. Reading it and
checking it fits a stream is the show's half, in :mod:`installation.eeg.profile`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from installation.eeg.baseline.montage_outliers import ABNORMAL
from installation.eeg.baseline.quality import FLAT, LINE_NOISE, NOISY, RAILED
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.features import FeatureNormaliser
from installation.eeg.profile import PROFILE_FORMAT

# States that corrupt band powers; the show leaves such channels out. Mains hum is not among
# them: the show's filter notches the line frequency, so a humming channel's features are fine
# (OpenBCI's own v6 sample has hum 20-75x its EEG power on every channel).
EXCLUDED_STATES = (RAILED, FLAT, NOISY, ABNORMAL)


def channels_to_leave_out(quality) -> list[str]:
    """The channels the show should leave out: railed, flat, noisy or abnormal ones.

    None when that would leave no channel at all: the show needs something to paint from, and
    the operator is told instead.
    """
    excluded = [c.name for c in quality.channels if c.state in EXCLUDED_STATES]
    return [] if len(excluded) == len(quality.channels) else excluded


def build_profile(
    spec: FeatureSpec,
    band_powers,
    quality,
    source: str,
    alpha=None,
    created: datetime | None = None,
    baseline_s: float | None = None,
) -> dict:
    """Assemble the profile from the baseline's feature vectors and the quality report.

    Parameters
    ----------
    spec : FeatureSpec
        The show's feature spec (the model's); stored unchanged so the show accepts it.
    band_powers : ndarray, shape (n_frames, n_features)
        Baseline (eyes-open) ``FeatureFrame.band_powers``.
    quality : QualityReport
        Quality of the calibration recording; gives channels, rate, line frequency and states.
    source : str
        The source spec calibrated.
    alpha : AlphaCheck, optional
        The eyes-closed check, when it was run.
    created : datetime, optional
        Creation time; now (UTC) when None.
    baseline_s : float, optional
        Seconds of baseline recorded; estimated from the number of vectors when None.

    Returns
    -------
    dict
        JSON-ready; ``FeatureNormaliser.from_profile`` accepts it.
    """
    profile = FeatureNormaliser.profile_from(spec, band_powers)
    created = created or datetime.now(timezone.utc)
    states = {c.name: c.state for c in quality.channels}
    profile.update({
        "format": PROFILE_FORMAT,
        "created": created.astimezone(timezone.utc).isoformat(timespec="seconds"),
        "source": source,
        "channel_names": [c.name for c in quality.channels],
        "sample_rate": quality.sample_rate,
        "line_freq": quality.line_freq,
        "feature_names": spec.feature_names,
        "bad_channels": channels_to_leave_out(quality),
        "line_noise_channels": [name for name, s in states.items() if s == LINE_NOISE],
        "channel_states": states,
        "quality_verdict": quality.verdict,
        "baseline_s": round(baseline_s if baseline_s is not None
                            else (profile["n_frames"] - 1) * spec.hop_s + spec.window_s, 3),
        "eyes_closed": None if alpha is None else alpha.to_dict(),
    })
    return profile


def save_profile(profile: dict, path: str | Path) -> Path:
    """Write the profile as indented JSON and return the path."""
    path = Path(path)
    path.write_text(json.dumps(profile, indent=2) + "\n")
    return path


def baseline_band_powers(frames) -> np.ndarray:
    """Stack ``FeatureFrame.band_powers`` into (n_frames, n_features)."""
    return np.array([frame.band_powers for frame in frames], dtype=np.float64)
