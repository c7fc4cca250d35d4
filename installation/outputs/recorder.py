"""Crash-safe session recording: EEG chunks, keyframes, profiles and moments, as they come.

Raw EEG chunks, the keyframe log, each calibration profile in use and the show's moments
(blackouts, calibrations) are appended as they come; the folder's layout is
:mod:`installation.eeg.sources.files.session_format`. The show's threads only put items on a
queue (chunks and keyframes, bounded) or a list (profiles and moments, rare and never dropped);
a writer thread of its own writes them and flushes and fsyncs the files at least every
``sync_s`` seconds (a profile or a moment at once), so a ``kill -9`` loses at most the last
second. :mod:`installation.eeg.sources.files.session_folder` and
:mod:`installation.eeg.sources.files.session_timeline` read a folder back, dropping a torn last
record or line.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from installation.eeg.sources.base import Chunk, SourceEvent, StreamInfo
from installation.eeg.sources.files.session_format import (
    EEG_FILE,
    EVENTS_FILE,
    HEADER_FILE,
    KEYFRAME_FILE,
    PROFILES_FOLDER,
    PROFILES_INDEX_FILE,
    SESSION_PROFILE_FILE,
    encode_chunk,
    keyframe_record,
    moment_record,
    profile_file_name,
    session_header,
)
from installation.errors import ConfigError

log = logging.getLogger(__name__)

SYNC_S = 0.5
# Items (chunks, keyframe lines) waiting for the writer: about 40 s of a live stream (~32
# chunks and 15 keyframes a second), so a disk that stalls that long costs data, not memory.
MAX_QUEUED = 2000


def expand_start_time(path: str | None, when: datetime | None = None) -> str | None:
    """``path`` with ``{date}`` and ``{time}`` replaced by the show's start (local time).

    So one config file (``record = "sessions/{date}-{time}"``) records every show into a
    folder of its own: a session folder is never overwritten.

    Parameters
    ----------
    path : str or None
        A ``--record`` folder or ``--video`` file name; None stays None.
    when : datetime, optional
        The start; now when None.

    Returns
    -------
    str or None
        E.g. ``sessions/2026-11-30-2104``.
    """
    if path is None:
        return None
    when = when or datetime.now()
    return path.replace("{date}", when.strftime("%Y-%m-%d")).replace(
        "{time}", when.strftime("%H%M%S"))


# Every file a session folder may hold: any one of them makes the folder a recording's.
SESSION_FILES = (HEADER_FILE, EEG_FILE, KEYFRAME_FILE, SESSION_PROFILE_FILE,
                 PROFILES_INDEX_FILE, EVENTS_FILE)
_PLACEHOLDERS = ("{date}", "{time}")


def session_files_in(folder: str | Path) -> list[str]:
    """The session files ``folder`` already holds (empty when it holds none or is no folder).

    Regular files only (links followed): a device such as ``/dev/full`` in a session file's
    place holds no recording to protect.
    """
    folder = Path(folder)
    return [name for name in SESSION_FILES if (folder / name).is_file()]


def fresh_name(template: str, when: datetime, taken: Callable[[Path], bool]) -> str:
    """``template`` expanded; a name with a placeholder that is taken gets ``-2``, ``-3``...

    A show restarted within the same ``{date}`` (or second of ``{time}``) so gets a new name
    instead of meeting its own earlier session, which would end it (exit 2 is final for the
    unit) and leave the wall dark. A name without placeholders is the user's own choice and is
    returned as it is, for the caller to refuse if taken.
    """
    path = Path(expand_start_time(template, when))
    if not any(mark in template for mark in _PLACEHOLDERS):
        return str(path)
    number = 1
    candidate = path
    while taken(candidate):
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}" if path.suffix
                                   else f"{path.name}-{number}")
    return str(candidate)


def record_folder_for_show(template: str | None, when: datetime | None = None) -> str | None:
    """The ``--record`` folder of this show: expanded, never one that holds a session file.

    Parameters
    ----------
    template : str or None
        The ``--record`` option (``{date}`` and ``{time}`` allowed).
    when : datetime, optional
        The show's start; now when None.

    Returns
    -------
    str or None

    Raises
    ------
    ConfigError
        When a name without placeholders names a folder that holds any session file.
    """
    if template is None:
        return None
    folder = fresh_name(template, when or datetime.now(), lambda p: bool(session_files_in(p)))
    held = session_files_in(folder)
    if held:
        raise ConfigError(f"{folder} already holds a recording ({', '.join(held)}); pass a new "
                          "--record folder, e.g. sessions/{date}-{time}.")
    return folder


def video_file_for_show(template: str | None, overwrite: bool = False,
                        when: datetime | None = None) -> str | None:
    """The ``--video`` file of this show: expanded, an existing one refused unless ``overwrite``.

    Parameters
    ----------
    template : str or None
        The ``--video`` option (``{date}`` and ``{time}`` allowed: a taken name then gets a
        number instead).
    overwrite : bool
        Replace an existing file (``--overwrite``).
    when : datetime, optional
        The show's start; now when None.

    Returns
    -------
    str or None
    """
    if template is None:
        return None
    path = fresh_name(template, when or datetime.now(),
                      lambda p: p.exists() and not overwrite)
    if Path(path).exists() and not overwrite:
        raise ConfigError(f"The video {path} already exists; pass --overwrite to replace it, "
                          "or another --video file.")
    return path


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file, fsync it, and rename it over ``path``."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


class SessionRecorder:
    """Writes a session folder from a thread of its own; ``add_*`` never block.

    Parameters
    ----------
    folder : str or Path
        Created if needed; a folder that holds any session file (``SESSION_FILES``) is refused:
        a recording is never overwritten nor appended to.
    info : StreamInfo
        The stream recorded.
    source : str
        The source spec, for the header.
    on_event : callable, optional
        Receives a :class:`SourceEvent` if writing fails (the show goes on without recording).
    sync_s : float
        Seconds between flush + fsync of both files.
    profile : dict, optional
        The calibration profile the show starts with, kept as ``profile.json`` (and the first
        line of ``profiles.jsonl``) so that training on the session z-scores it the same way.
        Profiles that come into use later go through :meth:`add_profile`.
    max_queued : int
        Items (chunks, keyframe lines) that may wait for the writer; beyond them new items are
        dropped, counted, and told in the HUD (:meth:`status_lines`), while the show goes on.
    """

    def __init__(self, folder: str | Path, info: StreamInfo, source: str = "",
                 on_event: Callable[[SourceEvent], None] | None = None,
                 sync_s: float = SYNC_S, profile: dict | None = None,
                 max_queued: int = MAX_QUEUED) -> None:
        self.folder = Path(folder)
        self.info = info
        self.on_event = on_event or (lambda event: None)
        self.sync_s = float(sync_s)
        self.started_wall = time.time()
        self.samples_written = 0
        self.failed = False
        self.samples_dropped = 0  # EEG samples not recorded because the queue was full
        self.keyframes_dropped = 0
        self._queue: queue.Queue = queue.Queue(maxsize=max_queued)
        # profiles and events: rare, never dropped, so apart from the bounded queue
        self._moments: list[tuple[str, dict, str | None]] = []
        self._moments_lock = threading.Lock()
        self._profile_in_use = profile
        self._profiles_added = 1 if profile is not None else 0
        self._eeg, self._keyframes, self._profiles_index, self._events = self._create(
            source, profile)
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._closing = threading.Event()
        self._thread.start()

    def add_chunk(self, chunk: Chunk) -> None:
        """Queue a chunk for writing (from any thread; returns at once, dropping it if full)."""
        if not self.failed and not self._offer(("chunk", chunk)):
            self.samples_dropped += chunk.n_samples

    def add_keyframe(self, keyframe) -> None:
        """Queue a keyframe's log line (its image is not stored; it can be rendered again)."""
        if not self.failed and not self._offer(
                ("keyframe", keyframe_record(keyframe, self.started_wall))):
            self.keyframes_dropped += 1

    def add_profile(self, profile: dict | None, eeg_time: float | None, reason: str) -> None:
        """Keep a profile that came into use (from any thread; returns at once, never drops it).

        It is written to ``profiles/NNN.json`` and indexed in ``profiles.jsonl`` with
        ``eeg_time`` and ``reason``. A profile equal to the one in use adds nothing, so the
        app may report the start profile again (reason ``"start"``) that it gave the
        constructor.

        Parameters
        ----------
        profile : dict or None
            The profile now z-scoring the features; None for the running baseline.
        eeg_time : float or None
            The EEG time (the source's seconds) from which it is in use; None (or a number that
            is not finite) is written as null.
        reason : str
            Why it came into use: ``"start"``, ``"calibration"``.
        """
        try:
            text = None if profile is None else json.dumps(profile, indent=1, allow_nan=False)
        except (TypeError, ValueError) as exc:  # a profile that is no JSON must not stop the show
            log.error("a profile that came into use cannot be recorded (%s); left out", exc)
            return
        with self._moments_lock:
            if self.failed or profile == self._profile_in_use:
                return
            self._profile_in_use = profile
            n, self._profiles_added = self._profiles_added, self._profiles_added + 1
            name = None if profile is None else profile_file_name(n)
            line = moment_record(self.started_wall, eeg_time, n=n, reason=str(reason),
                                 file=name)
            self._moments.append(("profile", line, text))

    def add_event(self, kind: str, eeg_time: float | None, detail: str = "") -> None:
        """Log a moment of the show in ``events.jsonl`` (from any thread; returns at once).

        Parameters
        ----------
        kind : str
            ``blackout_on``, ``blackout_off``, ``calibration_started``, ``calibration_done``,
            ``calibration_refused``...
        eeg_time : float or None
            The EEG time of the moment; None when no EEG has come (written as null).
        detail : str
            A sentence: the verdict of a calibration, the reason of a refusal.
        """
        line = moment_record(self.started_wall, eeg_time, kind=str(kind), detail=str(detail))
        with self._moments_lock:
            if not self.failed:
                self._moments.append(("event", line, None))

    def status_lines(self) -> list[str]:
        """HUD lines: none while every item reaches the disk; what was dropped otherwise."""
        if not (self.samples_dropped or self.keyframes_dropped):
            return []
        return [f"recording behind (disk slow): {self.samples_dropped} EEG samples and "
                f"{self.keyframes_dropped} keyframe lines not recorded"]

    def _offer(self, item) -> bool:
        """Queue ``item`` unless the queue is full; False (and a first warning) when dropped."""
        try:
            self._queue.put_nowait(item)
            return True
        except queue.Full:
            if not (self.samples_dropped or self.keyframes_dropped):
                log.warning("recording into %s fell %d items behind; dropping new ones until "
                            "the disk catches up", self.folder, self._queue.maxsize)
            return False

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, sync and close; safe to call twice."""
        self._closing.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _create(self, source: str, profile: dict | None):
        """Make the folder, write the header (and profile) atomically, open the four logs."""
        held = session_files_in(self.folder)
        if held:  # eeg.bin alone too: appending would mix two sessions
            raise ConfigError(f"{self.folder} already holds a recording ({', '.join(held)}); "
                              "pass a new --record folder.")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            header_path = self.folder / HEADER_FILE
            if profile is not None:  # before the header: a session is whole once it exists
                _write_atomically(self.folder / SESSION_PROFILE_FILE,
                                  json.dumps(profile, indent=1))
            _write_atomically(header_path, json.dumps(
                session_header(self.info, source, self.started_wall), indent=1))
            eeg = open(self.folder / EEG_FILE, "ab")  # noqa: SIM115 (closed by the thread)
            keyframes = open(self.folder / KEYFRAME_FILE, "a")  # noqa: SIM115
            index, events = self._open_moment_logs(profile)
        except OSError as exc:
            raise ConfigError(f"Cannot record into {self.folder} ({exc.strerror}); pass a "
                              "writable --record folder.") from None
        _fsync_folder(self.folder)
        return eeg, keyframes, index, events

    def _open_moment_logs(self, profile: dict | None):
        """Open ``profiles.jsonl`` (its first line the start profile's) and ``events.jsonl``."""
        index = open(self.folder / PROFILES_INDEX_FILE, "a")  # noqa: SIM115 (thread closes)
        events = open(self.folder / EVENTS_FILE, "a")  # noqa: SIM115
        if profile is not None:
            _append_line(index, moment_record(self.started_wall, None, n=0, reason="start",
                                              file=SESSION_PROFILE_FILE))
        return index, events

    def _write_moments(self) -> None:
        """Write the profiles and events added since the last call, each synced at once."""
        with self._moments_lock:
            moments, self._moments = self._moments, []
        for kind, line, text in moments:
            if kind == "profile":
                if text is not None:  # the profile first: a line never names a missing file
                    (self.folder / PROFILES_FOLDER).mkdir(exist_ok=True)
                    _write_atomically(self.folder / line["file"], text)
                _append_line(self._profiles_index, line)
            else:
                _append_line(self._events, line)

    def _run(self) -> None:
        """Write queued items; flush and fsync every ``sync_s``; finish the queue on close."""
        last_sync = time.monotonic()
        try:
            while True:
                closing = self._closing.is_set()
                self._write_queued(timeout=0.1)
                self._write_moments()
                if closing or time.monotonic() - last_sync >= self.sync_s:
                    self._sync()
                    last_sync = time.monotonic()
                if closing:
                    break
        except OSError as exc:  # a full or vanished disk must not stop the show
            self.failed = True
            log.error("recording into %s failed: %s", self.folder, exc)
            self.on_event(SourceEvent("error", f"Recording into {self.folder} stopped: "
                                      f"{exc.strerror or exc}; free disk space."))
        finally:
            for handle in (self._eeg, self._keyframes, self._profiles_index, self._events):
                try:
                    handle.close()
                except OSError:
                    pass

    def _write_queued(self, timeout: float) -> None:
        """Write everything queued, waiting up to ``timeout`` for the first item."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            kind, value = item
            if kind == "chunk":
                self._eeg.write(encode_chunk(value))
                self.samples_written += value.n_samples
            else:
                self._keyframes.write(json.dumps(value, separators=(",", ":")) + "\n")
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return

    def _sync(self) -> None:
        for handle in (self._eeg, self._keyframes):
            handle.flush()
            os.fsync(handle.fileno())


def _append_line(handle, line: dict) -> None:
    """Append one JSON line to a ``.jsonl`` log, flushed and fsynced (rare lines: at once)."""
    handle.write(json.dumps(line, separators=(",", ":"), allow_nan=False) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    """Make the new files' names durable too (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
