"""EEG conditioning for training: the artist's recordings through the show's own feature pipeline.

Every hop of every recording becomes one steering vector (exactly what the live show feeds the
generator); training pairs each painting crop with a steering vector drawn at random from the
pooled hops.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from installation.errors import ConfigError
from installation.feature_pipeline import extract_feature_sequence
from installation.feature_spec import FeatureSpec
from installation.sources.recordings import load_recording


@dataclass
class FeaturePool:
    """Steering vectors of all recordings.

    Attributes
    ----------
    per_file : dict of str to ndarray
        Steering vectors (n_hops, F) of each recording, keyed by file name.
    """

    per_file: dict[str, np.ndarray]

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


def load_feature_pool(paths: list[str | Path], spec: FeatureSpec) -> FeaturePool:
    """Load each recording and run the feature pipeline over it.

    Raises
    ------
    SourceError
        When a file cannot be read (from ``load_recording``).
    ConfigError
        When no file is given, or a recording is shorter than one feature window.
    """
    if not paths:
        raise ConfigError("No EEG recording given; pass --eeg FILE (EDF, BDF, FIF, XDF, OpenBCI "
                          "text or BrainFlow CSV) at least once.")
    per_file = {}
    for path in paths:
        path = Path(path)
        steering, _ = extract_feature_sequence(load_recording(path), spec)
        steering = np.asarray(steering, dtype=np.float32)
        if len(steering) == 0 or not np.isfinite(steering).all():
            raise ConfigError(f"The recording {path} yields no usable feature window (shorter "
                              f"than {spec.window_s:g} s or not finite); pass a longer recording.")
        per_file[unique_key(path, per_file)] = steering
    return FeaturePool(per_file)


def unique_key(path: Path, taken: dict) -> str:
    """The file's name, made unique among ``taken`` with a numeric suffix."""
    key, n = path.name, 1
    while key in taken:
        n += 1
        key = f"{path.name}#{n}"
    return key
