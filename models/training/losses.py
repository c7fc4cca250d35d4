"""StyleGAN2 losses: non-saturating logistic loss, lazy R1, optional path-length regularisation."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

R1_INTERVAL = 16  # lazy regularisation: R1 every 16 discriminator steps, scaled up by 16
PL_INTERVAL = 4


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating logistic loss of the generator: softplus(-D(G(z)))."""
    return F.softplus(-fake_logits).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Logistic loss of the discriminator: softplus(D(fake)) + softplus(-D(real))."""
    return F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()


def r1_penalty(real_images: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    """Mean squared gradient norm of D at the real images (which must require grad)."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)
    return grad.square().sum(dim=(1, 2, 3)).mean()


def lazy_r1_loss(real_images: torch.Tensor, real_logits: torch.Tensor, gamma: float,
                 interval: int = R1_INTERVAL) -> torch.Tensor:
    """R1 term for a step of lazy regularisation: gamma / 2 * R1, times the interval."""
    return r1_penalty(real_images, real_logits) * (gamma / 2) * interval


class PathLengthPenalty:
    """Path-length regularisation: keeps |J_w^T y| near its running mean (off for tiny).

    Parameters
    ----------
    weight : float
        Loss weight (2 in StyleGAN2; 0 disables).
    decay : float
        Decay of the running mean of the path lengths.
    """

    def __init__(self, weight: float = 2.0, decay: float = 0.01):
        self.weight, self.decay = weight, decay
        self.mean = 0.0

    def __call__(self, images: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Penalty for ``images`` rendered from ``w`` (which must be in the graph)."""
        h, wd = images.shape[2], images.shape[3]
        noise = torch.randn_like(images) / math.sqrt(h * wd)
        (grad,) = torch.autograd.grad((images * noise).sum(), w, create_graph=True)
        lengths = grad.square().sum(dim=1).sqrt()
        self.mean += self.decay * (float(lengths.detach().mean()) - self.mean)
        return (lengths - self.mean).square().mean() * self.weight * PL_INTERVAL
