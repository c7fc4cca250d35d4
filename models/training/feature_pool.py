"""The steering a run trains on: every hop of its EEG as a feature vector, and its file form.

Training pairs each painting crop with a steering vector drawn at random from this pool
(:mod:`models.training.conditioning` makes it from recordings through the show's own feature
pipeline). Saved to one ``.npz`` file, the pool travels where the recordings and the libraries
that read them cannot: a GPU machine lent for a campaign leg (:mod:`models.travel_pack`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from installation.errors import ConfigError

NORMALISATION_KEY = "__normalisation__"  # the statistics, as JSON, beside the per-file arrays


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

    def save(self, path: str | Path) -> Path:
        """Write the pool to ``path`` (``.npz``: one float32 array per file, the statistics)."""
        arrays = {f"file{index}": hops.astype(np.float32)
                  for index, hops in enumerate(self.per_file.values())}
        header = {"files": list(self.per_file), "normalisation": self.normalisation}
        np.savez_compressed(path, **arrays, **{NORMALISATION_KEY: np.array(json.dumps(header))})
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> FeaturePool:
        """A pool written by :meth:`save`; ConfigError for a file that is not one."""
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data[NORMALISATION_KEY]))
                per_file = {name: np.asarray(data[f"file{index}"], dtype=np.float32)
                            for index, name in enumerate(header["files"])}
        except (OSError, KeyError, ValueError, TypeError) as err:
            raise ConfigError(f"{path} is not a steering file written by this project "
                              f"({err}); write it again.") from None
        if not per_file or any(hops.ndim != 2 or not len(hops) for hops in per_file.values()):
            raise ConfigError(f"{path} holds no steering vectors; write it again.")
        widths = {hops.shape[1] for hops in per_file.values()}
        if len(widths) != 1 or not all(np.isfinite(h).all() for h in per_file.values()):
            raise ConfigError(f"{path} holds steering of mixed widths or non-finite values; "
                              "write it again.")
        return cls(per_file, header.get("normalisation"))
