"""EEG conditioning for training: the artist's recordings through the show's own feature pipeline.

Every hop of every recording becomes one steering vector (exactly what the live show feeds the
generator); training pairs each painting crop with a steering vector drawn at random from the
pooled hops.

The features are z-scored with fixed statistics, never a running baseline: a running baseline
would centre each recording on itself and erase the difference between, say, an eyes-closed and
an eyes-open session, which is the very contrast the paintings should show. The statistics are
the artist's calibration profile when one is given (the show then uses the same profile), else
those of all training recordings pooled.

Several people (:func:`load_people_pool`) are each z-scored by statistics of their own (their
calibration profile, else their own recordings pooled), as the show z-scores whoever wears the
headset by their own calibration: the mapping network then sees states, and cannot tell people
apart by the offsets of their scalps and amplifiers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from installation.eeg.feature_pipeline import extract_feature_sequence, feature_frames
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.features import FeatureNormaliser
from installation.eeg.profile import check_profile_fits, profile_line_freq
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import ConfigError
from models.training.feature_pool import FeaturePool
from models.training.wearers import load_stretch


def load_feature_pool(paths: list[str | Path], spec: FeatureSpec,
                      profile: dict | None = None, loader=None) -> FeaturePool:
    """Load each recording and run the feature pipeline over it with fixed statistics.

    Parameters
    ----------
    paths : list of path
        EEG recordings.
    spec : FeatureSpec
        The feature spec of the run.
    profile : dict, optional
        A calibration profile (``profile.json``) whose mean and std z-score the features; by
        default the statistics of all recordings' band powers pooled. Its mains frequency is
        notched, as the show notches it; without one (or in an older profile) each recording
        decides its own from its first second, as the show does without a profile.
    loader : callable, optional
        Reads a path into a :class:`~installation.eeg.sources.files.recording.Recording`;
        ``load_recording`` when None (a person's stretch of a session: ``load_stretch``).

    Raises
    ------
    SourceError
        When a file cannot be read (from ``load_recording``).
    ConfigError
        When no file is given, a recording is shorter than one feature window, or the profile
        was made with another feature spec, or with other channels or another sample rate
        than a recording (the show's rule, :func:`~installation.eeg.profile.check_profile_fits`).
    """
    if not paths:
        raise ConfigError("No EEG recording given; pass --eeg FILE (EDF, BDF, FIF, XDF, OpenBCI "
                          "text or BrainFlow CSV) at least once.")
    recordings = {}
    for path in paths:
        path = Path(path)
        recordings[unique_key(path, recordings)] = (path, (loader or load_recording)(path))
    normaliser = (profile_normaliser(profile, spec) if profile is not None
                  else pooled_normaliser([rec for _, rec in recordings.values()], spec))
    # the profile's mains, as the show notches it (profiled_extractor), not each file's guess
    line_freq = profile_line_freq(profile)
    per_file = {}
    for key, (path, recording) in recordings.items():
        bad = (check_profile_fits(profile, recording.info) if profile_describes_stream(profile)
               else normaliser.bad_channels_in(recording.info))
        steering, _ = extract_feature_sequence(recording, spec, normaliser.fresh(), bad,
                                               line_freq)
        steering = np.asarray(steering, dtype=np.float32)
        if len(steering) == 0 or not np.isfinite(steering).all():
            raise ConfigError(f"The recording {path} yields no usable feature window (shorter "
                              f"than {spec.window_s:g} s or not finite); pass a longer recording.")
        per_file[key] = steering
    return FeaturePool(per_file, normaliser.profile)


@dataclass(frozen=True)
class Person:
    """One wearer's recordings and, optionally, their calibration profile.

    Attributes
    ----------
    name : str
        How the pool's keys and the provenance name them.
    recordings : tuple of path
        Their EEG recordings (files or session folders).
    profile : dict, optional
        Their calibration profile; their recordings pooled z-score them when None.
    stretches : dict
        ``{session path: [first, stop]}``: of a session in which the wearer changed, only
        these samples are theirs (:mod:`models.training.wearers`); other recordings are whole.
    """

    name: str
    recordings: tuple[Path, ...]
    profile: dict | None = field(default=None, compare=False)
    stretches: dict = field(default_factory=dict, compare=False)


def load_people_pool(people: list[Person], spec: FeatureSpec) -> FeaturePool:
    """Each person's recordings, z-scored by that person's own statistics, pooled.

    Parameters
    ----------
    people : list of Person
        At least one; names must differ.
    spec : FeatureSpec
        The feature spec of the run.

    Returns
    -------
    FeaturePool
        Keys ``person/file``; ``normalisation`` holds ``{"source": "per person", "people":
        {name: statistics}}``.
    """
    if len({person.name for person in people}) != len(people):
        raise ConfigError("Two people have the same name; name each --person differently.")
    per_file, statistics = {}, {}
    for person in people:
        loader = partial(load_stretch, stretches=person.stretches) if person.stretches else None
        pool = load_feature_pool(list(person.recordings), spec, person.profile, loader)
        per_file.update({f"{person.name}/{key}": hops for key, hops in pool.per_file.items()})
        statistics[person.name] = pool.normalisation
    return FeaturePool(per_file, {"source": "per person", "people": statistics})


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
    if not normaliser.spec.measures_like(spec):
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


def profile_describes_stream(profile: dict | None) -> bool:
    """Whether a profile names its channels and rate, as a calibration's does.

    Such a profile is held to the show's own rule of what fits a stream
    (:func:`~installation.eeg.profile.check_profile_fits`).
    """
    return profile is not None and "channel_names" in profile and "sample_rate" in profile


def unique_key(path: Path, taken: dict) -> str:
    """The file's name, made unique among ``taken`` with a numeric suffix."""
    key, n = path.name, 1
    while key in taken:
        n += 1
        key = f"{path.name}#{n}"
    return key
