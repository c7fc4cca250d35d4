"""Who holds a BrainFlow board: an advisory lock the show takes while it has the headset open.

A BrainFlow board can be opened by one process at a time, so ``python -m calibration`` beside a
running show would fail on the board with BrainFlow's own words, or, on a board that allows it,
take the samples from under the show. While the show holds a board it holds an exclusive
``flock`` on a file named after the board and its connection (in the temporary folder, or
``$EEG_PAINTING_LOCK_DIR``), with its pid inside; the calibration command looks first and says
in one sentence how to calibrate inside the show instead (:func:`refuse_if_show_holds`). The
kernel drops the lock when the show's process ends, however it ends, so a stale file never
blocks anyone. An LSL stream takes any number of inlets: nothing is locked for it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no advisory locks; BrainFlow still refuses a second opener
    fcntl = None

from installation.errors import SourceError

log = logging.getLogger(__name__)

LOCK_DIR_ENV = "EEG_PAINTING_LOCK_DIR"
# The input parameters that say which device a board spec reaches (not timeouts or options).
CONNECTION_KEYS = ("serial_port", "ip_address", "ip_port", "mac_address", "serial_number",
                   "file")
MAX_LOCK_BYTES = 4096  # what a holder writes is a short JSON line; more is not read


def lock_dir() -> Path:
    """The folder of the lock files: ``$EEG_PAINTING_LOCK_DIR``, else the temporary folder."""
    return Path(os.environ.get(LOCK_DIR_ENV) or tempfile.gettempdir())


def lock_path(board_id: int, params: dict | None = None) -> Path:
    """The lock file of a board and its connection (the same for every spelling of a spec).

    Parameters
    ----------
    board_id : int
        The BrainFlow board id (names already resolved).
    params : dict, optional
        The source spec's options; only :data:`CONNECTION_KEYS` count.

    Returns
    -------
    Path
    """
    connection = {key: str(params[key]).strip() for key in CONNECTION_KEYS
                  if params and params.get(key) not in (None, "")}
    digest = hashlib.sha1(json.dumps(connection, sort_keys=True).encode()).hexdigest()[:12]
    return lock_dir() / f"eeg-painting-board{board_id}-{digest}.lock"


class BoardLock:
    """An exclusive advisory lock on a board, held from :meth:`acquire` to :meth:`release`.

    Parameters
    ----------
    board_id : int
        The BrainFlow board id.
    params : dict, optional
        The source spec's options (its connection).
    owner : str
        Who holds it, for the sentence others read (``"show"``).
    source : str
        The source spec, written beside the pid.
    """

    def __init__(self, board_id: int, params: dict | None = None, owner: str = "show",
                 source: str = "") -> None:
        self.path = lock_path(board_id, params)
        self.owner, self.source = owner, source
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it or it cannot.

        Never raises: a lock that cannot be taken (another holder, a folder not writable) is
        logged and the caller goes on; the board itself still refuses a second opener.
        """
        if self._fd is not None or fcntl is None:
            return self._fd is not None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            log.warning("cannot create the board lock %s (%s); going on without it", self.path,
                        exc.strerror)
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            log.warning("the board lock %s is held by %s; going on without it", self.path,
                        describe_holder(read_holder(self.path)))
            return False
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "owner": self.owner,
                                 "source": self.source}).encode())
        self._fd = fd
        return True

    def release(self) -> None:
        """Let the lock go (the file stays: removing it would race a new holder); idempotent."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock


def board_holder(board_id: int, params: dict | None = None) -> dict | None:
    """Who holds the board's lock now: ``{"pid", "owner", "source"}``, or None when no one.

    Parameters
    ----------
    board_id : int
        The BrainFlow board id.
    params : dict, optional
        The source spec's options (its connection).

    Returns
    -------
    dict or None
        What the holder wrote, checked (a missing or damaged field is left out); None when
        the lock is free, absent, or locks are not supported here.
    """
    path = lock_path(board_id, params)
    if fcntl is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return read_holder(path)  # someone holds it exclusively
    finally:
        os.close(fd)  # drops our shared lock too, if we took it
    return None


def read_holder(path: Path) -> dict:
    """What a lock file says of its holder, each field checked (hostile until read)."""
    try:
        with open(path, "rb") as f:
            holder = json.loads(f.read(MAX_LOCK_BYTES).decode(errors="replace"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(holder, dict):
        return {}
    checked = {}
    if isinstance(holder.get("pid"), int) and not isinstance(holder["pid"], bool) \
            and 0 < holder["pid"] < 2**31:
        checked["pid"] = holder["pid"]
    for key in ("owner", "source"):
        if isinstance(holder.get(key), str):
            checked[key] = holder[key][:200]
    return checked


def describe_holder(holder: dict | None) -> str:
    """``the show (pid 1234)``, from what a holder wrote."""
    holder = holder or {}
    who = f"the {holder['owner']}" if holder.get("owner") else "another process"
    return f"{who} (pid {holder['pid']})" if "pid" in holder else who


def refuse_if_show_holds(board_id: int, params: dict | None, spec: str) -> None:
    """Refuse, in one sentence, a BrainFlow board whose lock another process (the show) holds.

    Parameters
    ----------
    board_id : int
        The BrainFlow board id.
    params : dict or None
        The source spec's options (its connection).
    spec : str
        The source spec, for the sentence.

    Raises
    ------
    SourceError
        When the board's lock is held: the sentence says who holds it and how to calibrate
        inside the show (key C in its window, or ``/show/calibrate`` on its ``--control``).
    """
    holder = board_holder(board_id, params)
    if holder is None:
        return
    who = describe_holder(holder)
    raise SourceError(
        f"{who[0].upper()}{who[1:]} owns the headset {spec} (a BrainFlow board opens in one "
        "process only); calibrate inside the show: press C in its window, or send "
        "/show/calibrate to its --control address.")
