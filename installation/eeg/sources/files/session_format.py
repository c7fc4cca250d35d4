"""The session folder format: file names, the ``eeg.bin`` record layout, the header.

A session folder holds three files:

- ``session.json``: the header, written (atomically) before any data: channel names, sample
  rate, source, start time and the layout of the chunk records;
- ``eeg.bin``: one record per chunk, appended: a fixed header (magic, sample count, CRC-32 of
  the payload), the chunk's timestamps (float64) and its samples (float32, channel-major);
- ``keyframes.jsonl``: one JSON object per keyframe (EEG time, wall time, steering vector,
  noise vector), enough to render each keyframe again.

The show's :class:`~installation.outputs.recorder.SessionRecorder` writes it and
:mod:`installation.eeg.sources.files.session_folder` reads it back; both take the layout from here,
so the reader (on the EEG side) needs nothing from the show.
"""

from __future__ import annotations

import struct
import time
import zlib
from datetime import datetime, timezone

import numpy as np

from installation.eeg.sources.base import Chunk, StreamInfo

FORMAT = "eeg-painting-session/1"
HEADER_FILE = "session.json"
EEG_FILE = "eeg.bin"
KEYFRAME_FILE = "keyframes.jsonl"
SESSION_PROFILE_FILE = "profile.json"  # the calibration profile the show z-scored with
RECORD_MAGIC = b"EEGC"
RECORD_HEADER = struct.Struct("<4sII")  # magic, n_samples, crc32 of the payload


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


class RecordReader:
    """The whole records of an ``eeg.bin`` file, one at a time, up to the first torn one.

    A record cut short (a crash mid-write) or whose checksum fails ends the reading there;
    :attr:`torn_bytes` then says how much was left unread.

    Parameters
    ----------
    stream : binary file object
        ``eeg.bin``, opened for reading at its start.
    n_channels : int
        Channels per sample (from the header).
    """

    def __init__(self, stream, n_channels: int) -> None:
        self.stream = stream
        self.n_channels = int(n_channels)
        self.records = 0
        self.torn_bytes = 0

    def __iter__(self):
        """Yield ``(timestamps, data)``: float64 (n,), float32 (n_channels, n), read-only."""
        while True:
            start = self.stream.tell()
            header = self.stream.read(RECORD_HEADER.size)
            if len(header) < RECORD_HEADER.size:
                self.torn_bytes = len(header)
                return
            magic, n, crc = RECORD_HEADER.unpack(header)
            size = n * 8 + n * self.n_channels * 4
            payload = self.stream.read(size) if magic == RECORD_MAGIC else b""
            if magic != RECORD_MAGIC or len(payload) < size or zlib.crc32(payload) != crc:
                self.torn_bytes = self.stream.seek(0, 2) - start
                return
            self.records += 1
            yield (np.frombuffer(payload, "<f8", n),
                   np.frombuffer(payload, "<f4", n * self.n_channels, n * 8).reshape(
                       self.n_channels, n))
