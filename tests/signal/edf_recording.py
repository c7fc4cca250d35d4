"""Load a shared recording through the project's loader, or through MNE until that loader lands."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from installation.sources.base import StreamInfo


@dataclass(frozen=True)
class SimpleRecording:
    """The fields of ``installation.sources.recordings.Recording`` that the pipeline reads."""

    data: np.ndarray
    sample_rate: float
    channel_names: tuple[str, ...]
    timestamps: np.ndarray
    description: str

    @property
    def info(self) -> StreamInfo:
        return StreamInfo(self.channel_names, self.sample_rate, self.description)


def clean_name(name: str) -> str:
    """``Fc5.`` -> ``FC5``, ``Cz..`` -> ``Cz``, ``Fp1.`` -> ``Fp1``, ``Oz..`` -> ``Oz``."""
    bare = name.strip().strip(".")
    match = re.fullmatch(r"([A-Za-z]+?)(\d+|[zZ])", bare)
    if match is None:
        return bare
    letters, tail = match.groups()
    letters = "Fp" if letters.upper() == "FP" else letters.upper()
    return letters + ("z" if tail in "zZ" else tail)


def load(path: Path):
    """A Recording of an EDF file: the project's loader when present, else MNE directly."""
    try:
        from installation.sources.recordings import load_recording
    except ImportError:
        return _load_with_mne(path)
    return load_recording(path)


def _load_with_mne(path: Path) -> SimpleRecording:
    import mne

    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    data = (raw.get_data() * 1e6).astype(np.float32)
    rate = float(raw.info["sfreq"])
    names = tuple(clean_name(n) for n in raw.ch_names)
    timestamps = np.arange(data.shape[1]) / rate
    return SimpleRecording(data, rate, names, timestamps, Path(path).name)
