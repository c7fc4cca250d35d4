"""Reading back a session folder (:mod:`installation.eeg.sources.files.session_format`).

The reader keeps what is whole: a record cut short by a crash (``kill -9``, power loss) ends the
EEG there; a damaged record (bytes flipped, a count that cannot be) is passed over, the reader
going on at the next whole record, and the stretch it skipped stays a gap in the timeline
(:attr:`~installation.eeg.sources.files.recording.Recording.gaps`, a warning saying how many
bytes and seconds); a torn last line of the keyframe log is skipped. Everything flushed before
the crash plays again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from installation.eeg.sources.files.recording import Recording, build_recording
from installation.eeg.sources.files.session_format import (
    EEG_FILE,
    FORMAT,
    HEADER_FILE,
    KEYFRAME_FILE,
    RecordReader,
)
from installation.eeg.sources.timestamps import StreamClock
from installation.errors import SourceError

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
    gaps : tuple of int
        Sample indices where EEG resumes after damaged bytes were passed over.
    skipped_bytes : int
        Damaged bytes passed over between whole records.
    """

    data: np.ndarray
    timestamps: np.ndarray
    records: int
    torn_bytes: int
    gaps: tuple[int, ...] = ()
    skipped_bytes: int = 0


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
        ok = (header.get("format") == FORMAT and float(header["sample_rate"]) > 0
              and len(header["channel_names"]) > 0
              and all(isinstance(n, str) for n in header["channel_names"]))
    except (AttributeError, KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise SourceError(f"{folder / HEADER_FILE} is not a session header ({FORMAT}); play a "
                          "folder written by --record.")
    return header


def read_session_eeg(folder: Path, n_channels: int) -> SessionEEG:
    """Decode ``eeg.bin`` record by record, passing over damaged ones, up to a torn tail.

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
            records = list(reader)
    except OSError as exc:
        raise SourceError(f"Cannot read {folder / EEG_FILE} ({exc.strerror}); the recording "
                          "folder is incomplete.") from None
    if reader.torn_bytes:
        log.warning("%s: %d bytes after record %d are torn or corrupt; dropped them",
                    folder / EEG_FILE, reader.torn_bytes, reader.records)
    if not records:
        return SessionEEG(np.zeros((n_channels, 0), np.float32), np.zeros(0), 0,
                          reader.torn_bytes, (), reader.skipped_bytes)
    starts = np.cumsum([0] + [r.data.shape[1] for r in records[:-1]])
    gaps = tuple(int(start) for start, r in zip(starts, records, strict=True)
                 if r.skipped_bytes and start)
    return SessionEEG(np.hstack([r.data for r in records]),
                      np.concatenate([r.timestamps for r in records]), reader.records,
                      reader.torn_bytes, gaps, reader.skipped_bytes)


def _report_skips(folder: Path, eeg: SessionEEG, stamps: np.ndarray, rate: float) -> None:
    """Log, once per damaged stretch, the bytes and EEG seconds the reader passed over."""
    if eeg.skipped_bytes and not eeg.gaps:
        log.warning("%s: %d damaged bytes before the first whole record were skipped",
                    folder / EEG_FILE, eeg.skipped_bytes)
    for index in eeg.gaps:
        seconds = max(float(stamps[index] - stamps[index - 1]) - 1.0 / rate, 0.0)
        log.warning("%s: damaged records skipped at %.2f s of the session: %.2f s of EEG "
                    "missing (%d damaged bytes in all); the stretch plays as a gap",
                    folder / EEG_FILE, stamps[index], seconds, eeg.skipped_bytes)


def read_session_folder(folder: str | Path) -> Recording:
    """A session folder as a :class:`Recording` that a file source plays.

    Parameters
    ----------
    folder : str or Path
        A folder written by ``--record``.

    Returns
    -------
    Recording
        Timestamps made strictly rising (a source clock that jumped back is continued); where
        damaged records were skipped, a gap (:attr:`Recording.gaps`).
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
    _report_skips(folder, eeg, stamps - stamps[0], rate)
    return build_recording(folder, eeg.data, rate, names, stamps, "session recording",
                           gap_starts=eeg.gaps)


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
