"""The steering stage: new EEG samples in, the newest keyframe (a generated painting) out.

:class:`SteeringWorker` is the pure step object; :class:`SteeringThread` only loops it and hands
its keyframes to the display through a :class:`LatestSlot`, which keeps the newest alone.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from installation.eeg.sources.base import EventKind, SourceEvent
from installation.engine.profile_ramp import DEFAULT_RAMP_S, ProfileRamp, warm_extractor

log = logging.getLogger(__name__)

SIGNAL_TIMEOUT_S = 1.0
LOST_DECAY_S = 3.0
STEP_HISTORY_HOPS = 300  # the hops (20 s at 15 a second) whose median step a ramp keeps within


@dataclass(frozen=True)
class Keyframe:
    """One generated painting and what it was made from.

    Attributes
    ----------
    image : ndarray, uint8, shape (H, W, 3)
        The painting.
    eeg_time : float
        Timestamp of the newest sample in the window behind it (seconds from the source start).
    arrival : float
        ``perf_counter`` arrival of that sample.
    ready_time : float
        ``perf_counter`` when the image was ready.
    steering : ndarray, float32, shape (n_features,)
        The vector fed to the generator.
    noise : ndarray, float32, shape (noise_dim,)
        The drift noise fed to the generator.
    masked_channels : tuple of str
        Channels left out of the window.
    signal_lost : bool
        True when made while no samples arrive (decayed steering plus drift).
    """

    image: np.ndarray
    eeg_time: float
    arrival: float
    ready_time: float
    steering: np.ndarray
    noise: np.ndarray
    masked_channels: tuple[str, ...] = ()
    signal_lost: bool = False




class SteeringWorker:
    """Ring buffer → feature extractor → generator, one ``step()`` at a time.

    Every hop goes through the extractor (its filters and EMAs need them all), but only the
    newest frame of a step is rendered: when the generator falls behind, stale hops are skipped.
    When no samples arrive for ``signal_timeout_s`` it reports "signal_lost" and keeps painting
    once per hop from the last steering vector, decayed toward 0, plus the drift; when samples
    flow again it reports "signal_back". It is the one owner of those two events (see
    :mod:`installation.engine.signal_state`): the source thread's reconnecting says nothing of
    samples.

    Parameters
    ----------
    ring : RingBuffer
        Where the source thread puts samples (``since(seen)`` gives a BufferedChunk).
    extractor : FeatureExtractor
        The feature pipeline.
    runtime : GeneratorRuntime
        The generator (anything with ``generate(steering, noise)``).
    drift : LatentDrift
        The wandering noise vector.
    on_event : callable, optional
        Receives a :class:`SourceEvent` when the signal is lost or back.
    clock : callable
        Seconds; the signal timeout runs on it (a virtual EEG clock offline), and so does the
        drift while the signal is lost.
    signal_timeout_s, lost_decay_s : float
        Seconds without samples before the signal counts as lost; time constant of the decay.
    on_hop : callable, optional
        Receives every :class:`~installation.eeg.feature_pipeline.FeatureFrame` (every hop, also
        those whose painting is skipped) and the worker; the feeds and the sound listen here.
        While the signal is lost it gets the last frame, with the decayed steering, once per
        painting. It must not block.

    Notes
    -----
    While samples flow, the drift advances by EEG time (the frames' ``eeg_time``), not by the
    wall clock: the noise is then a function of the recording alone, so a session replayed
    with ``--source file:DIR`` paints the noise the live show painted. (On the wall clock a
    replay drifted from the live noise by the live show's timing jitter, up to a few percent.)
    """

    def __init__(self, ring, extractor, runtime, drift, on_event=None,
                 clock: Callable[[], float] = time.perf_counter,
                 signal_timeout_s: float = SIGNAL_TIMEOUT_S, lost_decay_s: float = LOST_DECAY_S,
                 on_hop: Callable | None = None):
        self.ring = ring
        self.extractor = extractor
        self.runtime = runtime
        self.drift = drift
        self.on_event = on_event or (lambda event: None)
        self.on_hop = on_hop or (lambda frame, worker: None)
        self.clock = clock
        self.signal_timeout_s = signal_timeout_s
        self.lost_decay_s = lost_decay_s
        self.hop_s = extractor.spec.hop_s
        self.samples_seen = 0
        self.samples_dropped = 0
        self.frames_seen = 0
        self.keyframes = 0
        self.signal_lost = False
        self.last_frame = None
        self._n_channels = len(extractor.features.channel_names)
        self._samples_unusable = False  # samples flow, but no channel of them can steer
        self._newest_unusable = None  # the newest such hop, while they do
        now = clock()
        self._last_sample_clock = now
        self._lost_since = now
        self._last_render_clock = now
        self._drift_eeg_time = 0.0  # EEG time the drift has been advanced to
        self._switch = None  # (extractor, ramp_s, on_started) asked for by another thread
        # the steering's change from hop to hop, recently: what a profile's ramp keeps within
        self._hop_steps: deque[float] = deque(maxlen=STEP_HISTORY_HOPS)
        self._previous_steering = None

    def switch_extractor(self, extractor, ramp_s: float = DEFAULT_RAMP_S,
                         on_started: Callable[[float], None] | None = None) -> None:
        """Hand the steering over to ``extractor`` (a new profile's) over ``ramp_s`` seconds.

        Safe from any thread: the worker takes it at its next step with samples, warms the new
        extractor on the ring's newest seconds, then blends the two (:class:`ProfileRamp`).

        Parameters
        ----------
        extractor : FeatureExtractor
            Fresh, for the same stream and feature spec.
        ramp_s : float
            Seconds of EEG time over which the steering moves from the old to the new.
        on_started : callable, optional
            Called (from the steering thread) with the EEG time the ramp starts at.
        """
        self._switch = (extractor, ramp_s, on_started or (lambda eeg_time: None))

    def _take_switch(self, chunk) -> None:
        """Start a requested hand-over, the running extractor having just taken ``chunk``.

        A ramp still running goes on inside the new one (its blend is the "old" steering).
        """
        request, self._switch = self._switch, None
        new, ramp_s, on_started = request
        warm_extractor(new, self.ring, chunk.end_count, self.extractor.samples_to_next_frame)
        ordinary = float(np.median(self._hop_steps)) if self._hop_steps else None
        self.extractor = ProfileRamp(self.extractor, new, ramp_s, ordinary_step=ordinary)
        on_started(float(chunk.timestamps[-1]))

    def step(self) -> Keyframe | None:
        """Take the new samples and return a keyframe for the newest hop they complete, if any."""
        now = self.clock()
        chunk = self.ring.since(self.samples_seen)
        if chunk is None or chunk.n_samples == 0:
            return self._step_without_samples(now)
        self.samples_seen = chunk.end_count
        if chunk.dropped:  # the worker fell a whole ring behind: say so, the show goes on
            self.samples_dropped += chunk.dropped
            log.warning("steering fell behind: %d EEG samples skipped (%d in all)",
                        chunk.dropped, self.samples_dropped)
        frames = self.extractor.push(chunk)
        if isinstance(self.extractor, ProfileRamp) and self.extractor.done:
            self.extractor = self.extractor.new  # the new profile alone from here on
        if self._switch is not None:
            self._take_switch(chunk)
        self.frames_seen += len(frames)
        self._note_hop_steps(frames)
        if frames:  # between hops the last hop's verdict stands
            self._samples_unusable = self._unusable(frames[-1])
            self._newest_unusable = frames[-1] if self._samples_unusable else None
        if self._samples_unusable:
            # samples that steer nothing (every channel NaN, flat or absurd) are no signal
            for hop in frames:
                self.on_hop(hop, self)
            return self._step_without_samples(now)
        self._last_sample_clock = now
        if self.signal_lost:
            self.signal_lost = False
            self.on_event(SourceEvent(EventKind.SIGNAL_BACK, "The EEG signal is back."))
        if not frames:
            return None
        for hop in frames:
            self.on_hop(hop, self)
        self.last_frame = frame = frames[-1]
        return self._render(frame.steering, frame.eeg_time, frame.arrival,
                            frame.masked_channels, now)

    def _note_hop_steps(self, frames) -> None:
        """Remember how far the steering moved from hop to hop (every hop, painted or not)."""
        for frame in frames:
            steering = np.asarray(frame.steering, dtype=np.float64)
            previous, self._previous_steering = self._previous_steering, steering
            if previous is not None and previous.shape == steering.shape:
                step = float(np.linalg.norm(steering - previous))
                if np.isfinite(step):
                    self._hop_steps.append(step)

    def _unusable(self, frame) -> bool:
        """True when the hop had no usable channel: every one was masked."""
        return len(frame.masked_channels) >= self._n_channels

    def _step_without_samples(self, now: float) -> Keyframe | None:
        """Notice a lost signal; while lost, paint once per hop from the decayed steering."""
        if not self.signal_lost:
            if now - self._last_sample_clock <= self.signal_timeout_s:
                return None
            self.signal_lost = True
            self._lost_since = self._last_sample_clock  # decay from the last sample seen
            what = ("No usable EEG channel (every one NaN, flat or beyond 5 mV)"
                    if self._samples_unusable else "No EEG samples")
            self.on_event(SourceEvent(
                EventKind.SIGNAL_LOST, f"{what} for over {self.signal_timeout_s:g} s; "
                "check the headset."))
        if now - self._last_render_clock < self.hop_s:
            return None
        decay = math.exp(-(now - self._lost_since) / self.lost_decay_s)
        frame = self.last_frame
        if frame is None:
            steering = np.zeros(self.extractor.spec.n_features, np.float32)
            eeg_time, masked = 0.0, ()
        else:
            steering = (frame.steering * decay).astype(np.float32)
            eeg_time, masked = frame.eeg_time, frame.masked_channels
            self.on_hop(replace(frame, steering=steering), self)  # the feeds hear "lost"
        if self._newest_unusable is not None:  # EEG time passes; the log says what was masked
            eeg_time = self._newest_unusable.eeg_time
            masked = self._newest_unusable.masked_channels
        return self._render(steering, eeg_time, time.perf_counter(), masked, now, lost=True)

    def _render(self, steering, eeg_time, arrival, masked, now, lost=False) -> Keyframe:
        if lost:  # no EEG time passes: drift on the clock
            noise = self.drift.step(now - self._last_render_clock)
        else:
            noise = self.drift.step(eeg_time - self._drift_eeg_time)
            self._drift_eeg_time = max(self._drift_eeg_time, float(eeg_time))
        self._last_render_clock = now
        self.keyframes += 1
        image = self.runtime.generate(steering, noise)
        return Keyframe(image, float(eeg_time), float(arrival), time.perf_counter(),
                        steering, noise, tuple(masked), lost)


class LatestSlot:
    """A one-element hand-off: ``put`` replaces what is there, ``take`` empties it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item = None
        self.replaced = 0  # items put but never taken (the display skipped them)

    def put(self, item) -> None:
        """Leave ``item`` for the reader, dropping an older one it has not taken."""
        with self._lock:
            if self._item is not None:
                self.replaced += 1
            self._item = item

    def take(self):
        """The newest item, or None when nothing new arrived since the last take."""
        with self._lock:
            item, self._item = self._item, None
        return item


class SteeringThread(threading.Thread):
    """Loops a :class:`SteeringWorker` and puts its keyframes into a :class:`LatestSlot`.

    A failing step becomes an "error" event (logged; the display keeps its last picture and
    shows the message), then the loop pauses and goes on.

    Parameters
    ----------
    worker : SteeringWorker
        The step object.
    slot : LatestSlot
        Where keyframes go.
    on_event : callable
        Receives :class:`SourceEvent` for failures.
    idle_s, error_pause_s : float
        Sleep when a step gave nothing; pause after a failure.
    on_keyframe : callable, optional
        Also receives every keyframe (the recorder logs them); must not block.
    """

    def __init__(self, worker: SteeringWorker, slot: LatestSlot,
                 on_event: Callable[[SourceEvent], None], idle_s: float = 0.004,
                 error_pause_s: float = 0.5,
                 on_keyframe: Callable[[Keyframe], None] | None = None) -> None:
        super().__init__(name="steering", daemon=True)
        self.worker = worker
        self.slot = slot
        self.on_event = on_event
        self.idle_s = idle_s
        self.error_pause_s = error_pause_s
        self.on_keyframe = on_keyframe or (lambda keyframe: None)
        self._stop_requested = threading.Event()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end and wait for it."""
        self._stop_requested.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def run(self) -> None:
        """Step until stopped; never raise."""
        while not self._stop_requested.is_set():
            try:
                keyframe = self.worker.step()
            except Exception as exc:  # a worker failure must become data, never a dead thread
                log.exception("steering step failed")
                self.on_event(SourceEvent(EventKind.ERROR, f"Steering failed: {exc}"))
                self._stop_requested.wait(self.error_pause_s)
                continue
            if keyframe is None:
                self._stop_requested.wait(self.idle_s)
            else:
                self.slot.put(keyframe)
                self.on_keyframe(keyframe)
