"""Reading a calibration profile (``profile.json``) and checking it fits the stream.

Calibration builds and writes the profile (:mod:`installation.eeg.baseline.profile_builder`,
which the calibration command and the in-show calibration share); this half reads it. The
show feeds it to :meth:`installation.eeg.features.FeatureNormaliser.from_profile` (keys
``feature_spec``, ``mean``, ``std``), calls :func:`check_profile_fits` with its stream's
:class:`~installation.eeg.sources.base.StreamInfo` to get the bad channels in the stream's
spelling (training asks the same function), and notches :func:`profile_line_freq`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from installation.eeg.feature_pipeline import FeatureExtractor
from installation.eeg.features import FeatureNormaliser
from installation.errors import ConfigError

PROFILE_FORMAT = "eeg-painting-profile/1"


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
    if profile.get("line_freq") not in (None, 50, 60):
        raise ConfigError(f"{where} gives a line frequency other than 50 or 60 Hz; run "
                          "calibration again.")
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


def profile_line_freq(profile: dict | None) -> float | None:
    """The mains frequency calibration found, for the show to notch; None when not recorded.

    Calibration decided it on the headset in the room the show plays in; the show uses it
    rather than deciding again on its own first second.

    Parameters
    ----------
    profile : dict or None
        A validated profile (:func:`load_profile`), or None for none.

    Returns
    -------
    float or None
        50.0 or 60.0; None without a profile, or for one written before it was recorded.
    """
    if profile is None or profile.get("line_freq") is None:
        return None
    return float(profile["line_freq"])


def profiled_extractor(spec, info, profile: dict | None = None):
    """The feature pipeline for a stream, set by a calibration profile when there is one.

    The profile must fit the stream (:func:`check_profile_fits`); its statistics z-score the
    features, its bad channels are left out, and its mains frequency is notched
    (:func:`profile_line_freq`). Without a profile: a running baseline, every channel, and the
    mains decided from the stream's first second.

    Parameters
    ----------
    spec : FeatureSpec
        The model's feature spec.
    info : StreamInfo
        The stream to be played.
    profile : dict, optional
        A validated profile (:func:`load_profile`).

    Returns
    -------
    FeatureExtractor

    Raises
    ------
    ConfigError
        When the profile does not fit the stream or was made with another feature spec.
    """
    if profile is None:
        return FeatureExtractor(spec, info)
    return FeatureExtractor(spec, info, FeatureNormaliser.from_profile(profile),
                            check_profile_fits(profile, info), profile_line_freq(profile))


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
