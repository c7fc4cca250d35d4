"""A whole EEG recording in memory, and one loader for every file format the show plays.

``load_recording`` sniffs the format (by magic bytes and content, then by extension), hands the
file to the reader for that format and returns a :class:`Recording` holding EEG channels only,
in microvolts, with cleaned names. Readers are imported lazily: MNE and pyxdf are slow to import
and only one of them is needed for a given file.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from installation.eeg.channels import clean_channel_name, is_eeg_channel
from installation.eeg.sources.base import Chunk, StreamInfo
from installation.errors import SourceAbsent, SourceError

SUPPORTED_EXTENSIONS = (".edf", ".bdf", ".fif", ".fif.gz", ".xdf", ".xdfz", ".txt", ".csv")
_EXTENSION_FORMATS = {
    ".edf": "edf", ".rec": "edf", ".bdf": "bdf", ".fif": "fif", ".fif.gz": "fif",
    ".xdf": "xdf", ".xdfz": "xdf",
}
_TEXT_EXTENSIONS = (".txt", ".csv", ".tsv")
_SNIFF_BYTES = 4096


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
    """

    data: np.ndarray
    sample_rate: float
    channel_names: tuple[str, ...]
    timestamps: np.ndarray
    description: str

    @property
    def info(self) -> StreamInfo:
        """The stream this recording plays as."""
        return StreamInfo(self.channel_names, self.sample_rate, self.description)

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
    if timestamps is None:
        timestamps = np.arange(data.shape[1]) / sample_rate
    timestamps = np.asarray(timestamps, dtype=np.float64)
    names = tuple(clean_channel_name(channel_names[i]) for i in keep)
    return Recording(
        data=np.ascontiguousarray(data[keep], dtype=np.float32),
        sample_rate=float(sample_rate),
        channel_names=names,
        timestamps=timestamps - timestamps[0],
        description=f"{path.name} ({kind}, {len(names)} ch, {sample_rate:g} Hz)",
    )


def load_recording(path: str | Path, board: str | int | None = None) -> Recording:
    """Load the EEG of a recording file.

    Parameters
    ----------
    path : str or Path
        An EDF, BDF, FIF, XDF, OpenBCI GUI text or BrainFlow CSV file, or a session folder
        written by ``--record``.
    board : str or int, optional
        The BrainFlow board that wrote a BrainFlow CSV file (name or id); the synthetic board
        when None. Ignored for other formats.

    Returns
    -------
    Recording
        EEG channels only, microvolts, cleaned names, timestamps from 0.

    Raises
    ------
    SourceError
        Missing, unsupported, corrupt or empty file, or one without EEG.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        from installation.eeg.sources.session_folder import is_session_folder, read_session_folder

        if is_session_folder(path):
            return read_session_folder(path)
        raise SourceError(f"{path} is a folder without a session.json; play a recording file "
                          "or a folder written by --record.")
    if not path.is_file():
        raise SourceAbsent(f"Recording {path} does not exist; check the path after file:.")
    fmt = detect_format(path)
    if fmt in ("edf", "bdf", "fif"):
        from installation.eeg.sources.mne_files import read_mne_file

        return read_mne_file(path, fmt)
    if fmt == "xdf":
        from installation.eeg.sources.xdf_files import read_xdf_file

        return read_xdf_file(path)
    if fmt == "openbci":
        from installation.eeg.sources.openbci_text import read_openbci_text

        return read_openbci_text(path)
    from installation.eeg.sources.brainflow_csv import read_brainflow_csv

    return read_brainflow_csv(path, board)


def detect_format(path: Path) -> str:
    """Name the format of a file: ``edf``, ``bdf``, ``fif``, ``xdf``, ``openbci``, ``brainflow``.

    Magic bytes decide first, then the content of text files, then the extension.

    Raises
    ------
    SourceError
        When the file is none of the supported formats.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise SourceError(f"Cannot read {path}: {exc.strerror}; check its permissions.") from None
    extension = _extension(path)
    from_magic = _format_from_magic(head)
    if from_magic is not None:
        return from_magic
    text_format = _text_format(head)
    if text_format is not None:
        return text_format
    if extension in _EXTENSION_FORMATS:
        return _EXTENSION_FORMATS[extension]  # the reader will say what is wrong with it
    if extension in _TEXT_EXTENSIONS:
        raise SourceError(
            f"{path.name} is neither an OpenBCI GUI recording nor a BrainFlow CSV file; "
            "play the raw recording those programs wrote."
        )
    raise SourceError(
        f"Unsupported recording type '{extension or path.name}'; "
        f"use one of {', '.join(SUPPORTED_EXTENSIONS)}."
    )


def _extension(path: Path) -> str:
    name = path.name.lower()
    return ".fif.gz" if name.endswith(".fif.gz") else path.suffix.lower()


def _format_from_magic(head: bytes) -> str | None:
    if head.startswith(b"XDF:"):
        return "xdf"
    if head.startswith(b"\xffBIOSEMI"):
        return "bdf"
    if head.startswith(b"0       ") and len(head) >= 256:
        return "edf"
    if head.startswith(b"\x00\x00\x00\x64\x00\x00\x00\x1f"):  # FIFF_FILE_ID tag, id struct
        return "fif"
    return None


def _text_format(head: bytes) -> str | None:
    """``openbci`` for OpenBCI GUI text, ``brainflow`` for tab-separated numbers, else None."""
    try:  # incremental: a character cut at the end of ``head`` is not an error
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    lines = text.splitlines()
    if len(head) == _SNIFF_BYTES:
        lines = lines[:-1]  # the last line may be cut
    lines = [line for line in lines if line.strip()]
    if not lines:
        return None
    if lines[0].startswith("%"):
        return "openbci"
    fields = lines[0].split("\t")
    if len(fields) > 1 and all(is_number(field) for field in fields):
        return "brainflow"
    return None


def is_number(text: str) -> bool:
    """True when ``text`` parses as a float (sniffing numeric rows of text recordings)."""
    try:
        float(text)
    except ValueError:
        return False
    return True
