"""H.264 video files with PyAV: an encoder, and a writer thread the live show hands frames to.

:class:`VideoEncoder` writes RGB frames (and, if asked, mono sound) into an MP4 as they come,
never holding the video in memory. :class:`LiveVideoWriter` runs one in a thread of its own
behind a short queue: :meth:`LiveVideoWriter.offer` never waits, and a frame the encoder cannot
keep up with is dropped and counted, so the display never slows for the video. A
:class:`FrameTimeline` places each frame at the time it was shown, so the video lasts as long as
the show did, whatever rate the display held.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np

from installation.eeg.sources.base import SourceEvent
from installation.errors import ConfigError

log = logging.getLogger(__name__)

CRF = 18  # near-transparent quality; the painting is the product
PRESET = "veryfast"
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
           "veryslow")  # x264's: each slower one makes a smaller file of the same quality
AUDIO_RATE = 44100
QUEUE_FRAMES = 8  # frames the live writer may fall behind before it drops
# The longest gap between two frames that is filled with copies. A display that stops longer
# than this has not slowed down: the machine slept or hung. An hour of copies of one still image
# would be an hour of encoding while the show goes on (every new frame dropped meanwhile) and
# nothing worth watching, so the rest of such a gap is cut from the video instead.
MAX_GAP_S = 5.0
FRAGMENT_S = 2.0  # the most of a live video a full disk or a crash can cost
# empty_moov: the header holds no sample index, each fragment its own; default_base_moof makes
# the fragments self-contained, as browsers and QuickTime want them
FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}


def _av():
    """PyAV, imported on first use; a ConfigError sentence when it is not installed."""
    try:
        import av  # lazy: PyAV loads FFmpeg's libraries, which only --video needs
    except ImportError:
        raise ConfigError("Writing video needs PyAV; install it with `pip install av`.") from None
    return av


def check_output_file(path: str | Path, option: str = "--out", overwrite: bool = False) -> Path:
    """``path`` if a file can be written there; a ConfigError sentence otherwise.

    Checked before any work starts, so a long render or a show never ends in a lost video, and
    never silently replaces one: an existing file is refused unless ``overwrite``.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a folder; pass a file name such as show.mp4.")
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} already exists; pass --overwrite to replace it, or another "
                          f"{option} file.")
    if not folder.is_dir() or not os.access(folder, os.W_OK) or (
            path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"Cannot write {path}: its folder is missing or not writable; pass "
                          f"{option} in a writable folder.")
    return path


def _container_options(path: Path, fragmented: bool) -> dict:
    """The muxer's options: fragments for an MP4 or MOV (Matroska plays when cut as it is)."""
    return FRAGMENTED if fragmented and path.suffix.lower() in (".mp4", ".mov") else {}


def check_even_size(size: tuple[int, int]) -> tuple[int, int]:
    """``size`` if H.264 (yuv420p) can take it: positive and even; a ConfigError otherwise."""
    w, h = (int(v) for v in size)
    if w < 2 or h < 2 or w % 2 or h % 2:
        raise ConfigError(f"A video size must be even and at least 2x2, got {w}x{h}; pass e.g. "
                          "--size 1920x1080.")
    return w, h


class VideoEncoder:
    """An MP4 file (H.264, yuv420p; AAC sound when ``audio_rate`` is given) written as it comes.

    Parameters
    ----------
    path : str or Path
        The file; its folder must exist and be writable (a ConfigError sentence otherwise).
    size : (int, int)
        Width and height, both even.
    fps : float
        Frames per second.
    audio_rate : int, optional
        Sample rate of a mono sound track; None writes no sound.
    preset : str
        x264's speed preset (one of ``PRESETS``).
    fragmented : bool
        Write a fragmented MP4, a fragment per keyframe (one every ``FRAGMENT_S``): a file cut
        short (a full disk, a crash) plays up to its last whole fragment, where a plain MP4,
        whose index is written at the close, does not open at all.
    """

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float,
                 audio_rate: int | None = None, preset: str = PRESET,
                 fragmented: bool = False) -> None:
        av = _av()
        self.path = Path(path)
        self.size = check_even_size(size)
        self.frames = 0
        self.audio_samples = 0
        try:
            self._container = av.open(str(self.path), "w",
                                      options=_container_options(self.path, fragmented))
        except (OSError, av.FFmpegError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(f"Cannot write the video {self.path} ({reason}); pass an --out "
                              "file in a writable folder.") from None
        rate = Fraction(fps).limit_denominator(1001)
        self._video = self._container.add_stream("h264", rate=rate)
        self._video.width, self._video.height = self.size
        self._video.pix_fmt = "yuv420p"
        self._video.options = {"crf": str(CRF), "preset": preset}
        if fragmented:  # a keyframe, so a fragment, every FRAGMENT_S: what a cut can lose
            self._video.options["g"] = str(max(1, round(FRAGMENT_S * fps)))
        self._audio = None
        if audio_rate is not None:
            self._audio = self._container.add_stream("aac", rate=int(audio_rate))
            self._audio.layout = "mono"
        self._av = av

    def write(self, rgb: np.ndarray, copies: int = 1) -> None:
        """Append a frame, uint8 (height, width, 3), ``copies`` times in a row (0: not at all)."""
        if rgb.shape[1::-1] != self.size:
            raise ValueError(f"frame of {rgb.shape[1]}x{rgb.shape[0]} in a {self.size} video")
        if copies < 1:
            return
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        if copies > 1:  # converted once; x264 then codes each copy as a cheap skipped frame
            frame = frame.reformat(format=self._video.pix_fmt)
        for _ in range(copies):
            frame.pts = self.frames
            self._container.mux(self._video.encode(frame))
            self.frames += 1

    def write_audio(self, samples: np.ndarray) -> None:
        """Append mono float samples in [-1, 1] to the sound track."""
        if self._audio is None or len(samples) == 0:
            return
        block = np.ascontiguousarray(np.asarray(samples, np.float32)[None, :])
        frame = self._av.AudioFrame.from_ndarray(block, format="fltp", layout="mono")
        frame.sample_rate = self._audio.rate
        frame.pts = self.audio_samples
        self._container.mux(self._audio.encode(frame))
        self.audio_samples += block.shape[1]

    def close(self) -> None:
        """Flush the encoders (the last frames are lost otherwise) and close; safe twice."""
        if self._container is None:
            return
        try:
            self._container.mux(self._video.encode())
            if self._audio is not None:
                self._container.mux(self._audio.encode())
        finally:
            self._container.close()
            self._container = None


class FrameTimeline:
    """Where frames shown at irregular times go on a video of constant frame rate.

    Video frame ``n`` stands for show time ``origin + n / fps``, the origin being the first
    frame's time. A frame shown at time ``t`` fills every video frame not yet written up to the
    one nearest ``t``: several over a gap (a slow display, dropped frames), none when the video is
    already past ``t`` (a display faster than ``fps``). The video therefore lasts as long as the
    show, to within a frame.

    Parameters
    ----------
    fps : float
        The video's frame rate.
    max_gap_s : float
        The most show time one frame may fill; the rest of a longer gap is cut (see
        ``MAX_GAP_S``).
    """

    def __init__(self, fps: float, max_gap_s: float = MAX_GAP_S) -> None:
        self.fps = float(fps)
        self.max_copies = max(1, round(max_gap_s * self.fps))
        self.origin: float | None = None
        self.frames = 0  # video frames placed so far
        self.cut_s = 0.0  # show time left out of the video by gaps over max_gap_s

    def copies(self, t: float) -> int:
        """How many video frames a frame shown at time ``t`` (seconds) fills; 0 or more.

        Parameters
        ----------
        t : float
            The frame's show time, on the clock of the frames before it.

        Returns
        -------
        int
            The frame's copies, placed on the timeline by this call.
        """
        if self.origin is None:
            self.origin = t
        # +0.5: nearest video frame, so a display at fps with jitter under half a frame maps
        # one to one
        due = math.floor((t - self.origin) * self.fps + 0.5) + 1 - self.frames
        if due > self.max_copies:
            cut = (due - self.max_copies) / self.fps
            log.warning("video: a gap of %.1f s between frames; %.1f s of it left out",
                        due / self.fps, cut)
            self.origin += cut
            self.cut_s += cut
            due = self.max_copies
        due = max(0, due)
        self.frames += due
        return due


class LiveVideoWriter:
    """Encodes the show's painting into an MP4 from a thread of its own.

    Parameters
    ----------
    path : str or Path
        The MP4 file; checked (opened) when the first frame arrives, in the writer thread.
    fps : float
        The display's refresh rate, the video's frame rate. Each frame is placed at the time it
        was offered (:class:`FrameTimeline`), so a display slower or faster than ``fps``, or
        dropped frames, leave the video as long as the show.
    on_event : callable, optional
        Receives one "error" :class:`SourceEvent` if writing fails (the show goes on).
    queue_frames : int
        Frames waiting for the encoder before new ones are dropped.
    blocking : bool
        Wait for room instead of dropping (offline at ``--speed max``: no frame is lost and
        nothing is on a screen to slow down). Frames offered without a time are then one video
        frame each: offline, frames come on a virtual clock at exactly ``fps``.
    max_gap_s : float
        The longest gap between frames filled with copies (``MAX_GAP_S``).
    """

    def __init__(self, path: str | Path, fps: float,
                 on_event: Callable[[SourceEvent], None] | None = None,
                 queue_frames: int = QUEUE_FRAMES, blocking: bool = False,
                 max_gap_s: float = MAX_GAP_S) -> None:
        self.path = Path(path)
        self.fps = float(fps)
        self.blocking = bool(blocking)
        self.on_event = on_event or (lambda event: None)
        self.timeline = FrameTimeline(self.fps, max_gap_s)
        self.offered = 0
        self.dropped = 0
        self.written = 0  # video frames encoded, copies included
        self.repeated = 0  # extra copies that filled a gap
        self.skipped = 0  # frames taken but not written: the video was already past them
        self.failed = False
        self._last_at: float | None = None  # the last offered frame's time, dropped or not
        self._queue: queue.Queue = queue.Queue(maxsize=queue_frames)
        self._thread = threading.Thread(target=self._run, name="video", daemon=True)
        self._thread.start()

    def offer(self, rgb: np.ndarray, at: float | None = None) -> None:
        """Queue a frame; drop it if the queue is full (unless blocking).

        Parameters
        ----------
        rgb : ndarray
            uint8 (H, W, 3), never changed afterwards.
        at : float, optional
            When it was shown, in seconds on any steady clock; by default now on
            ``time.monotonic()``, or, for a blocking writer, the next frame at ``fps``.
        """
        if at is None:
            at = (self.offered / self.fps if self.blocking else time.monotonic())
        self.offered += 1
        self._last_at = at
        if self.failed:
            self.dropped += 1
            return
        try:
            self._queue.put((rgb, at), block=self.blocking)
        except queue.Full:
            self.dropped += 1

    def status_line(self) -> str:
        """One line for the HUD: frames written, dropped and repeated to fill gaps."""
        state = "failed" if self.failed else f"{self.written} frames"
        return f"video: {state}, {self.dropped} dropped, {self.repeated} repeated"

    def close(self, timeout: float = 30.0) -> None:
        """Encode what is queued, finish the file and stop the thread."""
        if self._thread.is_alive():
            self._queue.put(None)  # blocks only until the writer takes a frame: at close
            self._thread.join(timeout)

    def _run(self) -> None:
        encoder, rgb = None, None
        try:
            while (item := self._queue.get()) is not None:
                if self.failed:
                    continue
                rgb, at = item
                if encoder is None:
                    encoder = VideoEncoder(self.path, _even(rgb.shape[1::-1]), self.fps,
                                           fragmented=True)
                self._write(encoder, rgb, at)
            if encoder is not None and self._last_at is not None:
                # frames dropped at the end still took show time: the last one written lasts
                self._write(encoder, rgb, self._last_at, again=True)
        except Exception as exc:  # a full disk or a bad path must not stop the show
            self._fail(exc)
            while self._queue.get() is not None:  # keep the queue from filling
                pass
        finally:
            if encoder is not None:
                try:
                    encoder.close()
                except Exception as exc:
                    self._fail(exc)

    def _write(self, encoder: VideoEncoder, rgb: np.ndarray, at: float,
               again: bool = False) -> None:
        """Encode ``rgb`` as often as the timeline needs to reach ``at``, and count it.

        ``again`` marks a frame already written, whose copies are all repeats.
        """
        copies = self.timeline.copies(at)
        encoder.write(_crop_even(rgb), copies)
        self.written += copies
        if again:
            self.repeated += copies
        else:
            self.repeated += max(0, copies - 1)
            self.skipped += int(copies == 0)

    def _fail(self, exc: Exception) -> None:
        if self.failed:
            return
        self.failed = True
        log.error("video %s failed: %s", self.path, exc)
        self.on_event(SourceEvent("error", f"Video {self.path} stopped: {exc}"))


def _even(size) -> tuple[int, int]:
    """The largest even size within ``size`` (H.264 in yuv420p needs even sides)."""
    return tuple(max(2, int(v) - int(v) % 2) for v in size)


def _crop_even(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb[:h - h % 2, :w - w % 2]
