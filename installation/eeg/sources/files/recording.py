"""A whole EEG recording in memory: what every file reader returns.

:func:`build_recording` keeps the EEG channels of a reader's raw table, in microvolts, with
cleaned names and timestamps from 0, so every format arrives alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from installation.eeg.channels import clean_channel_name, is_eeg_channel
from installation.eeg.sources.base import Annotation, Chunk, StreamInfo
from installation.errors import SourceError, checked_number

# The documented range of a recording's numbers (docs/show.md): any EEG amplifier's rate and
# channel count fits; a damaged header's 1e308 Hz or a million channels does not.
MAX_SAMPLE_RATE = 100_000.0
MAX_CHANNELS = 1024


@dataclass(frozen=True, eq=False)  # arrays have no single truth value to compare
class Recording:
    """EEG loaded from a file.

    Attributes
    ----------
    data : ndarray, float32, shape (n_channels, n_samples)
        EEG in microvolts.
    sample_rate : float
        Nominal samples per second.
    channel_names : tuple of str
        Cleaned EEG channel names, one per row of ``data``.
    timestamps : ndarray, float64, shape (n_samples,)
        Seconds since the first sample (the first is 0).
    description : str
        What the recording is, for the HUD and logs.
    annotations : tuple of Annotation
        The file's own annotations, by onset (EDF+, FIF); none for other formats.
    gaps : tuple of float
        Timestamps of the samples where the recording resumes after a stretch the reader had
        to skip (damaged records): the pipeline restarts its filters there (see
        :attr:`StreamInfo.gaps`). None for a whole file.
    """

    data: np.ndarray
    sample_rate: float
    channel_names: tuple[str, ...]
    timestamps: np.ndarray
    description: str
    annotations: tuple[Annotation, ...] = ()
    gaps: tuple[float, ...] = ()

    @property
    def info(self) -> StreamInfo:
        """The stream this recording plays as."""
        return StreamInfo(self.channel_names, self.sample_rate, self.description,
                          self.annotations, gaps=self.gaps)

    @property
    def n_samples(self) -> int:
        """Samples per channel."""
        return int(self.data.shape[1])

    def chunks(self, n_samples: int) -> Iterator[Chunk]:
        """Yield the recording in consecutive chunks of ``n_samples`` (the last may be shorter).

        Parameters
        ----------
        n_samples : int
            Samples per chunk, at least 1.

        Yields
        ------
        Chunk
            Views into the recording; ``arrival`` is when the chunk was yielded.
        """
        if n_samples < 1:
            raise ValueError(f"n_samples must be at least 1, not {n_samples}")
        for start in range(0, self.n_samples, n_samples):
            stop = start + n_samples
            yield Chunk(self.data[:, start:stop], self.timestamps[start:stop])


def build_recording(
    path: Path,
    data: np.ndarray,
    sample_rate: float,
    channel_names: Sequence[str],
    timestamps: np.ndarray | None,
    kind: str,
    annotations: Sequence[Annotation] = (),
    gap_starts: Sequence[int] = (),
) -> Recording:
    """Keep the EEG channels of data a reader decoded and check it is usable.

    Parameters
    ----------
    path : Path
        The file, for messages.
    data : ndarray, shape (n_channels, n_samples)
        All channels, EEG already in microvolts.
    sample_rate : float
        Samples per second.
    channel_names : sequence of str
        Raw names, one per row; cleaned here, and non-EEG channels dropped.
    timestamps : ndarray, shape (n_samples,), optional
        Seconds on any clock; shifted to start at 0. Counted from the rate when None.
    kind : str
        The format, for the description (``"EDF"``, ``"OpenBCI GUI text"``).
    annotations : sequence of Annotation
        The file's annotations (onsets from its first sample); those that are not finite or
        lie outside the recording are left out, and the rest sorted by onset.
    gap_starts : sequence of int
        Sample indices where the data resumes after a stretch the reader skipped.

    Returns
    -------
    Recording
    """
    keep = [i for i, name in enumerate(channel_names) if is_eeg_channel(name)]
    if not keep:
        raise SourceError(
            f"{path.name} has no EEG channels (found {', '.join(channel_names) or 'none'}); "
            "record the headset's EEG channels and try again."
        )
    if data.shape[1] == 0:
        raise SourceError(f"{path.name} holds no samples; choose a recording with EEG data in it.")
    if not sample_rate > 0:
        raise SourceError(f"{path.name} states no sample rate; re-export it with its rate.")
    checked_number(float(sample_rate), f"The sample rate of {path.name}", 0, MAX_SAMPLE_RATE,
                   SourceError, "re-export it with its real rate", low_open=True)
    eeg = np.ascontiguousarray(data[keep], dtype=np.float32)
    if not np.isfinite(eeg).any():
        raise SourceError(f"{path.name} holds no finite EEG sample (every channel is NaN or "
                          "infinite); choose a recording with a signal in it.")
    if timestamps is None:
        timestamps = np.arange(data.shape[1]) / sample_rate
    timestamps = np.asarray(timestamps, dtype=np.float64)
    names = tuple(clean_channel_name(channel_names[i]) for i in keep)
    timestamps = timestamps - timestamps[0]
    return Recording(
        data=eeg,
        sample_rate=float(sample_rate),
        channel_names=names,
        timestamps=timestamps,
        description=f"{path.name} ({kind}, {len(names)} ch, {sample_rate:g} Hz)",
        annotations=usable_annotations(annotations, data.shape[1] / sample_rate),
        gaps=tuple(float(timestamps[i]) for i in sorted(gap_starts) if 0 < i < len(timestamps)),
    )


def usable_annotations(annotations: Sequence[Annotation], length_s: float
                       ) -> tuple[Annotation, ...]:
    """Annotations with a finite onset inside the recording and a description, by onset."""
    kept = [a for a in annotations
            if math.isfinite(a.onset_s) and 0 <= a.onset_s < length_s and a.description.strip()]
    return tuple(sorted(kept, key=lambda a: a.onset_s))


def is_number(text: str) -> bool:
    """True when ``text`` parses as a float (sniffing numeric rows of text recordings)."""
    try:
        float(text)
    except ValueError:
        return False
    return True
