"""H.264 video files with PyAV: an encoder, and a writer thread the live show hands frames to.

:class:`VideoEncoder` writes RGB frames (and, if asked, mono sound) into an MP4 as they come,
never holding the video in memory. :class:`LiveVideoWriter` runs one in a thread of its own
behind a short queue: :meth:`LiveVideoWriter.offer` never waits, and a frame the encoder cannot
keep up with is dropped and counted, so the display never slows for the video.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
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


def _av():
    """PyAV, imported on first use; a ConfigError sentence when it is not installed."""
    try:
        import av
    except ImportError:
        raise ConfigError("Writing video needs PyAV; install it with `pip install av`.") from None
    return av


def check_output_file(path: str | Path, option: str = "--out") -> Path:
    """``path`` if a file can be written there; a ConfigError sentence otherwise.

    Checked before any work starts, so a long render or a show never ends in a lost video.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a folder; pass a file name such as show.mp4.")
    if not folder.is_dir() or not os.access(folder, os.W_OK) or (
            path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"Cannot write {path}: its folder is missing or not writable; pass "
                          f"{option} in a writable folder.")
    return path


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
    """

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float,
                 audio_rate: int | None = None, preset: str = PRESET) -> None:
        av = _av()
        self.path = Path(path)
        self.size = check_even_size(size)
        self.frames = 0
        self.audio_samples = 0
        try:
            self._container = av.open(str(self.path), "w")
        except (OSError, av.FFmpegError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(f"Cannot write the video {self.path} ({reason}); pass an --out "
                              "file in a writable folder.") from None
        rate = Fraction(fps).limit_denominator(1001)
        self._video = self._container.add_stream("h264", rate=rate)
        self._video.width, self._video.height = self.size
        self._video.pix_fmt = "yuv420p"
        self._video.options = {"crf": str(CRF), "preset": preset}
        self._audio = None
        if audio_rate is not None:
            self._audio = self._container.add_stream("aac", rate=int(audio_rate))
            self._audio.layout = "mono"
        self._av = av

    def write(self, rgb: np.ndarray) -> None:
        """Append one frame, uint8 (height, width, 3)."""
        if rgb.shape[1::-1] != self.size:
            raise ValueError(f"frame of {rgb.shape[1]}x{rgb.shape[0]} in a {self.size} video")
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
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


class LiveVideoWriter:
    """Encodes the show's painting into an MP4 from a thread of its own.

    Parameters
    ----------
    path : str or Path
        The MP4 file; checked (opened) when the first frame arrives, in the writer thread.
    fps : float
        The display's refresh rate, the video's frame rate.
    on_event : callable, optional
        Receives one "error" :class:`SourceEvent` if writing fails (the show goes on).
    queue_frames : int
        Frames waiting for the encoder before new ones are dropped.
    blocking : bool
        Wait for room instead of dropping (offline at ``--speed max``: no frame is lost and
        nothing is on a screen to slow down).
    """

    def __init__(self, path: str | Path, fps: float,
                 on_event: Callable[[SourceEvent], None] | None = None,
                 queue_frames: int = QUEUE_FRAMES, blocking: bool = False) -> None:
        self.path = Path(path)
        self.fps = float(fps)
        self.blocking = bool(blocking)
        self.on_event = on_event or (lambda event: None)
        self.offered = 0
        self.dropped = 0
        self.written = 0
        self.failed = False
        self._queue: queue.Queue = queue.Queue(maxsize=queue_frames)
        self._thread = threading.Thread(target=self._run, name="video", daemon=True)
        self._thread.start()

    def offer(self, rgb: np.ndarray) -> None:
        """Queue a frame, uint8 (H, W, 3) never changed afterwards; drop it if the queue is full."""
        self.offered += 1
        if self.failed:
            self.dropped += 1
            return
        try:
            self._queue.put(rgb, block=self.blocking)
        except queue.Full:
            self.dropped += 1

    def status_line(self) -> str:
        """One line for the HUD: frames written and dropped."""
        state = "failed" if self.failed else f"{self.written} frames"
        return f"video: {state}, {self.dropped} dropped"

    def close(self, timeout: float = 30.0) -> None:
        """Encode what is queued, finish the file and stop the thread."""
        if self._thread.is_alive():
            self._queue.put(None)  # blocks only until the writer takes a frame: at close
            self._thread.join(timeout)

    def _run(self) -> None:
        encoder = None
        try:
            while (rgb := self._queue.get()) is not None:
                if self.failed:
                    continue
                if encoder is None:
                    encoder = VideoEncoder(self.path, _even(rgb.shape[1::-1]), self.fps)
                encoder.write(_crop_even(rgb))
                self.written += 1
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
