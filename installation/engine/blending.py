"""Smooth cross-fades between keyframes, so the display never pops whatever the generator's pace."""

from __future__ import annotations

import numpy as np

DEFAULT_INTERVAL_S = 0.25
MIN_INTERVAL_S = 1e-3
MAX_INTERVAL_S = 2.0


class KeyframeBlender:
    """Blends from the picture on screen to the newest keyframe over the keyframe interval.

    A new keyframe starts a fade from whatever the blender showed at that moment (mid-fade
    included, so there is no jump) to the new image; the fade lasts as long as the last gap
    between keyframes, so the picture keeps moving until the next one arrives.

    Parameters
    ----------
    initial_interval_s : float
        Fade length until two keyframes have given a real interval.
    """

    def __init__(self, initial_interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.interval_s = float(initial_interval_s)
        self._start: np.ndarray | None = None  # float32 picture the fade starts from
        self._delta: np.ndarray | None = None  # float32 target - start
        self._target: np.ndarray | None = None  # uint8 newest keyframe
        self._t0 = 0.0
        self._last_add: float | None = None
        self._out: np.ndarray | None = None

    def add(self, image: np.ndarray, t: float) -> None:
        """Start fading to ``image`` (uint8 (H, W, 3)) at time ``t`` (seconds)."""
        image = np.ascontiguousarray(image, dtype=np.uint8)
        if self._target is None or self._target.shape != image.shape:
            start = image.astype(np.float32)  # nothing to fade from: show it at once
        else:
            start = self._blend(t).copy()
        if self._last_add is not None and t > self._last_add:
            gap = t - self._last_add
            self.interval_s = min(max(gap, MIN_INTERVAL_S), MAX_INTERVAL_S)
        self._start = start
        self._delta = image.astype(np.float32) - start
        self._target = image
        self._t0 = t
        self._last_add = t
        if self._out is None or self._out.shape != image.shape:
            self._out = np.empty(image.shape, np.float32)

    def frame(self, t: float) -> np.ndarray | None:
        """The picture at time ``t``: uint8 (H, W, 3), or None before the first keyframe."""
        if self._target is None:
            return None
        if self._progress(t) >= 1.0:
            return self._target
        picture = self._blend(t)
        picture += 0.5  # so the cast rounds instead of truncating
        return picture.astype(np.uint8)

    def _progress(self, t: float) -> float:
        return min(max((t - self._t0) / self.interval_s, 0.0), 1.0)

    def _blend(self, t: float) -> np.ndarray:
        """float32 picture at time ``t`` (start + progress * delta) in a reused buffer."""
        out = np.multiply(self._delta, self._progress(t), out=self._out)
        out += self._start
        return out
