"""EEG conditioning for training: the artist's recordings through the show's own feature pipeline.

Every hop of every recording becomes one steering vector (exactly what the live show feeds the
generator); training pairs each painting crop with a steering vector drawn at random from the
pooled hops.

The features are z-scored with fixed statistics, never a running baseline: a running baseline
would centre each recording on itself and erase the difference between, say, an eyes-closed and
an eyes-open session, which is the very contrast the paintings should show. The statistics are
the artist's calibration profile when one is given (the show then uses the same profile), else
those of all training recordings pooled.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from installation.errors import ConfigError
from installation.feature_pipeline import extract_feature_sequence, feature_frames
from installation.feature_spec import FeatureSpec
from installation.features import FeatureNormaliser
from installation.sources.recordings import load_recording


@dataclass
class FeaturePool:
    """Steering vectors of all recordings.

    Attributes
    ----------
    per_file : dict of str to ndarray
        Steering vectors (n_hops, F) of each recording, keyed by file name.
    normalisation : dict, optional
        The fixed statistics the features were z-scored with (see :class:`FixedNormalisation`).
    """

    per_file: dict[str, np.ndarray]
    normalisation: dict | None = None

    @cached_property
    def all(self) -> np.ndarray:
        """All hops pooled, float32 (N, F)."""
        return np.concatenate(list(self.per_file.values()), axis=0)

    @property
    def mean(self) -> np.ndarray:
        """Per-feature mean of the pooled hops."""
        return self.all.mean(axis=0)

    @property
    def std(self) -> np.ndarray:
        """Per-feature standard deviation of the pooled hops."""
        return self.all.std(axis=0)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` random hops as float32 [n, F]."""
        pooled = torch.from_numpy(self.all)
        return pooled[torch.randint(len(pooled), (n,), generator=generator)]

    def fixed_windows(self, n: int) -> torch.Tensor:
        """``n`` hops spread evenly over the pool (the same in every snapshot)."""
        pooled = self.all
        idx = np.linspace(0, len(pooled) - 1, n).round().astype(int)
        return torch.from_numpy(pooled[idx])


def load_feature_pool(paths: list[str | Path], spec: FeatureSpec,
                      profile: dict | None = None) -> FeaturePool:
    """Load each recording and run the feature pipeline over it with fixed statistics.

    Parameters
    ----------
    paths : list of path
        EEG recordings.
    spec : FeatureSpec
        The feature spec of the run.
    profile : dict, optional
        A calibration profile (``profile.json``) whose mean and std z-score the features; by
        default the statistics of all recordings' band powers pooled.

    Raises
    ------
    SourceError
        When a file cannot be read (from ``load_recording``).
    ConfigError
        When no file is given, a recording is shorter than one feature window, or the profile
        was made with another feature spec.
    """
    if not paths:
        raise ConfigError("No EEG recording given; pass --eeg FILE (EDF, BDF, FIF, XDF, OpenBCI "
                          "text or BrainFlow CSV) at least once.")
    recordings = {}
    for path in paths:
        path = Path(path)
        recordings[unique_key(path, recordings)] = (path, load_recording(path))
    normaliser = (profile_normaliser(profile, spec) if profile is not None
                  else pooled_normaliser([rec for _, rec in recordings.values()], spec))
    per_file = {}
    for key, (path, recording) in recordings.items():
        steering, _ = extract_feature_sequence(recording, spec, normaliser.fresh(),
                                               normaliser.bad_channels_in(recording.info))
        steering = np.asarray(steering, dtype=np.float32)
        if len(steering) == 0 or not np.isfinite(steering).all():
            raise ConfigError(f"The recording {path} yields no usable feature window (shorter "
                              f"than {spec.window_s:g} s or not finite); pass a longer recording.")
        per_file[key] = steering
    return FeaturePool(per_file, normaliser.profile)


@dataclass
class FixedNormalisation:
    """The statistics training z-scores with, and where they came from.

    Attributes
    ----------
    profile : dict
        ``{"feature_spec", "mean", "std", "source", "bad_channels"}``, JSON-ready.
    """

    profile: dict

    def bad_channels_in(self, info) -> tuple[str, ...]:
        """The profile's bad channels that this recording has (left out, as the show does)."""
        names = {name.upper(): name for name in info.channel_names}
        return tuple(names[bad.upper()] for bad in self.profile.get("bad_channels", [])
                     if bad.upper() in names)

    def fresh(self) -> FeatureNormaliser:
        """A new normaliser with these statistics (one per recording)."""
        return FeatureNormaliser.from_profile(self.profile)


def profile_normaliser(profile: dict, spec: FeatureSpec) -> FixedNormalisation:
    """The calibration profile's statistics, refused when made with another feature spec."""
    normaliser = FeatureNormaliser.from_profile(profile)
    if normaliser.spec != spec:
        raise ConfigError("The calibration profile was made with another feature spec than "
                          "training uses; run calibration again with this version.")
    return FixedNormalisation({"feature_spec": spec.to_dict(),
                               "mean": normaliser.mean.tolist(), "std": normaliser.std.tolist(),
                               "source": "calibration profile",
                               "bad_channels": list(profile.get("bad_channels", []))})


def pooled_normaliser(recordings: list, spec: FeatureSpec) -> FixedNormalisation:
    """Mean and std of the raw band powers of every hop of every recording."""
    band_powers = [frame.band_powers for rec in recordings for frame in feature_frames(rec, spec)]
    if len(band_powers) < 2:
        raise ConfigError(f"The EEG recordings give fewer than two feature windows of "
                          f"{spec.window_s:g} s; pass longer recordings.")
    profile = FeatureNormaliser.profile_from(spec, np.asarray(band_powers))
    return FixedNormalisation({"feature_spec": profile["feature_spec"], "mean": profile["mean"],
                               "std": profile["std"], "source": "training recordings pooled"})


def unique_key(path: Path, taken: dict) -> str:
    """The file's name, made unique among ``taken`` with a numeric suffix."""
    key, n = path.name, 1
    while key in taken:
        n += 1
        key = f"{path.name}#{n}"
    return key
