"""One loader for every file format the show plays.

``load_recording`` sniffs the format (by magic bytes and content, then by extension), hands the
file to the reader for that format and returns a
:class:`~installation.eeg.sources.files.recording.Recording`
holding EEG channels only, in microvolts, with cleaned names. The readers import MNE and pyxdf
only when they read: both are slow to import and only one is needed for a given file.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from installation.eeg.sources.files.brainflow_csv import read_brainflow_csv
from installation.eeg.sources.files.mne_files import read_mne_file
from installation.eeg.sources.files.openbci_text import read_openbci_text
from installation.eeg.sources.files.recording import Recording, is_number
from installation.eeg.sources.files.session_folder import is_session_folder, read_session_folder
from installation.eeg.sources.files.xdf_files import read_xdf_file
from installation.errors import SourceAbsent, SourceError

SUPPORTED_EXTENSIONS = (".edf", ".bdf", ".fif", ".fif.gz", ".xdf", ".xdfz", ".txt", ".csv")
_EXTENSION_FORMATS = {
    ".edf": "edf", ".rec": "edf", ".bdf": "bdf", ".fif": "fif", ".fif.gz": "fif",
    ".xdf": "xdf", ".xdfz": "xdf",
}
_TEXT_EXTENSIONS = (".txt", ".csv", ".tsv")
_SNIFF_BYTES = 4096


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
        if is_session_folder(path):
            return read_session_folder(path)
        raise SourceError(f"{path} is a folder without a session.json; play a recording file "
                          "or a folder written by --record.")
    if not path.is_file():
        raise SourceAbsent(f"Recording {path} does not exist; check the path after file:.")
    fmt = detect_format(path)
    if fmt in ("edf", "bdf", "fif"):
        return read_mne_file(path, fmt)
    if fmt == "xdf":
        return read_xdf_file(path)
    if fmt == "openbci":
        return read_openbci_text(path)
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


