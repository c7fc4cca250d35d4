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


def lattice_penalty(images: torch.Tensor, scale: int) -> torch.Tensor:
    """Mean of log(ratio) where the grid's frequencies stand out (0 for a smooth spectrum)."""
    return torch.log(lattice_ratios(images, scale).clamp(min=1.0)).mean()
