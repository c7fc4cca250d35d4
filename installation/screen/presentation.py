"""Where the painting goes on the screen: the geometry of the ``fit`` and ``fill`` modes.

``fit`` shows the whole painting, as large as the screen allows, centred on a mat; ``fill``
scales it to cover the whole screen and crops what overflows, equally on both sides. Both
return a source rectangle (in the painting's pixels) and a destination rectangle (in the
screen's), so any drawing path can scale the one onto the other.
"""

from __future__ import annotations

from installation.screen.quiet_pygame import pygame

Rect = pygame.Rect

MODES = ("fit", "fill")

Size = tuple[int, int]


def fit_inside(image_size: Size, screen_size: Size) -> Rect:
    """The largest rectangle of the image's aspect ratio centred in the screen.

    Parameters
    ----------
    image_size, screen_size : (int, int)
        Width and height in pixels.

    Returns
    -------
    pygame.Rect
        The destination rectangle, in screen pixels.
    """
    iw, ih = image_size
    sw, sh = screen_size
    scale = min(sw / iw, sh / ih)
    w, h = max(1, int(round(iw * scale))), max(1, int(round(ih * scale)))
    return Rect((sw - w) // 2, (sh - h) // 2, w, h)


def crop_to_aspect(image_size: Size, screen_size: Size) -> Rect:
    """The largest centred part of the image with the screen's aspect ratio.

    Parameters
    ----------
    image_size, screen_size : (int, int)
        Width and height in pixels.

    Returns
    -------
    pygame.Rect
        The source rectangle, in image pixels.
    """
    iw, ih = image_size
    sw, sh = screen_size
    scale = max(sw / iw, sh / ih)  # image pixels per screen pixel, inverted
    w = min(iw, max(1, int(round(sw / scale))))
    h = min(ih, max(1, int(round(sh / scale))))
    return Rect((iw - w) // 2, (ih - h) // 2, w, h)


def fit_rects(image_size: Size, screen_size: Size) -> tuple[Rect, Rect]:
    """Source and destination of ``fit``: the whole painting, centred, the rest a mat.

    Parameters
    ----------
    image_size, screen_size : (int, int)
        Width and height in pixels.

    Returns
    -------
    source, destination : pygame.Rect
        The whole image, and where it lands on the screen.
    """
    return Rect((0, 0), image_size), fit_inside(image_size, screen_size)


def fill_rects(image_size: Size, screen_size: Size) -> tuple[Rect, Rect]:
    """Source and destination of ``fill``: a central crop covering the whole screen.

    Parameters
    ----------
    image_size, screen_size : (int, int)
        Width and height in pixels.

    Returns
    -------
    source, destination : pygame.Rect
        The crop of the image, and the whole screen.
    """
    return crop_to_aspect(image_size, screen_size), Rect((0, 0), screen_size)


def placement(mode: str, image_size: Size, screen_size: Size) -> tuple[Rect, Rect]:
    """Source and destination rectangles of ``mode`` (``"fit"`` or ``"fill"``).

    Parameters
    ----------
    mode : {"fit", "fill"}
        The presentation mode.
    image_size, screen_size : (int, int)
        Width and height in pixels.

    Returns
    -------
    source, destination : pygame.Rect
        What part of the painting to draw, and where on the screen.
    """
    if mode == "fit":
        return fit_rects(image_size, screen_size)
    if mode == "fill":
        return fill_rects(image_size, screen_size)
    raise ValueError(f"Unknown presentation mode {mode!r}; use one of {', '.join(MODES)}.")


def mat_bars(destination: Rect, screen_size: Size) -> list[Rect]:
    """The parts of the screen outside ``destination``: where the mat shows (none in fill).

    Parameters
    ----------
    destination : pygame.Rect
        Where the painting lands.
    screen_size : (int, int)
        Width and height of the screen.

    Returns
    -------
    list of pygame.Rect
        Up to four non-overlapping rectangles: above, below, left and right of the painting.
    """
    sw, sh = screen_size
    painting = destination.clip(Rect(0, 0, sw, sh))
    bars = [Rect(0, 0, sw, painting.top), Rect(0, painting.bottom, sw, sh - painting.bottom),
            Rect(0, painting.top, painting.left, painting.height),
            Rect(painting.right, painting.top, sw - painting.right, painting.height)]
    return [bar for bar in bars if bar.width > 0 and bar.height > 0]
