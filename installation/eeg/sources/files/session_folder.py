"""Reading back a session folder (:mod:`installation.eeg.sources.files.session_format`).

The reader is tolerant: a record cut short by a crash (``kill -9``, power loss) or one whose
checksum fails ends the EEG there, and a torn last line of the keyframe log is skipped, so
everything flushed before the crash plays again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from installation.eeg.sources.files.recording import (
    MAX_CHANNELS,
    MAX_SAMPLE_RATE,
    Recording,
    build_recording,
)
from installation.eeg.sources.files.session_format import (
    EEG_FILE,
    FORMAT,
    HEADER_FILE,
    KEYFRAME_FILE,
    RecordReader,
)
from installation.eeg.sources.timestamps import StreamClock
from installation.errors import SourceError, checked_number

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class SessionEEG:
    """The EEG records of a session folder, as far as they are whole.

    Attributes
    ----------
    data : ndarray, float32, shape (n_channels, n_samples)
    timestamps : ndarray, float64, shape (n_samples,)
        As the source gave them (seconds since its first sample).
    records : int
        Whole records read.
    torn_bytes : int
        Bytes after the last whole record (a torn or corrupt tail), left unread.
    """

    data: np.ndarray
    timestamps: np.ndarray
    records: int
    torn_bytes: int


def is_session_folder(path: Path) -> bool:
    """True when ``path`` is a folder with a session header."""
    return path.is_dir() and (path / HEADER_FILE).is_file()


def read_header(folder: Path) -> dict:
    """``session.json`` of a folder, checked; SourceError with one sentence otherwise."""
    try:
        header = json.loads((folder / HEADER_FILE).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"The session header {folder / HEADER_FILE} cannot be read ({exc}); "
                          "the recording folder is damaged.") from None
    try:
        ok = (header.get("format") == FORMAT and isinstance(header["channel_names"], list)
              and all(isinstance(n, str) for n in header["channel_names"]))
        rate = header["sample_rate"]
    except (AttributeError, KeyError, TypeError):
        ok = False
    if not ok:
        raise SourceError(f"{folder / HEADER_FILE} is not a session header ({FORMAT}); play a "
                          "folder written by --record.")
    where = f"in {folder / HEADER_FILE}"
    checked_number(rate, f"The sample_rate {where}", 0, MAX_SAMPLE_RATE, SourceError,
                   "the recording folder is damaged", low_open=True)
    checked_number(len(header["channel_names"]), f"The number of channel_names {where}", 1,
                   MAX_CHANNELS, SourceError, "the recording folder is damaged")
    return header


def read_session_eeg(folder: Path, n_channels: int) -> SessionEEG:
    """Decode ``eeg.bin`` record by record, stopping at the first torn or corrupt one.

    Parameters
    ----------
    folder : Path
        The session folder.
    n_channels : int
        Channels per sample (from the header).

    Returns
    -------
    SessionEEG
    """
    try:
        with open(folder / EEG_FILE, "rb") as stream:
            reader = RecordReader(stream, n_channels)
            pieces = list(reader)
    except OSError as exc:
        raise SourceError(f"Cannot read {folder / EEG_FILE} ({exc.strerror}); the recording "
                          "folder is incomplete.") from None
    if reader.torn_bytes:
        log.warning("%s: %d bytes after record %d are torn or corrupt; dropped them",
                    folder / EEG_FILE, reader.torn_bytes, reader.records)
    if not pieces:
        return SessionEEG(np.zeros((n_channels, 0), np.float32), np.zeros(0), 0,
                          reader.torn_bytes)
    return SessionEEG(np.hstack([data for _, data in pieces]),
                      np.concatenate([stamps for stamps, _ in pieces]), reader.records,
                      reader.torn_bytes)


def read_session_folder(folder: str | Path) -> Recording:
    """A session folder as a :class:`Recording` that a file source plays.

    Parameters
    ----------
    folder : str or Path
        A folder written by ``--record``.

    Returns
    -------
    Recording
        Timestamps made strictly rising (a source clock that jumped back is continued).
    """
    folder = Path(folder)
    header = read_header(folder)
    names = list(header["channel_names"])
    rate = float(header["sample_rate"])
    eeg = read_session_eeg(folder, len(names))
    if eeg.data.shape[1] == 0:
        raise SourceError(f"The recording {folder} holds no whole EEG record; it was stopped "
                          "before its first second was written.")
    stamps = StreamClock(rate).seconds(np.where(np.isfinite(eeg.timestamps), eeg.timestamps, 0.0),
                                       eeg.data.shape[1])
    return build_recording(folder, eeg.data, rate, names, stamps, "session recording")


def read_keyframe_log(folder: str | Path) -> list[dict]:
    """The keyframe log's entries, skipping a torn or unreadable line (a crash's last one)."""
    entries = []
    try:
        lines = (Path(folder) / KEYFRAME_FILE).read_text(errors="replace").splitlines()
    except OSError:
        return entries
    for line in lines:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            log.warning("skipped a torn keyframe log line in %s", folder)
    return entries
