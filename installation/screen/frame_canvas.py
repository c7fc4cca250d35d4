"""A painting placed on a video frame as the window places it on the screen (``fit`` or ``fill``).

The geometry is :func:`installation.screen.presentation.placement`'s and the scaling pygame's
bilinear ``smoothscale``, the window's CPU path, so a rendered video looks like the show on a
screen of the video's size (without the HUD).
"""

from __future__ import annotations

import numpy as np

from installation.screen.presentation import MODES, placement
from installation.screen.quiet_pygame import pygame
from installation.screen.screens import image_surface


class FrameCanvas:
    """Frames of a fixed size: the painting scaled into place on a mat.

    Parameters
    ----------
    size : (int, int)
        Width and height of the frames.
    mode : {"fit", "fill"}
        ``fit``: the whole painting, centred on the mat; ``fill``: cropped to cover the frame.
    mat : (int, int, int)
        RGB colour around a fitted painting.
    """

    def __init__(self, size: tuple[int, int], mode: str = "fit",
                 mat: tuple[int, int, int] = (0, 0, 0)) -> None:
        if mode not in MODES:
            raise ValueError(f"Unknown mode {mode!r}; use one of {', '.join(MODES)}.")
        self.size = (int(size[0]), int(size[1]))
        self.mode = mode
        self.mat = tuple(int(c) for c in mat)
        self._surface = pygame.Surface(self.size, depth=32)

    def compose(self, painting: np.ndarray) -> np.ndarray:
        """The frame showing ``painting`` (uint8 (H, W, 3)): uint8 (height, width, 3)."""
        if painting.shape[1::-1] == self.size:
            return painting  # nothing to scale or mat (fit and fill agree)
        source, destination = placement(self.mode, painting.shape[1::-1], self.size)
        picture = image_surface(painting).subsurface(source)
        self._surface.fill(self.mat)
        scaled = pygame.transform.smoothscale(picture.convert(self._surface), destination.size)
        self._surface.blit(scaled, destination.topleft)
        w, h = self.size
        return np.frombuffer(pygame.image.tobytes(self._surface, "RGB"), np.uint8).reshape(h, w, 3)
