"""``--control PORT`` or ``--control HOST:PORT``: OSC in, for the gallery's tools.

A thread of its own reads UDP datagrams and decodes them with python-osc; it only checks each
message (:mod:`installation.control.messages`) and puts the command in a bounded queue. The
display's thread drains the queue once a frame (:meth:`ControlChannel.drain`) and runs the
handlers the show registered, so no message runs show code in the receiving thread. A message
can never stop or freeze the show: bad ones are logged once and ignored, a flood is read at a
bounded rate (the rest is dropped by the operating system), a full queue drops and counts, many
of the same command in one frame run once, and a handler's failure becomes a note in the HUD.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections import deque
from collections.abc import Callable

from pythonosc.osc_packet import OscPacket

from installation.control.handlers import ControlHandlers
from installation.control.messages import SWITCHES, Command, Refusal, parse_command
from installation.eeg.sources.base import EventKind, SourceEvent
from installation.errors import ConfigError
from installation.outputs.feeds.osc import parse_host_port

log = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"
QUEUE_CAPACITY = 1024  # commands waiting for the display (60 frames a second drain it)
MAX_RATE = 5000.0  # messages read a second at most; a flood beyond it is the kernel's to drop
MAX_DATAGRAM = 65536
POLL_S = 0.2  # how often the reading thread looks whether it should stop
NOTE_S = 10.0  # how long a control note stays in the HUD
LOGGED_KINDS_MAX = 64  # distinct (kind, address) pairs logged before the channel falls silent


def parse_control_target(text: str) -> tuple[str, int]:
    """``PORT`` (localhost) or ``HOST:PORT`` as (host, port); a ConfigError sentence otherwise.

    Parameters
    ----------
    text : str
        E.g. ``9100``, ``127.0.0.1:9100``, ``0.0.0.0:9100`` (every interface) or ``[::1]:9100``.
    """
    text = str(text).strip()
    if text.isdigit():
        text = f"{LOCALHOST}:{text}"
    try:
        return parse_host_port(text)
    except ConfigError:
        raise ConfigError(f"--control {text!r} is not PORT or HOST:PORT; pass e.g. --control "
                          "9100 (this computer only) or --control 0.0.0.0:9100 (port 1 to "
                          "65535).") from None


class ControlChannel:
    """Receives OSC commands on a UDP port; :meth:`drain` runs them on the caller's thread.

    Parameters
    ----------
    target : str
        ``PORT`` or ``HOST:PORT`` to listen on (see :func:`parse_control_target`).
    note : callable, optional
        Takes a :class:`SourceEvent` for the log and the HUD (``ShowStatus.note``); None logs.
    capacity : int
        Commands that may wait for :meth:`drain`; more are dropped and counted.
    max_rate : float or None
        Messages read per second at most (None: as fast as they come).
    clock : callable
        Seconds, for the HUD notes' age and the read budget.
    """

    def __init__(self, target: str, note: Callable[[SourceEvent], None] | None = None,
                 capacity: int = QUEUE_CAPACITY, max_rate: float | None = MAX_RATE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.host, port = parse_control_target(target)
        self._note = note
        self.max_rate = max_rate
        self.clock = clock
        self._queue: queue.Queue[Command] = queue.Queue(maxsize=capacity)
        self._sock = _bind(self.host, port, target)
        self.port = self._sock.getsockname()[1]
        self.name = f"control {self.host}:{self.port}"
        self.received = 0  # OSC messages read (commands or not)
        self.ignored = 0  # unknown or malformed messages and datagrams
        self.dropped = 0  # commands the full queue had no room for
        self.done = 0  # commands run by drain (after merging repeats within a frame)
        self._logged: set[tuple[str, str]] = set()
        self._notes: deque[tuple[float, str]] = deque(maxlen=4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="control-in", daemon=True)

    def start(self) -> ControlChannel:
        """Start reading; returns the channel."""
        self._thread.start()
        log.info("%s: listening for OSC commands", self.name)
        return self

    def close(self) -> None:
        """Stop reading and release the port; safe to call twice."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2 * POLL_S + 1.0)
        self._sock.close()

    def drain(self, handlers: ControlHandlers) -> int:
        """Run the commands waiting, each kind once (the last switch state wins).

        Call once a frame on the display's thread. Returns the number of commands taken.
        """
        pending = []
        while True:
            try:
                pending.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for command in merged(pending):
            self._run(command, handlers)
        return len(pending)

    def status_lines(self) -> list[str]:
        """The HUD's lines: the channel's counts and its notes of the last seconds."""
        now = self.clock()
        lines = [f"{self.name}: {self.received} received, {self.done} done, {self.ignored} "
                 f"ignored, {self.dropped} dropped"]
        lines += [f"control: {text}" for t, text in list(self._notes) if now - t < NOTE_S]
        return lines

    def counts(self) -> dict[str, int]:
        """The channel's counters, for a summary or a benchmark."""
        return {"received": self.received, "done": self.done, "ignored": self.ignored,
                "dropped": self.dropped}

    def tell(self, text: str, kind: EventKind = EventKind.INFO) -> None:
        """A note for the HUD (for a few seconds) and the log."""
        self._notes.append((self.clock(), text))
        event = SourceEvent(kind, f"Control: {text}")
        if self._note is not None:
            self._note(event)
        else:
            log.info("%s", event.message)

    def _run(self, command: Command, handlers: ControlHandlers) -> None:
        handler = getattr(handlers, command.name)
        if handler is None:
            self.tell(handlers.unavailable(command.name))
            return
        try:
            answer = handler(command.on) if command.name in SWITCHES else handler()
        except Exception as exc:  # a handler's failure is shown, never the show's end
            log.exception("control command %s failed", command.name)
            self.tell(f"/show/{command.name} failed: {exc}", EventKind.ERROR)
            return
        self.done += 1
        if isinstance(answer, str) and answer:
            self.tell(answer)

    def _serve(self) -> None:
        budget = _ReadBudget(self.max_rate, self.clock)
        while not self._stop.is_set():
            try:
                data = self._sock.recv(MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError as exc:
                if not self._stop.is_set():
                    log.warning("%s: reading failed (%s); still listening", self.name, exc)
                    self._stop.wait(POLL_S)
                continue
            self._take(data)
            budget.spend(self._stop)

    def _take(self, data: bytes) -> None:
        """Check one datagram's messages and queue the commands."""
        try:
            messages = [(m.message.address, list(m.message.params))
                        for m in OscPacket(data).messages]
        except Exception:  # hostile bytes: python-osc raises ParseError and, for some, others
            self.received += 1
            self._ignore(Refusal("malformed", "datagram", "is not an OSC message or bundle"))
            return
        for address, args in messages:
            self.received += 1
            result = parse_command(address, args)
            if isinstance(result, Refusal):
                self._ignore(result)
            elif result is not None:
                self._enqueue(result)

    def _enqueue(self, command: Command) -> None:
        try:
            self._queue.put_nowait(command)
        except queue.Full:
            self.dropped += 1
            self._log_once("dropped", "queue", "commands come faster than the show takes them; "
                           "dropping the newest")

    def _ignore(self, refusal: Refusal) -> None:
        self.ignored += 1
        self._log_once(refusal.kind, refusal.address, f"{refusal.address} {refusal.reason}; "
                       "ignored")

    def _log_once(self, kind: str, address: str, message: str) -> None:
        """Log a kind of trouble once per address, and fall silent after many addresses."""
        key = (kind, address)
        if key in self._logged or len(self._logged) > LOGGED_KINDS_MAX:
            return
        self._logged.add(key)
        if len(self._logged) > LOGGED_KINDS_MAX:
            message = "many kinds of bad messages; no longer logging them"
        log.warning("%s: %s (logged once)", self.name, message)


def merged(commands: list[Command]) -> list[Command]:
    """Each command name once, at its last occurrence's state, in the order names last came."""
    last: dict[str, Command] = {}
    for command in commands:
        last.pop(command.name, None)
        last[command.name] = command
    return list(last.values())


class _ReadBudget:
    """Sleeps the reading thread when messages come faster than ``max_rate`` a second."""

    def __init__(self, max_rate: float | None, clock: Callable[[], float]) -> None:
        self.max_rate, self.clock = max_rate, clock
        self._window_start = clock()
        self._count = 0

    def spend(self, stop: threading.Event) -> None:
        if self.max_rate is None:
            return
        self._count += 1
        if self._count < self.max_rate / 10:  # checked over tenths of a second
            return
        elapsed = self.clock() - self._window_start
        if elapsed < 0.1:
            stop.wait(0.1 - elapsed)
        self._window_start, self._count = self.clock(), 0


def _bind(host: str, port: int, target: str) -> socket.socket:
    """A UDP socket bound to ``host:port``; a ConfigError sentence when that is impossible."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"--control {target}: the host {host!r} cannot be resolved ({exc}); "
                          "pass an address of this computer, e.g. 127.0.0.1.") from None
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"--control {target}: cannot listen there ({exc.strerror}); pick a "
                          "free port or an address of this computer.") from None
    sock.settimeout(POLL_S)
    return sock
