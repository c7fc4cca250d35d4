"""``python -m installation.render``: a recorded session re-rendered to an MP4, exactly as shown.

The session's keyframe log holds each painting's generator inputs (steering vector and drift
noise, as fed live), so every keyframe is painted again bit for bit by the same bundle; the
keyframes are blended with the live display's :class:`~installation.engine.blending.KeyframeBlender`
on the session's EEG timeline, placed on the frame (``fit`` or ``fill``) and encoded H.264 with
PyAV. ``--sound`` adds the sonification of the session's own EEG (the band powers that steered
it, computed again by the one feature pipeline). The session's blackouts fade the frames to the
mat colour (``--mat``) where the wall faded.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from installation.config import DEFAULT_MODEL, MODES, PROVIDERS, parse_colour
from installation.eeg.feature_pipeline import feature_frames
from installation.eeg.sources.files.session_folder import (
    read_header,
    read_keyframes,
    read_session_folder,
    session_eeg_span,
)
from installation.eeg.sources.files.session_format import HEADER_FILE, KEYFRAME_FILE
from installation.eeg.sources.files.session_timeline import read_session_events
from installation.engine.blending import DEFAULT_INTERVAL_S, KeyframeBlender
from installation.engine.generator_runtime import GeneratorRuntime
from installation.errors import (
    ConfigError,
    ModelError,
    OneLineParser,
    SourceError,
    ranged,
    run_cli,
)
from installation.outputs.sonification import HopSound
from installation.outputs.video_writer import (
    AUDIO_RATE,
    PRESET,
    PRESETS,
    VideoEncoder,
    check_even_size,
    check_output_file,
)
from installation.screen.blackout import Blackout
from installation.screen.frame_canvas import FrameCanvas

# A keyframe's EEG time may lie this far outside the session's EEG records (the feature window
# and the recorder's last unflushed chunk) and still count.
EEG_SPAN_SLACK_S = 5.0
# Longer than any show: a timeline beyond it comes from a damaged log and is refused.
MAX_VIDEO_S = 7 * 24 * 3600.0
DESCRIPTION = ("Re-render a session recorded with --record into an MP4 (H.264), exactly as it "
               "was shown.")


@dataclass(frozen=True)
class SessionLog:
    """A session's keyframe log, ready to render.

    Attributes
    ----------
    folder : Path
        The session folder.
    entries : list of dict
        The keyframe log's lines, oldest first.
    times : ndarray, float64, shape (n_keyframes,)
        Each keyframe's place on the video's timeline, seconds from the first.
    """

    folder: Path
    entries: list
    times: np.ndarray

    @property
    def tail_s(self) -> float:
        """How long the last keyframe fades in: the last gap between keyframes."""
        gaps = np.diff(self.times)
        gaps = gaps[gaps > 0]
        return float(gaps[-1]) if len(gaps) else DEFAULT_INTERVAL_S

    def frame_count(self, fps: float) -> int:
        """Frames of the video: the last one shows the last keyframe faded in completely."""
        return int(math.ceil((self.times[-1] + self.tail_s) * fps - 1e-9)) + 1


def keyframe_times(entries: list[dict], eeg_span: tuple[float, float] | None = None
                   ) -> np.ndarray:
    """The timeline of a keyframe log: seconds from its first keyframe.

    A keyframe comes as long after the previous one as its EEG time says (the show's pace in
    EEG seconds, live or offline alike); where the EEG time stood still or stepped back (the
    signal was lost and the painting drifted on its own), or lies outside the session's own
    EEG, the show's clock says it: ``show_s``, made never to fall, and no further than the
    wall clock moved, so one absurd number cannot stretch the video.

    Parameters
    ----------
    entries : list of dict
        Keyframe log lines with ``eeg_time`` and ``show_s`` (``wall_time`` where present).
    eeg_span : (float, float), optional
        First and last timestamp of the session's EEG; EEG times outside it (give or take
        ``EEG_SPAN_SLACK_S``) are not trusted. None trusts every EEG time.

    Returns
    -------
    ndarray, float64
    """
    eeg = np.array([float(e["eeg_time"]) for e in entries])
    trusted = np.ones(len(entries), bool)
    if eeg_span is not None:
        trusted = (eeg >= eeg_span[0] - EEG_SPAN_SLACK_S) & (eeg <= eeg_span[1] + EEG_SPAN_SLACK_S)
    clock = _clock_steps(entries)
    # EEG time counts from the furthest one reached: stepping back and on again adds nothing twice
    reached = np.maximum.accumulate(np.where(trusted, eeg, -np.inf))[:-1]
    with np.errstate(invalid="ignore"):
        steps = eeg[1:] - reached
    use_eeg = trusted[1:] & np.isfinite(reached) & (steps > 0)
    return np.concatenate([[0.0], np.cumsum(np.where(use_eeg, steps, clock))])


def _clock_steps(entries: list[dict]) -> np.ndarray:
    """Steps of the show's clock between keyframes, never negative, capped by the wall clock.

    ``show_s`` only rises in a whole log, so a value above a later one is a spike and is
    lowered to it; where both clocks are logged a step takes the smaller, so a single damaged
    number in one of them cannot make a long one.
    """
    show = np.array([float(e.get("show_s", 0.0)) for e in entries])
    show = np.minimum.accumulate(show[::-1])[::-1]  # the least of it and every later value
    steps = np.diff(show)
    wall = np.array([float(e.get("wall_time", np.nan)) for e in entries])
    wall_steps = np.maximum(np.diff(wall), 0.0)
    return np.where(np.isfinite(wall_steps), np.minimum(steps, wall_steps), steps)


def read_session_log(folder: str | Path) -> SessionLog:
    """A session folder's keyframe log, every line checked; a sentence when it cannot render."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"The session folder {folder} does not exist; pass a folder written "
                          "by --record.")
    if not (folder / HEADER_FILE).is_file():
        raise ConfigError(f"{folder} is not a recorded session (it has no {HEADER_FILE}); pass "
                          "a folder written by --record.")
    header = read_header(folder)
    entries = read_keyframes(folder)
    if not entries:
        raise ConfigError(f"{folder} holds no keyframe log ({KEYFRAME_FILE} is missing or "
                          "empty); only a session recorded with --record while painting can be "
                          "rendered.")
    # a session that crashed before its first EEG record still renders, on the show's clock
    span = session_eeg_span(folder, len(header["channel_names"])) or (0.0, 0.0)
    times = keyframe_times(entries, span)
    if times[-1] > MAX_VIDEO_S:
        raise SourceError(f"The keyframe log of {folder} spans {times[-1]:.0f} s, more than a "
                          "week, though its EEG and clock do not; the log is damaged.")
    return SessionLog(folder, entries, times)


def check_log_fits(runtime: GeneratorRuntime, log: SessionLog) -> None:
    """ModelError sentence when the bundle cannot paint the log's inputs (another model).

    Every line is checked before anything is written: a later line of another length is a
    damaged log (SourceError naming it), the first one a session of another model.
    """
    wanted_noise = runtime.noise_dim if runtime.takes_noise else 0
    wanted = (runtime.feature_spec.n_features, wanted_noise)
    for entry in log.entries:
        lengths = (len(entry["steering"]), len(entry["noise"]))
        if lengths == wanted:
            continue
        if entry is not log.entries[0]:
            raise SourceError(f"Line {entry.get('line', '?')} of {log.folder / KEYFRAME_FILE} "
                              f"holds {lengths[0]} steering and {lengths[1]} noise values "
                              f"where the model takes {wanted[0]} and {wanted[1]}; the log is "
                              "damaged: delete that line to render the rest.")
        raise ModelError(f"The session {log.folder} was painted by a model with {lengths[0]} "
                         f"features and noise of {lengths[1]}, but {runtime.path.parent} takes "
                         f"{wanted[0]} and {wanted[1]}; pass the session's model with --model.")


def keyframe_image(runtime: GeneratorRuntime, entry: dict) -> np.ndarray:
    """The painting of one keyframe log entry, from the inputs it was painted from live."""
    return runtime.generate(np.asarray(entry["steering"], np.float32),
                            np.asarray(entry["noise"], np.float32))


def video_time(log: SessionLog, eeg_time: float | None) -> float:
    """Where on the video's timeline the wall showed the painting of ``eeg_time``.

    A moment the show logged (a blackout) carries the EEG time of the keyframe on the wall:
    the video time of the first keyframe that reached it, or between two keyframes in
    proportion; before the first keyframe (or None: no EEG yet), 0; past the last, on from it.
    """
    if eeg_time is None:
        return 0.0
    reached = np.maximum.accumulate([float(e["eeg_time"]) for e in log.entries])
    after = int(np.searchsorted(reached, eeg_time, side="left"))
    if after == 0:
        return 0.0
    if after == len(reached):
        return float(log.times[-1] + (eeg_time - reached[-1]))
    if reached[after] == eeg_time:
        return float(log.times[after])
    share = (eeg_time - reached[after - 1]) / (reached[after] - reached[after - 1])
    return float(log.times[after - 1] + share * (log.times[after] - log.times[after - 1]))


def session_blackouts(log: SessionLog) -> list[tuple[float, bool]]:
    """The session's blackouts as ``(video time, on)``, in the order the show logged them."""
    kinds = {"blackout_on": True, "blackout_off": False}
    return [(video_time(log, event.eeg_time), kinds[event.kind])
            for event in read_session_events(log.folder) if event.kind in kinds]


def render_frames(runtime: GeneratorRuntime, log: SessionLog, fps: float,
                  canvas: FrameCanvas, blackouts: list[tuple[float, bool]] = ()
                  ) -> Iterator[np.ndarray]:
    """The video's frames, uint8 (height, width, 3), blended as the live display blends.

    Parameters
    ----------
    runtime : GeneratorRuntime
        The bundle that painted the session.
    log : SessionLog
        The keyframes and their timeline.
    fps : float
        Frames per second of the video.
    canvas : FrameCanvas
        Size, mode and mat of the frames.
    blackouts : list of (float, bool)
        ``(video time, on)`` (:func:`session_blackouts`): the painting fades to the canvas's
        mat colour and back there, as the wall did.

    Yields
    ------
    ndarray
        Frame ``k`` shows time ``k / fps`` of the timeline.
    """
    blender, blackout = KeyframeBlender(), Blackout()
    next_keyframe, next_blackout = 0, 0
    for k in range(log.frame_count(fps)):
        t = k / fps
        while next_keyframe < len(log.entries) and log.times[next_keyframe] <= t + 1e-9:
            blender.add(keyframe_image(runtime, log.entries[next_keyframe]),
                        float(log.times[next_keyframe]))
            next_keyframe += 1
        while next_blackout < len(blackouts) and blackouts[next_blackout][0] <= t + 1e-9:
            at, on = blackouts[next_blackout]
            blackout.set(on, at)
            next_blackout += 1
        yield canvas.compose(blackout.apply(blender.frame(t), canvas.mat, t))


def session_sound(log: SessionLog, spec, sample_rate: int = AUDIO_RATE):
    """The session's EEG as a :class:`~installation.outputs.sonification.HopSound`, in video time.

    The band powers are computed again from the recorded EEG by the live feature pipeline
    (they depend only on the samples); a hop sounds from its EEG time, counted from the first
    keyframe's.
    """
    recording = read_session_folder(log.folder)
    frames = feature_frames(recording, spec)
    if not frames:
        seconds = recording.n_samples / recording.sample_rate
        raise SourceError(f"The session {log.folder} holds {seconds:.2f} s of EEG, less than "
                          f"the {spec.window_s:g} s feature window a sound needs; render it "
                          "without --sound.")
    t0 = float(log.entries[0]["eeg_time"])
    starts = np.array([round((f.eeg_time - t0) * sample_rate) for f in frames], np.int64)
    first = max(int(np.searchsorted(starts, 0, side="right")) - 1, 0)  # the hop sounding at 0
    starts, frames = starts[first:], frames[first:]
    starts[0] = max(starts[0], 0)
    return HopSound(spec, starts, [f.band_powers for f in frames], sample_rate)


class ProgressLine:
    """``rendering 120/600 frames (20%), 31.5 fps, ETA 0:15`` rewritten on one terminal line.

    Parameters
    ----------
    total : int
        Frames to render.
    stream : file
        Where the line goes (stderr).
    every_s : float
        Shortest time between two updates.
    """

    def __init__(self, total: int, stream=sys.stderr, every_s: float = 0.5) -> None:
        self.total, self.stream, self.every_s = int(total), stream, float(every_s)
        self.started = time.perf_counter()
        self._shown = float("-inf")

    def update(self, done: int, force: bool = False) -> None:
        """Show ``done`` frames of ``total``."""
        now = time.perf_counter()
        if not force and now - self._shown < self.every_s:
            return
        self._shown = now
        rate = done / max(now - self.started, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else 0.0
        self.stream.write(f"\rrendering {done}/{self.total} frames "
                          f"({100 * done / max(self.total, 1):.0f}%), {rate:.1f} fps, "
                          f"ETA {int(eta // 60)}:{int(eta % 60):02d} ")
        self.stream.flush()

    def finish(self) -> float:
        """End the line; return the seconds taken."""
        self.update(self.total, force=True)
        self.stream.write("\n")
        return time.perf_counter() - self.started


def render_session(folder, out, model=None, size=None, fps: float = 60.0, mode: str = "fit",
                   mat: str = "#000000", sound: bool = False, native: bool = False,
                   provider: str = "auto", threads: int | None = None,
                   progress: bool = True, preset: str = PRESET,
                   overwrite: bool = False) -> dict:
    """Render a recorded session into an MP4; return figures of the run.

    Parameters
    ----------
    folder : str or Path
        Session folder written by ``--record``.
    out : str or Path
        The MP4 file.
    model : str or Path, optional
        Bundle that painted the session; the default bundle when None.
    size : (int, int), optional
        Video width and height (even); the bundle's output size (square) when None.
    fps : float
        Frames per second.
    mode : {"fit", "fill"}
        Whole painting on a mat, or cropped to cover the frame.
    mat : str
        Mat colour ``#rrggbb``, around a fitted painting and where the session blacked out.
    sound : bool
        Add the sonification of the session's EEG.
    native : bool
        Leave the bundle's upscaler out (the generator's own size).
    provider, threads
        The runtime (as the show's ``--provider``) and its threads.
    progress : bool
        Show a progress line with an ETA on stderr.
    preset : str
        x264's speed preset: ``ultrafast`` encodes about three times faster than the default
        ``veryfast``, into a file about twice as large.
    overwrite : bool
        Replace an existing ``out``; refused (a ConfigError sentence) otherwise.

    Returns
    -------
    dict
        ``frames``, ``keyframes``, ``seconds`` (of video), ``wall_s``, ``size``, ``provider``
        (the runtime that painted, and why).
    """
    out = check_output_file(out, overwrite=overwrite)
    log = read_session_log(folder)
    runtime = GeneratorRuntime.load(model or DEFAULT_MODEL, provider, threads, native=native)
    check_log_fits(runtime, log)
    size = check_even_size(size or (runtime.resolution, runtime.resolution))
    canvas = FrameCanvas(size, mode, parse_colour(mat))
    total = log.frame_count(fps)
    track = session_sound(log, runtime.feature_spec) if sound else None
    encoder = VideoEncoder(out, size, fps, AUDIO_RATE if sound else None, preset)
    bar = ProgressLine(total) if progress else None
    started = time.perf_counter()
    try:
        if track is not None:  # silence until the first hop sounds (e.g. a show's lost lead-in)
            encoder.write_audio(np.zeros(track.position, np.float32))
        frames = render_frames(runtime, log, fps, canvas, session_blackouts(log))
        for k, frame in enumerate(frames):
            encoder.write(frame)
            if track is not None:
                encoder.write_audio(track.render_until(round((k + 1) * AUDIO_RATE / fps)))
            if bar is not None:
                bar.update(k + 1)
    finally:
        encoder.close()
    if bar is not None:
        bar.finish()
    return {"frames": encoder.frames, "keyframes": len(log.entries), "seconds": total / fps,
            "wall_s": time.perf_counter() - started, "size": size,
            "provider": runtime.provider_line}


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` as (width, height); a ConfigError sentence otherwise."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--size {text!r} is not WxH; pass e.g. --size 1920x1080.") from None
    return check_even_size((w, h))


def build_parser() -> OneLineParser:
    """The argument parser of ``python -m installation.render``."""
    p = OneLineParser(prog="python -m installation.render", description=DESCRIPTION)
    p.add_argument("session", help="session folder written by --record")
    p.add_argument("--out", required=True, help="the MP4 file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--size", type=str, help="WxH of the video, even (default: the bundle's "
                   "output size, square)")
    p.add_argument("--fps", type=ranged(float, 0, 240, low_open=True), default=60.0,
                   help="frames per second (default 60)")
    p.add_argument("--model", help="bundle that painted the session (default assets/default)")
    p.add_argument("--mode", choices=MODES, default="fit", help="fit (default): the whole "
                   "painting on a mat; fill: cropped to cover the frame")
    p.add_argument("--mat", default="#000000", help="mat colour around a fitted painting "
                   "and of the session's blackouts (default #000000)")
    p.add_argument("--sound", action="store_true", help="add the sonification of the EEG")
    p.add_argument("--native", action="store_true", help="the generator's own size, without "
                   "the bundle's upscaler")
    p.add_argument("--provider", default="auto", choices=PROVIDERS,
                   help="runtime of the model, as the show's --provider (default auto)")
    p.add_argument("--threads", type=ranged(int, 1), help="ONNX Runtime threads")
    p.add_argument("--preset", choices=PRESETS, default=PRESET, help="x264 speed preset "
                   "(default veryfast; ultrafast: faster, larger file)")
    return p


def render_main(argv: list[str] | None) -> int:
    """Parse, render, and print what was written."""
    args = build_parser().parse_args(argv)
    size = parse_size(args.size) if args.size else None
    figures = render_session(args.session, args.out, args.model, size, args.fps, args.mode,
                             args.mat, args.sound, args.native, args.provider, args.threads,
                             preset=args.preset, overwrite=args.overwrite)
    w, h = figures["size"]
    print(f"{args.out}: {figures['frames']} frames ({figures['seconds']:.1f} s at {args.fps:g} "
          f"fps, {w}x{h}) from {figures['keyframes']} keyframes in {figures['wall_s']:.1f} s "
          f"({figures['frames'] / max(figures['wall_s'], 1e-9):.1f} frames/s)"
          + (", with sound" if args.sound else "") + f"; painted on {figures['provider']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Console entry point: exit code 0, or 2 with one sentence for a user error."""
    return run_cli(render_main, argv)


if __name__ == "__main__":
    sys.exit(main())
