"""The blackout: the painting fades to the mat colour and back, for the moments between performers.

The steering goes on underneath; only what is shown fades. The window and the headless loop
apply the same :class:`Blackout`, so frames.csv's PNGs and the video feed show what the wall
shows.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

FADE_S = 1.0


class Blackout:
    """A fade level in 0..1 (0: the painting, 1: the mat alone) moving toward on or off.

    A change of mind mid-fade turns the fade around from where it is, so the picture never
    jumps. :meth:`set` and :meth:`level` take the caller's clock, any clock in seconds.

    Parameters
    ----------
    fade_s : float
        Seconds a whole fade takes (about one second: long enough to read as deliberate).
    """

    def __init__(self, fade_s: float = FADE_S) -> None:
        if not fade_s > 0:
            raise ValueError(f"fade_s must be positive, got {fade_s}")
        self.fade_s = float(fade_s)
        self.on = False  # where the fade is heading
        self._from_level = 0.0
        self._since = 0.0
        self._mat_frame: np.ndarray | None = None  # the mat alone, reused while fully dark

    def set(self, on: bool, now: float) -> bool:
        """Head for dark (``on``) or for the painting from time ``now``; True when it changed."""
        on = bool(on)
        if on == self.on:
            return False
        self._from_level = self.level(now)
        self._since = now
        self.on = on
        return True

    def level(self, now: float) -> float:
        """How dark the picture is at ``now``: 0 the painting, 1 the mat alone."""
        travelled = max(0.0, now - self._since) / self.fade_s
        if self.on:
            return min(1.0, self._from_level + travelled)
        return max(0.0, self._from_level - travelled)

    def apply(self, image: np.ndarray | None, mat: tuple[int, int, int],
              now: float) -> np.ndarray | None:
        """``image`` (uint8 (H, W, 3)) as shown at ``now``: itself, faded, or the mat alone."""
        if image is None:
            return None
        level = self.level(now)
        if level <= 0.0:
            return image
        if level >= 1.0:
            return self._mat(image.shape, mat)
        weight = level * level * (3.0 - 2.0 * level)  # smoothstep: no kink at either end
        mat_colour = np.asarray(mat, np.float32)
        faded = image.astype(np.float32)
        faded -= mat_colour
        faded *= 1.0 - weight
        faded += mat_colour + 0.5  # rounds instead of truncating
        return faded.astype(np.uint8)

    def _mat(self, shape, mat) -> np.ndarray:
        frame = self._mat_frame
        if frame is None or frame.shape != shape or tuple(frame[0, 0]) != tuple(mat):
            frame = np.empty(shape, np.uint8)
            frame[...] = np.asarray(mat, np.uint8)
            self._mat_frame = frame
        return frame


def switch_blackout(blackout: Blackout, on: bool, now: float, eeg_time: float | None, why: str,
                    on_event=None) -> None:
    """Turn ``blackout`` on or off at ``now`` and tell ``on_event`` when that changed anything.

    Parameters
    ----------
    blackout : Blackout
        The loop's blackout.
    on : bool
        Fade to the mat (True) or back to the painting.
    now : float
        The loop's clock.
    eeg_time : float or None
        EEG time of the painting shown (None before the first keyframe).
    why : str
        What asked: ``key`` or ``control``.
    on_event : callable, optional
        Takes ``(kind, eeg_time, detail)``: ``blackout_on`` or ``blackout_off``; None logs.
    """
    if not blackout.set(on, now):
        return
    kind = "blackout_on" if on else "blackout_off"
    if on_event is None:
        log.info("%s (%s)", kind, why)
    else:
        on_event(kind, eeg_time, why)
