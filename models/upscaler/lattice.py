"""How strongly a picture repeats on the pixel grid of its upscaling (a GAN upscaler's lattice).

An upscaler that paints each of the ``scale × scale`` sub-pixel positions a little differently
leaves a regular dot lattice: power at exactly the spatial frequencies whose period divides
``scale`` pixels. Paintings photographed and resized have a smooth spectrum there. The lattice
figure is the power at those frequencies over the power just around them (about 1-3 for real
crops, ~80 in our first adversarial run); the penalty is its logarithm where above 1, for
training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

RING = 3  # neighbourhood half-width, in frequency bins
CORE = 1  # bins next to the peak left out of its neighbourhood


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


def lattice_amplitude(images: torch.Tensor, scale: int) -> float:
    """How far the grid's sub-pixel positions differ, in levels of 255: the lattice one can see.

    The ratio of :func:`lattice_figure` divides by the power around the grid's frequencies,
    which a smooth upscale hardly has: there, rounding to 8 bits alone (errors of 0.02 levels
    in the mean of a sub-pixel position) reads as a strong lattice. This figure is the
    numerator in plain units: each of the ``scale × scale`` sub-pixel positions' mean of the
    picture's detail (the grey picture minus its ``scale × scale`` box average, which holds
    nothing at the grid's frequencies), then their root-mean-square spread. Real crops read a few
    hundredths of a level; a dot lattice one sees reads one level or more.

    Parameters
    ----------
    images : Tensor, shape (B, 3, H, W)
        Pictures in [-1, 1]; ``H`` and ``W`` multiples of ``scale``.
    scale : int
        The upscaling factor whose grid to look at.

    Returns
    -------
    float
        The mean over the images, in levels of 255.
    """
    grey = images.float().mean(1, keepdim=True)
    padded = F.pad(grey, (scale // 2, (scale - 1) // 2, scale // 2, (scale - 1) // 2),
                   mode="replicate")
    detail = (grey - F.avg_pool2d(padded, scale, stride=1))[:, 0]
    positions = torch.stack([detail[:, y::scale, x::scale].mean((-2, -1))
                             for y in range(scale) for x in range(scale)], dim=1)
    spread = (positions - positions.mean(1, keepdim=True)).square().mean(1).sqrt()
    return float(spread.mean()) * 127.5


def lattice_penalty(images: torch.Tensor, scale: int) -> torch.Tensor:
    """Mean of log(ratio) where the grid's frequencies stand out (0 for a smooth spectrum)."""
    return torch.log(lattice_ratios(images, scale).clamp(min=1.0)).mean()
