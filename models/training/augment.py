"""Adaptive discriminator augmentation (ADA) in plain, differentiable torch ops.

Every image the discriminator sees, real or fake, goes through the same pipeline; each
transformation is applied to each image independently with probability ``p``. Geometric ones
(x-flip, 90-degree rotations, integer translation, isotropic scale, rotation) are composed into
one affine matrix and applied with a single ``grid_sample`` (reflection padding); colour ones
(brightness, contrast, saturation) and cutout follow. Gradients flow back to the generator
through all of them, and the output stays in [-1, 1].

:class:`AdaptiveProbability` tunes ``p`` from the overfitting heuristic
``r_t = E[sign(D(real))]``: above the target, D is too sure of the reals and ``p`` rises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

LUMA = (0.299, 0.587, 0.114)


@dataclass
class AugmentStrengths:
    """Magnitudes of the transformations (StyleGAN2-ADA's defaults)."""

    translate: float = 0.125  # fraction of the image size, rounded to whole pixels
    scale_std: float = 0.2  # log2 standard deviation
    rotate_max: float = 1.0  # fraction of pi
    brightness_std: float = 0.2
    contrast_std: float = 0.5  # log2
    saturation_std: float = 1.0  # log2
    cutout_size: float = 0.5  # fraction of the image size


def _chosen(n: int, p: float, device: torch.device) -> torch.Tensor:
    """Float mask [n]: 1 where a transformation applies to that image."""
    return (torch.rand(n, device=device) < p).float()


def _rotation(angle: torch.Tensor) -> torch.Tensor:
    """Batch of 3x3 rotation matrices."""
    c, s = torch.cos(angle), torch.sin(angle)
    z, o = torch.zeros_like(angle), torch.ones_like(angle)
    return torch.stack([c, -s, z, s, c, z, z, z, o], dim=1).reshape(-1, 3, 3)


def _scaling(sx: torch.Tensor, sy: torch.Tensor) -> torch.Tensor:
    """Batch of 3x3 scaling matrices."""
    z, o = torch.zeros_like(sx), torch.ones_like(sx)
    return torch.stack([sx, z, z, z, sy, z, z, z, o], dim=1).reshape(-1, 3, 3)


def _translation(tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    """Batch of 3x3 translation matrices (normalised [-1, 1] coordinates)."""
    z, o = torch.zeros_like(tx), torch.ones_like(tx)
    return torch.stack([o, z, tx, z, o, ty, z, z, o], dim=1).reshape(-1, 3, 3)


def geometric_matrix(n: int, size: int, p: float, s: AugmentStrengths,
                     device: torch.device) -> torch.Tensor:
    """Random output-to-input sampling matrices [n, 3, 3] for the geometric transformations."""
    one = torch.ones(n, device=device)
    flip = 1 - 2 * (_chosen(n, p, device) * torch.randint(0, 2, (n,), device=device))
    m = _scaling(flip, one)
    quarter = _chosen(n, p, device) * torch.randint(0, 4, (n,), device=device)
    m = m @ _rotation(quarter * (math.pi / 2))
    pixels = torch.round((torch.rand(n, 2, device=device) * 2 - 1) * s.translate * size)
    shift = pixels * 2 / size * _chosen(n, p, device)[:, None]
    m = m @ _translation(shift[:, 0], shift[:, 1])
    scale = torch.exp2(torch.randn(n, device=device) * s.scale_std * _chosen(n, p, device))
    m = m @ _scaling(scale, scale)
    angle = (torch.rand(n, device=device) * 2 - 1) * math.pi * s.rotate_max
    return m @ _rotation(angle * _chosen(n, p, device))


def apply_geometric(images: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """Resample ``images`` through ``matrix`` (reflection at the borders)."""
    grid = F.affine_grid(matrix[:, :2, :], list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection",
                         align_corners=False)


def apply_colour(images: torch.Tensor, p: float, s: AugmentStrengths) -> torch.Tensor:
    """Random brightness, contrast and saturation changes, each with probability ``p``."""
    n, dev = images.shape[0], images.device
    bright = torch.randn(n, device=dev) * s.brightness_std * _chosen(n, p, dev)
    images = images + bright[:, None, None, None]
    contrast = torch.exp2(torch.randn(n, device=dev) * s.contrast_std * _chosen(n, p, dev))
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    images = mean + (images - mean) * contrast[:, None, None, None]
    sat = torch.exp2(torch.randn(n, device=dev) * s.saturation_std * _chosen(n, p, dev))
    luma = (images * torch.tensor(LUMA, device=dev)[None, :, None, None]).sum(1, keepdim=True)
    return luma + (images - luma) * sat[:, None, None, None]


def apply_cutout(images: torch.Tensor, p: float, s: AugmentStrengths) -> torch.Tensor:
    """Blank a random square (mid-grey) in each chosen image."""
    n, _, h, w = images.shape
    dev = images.device
    centre = torch.rand(n, 2, 1, 1, device=dev)
    ys = (torch.arange(h, device=dev) + 0.5) / h
    xs = (torch.arange(w, device=dev) + 0.5) / w
    inside_y = (ys[None, :, None] - centre[:, 0]).abs() < s.cutout_size / 2
    inside_x = (xs[None, None, :] - centre[:, 1]).abs() < s.cutout_size / 2
    hole = (inside_y & inside_x).float() * _chosen(n, p, dev)[:, None, None]
    return images * (1 - hole[:, None])


def augment(images: torch.Tensor, p: float,
            strengths: AugmentStrengths | None = None) -> torch.Tensor:
    """Augment a batch of images in [-1, 1] (NCHW) with probability ``p`` per transformation.

    Parameters
    ----------
    images : Tensor
        Float images [N, 3, H, W] in [-1, 1].
    p : float
        Probability in [0, 1]; 0 returns ``images`` unchanged.
    strengths : AugmentStrengths, optional
        Magnitudes; the defaults when None.

    Returns
    -------
    Tensor
        Augmented images, same shape, in [-1, 1], differentiable with respect to ``images``.
    """
    if p <= 0:
        return images
    s = strengths or AugmentStrengths()
    matrix = geometric_matrix(images.shape[0], images.shape[-1], p, s, images.device)
    images = apply_geometric(images, matrix)
    images = apply_colour(images, p, s)
    images = apply_cutout(images, p, s)
    return images.clamp(-1.0, 1.0)


class AdaptiveProbability:
    """The augmentation probability ``p`` and the overfitting heuristic that adjusts it.

    Parameters
    ----------
    target : float
        Target value of ``r_t = E[sign(D(real))]`` (0.6).
    speed_kimg : float
        Thousands of images for ``p`` to go from 0 to 1 at full imbalance (``r_t`` = 1).
    interval : int
        Discriminator steps between adjustments.
    """

    def __init__(self, target: float = 0.6, speed_kimg: float = 500.0, interval: int = 4):
        self.target, self.speed_kimg, self.interval = target, speed_kimg, interval
        self.p = 0.0
        self.sign_sum = 0.0
        self.count = 0
        self.steps = 0
        self.rt = 0.0

    def accumulate(self, real_logits: torch.Tensor) -> None:
        """Add a batch of the discriminator's logits on (augmented) real images."""
        self.sign_sum += float(torch.sign(real_logits.detach()).sum())
        self.count += int(real_logits.numel())
        self.steps += 1

    def due(self) -> bool:
        """Whether enough steps have accumulated for an adjustment."""
        return self.steps >= self.interval and self.count > 0

    def adjust(self, sign_sum: float | None = None, count: int | None = None) -> float:
        """Move ``p`` toward the target and reset the counters; return the new ``p``.

        ``sign_sum`` and ``count`` override the local sums (pass totals over all processes).
        """
        sign_sum = self.sign_sum if sign_sum is None else sign_sum
        count = self.count if count is None else count
        self.rt = sign_sum / max(count, 1)
        step = count / (self.speed_kimg * 1000.0)
        self.p = min(max(self.p + math.copysign(step, self.rt - self.target), 0.0), 1.0)
        self.sign_sum, self.count, self.steps = 0.0, 0, 0
        return self.p

    def state_dict(self) -> dict:
        """Everything needed to resume: p and the counters."""
        return {"p": self.p, "sign_sum": self.sign_sum, "count": self.count,
                "steps": self.steps, "rt": self.rt, "target": self.target,
                "speed_kimg": self.speed_kimg, "interval": self.interval}

    def load_state_dict(self, state: dict) -> None:
        """Restore from :meth:`state_dict`."""
        self.p = float(state["p"])
        self.sign_sum, self.count = float(state["sign_sum"]), int(state["count"])
        self.steps, self.rt = int(state["steps"]), float(state["rt"])
