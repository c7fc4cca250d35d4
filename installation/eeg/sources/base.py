"""The one small interface every EEG source implements, and the thread that runs any of them.

A source is a step object: ``open()`` connects and says what the stream is, ``read()`` returns
the samples that arrived since the last call (or None), ``close()`` releases the hardware. Tests
drive these steps directly; :class:`SourceThread` only wires them to the live show.
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from installation.errors import InstallationError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Annotation:
    """A stretch of a recording its maker named (EDF+ and FIF annotations).

    Attributes
    ----------
    onset_s : float
        Seconds from the recording's first sample.
    duration_s : float
        Seconds it lasts (0 for a moment).
    description : str
        What it says, e.g. ``"eyes closed"``.
    """

    onset_s: float
    duration_s: float
    description: str


@dataclass(frozen=True)
class StreamInfo:
    """What a source delivers.

    Attributes
    ----------
    channel_names : tuple of str
        Cleaned EEG channel names (``Fc5.`` becomes ``FC5``), one per data row.
    sample_rate : float
        Nominal samples per second.
    description : str
        A short human-readable name for the HUD and logs, e.g. ``"BrainFlow synthetic board"``.
    annotations : tuple of Annotation
        What a recording says about its own stretches (none for a live stream), by onset.
    period_s : float, optional
        Seconds after which a looping recording's timeline repeats; None when it does not.
    gaps : tuple of float
        Rising timestamps (within one period) of the samples where a recording resumes after a
        stretch its reader had to skip: no window or filter spans one.
    """

    channel_names: tuple[str, ...]
    sample_rate: float
    description: str
    annotations: tuple[Annotation, ...] = ()
    period_s: float | None = None
    gaps: tuple[float, ...] = ()

    @property
    def n_channels(self) -> int:
        """Number of EEG channels."""
        return len(self.channel_names)

    def annotation_at(self, eeg_time: float) -> str:
        """The description of the newest annotation begun by ``eeg_time``; "" before any.

        Parameters
        ----------
        eeg_time : float
            Seconds from the source's first sample (a looping file's count on across loops).
        """
        if self.period_s and math.isfinite(eeg_time):
            eeg_time = eeg_time % self.period_s
        if not self.annotations or not math.isfinite(eeg_time):
            return ""
        # Called for every keyframe shown: a bisection, not a scan of a long annotation list.
        begun = bisect.bisect_right(self._onsets, eeg_time)
        return self.annotations[begun - 1].description if begun else ""

    @functools.cached_property
    def _onsets(self) -> tuple[float, ...]:
        """The annotations' onsets, in their order (sorted where a reader built them)."""
        return tuple(a.onset_s for a in self.annotations)


@dataclass(frozen=True)
class Chunk:
    """Samples delivered by one ``read()``.

    Attributes
    ----------
    data : ndarray, float32, shape (n_channels, n_samples)
        EEG in microvolts.
    timestamps : ndarray, float64, shape (n_samples,)
        Seconds since the source's first sample, on one clock for the whole stream.
    arrival : float
        ``time.perf_counter()`` when the chunk reached this process (for latency figures).
    """

    data: np.ndarray
    timestamps: np.ndarray
    arrival: float = field(default_factory=time.perf_counter)

    @property
    def n_samples(self) -> int:
        """Number of samples in the chunk."""
        return int(self.data.shape[1])


class EndOfStream(Exception):
    """Raised by ``read()`` when a finite source (a file) has delivered everything."""


class Source(ABC):
    """Base class of every EEG source.

    Subclasses implement :meth:`open`, :meth:`read` and :meth:`close`. ``open`` raises
    :class:`~installation.errors.SourceError` with one clear sentence when the source cannot be
    used; ``read`` raises :class:`EndOfStream` when a finite source is done.
    """

    info: StreamInfo | None = None
    finite = False  # True for recordings, which end instead of going quiet

    @abstractmethod
    def open(self) -> StreamInfo:
        """Connect, resolve or load, and return what the stream is."""

    @abstractmethod
    def read(self, max_samples: int | None = None) -> Chunk | None:
        """Return the samples that arrived since the last call, or None when there are none.

        Parameters
        ----------
        max_samples : int, optional
            Upper bound on the samples returned. File sources at ``--speed max`` return exactly
            this many (fewer at the end) without waiting, so a recording plays hop by hop.
        """

    @abstractmethod
    def close(self) -> None:
        """Release the device or stream; safe to call twice."""

    def __enter__(self) -> Source:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ValueEnum(str, Enum):
    """An enum of strings that compares equal to, and prints as, its value."""

    def __str__(self) -> str:
        return self.value


class EventKind(ValueEnum):
    """What a :class:`SourceEvent` reports (each compares equal to its string value).

    ``SIGNAL_LOST`` and ``SIGNAL_BACK`` come from one owner only, the steering worker, which
    sees whether samples flow; the source thread reports its connection (``RECONNECTING``,
    ``RECONNECTED``), which says nothing yet about samples.
    """

    ERROR = "error"
    INFO = "info"
    ENDED = "ended"
    SIGNAL_LOST = "signal_lost"
    SIGNAL_BACK = "signal_back"
    RECONNECTING = "reconnecting"
    RECONNECTED = "reconnected"


@dataclass(frozen=True)
class SourceEvent:
    """Something the display should show and log: a failure, a lost or regained signal."""

    kind: EventKind | str  # an EventKind; a plain string of one of its values compares equal
    message: str
    time: float = field(default_factory=time.perf_counter)


class _ChangedStream(Exception):
    """A reconnected source delivers other channels or another rate than before."""


class SourceThread(threading.Thread):
    """Runs a source's ``read`` loop in its own thread, turning failures into events.

    When ``read`` fails, or (with ``stall_s``) delivers nothing for that long, the thread says
    so, closes the source and opens it again with growing pauses (``retry_s`` doubling up to
    ``max_retry_s``) until it streams the same channels again or the thread is stopped; the
    painting drifts on meanwhile. A finite source's end (:class:`EndOfStream`) ends the thread.

    Parameters
    ----------
    source : Source
        An opened source.
    on_chunk : callable
        Called with each :class:`Chunk` (from this thread).
    on_event : callable
        Called with each :class:`SourceEvent`; exceptions never escape the thread.
    poll_interval : float
        Seconds to sleep when ``read`` returned nothing.
    stall_s : float, optional
        Seconds without samples after which the source counts as gone; never when None.
    reconnect : bool
        Reopen a failed or stalled source; when False a failure ends the thread.
    retry_s, max_retry_s : float
        First pause between reconnection attempts, and the longest.
    """

    def __init__(
        self,
        source: Source,
        on_chunk: Callable[[Chunk], None],
        on_event: Callable[[SourceEvent], None],
        poll_interval: float = 0.005,
        stall_s: float | None = None,
        reconnect: bool = True,
        retry_s: float = 0.25,
        max_retry_s: float = 2.0,
    ) -> None:
        super().__init__(name=f"source-{type(source).__name__}", daemon=True)
        self.source = source
        self.on_chunk = on_chunk
        self.on_event = on_event
        self.poll_interval = poll_interval
        self.stall_s = stall_s
        self.reconnect = reconnect
        self.retry_s = retry_s
        self.max_retry_s = max_retry_s
        self._stop_requested = threading.Event()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the loop to end and wait for it."""
        self._stop_requested.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def run(self) -> None:
        """Read until stopped or the stream ends, reconnecting after failures; never raise."""
        try:
            while not self._stop_requested.is_set():
                try:
                    self._read_until_stall()
                except EndOfStream:
                    self.on_event(SourceEvent(EventKind.ENDED, "The recording has ended."))
                    return
                except Exception as exc:  # a thread must turn every failure into data
                    if isinstance(exc, InstallationError):  # already one sentence
                        log.warning("source failed: %s", exc)
                    else:
                        log.exception("source thread failed")
                    self.on_event(SourceEvent(EventKind.ERROR, f"EEG source failed: {exc}"))
                    if not self.reconnect:
                        return
                if not self._stop_requested.is_set():
                    self._reopen()
        finally:
            self._close_quietly()

    def _read_until_stall(self) -> None:
        """Hand chunks on until stopped, or return when nothing came for ``stall_s``."""
        last_data = time.perf_counter()
        while not self._stop_requested.is_set():
            chunk = self.source.read()
            if chunk is None or chunk.n_samples == 0:
                if self.stall_s is not None and time.perf_counter() - last_data > self.stall_s:
                    self.on_event(SourceEvent(
                        EventKind.RECONNECTING, f"No samples from the EEG source for "
                        f"{self.stall_s:g} s; reconnecting."))
                    return
                time.sleep(self.poll_interval)
                continue
            last_data = time.perf_counter()
            self.on_chunk(chunk)

    def _reopen(self) -> None:
        """Close the source and open it again, pausing longer after each failed attempt."""
        lost_at, pause, before = time.perf_counter(), self.retry_s, self.source.info
        mismatch_said = False
        while not self._stop_requested.is_set():
            self._close_quietly()
            try:
                info = self.source.open()
                if before is not None and (info.channel_names, info.sample_rate) != (
                        before.channel_names, before.sample_rate):
                    raise _ChangedStream(f"The EEG source came back as {info.description} with "
                                         "other channels or another rate; restart the show.")
            except _ChangedStream as exc:  # the operator must see this one, once
                if not mismatch_said:
                    self.on_event(SourceEvent(EventKind.ERROR, str(exc)))
                    mismatch_said = True
                log.info("reconnecting the EEG source failed: %s", exc)
            except Exception as exc:  # keep trying: the headset may come back
                log.info("reconnecting the EEG source failed: %s", exc)
            else:
                self.on_event(SourceEvent(
                    EventKind.RECONNECTED, f"Reconnected to {info.description} after "
                    f"{time.perf_counter() - lost_at:.1f} s; waiting for its samples."))
                return
            self._stop_requested.wait(pause)
            pause = min(2 * pause, self.max_retry_s)

    def _close_quietly(self) -> None:
        try:
            self.source.close()
        except Exception:  # closing a broken device must not mask the real event
            log.exception("closing the source failed")
