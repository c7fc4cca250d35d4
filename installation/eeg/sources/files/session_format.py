"""The session folder format: file names, the ``eeg.bin`` record layout, the header.

A session folder holds these files:

- ``session.json``: the header, written (atomically) before any data: channel names, sample
  rate, source, start time and the layout of the chunk records;
- ``eeg.bin``: one record per chunk, appended: a fixed header (magic, sample count, CRC-32 of
  the payload), the chunk's timestamps (float64) and its samples (float32, channel-major);
- ``keyframes.jsonl``: one JSON object per keyframe (EEG time, wall time, steering vector,
  noise vector), enough to render each keyframe again;
- ``profile.json``: the calibration profile the show started with, if it started with one;
- ``profiles.jsonl``: one line per profile that came into use, in the order they did:
  ``{"n", "eeg_time", "wall_time", "show_s", "reason", "file"}``. ``eeg_time`` is the EEG time
  (the source's seconds, as in ``keyframes.jsonl``) from which the profile z-scored the
  features, null for the profile in use from the first sample; ``reason`` says why it came into
  use (``"start"``, ``"calibration"``); ``file`` is the profile itself: ``profile.json`` for the
  one the show started with, ``profiles/NNN.json`` (``NNN`` = ``n``) for each later one, null
  for none (the running baseline). A show without profiles writes no line; a session of an
  older version has no such file, its ``profile.json`` being in use throughout;
- ``profiles/NNN.json``: each profile that came into use after the start, written (atomically)
  before its line in ``profiles.jsonl``;
- ``events.jsonl``: one line per moment of the show a re-render or a replay may need:
  ``{"kind", "eeg_time", "wall_time", "show_s", "detail"}``, e.g. ``blackout_on``,
  ``blackout_off``, ``calibration_started``, ``calibration_done`` (detail: the verdict),
  ``calibration_refused``; ``eeg_time`` is null when no EEG had come yet.

Every line of the ``.jsonl`` files is flushed as it comes; a reader skips a torn or damaged line
(:mod:`installation.eeg.sources.files.session_timeline`).

The show's :class:`~installation.outputs.recorder.SessionRecorder` writes it and
:mod:`installation.eeg.sources.files.session_folder` reads it back; both take the layout from here,
so the reader (on the EEG side) needs nothing from the show.
"""

from __future__ import annotations

import math
import struct
import time
import zlib
from datetime import datetime, timezone
from typing import NamedTuple

import numpy as np

from installation.eeg.sources.base import Chunk, StreamInfo

FORMAT = "eeg-painting-session/1"
HEADER_FILE = "session.json"
EEG_FILE = "eeg.bin"
KEYFRAME_FILE = "keyframes.jsonl"
SESSION_PROFILE_FILE = "profile.json"  # the calibration profile the show z-scored with
PROFILES_INDEX_FILE = "profiles.jsonl"  # every profile in use, with the EEG time it began
PROFILES_FOLDER = "profiles"  # the profiles that came into use after the start
EVENTS_FILE = "events.jsonl"  # blackouts, calibrations
RECORD_MAGIC = b"EEGC"
RECORD_HEADER = struct.Struct("<4sII")  # magic, n_samples, crc32 of the payload
# The show writes a record per source chunk (about 1/32 s); a count beyond this is damage, and
# is refused before its payload is read or allocated.
MAX_RECORD_SAMPLES = 1 << 20
SCAN_BLOCK = 1 << 20  # bytes searched at a time for the next record's magic after damage


def encode_chunk(chunk: Chunk) -> bytes:
    """One ``eeg.bin`` record: header, float64 timestamps, float32 samples (channel-major).

    Parameters
    ----------
    chunk : Chunk
        The samples to store.

    Returns
    -------
    bytes
    """
    payload = (np.ascontiguousarray(chunk.timestamps, dtype="<f8").tobytes()
               + np.ascontiguousarray(chunk.data, dtype="<f4").tobytes())
    return RECORD_HEADER.pack(RECORD_MAGIC, chunk.n_samples, zlib.crc32(payload)) + payload


def keyframe_record(keyframe, started_wall: float) -> dict:
    """The keyframe log's line for a keyframe (anything with the Keyframe fields)."""
    return {
        "eeg_time": float(keyframe.eeg_time),
        "wall_time": time.time(),
        "show_s": round(time.time() - started_wall, 4),
        "signal_lost": bool(keyframe.signal_lost),
        "masked": list(keyframe.masked_channels),
        "steering": [float(v) for v in np.asarray(keyframe.steering).ravel()],
        "noise": [float(v) for v in np.asarray(keyframe.noise).ravel()],
    }


def profile_file_name(n: int) -> str:
    """The session-relative file of the ``n``-th profile in use after the start."""
    return f"{PROFILES_FOLDER}/{int(n):03d}.json"


def moment_record(started_wall: float, eeg_time: float | None, **fields) -> dict:
    """A line of ``profiles.jsonl`` or ``events.jsonl``: the times of now, and ``fields``.

    Parameters
    ----------
    started_wall : float
        The session's start (``time.time()``), for ``show_s``.
    eeg_time : float or None
        The EEG time of the moment; None (null) when there is none or it is not finite.
    **fields
        The line's own fields (``reason`` and ``file``; ``kind`` and ``detail``).

    Returns
    -------
    dict
    """
    now = time.time()
    try:
        seconds = float(eeg_time) if eeg_time is not None else None
    except (TypeError, ValueError, OverflowError):
        seconds = None
    finite = seconds is not None and math.isfinite(seconds)
    return {"eeg_time": seconds if finite else None, "wall_time": now,
            "show_s": round(now - started_wall, 4), **fields}


def session_header(info: StreamInfo, source: str, started_wall: float) -> dict:
    """What ``session.json`` says about a session."""
    return {
        "format": FORMAT,
        "channel_names": list(info.channel_names),
        "sample_rate": float(info.sample_rate),
        "source": source,
        "description": info.description,
        "started": datetime.fromtimestamp(started_wall, timezone.utc).isoformat(),
        "started_unix": started_wall,
        "eeg_file": EEG_FILE,
        "eeg_record": "magic 'EEGC', uint32 n_samples, uint32 crc32 of payload (little-endian); "
                      "payload: float64[n_samples] seconds, float32[n_channels, n_samples] uV",
        "keyframe_file": KEYFRAME_FILE,
    }


class Record(NamedTuple):
    """One whole ``eeg.bin`` record as :class:`RecordReader` yields it.

    Attributes
    ----------
    timestamps : ndarray, float64, shape (n,)
    data : ndarray, float32, shape (n_channels, n)
    skipped_bytes : int
        Damaged bytes passed over just before this record (0 when it follows the last one).
    """

    timestamps: np.ndarray
    data: np.ndarray
    skipped_bytes: int


class RecordReader:
    """The whole records of an ``eeg.bin`` file, one at a time, resynchronising after damage.

    A record whose magic, sample count or checksum is wrong is passed over: the reader looks
    for the next offset where a whole record starts (magic, plausible count, payload present,
    checksum right) and goes on from there, so damage in one record loses that record only.
    :attr:`skips` says where and how much was passed over; a tail with no whole record after
    it (a crash mid-write) is :attr:`torn_bytes`.

    Parameters
    ----------
    stream : binary file object
        ``eeg.bin``, opened for reading (seekable).
    n_channels : int
        Channels per sample (from the header).
    """

    def __init__(self, stream, n_channels: int) -> None:
        self.stream = stream
        self.n_channels = int(n_channels)
        self.records = 0
        self.torn_bytes = 0
        self.skips: list[tuple[int, int]] = []  # (offset, bytes) passed over before a record
        self._size = stream.seek(0, 2)

    @property
    def skipped_bytes(self) -> int:
        """Damaged bytes passed over between whole records (the torn tail not counted)."""
        return sum(n for _, n in self.skips)

    def __iter__(self):
        """Yield a :class:`Record` per whole record; its arrays are read-only."""
        position = 0
        while position < self._size:
            found = self._record_at(position)
            skipped = 0
            if found is None:
                resume = self._next_whole_record(position + 1)
                if resume is None:
                    self.torn_bytes = self._size - position
                    return
                skipped, position = resume - position, resume
                self.skips.append((position - skipped, skipped))
                found = self._record_at(position)
            stamps, data, position = found
            self.records += 1
            yield Record(stamps, data, skipped)

    def _record_at(self, offset: int):
        """``(timestamps, data, end)`` of a whole record starting at ``offset``, else None.

        The sample count is checked against the bytes the file still holds (and
        ``MAX_RECORD_SAMPLES``) before anything is read, so a damaged count costs no memory.
        """
        self.stream.seek(offset)
        header = self.stream.read(RECORD_HEADER.size)
        if len(header) < RECORD_HEADER.size:
            return None
        magic, n, crc = RECORD_HEADER.unpack(header)
        size = n * (8 + 4 * self.n_channels)
        end = offset + RECORD_HEADER.size + size
        if magic != RECORD_MAGIC or n > MAX_RECORD_SAMPLES or end > self._size:
            return None
        payload = self.stream.read(size)
        if len(payload) < size or zlib.crc32(payload) != crc:
            return None
        return (np.frombuffer(payload, "<f8", n),
                np.frombuffer(payload, "<f4", n * self.n_channels, n * 8).reshape(
                    self.n_channels, n),
                end)

    def _next_whole_record(self, start: int) -> int | None:
        """The first offset at or after ``start`` where a whole record begins; None if none."""
        block_start = start
        while block_start < self._size:
            self.stream.seek(block_start)
            block = self.stream.read(SCAN_BLOCK + len(RECORD_MAGIC) - 1)  # overlap: split magic
            at = block.find(RECORD_MAGIC)
            while at >= 0:
                if self._record_at(block_start + at) is not None:
                    return block_start + at
                at = block.find(RECORD_MAGIC, at + 1)
            block_start += SCAN_BLOCK
        return None
