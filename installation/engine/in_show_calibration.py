"""Calibration inside the running show: a new wearer calibrated while the painting drifts on.

:class:`InShowCalibration` is fed the same chunks as the ring (the source thread's tee); on
:meth:`~InShowCalibration.request` (key C, ``/show/calibrate``) it records the guided steps of
:class:`~installation.eeg.baseline.session.CalibrationSession` (eyes open, then eyes closed
when asked for), the code ``python -m calibration`` runs, on the show's own source. On a good
verdict the new profile is handed to ``use_profile`` (the steering ramps over to it, see
:mod:`installation.engine.profile_ramp`) and saved into the profiles folder; on a bad one the
old profile stays and the HUD says what to fix. Its HUD lines (:meth:`lines`) are what the
calibration screen says: the step and its countdown, each channel's state with its limit, the
verdict and the next steps.

The chunks are only queued on the source thread; the steps, the quality figures and the
profile are computed in a thread of its own (:meth:`step` is its pure step), so neither the
source nor the display ever waits for them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from installation.eeg.baseline.quality import GOOD
from installation.eeg.baseline.session import (
    BASELINE,
    DONE,
    CalibrationSession,
    default_steps,
)
from installation.eeg.baseline.verdicts import (
    channel_figure,
    next_steps,
    passed,
    verdict_line,
)
from installation.eeg.profile_folder import save_to_profiles
from installation.errors import InstallationError

log = logging.getLogger(__name__)

DEFAULT_CALIBRATION_S = 60.0
REPEAT_IN_SHOW = "press C (or send /show/calibrate) to calibrate again"
REFUSED_WAITING = ("The show is still waiting for its EEG source; calibrate once it is "
                   "connected.")
REFUSED_LOST = "The EEG signal is lost; calibrate once it is back."
REFUSED_RUNNING = "A calibration is already running; wait for its verdict."
VERDICT_SHOWN_S = 30.0  # the verdict stays on the HUD this long
MESSAGE_SHOWN_S = 8.0  # a refusal stays on the HUD this long
MAX_CHANNEL_LINES = 12  # more channels: the bad ones only, and a count
POLL_S = 0.1  # the calibration thread's pause between steps
# The wearer looks at the painting, not at the calibration screen's cross.
IN_SHOW_INSTRUCTIONS = {BASELINE: "eyes open, look at the painting"}

EventHook = Callable[[str, "float | None", str], None]


class InShowCalibration:
    """The guided calibration on the show's own stream, on request, beside the painting.

    Parameters
    ----------
    spec : FeatureSpec
        The model's feature spec (the profile's statistics are of its features).
    use_profile : callable
        Called with a new profile (dict) on a good verdict, from the calibration thread; the
        app ramps the steering over to it (it may raise InstallationError: said on the HUD).
    signal : callable
        Returns the show's signal state (``"waiting"``, ``"ok"``, ``"lost"``, ``"ended"``); a
        request is refused unless it is ``"ok"``, and a calibration stops when it turns lost.
    source_spec : str
        The source spec, stored in the profile.
    baseline_s : float
        Seconds of eyes open (``--calibration-s``).
    eyes_closed_s : float
        Seconds of eyes closed (``--calibration-eyes-closed-s``); 0 leaves the step out.
    on_event : callable, optional
        ``on_event(kind, eeg_time, detail)`` for ``calibration_started``, ``calibration_done``
        (detail: the verdict) and ``calibration_refused`` (detail: why); ``eeg_time`` is the
        newest sample's (None before any). It must not block (the recorder queues it).
    profiles_dir : str or Path, optional
        Where each good profile is saved (``--profiles``); None saves none.
    clock : callable
        Seconds, for how long the verdict and messages stay on the HUD.
    """

    def __init__(self, spec, use_profile: Callable[[dict], None], signal: Callable[[], str],
                 source_spec: str = "", baseline_s: float = DEFAULT_CALIBRATION_S,
                 eyes_closed_s: float = 0.0, on_event: EventHook | None = None,
                 profiles_dir: str | Path | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.spec = spec
        self.use_profile = use_profile
        self.signal = signal
        self.source_spec = source_spec
        self.steps = default_steps(baseline_s, eyes_closed_s)  # checks the durations
        self.on_event = on_event or (lambda kind, eeg_time, detail: None)
        self.profiles_dir = profiles_dir
        self.clock = clock
        self.info = None  # the stream's StreamInfo once the source is open
        self.session: CalibrationSession | None = None  # the one running
        self.result = None  # the last finished CalibrationResult
        self.saved_to: Path | None = None  # where the last good profile was saved
        self.last_eeg_time: float | None = None
        self._lock = threading.Lock()
        self._queue: deque = deque()
        self._lines: list[str] = []
        self._lines_until = float("-inf")  # the verdict's lines go after this
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        """True from an accepted request until the verdict."""
        return self.session is not None

    def attach(self, info) -> None:
        """The source is open: calibrations may run on this stream."""
        self.info = info

    def push(self, chunk) -> None:
        """Take a chunk from the source thread (queued only while a calibration runs)."""
        if chunk.n_samples:
            self.last_eeg_time = float(chunk.timestamps[-1])
        if self.session is not None:
            self._queue.append(chunk)

    def request(self) -> str | None:
        """Start a calibration; None when started, else the one sentence saying why not.

        Safe from any thread (the window's key, the control channel). A refusal is also shown
        on the HUD and reported as ``calibration_refused``.
        """
        with self._lock:
            reason = self._refusal()
            if reason is None:
                self._queue.clear()
                self.session = CalibrationSession(self.info, self.spec, self.steps,
                                                  source=self.source_spec, auto_advance=True)
                self.result = None
        if reason is not None:
            self._say(reason, MESSAGE_SHOWN_S)
            log.info("calibration refused: %s", reason)
            self.on_event("calibration_refused", self.last_eeg_time, reason)
            return reason
        planned = " then ".join(f"{s.duration_s:g} s {s.name.replace('_', ' ')}"
                                for s in self.steps)
        log.info("in-show calibration started: %s", planned)
        self.on_event("calibration_started", self.last_eeg_time, planned)
        self._start_thread()
        return None

    def _refusal(self) -> str | None:
        signal = str(self.signal())
        if self.info is None or signal == "waiting":
            return REFUSED_WAITING
        if self.session is not None:
            return REFUSED_RUNNING
        if signal != "ok":
            return REFUSED_LOST
        return None

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name="in-show-calibration",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        """Step until the verdict; never raise (a failure is said on the HUD)."""
        while self.session is not None and not self._stop.is_set():
            try:
                self.step()
            except Exception as exc:  # a calibration failure must never touch the show
                log.exception("in-show calibration failed")
                self._end(f"The calibration failed ({exc}); the old profile stays.")
            self._stop.wait(POLL_S)

    def stop(self) -> None:
        """End the calibration thread (the show is ending); what it recorded is dropped."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5.0)

    def step(self) -> None:
        """Take the queued chunks; on the last step's end, judge and hand the profile on."""
        session = self.session
        if session is None:
            return
        if str(self.signal()) in ("lost", "ended"):
            self._end("The EEG signal was lost during the calibration; the old profile stays. "
                      f"Fix the headset, then {REPEAT_IN_SHOW}.")
            return
        while self._queue:
            session.push(self._queue.popleft())
            if session.state == DONE:
                break
        if session.state == DONE:
            self._finish(session)
        else:
            self._set_lines(self._progress_lines(session), float("inf"))

    def _finish(self, session: CalibrationSession) -> None:
        try:
            result = session.finish()
        except InstallationError as exc:
            self._end(f"{exc} The old profile stays.")
            return
        self.result = result
        good = passed(result)
        verdict = verdict_line(result)
        if good:
            verdict += self._take(result.profile)
        log.info("in-show calibration: %s", verdict)
        lines = ["calibration: " + verdict, *self._channel_lines(result.quality)]
        lines += [f"next: {line}" for line in next_steps(result, REPEAT_IN_SHOW)]
        lines += [f"note: {note}" for note in result.notes]
        if not good:
            lines.append("The old profile stays.")
        self._set_lines(lines, self.clock() + VERDICT_SHOWN_S)
        self.session = None
        self.on_event("calibration_done", self.last_eeg_time, verdict)

    def _take(self, profile: dict) -> str:
        """Save the profile and hand it on; what to add to the verdict line."""
        try:
            if self.profiles_dir is not None:
                self.saved_to = save_to_profiles(profile, self.profiles_dir)
                log.info("in-show calibration: profile saved to %s", self.saved_to)
            self.use_profile(profile)
        except InstallationError as exc:
            return f"; the new profile could not be used ({exc})"
        return "; the new profile takes over"

    def _end(self, message: str) -> None:
        """Stop the calibration with ``message`` on the HUD; the old profile stays."""
        log.warning("in-show calibration: %s", message)
        self.session = None
        self._queue.clear()
        self._set_lines(["calibration: " + message], self.clock() + VERDICT_SHOWN_S)
        self.on_event("calibration_done", self.last_eeg_time, message)

    def _progress_lines(self, session: CalibrationSession) -> list[str]:
        step = session.current_step
        left = (1.0 - session.progress) * step.duration_s
        instruction = IN_SHOW_INSTRUCTIONS.get(step.name, step.instruction.lower())
        lines = [f"calibration: {step.title}: {instruction}, {left:.0f} s left"]
        windows = session.monitor.windows
        if windows:
            lines += self._channel_lines(windows[-1], session.monitor.thresholds)
        else:
            lines.append("channels: the first quality window is still filling")
        return lines

    def _channel_lines(self, quality, thresholds=None) -> list[str]:
        """Each channel's state with the figure that decided it (the bad ones when many)."""
        thresholds = thresholds or quality.thresholds
        channels = quality.channels
        n_good = sum(c.state == GOOD for c in channels)
        shown = channels if len(channels) <= MAX_CHANNEL_LINES else [
            c for c in channels if c.state != GOOD][:MAX_CHANNEL_LINES]
        lines = [f"channels: {n_good}/{len(channels)} good"]
        lines += [f"  {c.name}: {c.state}, {channel_figure(c, thresholds)}" for c in shown]
        return lines

    def _say(self, message: str, seconds: float) -> None:
        if self.session is None:
            self._set_lines(["calibration: " + message], self.clock() + seconds)

    def _set_lines(self, lines: list[str], until: float) -> None:
        with self._lock:
            self._lines, self._lines_until = list(lines), until

    def lines(self) -> list[str]:
        """The HUD's calibration lines now (empty when there is nothing to say)."""
        with self._lock:
            if self.clock() > self._lines_until:
                return []
            return list(self._lines)
