"""Starting unattended: the show paints on its own until the EEG source appears.

A kiosk may start before the headset is switched on, the LSL outlet started or the recording's
drive mounted. :class:`SourceConnector` opens the source in its own thread, again and again
while it is absent (:class:`~installation.errors.SourceAbsent`), and hands it on once it
streams; :class:`DriftPainter` paints the drift alone meanwhile, then hands every step to the
steering worker built for the source. A source that can never work (a file with no EEG, a model
that does not fit the headset) ends the show with its one sentence instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from installation.eeg.sources import parse_source_spec
from installation.eeg.sources.base import Source, SourceEvent, StreamInfo
from installation.engine.steering import Keyframe
from installation.errors import InstallationError, SourceAbsent

log = logging.getLogger(__name__)

RETRY_S = 0.5  # first pause between attempts to open an absent source
MAX_RETRY_S = 4.0  # the longest pause: a headset switched on is found within seconds
LIVE_RESOLVE_TIMEOUT_S = 1.0  # one LSL look-up while waiting: short, so quitting is prompt


class DriftPainter:
    """The steering step while no source is connected: the drift alone, once per hop.

    Once :meth:`connect` gave it the source's steering worker, every step is that worker's.

    Parameters
    ----------
    runtime : GeneratorRuntime
        The generator (anything with ``generate(steering, noise)`` and ``feature_spec``).
    drift : LatentDrift
        The wandering noise vector, shared with the worker that takes over.
    clock : callable
        Seconds; the drift runs on it.
    """

    def __init__(self, runtime, drift, clock: Callable[[], float] = time.perf_counter) -> None:
        self.runtime = runtime
        self.drift = drift
        self.clock = clock
        self.hop_s = runtime.feature_spec.hop_s
        self.worker = None
        self._steering = np.zeros(runtime.feature_spec.n_features, np.float32)
        self._last_render = clock()

    def connect(self, worker) -> None:
        """Hand every later step to ``worker`` (a :class:`SteeringWorker`)."""
        self.worker = worker

    def step(self) -> Keyframe | None:
        """A drift-only keyframe once per hop while waiting; the worker's step once connected."""
        worker = self.worker
        if worker is not None:
            return worker.step()
        now = self.clock()
        if now - self._last_render < self.hop_s:
            return None
        noise = self.drift.step(now - self._last_render)
        self._last_render = now
        image = self.runtime.generate(self._steering, noise)
        ready = time.perf_counter()
        return Keyframe(image, 0.0, ready, ready, self._steering, noise, signal_lost=True)


class SourceConnector(threading.Thread):
    """Opens a source in the background, retrying while it is absent, then hands it on.

    Parameters
    ----------
    source : Source
        A source made from a valid spec, not yet opened.
    on_connected : callable
        Called with the :class:`StreamInfo` once the source is open (from this thread); an
        :class:`InstallationError` it raises ends the show like a source that cannot work.
    status : ShowStatus
        Told what the show waits for, and the failure that ends it.
    retry_s, max_retry_s : float
        First pause between attempts, doubling up to the longest.
    """

    def __init__(self, source: Source, on_connected: Callable[[StreamInfo], None], status,
                 retry_s: float = RETRY_S, max_retry_s: float = MAX_RETRY_S) -> None:
        super().__init__(name="source-connector", daemon=True)
        self.source = source
        self.on_connected = on_connected
        self.status = status
        self.retry_s = retry_s
        self.max_retry_s = max_retry_s
        self.connected = threading.Event()
        self.absence: SourceAbsent | None = None  # why the last attempt found nothing
        self._stop_requested = threading.Event()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop trying and wait for the attempt in progress."""
        self._stop_requested.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def run(self) -> None:
        """Try until connected, stopped or refused for good; never raise."""
        pause = self.retry_s
        while not self._stop_requested.is_set():
            info = self._attempt()
            if info is not None:
                self._hand_on(info)
                return
            if self.status.failure is not None:
                return
            self._stop_requested.wait(pause)
            pause = min(2 * pause, self.max_retry_s)

    def _attempt(self) -> StreamInfo | None:
        """One ``open()``: the info, or None (absent: say so; for good: set the failure)."""
        try:
            return self.source.open()
        except SourceAbsent as exc:
            self._absent(exc)
        except InstallationError as exc:
            self.status.fail(exc)
        except Exception as exc:  # a driver's own exception: the device may still come
            log.exception("opening the EEG source failed")
            self._absent(SourceAbsent(f"Opening the EEG source failed ({exc}); retrying."))
        return None

    def _absent(self, exc: SourceAbsent) -> None:
        if self.absence is None or str(exc) != str(self.absence):
            log.info("waiting for the EEG source: %s", exc)
        self.absence = exc
        self.status.still_waiting(str(exc))

    def _hand_on(self, info: StreamInfo) -> None:
        try:
            self.on_connected(info)
        except InstallationError as exc:
            self.status.fail(exc)
            return
        except Exception as exc:  # a thread turns failures into data, never a dead show
            log.exception("starting the EEG source failed")
            self.status.note(SourceEvent("error", f"Starting the EEG source failed: {exc}"))
            return
        self.connected.set()


def waiting_line(spec: str) -> str:
    """What the show waits for, in words, from a source spec (for the HUD's first line)."""
    kind, target, options = parse_source_spec(spec)
    if kind == "lsl":
        return f"LSL stream {target}" if target else f"an LSL stream of type {options['type']}"
    if kind == "brainflow":
        return f"BrainFlow {target}"
    return f"recording {target}"
