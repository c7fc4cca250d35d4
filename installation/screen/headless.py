"""The show without a window: frames.csv (one row per displayed frame) and a PNG every N frames.

Rows are flushed as they are written, so a crash keeps every frame shown so far.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from installation.engine.blending import KeyframeBlender
from installation.errors import ConfigError
from installation.screen.blackout import Blackout, switch_blackout
from installation.screen.quiet_pygame import pygame

COLUMNS = ("frame", "time_s", "eeg_time", "latency_ms", "keyframe", "signal", "caption")


def save_png(image: np.ndarray, path: str | Path) -> None:
    """Write a uint8 (H, W, 3) image as PNG."""
    h, w = image.shape[:2]
    pygame.image.save(pygame.image.frombuffer(np.ascontiguousarray(image), (w, h), "RGB"),
                      str(path))


class FrameWriter:
    """Writes ``frames.csv`` and every ``frame_every``-th frame as ``frame-000123.png``.

    Parameters
    ----------
    out_dir : str or Path
        Created if needed.
    frame_every : int
        PNG interval in frames (the first frame is always saved); 0 saves none.
    """

    def __init__(self, out_dir: str | Path, frame_every: int = 60) -> None:
        if frame_every < 0:
            raise ConfigError(f"--frame-every must be 0 or more, got {frame_every}.")
        self.out_dir = Path(out_dir)
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._file = open(self.out_dir / "frames.csv", "w", newline="")  # noqa: SIM115
        except OSError as exc:
            raise ConfigError(f"Cannot write frames into {self.out_dir} ({exc.strerror}); "
                              "pass a writable --frames-out folder.") from None
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._csv.writerow(COLUMNS)
        self._file.flush()
        self.frame_every = int(frame_every)
        self.frames = 0
        self.pngs = 0

    def write(self, time_s: float, eeg_time: float, latency_ms: float, keyframe: bool,
              image: np.ndarray, signal: str = "", caption: str = "") -> None:
        """Record one displayed frame.

        Parameters
        ----------
        time_s : float
            Seconds since the show started (EEG time when rendering offline).
        eeg_time : float
            EEG time of the keyframe shown.
        latency_ms : float
            Its newest sample's arrival to this frame being ready.
        keyframe : bool
            True when this frame first shows a newly generated image.
        image : ndarray, uint8, shape (H, W, 3)
            The frame.
        signal : str
            The signal's state: ``waiting`` (no source yet), ``ok``, ``lost`` or ``ended``.
        caption : str
            The recording's annotation of the keyframe's EEG (``eyes closed``), if any.
        """
        index = self.frames
        self._csv.writerow((index, f"{time_s:.4f}", f"{eeg_time:.4f}", f"{latency_ms:.2f}",
                            int(keyframe), signal, caption))
        self._file.flush()
        if self.frame_every and index % self.frame_every == 0:
            save_png(image, self.out_dir / f"frame-{index:06d}.png")
            self.pngs += 1
        self.frames += 1

    def close(self) -> None:
        """Close the CSV; safe to call twice."""
        if not self._file.closed:
            self._file.close()


class HeadlessLoop:
    """Blends keyframes exactly as the window does and hands each frame to a FrameWriter.

    Parameters
    ----------
    writer : FrameWriter
        Where frames go.
    status : ShowStatus, optional
        Whose signal state each row records; it takes every keyframe shown (masked
        channels, signal), as the window's does.
    mat : (int, int, int)
        The mat colour a blackout fades to.
    on_event : callable, optional
        Takes ``(kind, eeg_time or None, detail)`` for ``blackout_on`` and ``blackout_off``.
    """

    def __init__(self, writer: FrameWriter, status=None, mat: tuple[int, int, int] = (0, 0, 0),
                 on_event=None) -> None:
        self.writer = writer
        self.status = status
        self.blender = KeyframeBlender()
        self.keyframe = None
        self.keyframes = 0
        self.image = None  # the last frame written
        self.painting = None  # the same before the blackout's fade
        self.blackout = Blackout()
        self.mat = tuple(int(c) for c in mat)
        self.on_event = on_event
        self._now = 0.0  # the time of the last frame, for a blackout asked between frames
        self._fresh = False

    def take(self, keyframe, t: float) -> None:
        """A new keyframe arrived at time ``t``: start blending to it."""
        self.blender.add(keyframe.image, t)
        self.keyframe = keyframe
        self.keyframes += 1
        self._fresh = True
        if self.status is not None:  # as the window does: the HUD's state follows what is shown
            self.status.took_keyframe(keyframe)

    def step(self, t: float) -> bool:
        """Write the frame at time ``t``; False while there is no keyframe to show yet."""
        if self.keyframe is None:
            return False
        self.painting = self.blender.frame(t)
        self.image = image = self.blackout.apply(self.painting, self.mat, t)
        self._now = t
        latency_ms = 1000.0 * (time.perf_counter() - self.keyframe.arrival)
        signal = str(self.status.signal) if self.status is not None else ""
        caption = self.status.caption if self.status is not None else ""
        self.writer.write(t, self.keyframe.eeg_time, latency_ms, self._fresh, image,
                          signal=signal, caption=caption)
        self._fresh = False
        return True

    def set_blackout(self, on: bool, why: str = "control", at: float | None = None) -> None:
        """Fade to the mat colour (``on``) or back, from the time of the last frame or ``at``.

        ``at`` (on the loop's clock) places the fade where a replayed session says it began.
        """
        eeg_time = None if self.keyframe is None else self.keyframe.eeg_time
        switch_blackout(self.blackout, on, self._now if at is None else at, eeg_time, why,
                        self.on_event)
