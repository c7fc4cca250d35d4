"""The calibration profile (``profile.json``) and the check the show runs before using it.

The profile holds baseline feature statistics plus what the calibration learned about the
headset: channels, rate, mains frequency, bad channels, the eyes-closed check.

The show reads it with :meth:`installation.features.FeatureNormaliser.from_profile` (the keys
``feature_spec``, ``mean``, ``std``) and calls :func:`check_profile_fits` with its stream's
:class:`~installation.sources.base.StreamInfo` to get the bad channels in the stream's spelling.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from calibration.quality import FLAT, LINE_NOISE, NOISY, RAILED
from installation.errors import ConfigError
from installation.feature_spec import FeatureSpec
from installation.features import FeatureNormaliser

PROFILE_FORMAT = "eeg-painting-profile/1"
# States that corrupt band powers; the show leaves such channels out. Mains hum is not among
# them: the show's filter notches the line frequency, so a humming channel's features are fine
# (OpenBCI's own v6 sample has hum 20-75x its EEG power on every channel).
EXCLUDED_STATES = (RAILED, FLAT, NOISY)


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
        "bad_channels": [name for name, s in states.items() if s in EXCLUDED_STATES],
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


def load_profile(path: str | Path) -> dict:
    """Read and validate ``profile.json``.

    Parameters
    ----------
    path : str or Path
        The file calibration wrote.

    Returns
    -------
    dict
        The profile, checked to load with ``FeatureNormaliser.from_profile``.

    Raises
    ------
    ConfigError
        With one sentence when the file is missing, not JSON, or not a usable profile.
    """
    path = Path(path)
    try:
        profile = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"The calibration profile {path} does not exist; run `python -m calibration` first."
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"The calibration profile {path} is not readable JSON ({exc}); run calibration again."
        ) from None
    validate_profile(profile, str(path))
    return profile


def validate_profile(profile, where: str = "The calibration profile") -> None:
    """Raise ConfigError with one sentence unless ``profile`` is a usable profile."""
    if not isinstance(profile, dict) or profile.get("format") != PROFILE_FORMAT:
        raise ConfigError(f"{where} is not a {PROFILE_FORMAT} file; run calibration again.")
    FeatureNormaliser.from_profile(profile)  # checks spec, mean, std
    names = profile.get("channel_names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where} lists no channel names; run calibration again.")
    rate = profile.get("sample_rate")
    if not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
        raise ConfigError(f"{where} has no valid sample rate; run calibration again.")
    bad = profile.get("bad_channels")
    if not isinstance(bad, list) or not set(bad) <= set(names):
        raise ConfigError(
            f"{where} names bad channels that are not among its channels; run calibration again."
        )


def check_profile_fits(profile: dict, info) -> tuple[str, ...]:
    """Check a profile was recorded with this stream's channels and rate.

    The same channel names in another order fit (features are per region and bad channels go
    by name); anything else is refused rather than guessed.

    Parameters
    ----------
    profile : dict
        A validated profile (:func:`load_profile`).
    info : StreamInfo
        The stream the show is about to play.

    Returns
    -------
    tuple of str
        The profile's bad channels, spelt as the stream spells them (for ``bad_channels`` of
        ``FeatureExtractor``).

    Raises
    ------
    ConfigError
        When the sample rate or the channel set differs, or names are ambiguous.
    """
    rate = float(profile["sample_rate"])
    if not math.isclose(rate, info.sample_rate, rel_tol=1e-3):
        raise ConfigError(
            f"The calibration profile was recorded at {rate:g} Hz but the source runs at "
            f"{info.sample_rate:g} Hz; calibrate again with this headset."
        )
    stream = _name_lookup(info.channel_names, "the source")
    recorded = _name_lookup(profile["channel_names"], "the calibration profile")
    if set(stream) != set(recorded):
        missing = sorted(set(recorded) - set(stream))
        extra = sorted(set(stream) - set(recorded))
        raise ConfigError(
            "The calibration profile was recorded with other channels (missing now: "
            f"{', '.join(missing) or 'none'}; new: {', '.join(extra) or 'none'}); calibrate "
            "again with this headset."
        )
    return tuple(stream[_key(name)] for name in profile.get("bad_channels", []))


def _key(name: str) -> str:
    return name.strip().upper()


def _name_lookup(names, whose: str) -> dict[str, str]:
    """Upper-cased name to the name as spelt; duplicates make the mapping ambiguous."""
    lookup = {}
    for name in names:
        if _key(name) in lookup:
            raise ConfigError(
                f"Channel {name!r} appears twice in {whose}, so the calibration cannot be "
                "matched to the stream; give every channel its own name."
            )
        lookup[_key(name)] = name
    return lookup


def baseline_band_powers(frames) -> np.ndarray:
    """Stack ``FeatureFrame.band_powers`` into (n_frames, n_features)."""
    return np.array([frame.band_powers for frame in frames], dtype=np.float64)
