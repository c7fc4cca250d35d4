"""Wiring of the live show: source → ring buffer → steering → display or headless frames.

Live (``speed="realtime"``): a :class:`SourceThread` fills a :class:`RingBuffer`, a
:class:`SteeringThread` turns it into keyframes, and the main thread runs the window (or the
headless writer) at the refresh rate, taking the newest keyframe whenever there is one.

Offline (``speed="max"``, files only): no threads; the recording is read hop by hop, every hop
is painted, and display frames are written at a virtual refresh rate in EEG time, so the
recording renders exactly as it would have live.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from installation.config import ShowOptions, parse_colour
from installation.control.show_control import (
    ShowControl,
    headless_handlers,
    log_event,
    window_handlers,
)
from installation.eeg.feature_pipeline import FeatureExtractor
from installation.eeg.profile import load_profile, profiled_extractor
from installation.eeg.profile_folder import newest_fitting_profile
from installation.eeg.sources import open_source
from installation.eeg.sources.base import (
    EndOfStream,
    Source,
    SourceEvent,
    SourceThread,
    StreamInfo,
)
from installation.engine.drift import LatentDrift
from installation.engine.generator_runtime import GeneratorRuntime
from installation.engine.in_show_calibration import InShowCalibration
from installation.engine.profile_ramp import DEFAULT_RAMP_S
from installation.engine.replay_schedule import ReplaySchedule, start_profile, switch_to_stretch
from installation.engine.ring_buffer import RingBuffer
from installation.engine.steering import LatestSlot, SteeringThread, SteeringWorker
from installation.engine.waiting import (
    LIVE_RESOLVE_TIMEOUT_S,
    DriftPainter,
    SourceConnector,
    waiting_line,
)
from installation.errors import SourceAbsent
from installation.outputs.recorder import (
    SessionRecorder,
    record_folder_for_show,
    video_file_for_show,
)
from installation.outputs.show_outputs import ShowOutputs
from installation.screen.display import DisplayLoop
from installation.screen.headless import FrameWriter, HeadlessLoop
from installation.screen.hud import ShowStatus

log = logging.getLogger(__name__)

RING_SECONDS = 30.0
STALL_S = 2.5  # a live source silent this long is reopened (OpenBCI's GUI gives up after 5 s)


@dataclass
class ShowSummary:
    """What a run of the show did, for the closing message and the demo's figures."""

    frames: int = 0
    keyframes: int = 0
    wall_s: float = 0.0
    eeg_s: float = 0.0
    provider: str = ""
    source: str = ""
    frames_out: Path | None = None
    pngs: int = 0
    snapshots: list[Path] = field(default_factory=list)
    events: list = field(default_factory=list)
    masked_channels: tuple[str, ...] = ()
    recorded_to: Path | None = None
    outputs: list[str] = field(default_factory=list)  # state of the video, feeds and sound
    hops: int = 0  # feature frames the steering worker computed
    samples_read: int = 0  # EEG samples the steering worker took from the ring
    samples_skipped: int = 0  # of those, skipped because the worker fell a whole ring behind
    # each profile that came into use: (EEG time, "start" or "calibration")
    profile_changes: list[tuple[float, str]] = field(default_factory=list)

    @property
    def fps(self) -> float:
        """Frames per wall-clock second."""
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def keyframes_per_s(self) -> float:
        """Generated paintings per wall-clock second."""
        return self.keyframes / self.wall_s if self.wall_s > 0 else 0.0

    def describe(self) -> str:
        """A few lines for the terminal."""
        lines = [f"{self.frames} frames in {self.wall_s:.1f} s ({self.fps:.1f} fps), "
                 f"{self.keyframes} keyframes ({self.keyframes_per_s:.1f}/s) on {self.provider}; "
                 f"source: {self.source}"]
        if self.frames_out is not None:
            lines.append(f"frames: {self.frames_out / 'frames.csv'} and {self.pngs} PNGs in "
                         f"{self.frames_out} (EEG up to {self.eeg_s:.2f} s)")
        lines += [f"snapshot: {p}" for p in self.snapshots]
        lines += self.outputs
        if self.recorded_to is not None:
            lines.append(f"recorded: {self.recorded_to} (replay with --source "
                         f"file:{self.recorded_to})")
        return "\n".join(lines)


@dataclass
class _Show:
    """The parts every mode needs, built and checked before anything runs."""

    runtime: GeneratorRuntime
    source: object
    info: StreamInfo
    extractor: FeatureExtractor
    drift: LatentDrift
    status: ShowStatus
    recorder: SessionRecorder | None = None
    outputs: ShowOutputs = field(default_factory=ShowOutputs)  # feeds, sound, video
    worker: SteeringWorker | None = None  # once the steering is wired
    profile: dict | None = None  # the calibration profile in use at the start
    replay: ReplaySchedule | None = None  # a recorded session played: its profiles, blackouts
    # each profile that came into use: (EEG time, "start", "calibration"...)
    profile_changes: list[tuple[float, str]] = field(default_factory=list)

    def tee_chunk(self, push):
        """``push`` plus the recorder, for the source thread's ``on_chunk``."""
        if self.recorder is None:
            return push
        recorder = self.recorder

        def push_and_record(chunk) -> None:
            push(chunk)
            recorder.add_chunk(chunk)

        return push_and_record

    def log_keyframe(self, keyframe) -> None:
        """Put a keyframe in the recorder's log, if recording."""
        if self.recorder is not None:
            self.recorder.add_keyframe(keyframe)

    def record_event(self, kind: str, eeg_time: float | None, detail: str) -> None:
        """A calibration or a blackout began, ended or was refused: logged, and recorded if so."""
        log_event(kind, eeg_time, detail)
        if self.recorder is not None:
            self.recorder.add_event(kind, eeg_time, detail)

    def profile_in_use(self, profile: dict | None, eeg_time: float, reason: str) -> None:
        """A profile comes into use at ``eeg_time``: logged, noted, recorded if so."""
        log.info("profile in use from EEG %.2f s (%s)", eeg_time, reason)
        self.profile_changes.append((float(eeg_time), reason))
        if self.recorder is not None:
            self.recorder.add_profile(profile, eeg_time, reason)

    def replay_switches(self, eeg_time: float) -> dict | None:
        """A replayed session's profiles whose start ``eeg_time`` reached: the steering swaps.

        Returns the last profile switched to (None when none was due or it did not fit).
        """
        switched = None
        if self.replay is None:
            return switched
        for _, stretch in self.replay.switches.due(eeg_time):
            def started(at: float, stretch=stretch) -> None:
                self.profile_in_use(stretch.profile, at, stretch.reason)

            if switch_to_stretch(self.worker, self.runtime.feature_spec, self.info, stretch,
                                 started):
                switched = stretch.profile
        return switched


@dataclass
class ShowRemote:
    """What another thread (a test, the control channel) may ask of a running live show.

    ``run_show`` fills it in as the live show starts; until then, and in an offline render,
    :attr:`calibrate` refuses with one sentence.

    Attributes
    ----------
    calibrate : callable
        Starts an in-show calibration: None when started, else the one sentence saying why
        not (also shown on the HUD).
    """

    calibrate: Callable[[], str | None] = field(
        default=lambda: "In-show calibration is not available before the live show runs.")


def run_show(options: ShowOptions, runtime: GeneratorRuntime | None = None,
             source: Source | None = None, remote: ShowRemote | None = None) -> ShowSummary:
    """Run the show until quit, the duration, the end of the file or Ctrl-C.

    Parameters
    ----------
    options : ShowOptions
        Validated options.
    runtime : GeneratorRuntime, optional
        An already loaded generator (tests wrap one); loaded from ``options.model`` when None.
    source : Source, optional
        A source built already, not yet opened (the soak plays a paced loop through it);
        built from ``options.source`` when None.
    remote : ShowRemote, optional
        Filled in with the live show's hooks (in-show calibration) once it starts.

    Returns
    -------
    ShowSummary
    """
    when = datetime.now()  # {date}, {time}; a taken name from a template gets a number
    options = replace(options, record=record_folder_for_show(options.record, when),
                      video=video_file_for_show(options.video, options.overwrite, when))
    if runtime is None:
        runtime = GeneratorRuntime.load(options.model, options.provider, options.threads,
                                        native=options.native)
    profile = load_profile(options.profile) if options.profile else None
    if options.speed != "max":  # live: wait for the source, painting on its own
        source = source or open_source(options.source, resolve_timeout=LIVE_RESOLVE_TIMEOUT_S,
                                       board_owner="show")  # calibration asks who holds it
        return _run_live(options, runtime, source, profile, remote)
    source = source or open_source(options.source, speed=options.speed)
    info = source.open()
    show = None
    try:
        show = _prepare(options, runtime, source, info, profile)
        log.info("source: %s; generator on %s", info.description, runtime.provider_line)
        show.outputs = ShowOutputs.open(options, runtime.feature_spec, show.status.note)
        show.status.line_sources.append(show.outputs.status_lines)
        if options.record:
            show.recorder = SessionRecorder(options.record, info, options.source,
                                            show.status.note, profile=show.profile)
            show.status.line_sources.append(show.recorder.status_lines)
        return _finish(_render_offline(options, show), show)
    finally:
        source.close()
        if show is not None:
            show.outputs.close()
        if show is not None and show.recorder is not None:
            show.recorder.close()


def _finish(summary: ShowSummary, show: _Show) -> ShowSummary:
    """Copy what the show noted into its summary."""
    summary.events = list(show.status.events)
    summary.masked_channels = show.status.masked_channels
    summary.profile_changes = list(show.profile_changes)
    if show.worker is not None:
        summary.hops, summary.samples_skipped = show.worker.frames_seen, show.worker.samples_dropped
        summary.samples_read = show.worker.samples_seen
    show.outputs.close()  # the video finished and its counts final before they are told
    summary.outputs = show.outputs.status_lines()
    if show.recorder is not None:
        summary.recorded_to = show.recorder.folder
    return summary


def _prepare(options, runtime, source, info, profile, drift=None, status=None) -> _Show:
    """Check the model and profile fit the source and build the feature extractor."""
    runtime.check_fits(info)
    replay = ReplaySchedule.for_source(source)
    if replay is not None:  # the session's own profiles, not the profiles folder's newest
        profile = start_profile(replay, profile)
    elif profile is None and options.profiles:
        profile = _newest_profile(options.profiles, info)
    extractor = profiled_extractor(runtime.feature_spec, info, profile)
    drift = drift or LatentDrift(runtime.noise_dim, options.seed, options.drift_speed)
    status = status or ShowStatus(info.description, runtime.provider_line)
    status.stream = info
    return _Show(runtime, source, info, extractor, drift, status, profile=profile, replay=replay)


def _newest_profile(folder: str, info: StreamInfo) -> dict | None:
    """The newest profile in the ``--profiles`` folder that fits the stream, logged; or None."""
    found = newest_fitting_profile(folder, info)
    if found is None:
        log.info("profiles: none in %s fits this stream; the features z-score against a "
                 "running baseline until a calibration", folder)
        return None
    log.info("profile: %s, the newest in %s that fits this stream", found[0].name, folder)
    return found[1]


def _render_offline(options: ShowOptions, show: _Show) -> ShowSummary:
    """Read a file hop by hop, paint every hop, write frames at a virtual refresh rate."""
    extractor, rate = show.extractor, show.info.sample_rate
    hop_s = extractor.hop / rate
    # as long as the live show's: a profile taking over warms up on the ring's newest seconds
    ring = RingBuffer(show.info.n_channels, max(4 * extractor.window, int(RING_SECONDS * rate)))
    push = show.tee_chunk(ring.push)
    eeg_clock = [0.0]
    show.worker = worker = SteeringWorker(ring, extractor, show.runtime, show.drift,
                                          show.status.note, clock=lambda: eeg_clock[0],
                                          on_hop=show.outputs.on_hop)
    writer = FrameWriter(options.frames_out, options.frame_every)
    loop = HeadlessLoop(writer, show.status, parse_colour(options.mat), show.record_event)
    summary = ShowSummary(provider=show.runtime.provider_name, source=show.info.description,
                          frames_out=writer.out_dir)
    blackouts = show.replay.blackouts if show.replay is not None else None
    started = time.perf_counter()
    next_frame = None  # index of the next virtual display frame
    last_time = None  # timestamp of the last sample read
    try:
        while True:
            try:
                chunk = show.source.read(_read_size(show, last_time))
            except EndOfStream:
                break
            if chunk is None or chunk.n_samples == 0:
                break  # a file at max speed returns samples until it ends
            push(chunk)
            eeg_clock[0] = last_time = float(chunk.timestamps[-1])
            show.replay_switches(last_time)
            keyframe, failed = _offline_step(worker, show.status)
            if keyframe is None:
                if failed and next_frame is not None:  # the last image stays for this hop
                    next_frame = _write_frames(loop, next_frame, eeg_clock[0] + hop_s,
                                               options.fps, show.outputs.offer_frame, blackouts)
                continue
            show.log_keyframe(keyframe)
            loop.take(keyframe, keyframe.eeg_time)
            if next_frame is None:
                next_frame = math.floor(keyframe.eeg_time * options.fps) + 1
            # frames in (this keyframe, the next one]: the fade the live display would show
            next_frame = _write_frames(loop, next_frame, keyframe.eeg_time + hop_s, options.fps,
                                       show.outputs.offer_frame, blackouts)
            summary.eeg_s = keyframe.eeg_time
            if options.duration is not None and keyframe.eeg_time >= options.duration:
                break
    finally:
        writer.close()
    summary.frames, summary.keyframes, summary.pngs = writer.frames, loop.keyframes, writer.pngs
    summary.wall_s = time.perf_counter() - started
    return summary


def _offline_step(worker: SteeringWorker, status: ShowStatus):
    """``(keyframe or None, failed)``; a failure becomes an error event, as live."""
    try:
        return worker.step(), False
    except Exception as exc:  # a failed hop must not end a long render
        log.exception("steering step failed")
        status.note(SourceEvent("error", f"Steering failed: {exc}"))
        return None, True


def _read_size(show: _Show, last_time: float | None) -> int:
    """Samples to read next: a hop, or fewer so a replayed profile switch falls on a sample.

    The live show swapped right after the sample its profile log names; reading up to that
    sample, then on to the extractor's next frame, replays the swap on the same samples.
    """
    hop = show.worker.extractor.hop
    to_frame = show.worker.extractor.samples_to_next_frame
    size = min(hop, to_frame) if to_frame > 0 else hop
    if show.replay is not None:
        size = min(size, show.replay.samples_to_switch(last_time, show.info.sample_rate) or hop)
    return size


def _write_frames(loop: HeadlessLoop, next_frame: int, until: float, fps: float,
                  on_frame=None, blackouts=None) -> int:
    """Write the virtual display frames due up to EEG time ``until``; return the next index.

    ``blackouts`` (a replayed session's :class:`~installation.engine.replay_schedule.Cues`)
    fade each frame as the wall faded at that EEG time.
    """
    while next_frame / fps <= until + 1e-9:
        for at, on in blackouts.due(next_frame / fps) if blackouts is not None else ():
            loop.set_blackout(on, "replay", at=at)
        if loop.step(next_frame / fps) and on_frame is not None:
            on_frame(loop.image)
        next_frame += 1
    return next_frame


def _run_live(options: ShowOptions, runtime, source, profile,
              remote: ShowRemote | None = None) -> ShowSummary:
    """The drift painted at once; the source and steering threads once the source appears."""
    drift = LatentDrift(runtime.noise_dim, options.seed, options.drift_speed)
    status = ShowStatus("", runtime.provider_line)
    status.wait_for(waiting_line(options.source))
    painter = DriftPainter(runtime, drift)
    outputs = ShowOutputs.open(options, runtime.feature_spec, status.note)
    status.line_sources.append(outputs.status_lines)
    summary = ShowSummary(provider=runtime.provider_name)
    live = _LiveWiring(options, runtime, source, profile, painter, status, outputs)
    if remote is not None:
        remote.calibrate = live.calibration.request
    try:  # a taken port: one sentence
        control = ShowControl.open(options.control, status, calibrate=live.calibration.request,
                                   on_event=live.record_event)
    except BaseException:
        live.calibration.stop()
        outputs.close()
        raise
    connector = SourceConnector(source, live.connect, status)
    slot = LatestSlot()
    first_image = runtime.warm_up(drift.current)  # before the window opens
    steering_thread = SteeringThread(painter, slot, status.note, on_keyframe=live.log_keyframe)
    connector.start()
    steering_thread.start()
    try:
        if options.headless:
            _live_headless(options, status, slot, summary, outputs.offer_frame, control)
        else:
            _live_window(options, status, slot, first_image, summary, outputs.offer_frame,
                         control)
    finally:
        control.close()
        connector.stop()
        steering_thread.stop()
        live.stop()
        outputs.close()
    if status.failure is not None:
        raise status.failure
    if live.show is None:  # the show ended before the source ever appeared
        raise connector.absence or SourceAbsent("The EEG source never appeared; check it.")
    summary.source = status.source_description
    summary = _finish(summary, live.show)
    summary.outputs += control.summary_lines()
    return summary


class _LiveWiring:
    """What the live show builds once its source is open: checks, recorder, ring, threads."""

    def __init__(self, options, runtime, source, profile, painter: DriftPainter,
                 status: ShowStatus, outputs: ShowOutputs) -> None:
        self.options, self.runtime, self.source, self.profile = options, runtime, source, profile
        self.painter, self.status, self.outputs = painter, status, outputs
        self.show: _Show | None = None
        self.source_thread: SourceThread | None = None
        # Built before the source opens, so a request while waiting is refused in words.
        self.calibration = InShowCalibration(
            runtime.feature_spec, self.use_profile, lambda: status.signal,
            source_spec=options.source, baseline_s=options.calibration_s,
            eyes_closed_s=options.calibration_eyes_closed_s, on_event=self.record_event,
            profiles_dir=options.profiles)
        status.overlay_sources.append(self.calibration.lines)

    def connect(self, info: StreamInfo) -> None:
        """Build the steering for the open source and hand the painter over to it."""
        options, runtime = self.options, self.runtime
        try:
            # A drift of its own, from its start: the session then replays with the noise the
            # show painted (a replay starts the drift at the recording's first sample).
            show = _prepare(options, runtime, self.source, info, self.profile,
                            status=self.status)
            if options.record:
                show.recorder = SessionRecorder(options.record, info, options.source,
                                                self.status.note, profile=show.profile)
                self.status.line_sources.append(show.recorder.status_lines)
        except BaseException:
            self.source.close()
            raise
        log.info("source: %s; generator on %s", info.description, runtime.provider_line)
        show.outputs = self.outputs
        ring = RingBuffer(info.n_channels, int(RING_SECONDS * info.sample_rate))
        show.worker = worker = SteeringWorker(ring, show.extractor, runtime, show.drift,
                                              self.status.note, on_hop=self.outputs.on_hop)
        self.show, self.profile = show, show.profile
        if show.profile is not None:
            show.profile_in_use(show.profile, 0.0, "start")
        self.calibration.attach(info)
        calibration = self.calibration

        def to_ring_and_calibration(chunk) -> None:
            ring.push(chunk)
            calibration.push(chunk)
            if show.replay is not None and chunk.n_samples:  # a session played: its profiles
                # here, unlike offline, the worker takes the swap at its next step
                self.profile = show.replay_switches(float(chunk.timestamps[-1])) or self.profile

        stall_s = None if self.source.finite else STALL_S  # a file never stalls, it ends
        self.source_thread = SourceThread(self.source, show.tee_chunk(to_ring_and_calibration),
                                          self.status.note, stall_s=stall_s)
        self.source_thread.start()
        self.painter.connect(worker)
        self.status.connected(info.description)

    def log_keyframe(self, keyframe) -> None:
        """Put a keyframe in the recorder's log, once connected and recording."""
        if self.show is not None:
            self.show.log_keyframe(keyframe)

    def use_profile(self, profile: dict) -> None:
        """A good in-show calibration's profile: the steering ramps over to it.

        Its statistics, bad channels and mains frequency all come with the new extractor.
        """
        show = self.show
        extractor = profiled_extractor(self.runtime.feature_spec, show.info, profile)
        show.worker.switch_extractor(
            extractor, DEFAULT_RAMP_S,
            on_started=lambda eeg_time: show.profile_in_use(profile, eeg_time, "calibration"))
        self.profile = profile

    def record_event(self, kind: str, eeg_time: float | None, detail: str) -> None:
        """A calibration or a blackout: logged always, recorded once the source is open.

        A blackout while waiting for the source has no session to go into yet.
        """
        if self.show is not None:
            self.show.record_event(kind, eeg_time, detail)
        else:
            log_event(kind, eeg_time, detail)

    def stop(self) -> None:
        """Stop the calibration and source threads, close the source and the recorder."""
        self.calibration.stop()
        if self.source_thread is not None:
            self.source_thread.stop()
        self.source.close()
        if self.show is not None and self.show.recorder is not None:
            self.show.recorder.close()


def _live_window(options, status, slot, first_image, summary: ShowSummary,
                 on_frame=lambda painting: None, control: ShowControl | None = None) -> None:
    """The pygame window in the main thread until Esc/Q, the duration or the end of a file."""
    control = control or ShowControl()
    display = DisplayLoop(slot.take, status, options.fullscreen, options.display, options.fps,
                          snapshot_dir=options.snapshots, mode=options.mode, mat=options.mat,
                          on_event=control.on_event, on_calibrate=control.calibrate)
    handlers = window_handlers(display, control.calibrate)
    display.show_first(first_image)
    display.open()
    started = time.perf_counter()
    try:
        while display.step():
            control.drain(handlers)  # on this thread, between frames
            on_frame(display.painting)
            if _should_stop(options, status, started):
                break
    finally:
        display.close()
        summary.wall_s = time.perf_counter() - started
        summary.frames, summary.keyframes = display.frames, display.keyframes
        summary.snapshots = list(display.snapshots)
        if display.keyframe is not None:
            summary.eeg_s = display.keyframe.eeg_time


def _live_headless(options, status, slot, summary: ShowSummary,
                   on_frame=lambda painting: None, control: ShowControl | None = None) -> None:
    """Frames written at the refresh rate, paced by the wall clock, never waiting for keyframes."""
    control = control or ShowControl()
    writer = FrameWriter(options.frames_out, options.frame_every)
    loop = HeadlessLoop(writer, status, parse_colour(options.mat), control.on_event)
    handlers = headless_handlers(loop, options.snapshots, summary.snapshots, control.calibrate)
    period = 1.0 / options.fps
    started = time.perf_counter()
    due, first_frame = started, None
    try:
        while not _should_stop(options, status, started):
            now = time.perf_counter() - started
            keyframe = slot.take()
            if keyframe is not None:
                loop.take(keyframe, now)
            if loop.step(now):
                on_frame(loop.image)
                if first_frame is None:
                    first_frame = time.perf_counter()
            control.drain(handlers)  # on this thread, between frames
            due = max(due + period, time.perf_counter() - period)  # never race to catch up
            time.sleep(max(0.0, due - time.perf_counter()))
    finally:
        writer.close()
        # rates count from the first frame written (the first window takes a second to fill)
        summary.wall_s = time.perf_counter() - (first_frame or started)
        summary.frames, summary.keyframes, summary.pngs = (writer.frames, loop.keyframes,
                                                           writer.pngs)
        summary.frames_out = writer.out_dir
        if loop.keyframe is not None:
            summary.eeg_s = loop.keyframe.eeg_time


def _should_stop(options: ShowOptions, status: ShowStatus, started: float) -> bool:
    """The duration is up or a file source has ended."""
    if status.ended or status.failure is not None:
        return True
    return options.duration is not None and time.perf_counter() - started >= options.duration
