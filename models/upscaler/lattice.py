"""How strongly a picture repeats on the pixel grid of its upscaling (a GAN upscaler's lattice).

An upscaler that paints each of the ``scale × scale`` sub-pixel positions a little differently
leaves a regular dot lattice: power at exactly the spatial frequencies whose period divides
``scale`` pixels. Paintings photographed and resized have a smooth spectrum there. The lattice
figure is the power at those frequencies over the power just around them (about 1-3 for real
crops, ~80 in our first adversarial run); the penalty is its logarithm where above 1, for
training.

The ratio grows with the picture's size: a lattice repeats coherently, so its peak's power grows
with the square of the pixel count, while the painting's own power at that frequency grows with
the count. A training window of 192 px therefore reads a lattice about seven times weaker than
the 512 px painting the show puts on the wall, and a penalty taken at the window's size let a
diagonal lattice of 10x through (it only starts above 1). The penalty measures the excess at
the size of the picture it is meant for (``reference_pixels``).
"""

from __future__ import annotations

import torch

RING = 3  # neighbourhood half-width, in frequency bins
CORE = 1  # bins next to the peak left out of its neighbourhood
WALL_PIXELS = 512 * 512  # the show's painting, at whose size the lattice is seen


def _ring_offsets() -> list[tuple[int, int]]:
    return [(dy, dx) for dy in range(-RING, RING + 1) for dx in range(-RING, RING + 1)
            if max(abs(dy), abs(dx)) > CORE]


def lattice_ratios(images: torch.Tensor, scale: int) -> torch.Tensor:
    """Power at the grid's frequencies over the power around them, per image and frequency.

    Parameters
    ----------
    images : Tensor, shape (B, 3, H, W)
        Float pictures; ``H`` and ``W`` multiples of ``scale``.
    scale : int
        The upscaling factor whose grid to look at.

    Returns
    -------
    Tensor, shape (B, scale**2 - 1)
    """
    grey = images.mean(1)
    grey = grey - grey.mean((-2, -1), keepdim=True)
    power = torch.fft.fft2(grey).abs().square()
    h, w = power.shape[-2:]
    ratios = []
    for k in range(scale):
        for m in range(scale):
            if k == 0 and m == 0:
                continue
            y, x = k * h // scale, m * w // scale
            around = torch.stack([power[:, (y + dy) % h, (x + dx) % w]
                                  for dy, dx in _ring_offsets()]).mean(0)
            ratios.append(power[:, y, x] / (around + 1e-8))
    return torch.stack(ratios, dim=1)


def lattice_figure(images: torch.Tensor, scale: int) -> float:
    """Mean ratio of :func:`lattice_ratios` over images and frequencies (1-3 for paintings)."""
    return float(lattice_ratios(images.float(), scale).mean())


def lattice_penalty(images: torch.Tensor, scale: int, floor: torch.Tensor | float = 1.0,
                    reference_pixels: int | None = WALL_PIXELS) -> torch.Tensor:
    """Mean over the grid's frequencies of log(ratio / floor) where the batch's ratio exceeds it.

    The ratios are averaged over the batch first: one window's ratio is noisy, a lattice painted
    on every picture is not.

    Parameters
    ----------
    images : Tensor, shape (B, 3, H, W)
        Float pictures; ``H`` and ``W`` multiples of ``scale``.
    scale : int
        The upscaling factor whose grid to look at.
    floor : Tensor of shape (scale**2 - 1,), or float
        The ratio allowed at each frequency (:func:`lattice_floor` of real crops: photographs
        carry some power on the grid, JPEG's 8 px blocks among it, and the penalty never asks
        for less than a real painting has); 1 by default.
    reference_pixels : int or None
        The ratios' excess over 1 is scaled from ``H * W`` pixels to this many (a lattice's
        ratio grows with the pixel count); None takes the ratios as they are.

    Returns
    -------
    Tensor
        A scalar; 0 where no frequency stands out beyond its floor.
    """
    ratios = _at_reference_size(lattice_ratios(images, scale), images, reference_pixels).mean(0)
    return torch.log((ratios / floor).clamp(min=1.0)).mean()


@torch.no_grad()
def lattice_floor(reals: torch.Tensor, scale: int,
                  reference_pixels: int | None = WALL_PIXELS) -> torch.Tensor:
    """Real crops' mean ratio at each of the grid's frequencies (at least 1): the penalty's floor.

    Parameters
    ----------
    reals : Tensor, shape (B, 3, H, W)
        Real crops at the output size.
    scale : int
        The upscaling factor.
    reference_pixels : int or None
        As in :func:`lattice_penalty`.

    Returns
    -------
    Tensor, shape (scale**2 - 1,)
    """
    ratios = _at_reference_size(lattice_ratios(reals.float(), scale), reals, reference_pixels)
    return ratios.mean(0).clamp(min=1.0)


def _at_reference_size(ratios: torch.Tensor, images: torch.Tensor,
                       reference_pixels: int | None) -> torch.Tensor:
    """Ratios as they would read on a picture of ``reference_pixels`` (see the module)."""
    if reference_pixels is None:
        return ratios
    height, width = images.shape[-2:]
    return 1.0 + (ratios - 1.0) * (reference_pixels / (height * width))
