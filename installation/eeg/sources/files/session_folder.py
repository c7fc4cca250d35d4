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
    return [entry for _, entry in _log_lines(Path(folder))]


def _log_lines(folder: Path):
    """Yield ``(line number, parsed JSON)`` of the keyframe log, skipping torn lines."""
    try:
        lines = (folder / KEYFRAME_FILE).read_text(errors="replace").splitlines()
    except OSError:
        return
    for number, line in enumerate(lines, 1):
        try:
            yield number, json.loads(line)
        except (json.JSONDecodeError, RecursionError):  # a torn line, or absurdly nested
            log.warning("skipped a torn keyframe log line in %s", folder)


def read_keyframes(folder: str | Path) -> list[dict]:
    """The keyframe log with every line's numbers checked, ready to paint again.

    A torn line (a crash's last) or one that is no keyframe is skipped, as the tolerant reader
    does; a keyframe whose ``eeg_time``, ``show_s`` or ``wall_time`` is not a finite number
    within +-1e12 s, or whose steering or noise holds anything but finite numbers within
    +-1e6, is damaged: a SourceError sentence names its line.

    Parameters
    ----------
    folder : str or Path
        The session folder.

    Returns
    -------
    list of dict
        Entries oldest first, each with ``line`` (its line number), the times as floats and
        ``steering`` and ``noise`` as float32 arrays.
    """
    folder = Path(folder)
    entries = []
    for number, entry in _log_lines(folder):
        if isinstance(entry, dict) and all(k in entry for k in KEYFRAME_KEYS):
            entries.append(_checked_keyframe(entry, number, folder / KEYFRAME_FILE))
    return entries


KEYFRAME_KEYS = ("eeg_time", "steering", "noise")
MAX_KEYFRAME_TIME_S = 1e12  # any clock's seconds; the render bounds the timeline itself
MAX_KEYFRAME_VALUE = 1e6  # z-scores and a unit Gaussian's entries stay far below


def _checked_keyframe(entry: dict, number: int, path: Path) -> dict:
    """One keyframe log line with its numbers checked (SourceError naming the line)."""
    fix = f"line {number} of {path} is damaged; delete that line to render the rest"
    checked = {"line": number, "signal_lost": bool(entry.get("signal_lost", False))}
    for key in ("eeg_time", "show_s", "wall_time"):
        if key in entry or key == "eeg_time":
            checked[key] = checked_number(entry[key], f"A keyframe's {key}", -MAX_KEYFRAME_TIME_S,
                                          MAX_KEYFRAME_TIME_S, SourceError, fix)
    for key in ("steering", "noise"):
        checked[key] = _checked_vector(entry[key], key, fix)
    return checked


def _checked_vector(values, key: str, fix: str) -> np.ndarray:
    """A keyframe's steering or noise as float32: a flat list of finite, bounded numbers."""
    try:
        vector = np.array(values, dtype=np.float64) if isinstance(values, list) else None
    except (TypeError, ValueError, OverflowError):
        vector = None
    ok = vector is not None and vector.ndim == 1 and bool(
        np.all(np.abs(vector) <= MAX_KEYFRAME_VALUE))  # NaN fails the comparison too
    if not ok:
        raise SourceError(f"A keyframe's {key} must be a list of numbers within "
                          f"+-{MAX_KEYFRAME_VALUE:g}; {fix}.")
    return vector.astype(np.float32)


def session_eeg_span(folder: str | Path, n_channels: int) -> tuple[float, float] | None:
    """First and last finite timestamp of the session's whole EEG records; None without any.

    Reads record by record, keeping only the timestamps' extremes, so memory stays small for
    a session of any length.
    """
    lo, hi = np.inf, -np.inf
    try:
        with open(Path(folder) / EEG_FILE, "rb") as stream:
            for record in RecordReader(stream, n_channels):
                finite = record.timestamps[np.isfinite(record.timestamps)]
                if len(finite):
                    lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    except OSError:
        return None
    return (lo, hi) if lo <= hi else None
