"""Offline quality measures: sliced Wasserstein distance and EEG sensitivity.

The multi-scale sliced Wasserstein distance (SWD, after ProGAN) compares the distributions of
random 7x7 neighbourhoods of the fakes' and the real crops' Laplacian pyramids, level by level,
through random 1-D projections. It needs no network and no download. FID/KID need Inception
weights, which the project does not ship (see ``models.evaluation.inception``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

PATCH = 7
MIN_LEVEL_SIZE = 16


def _binomial_kernel(device: torch.device) -> torch.Tensor:
    """5x5 binomial blur for 3 channels, as a depthwise convolution kernel."""
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], device=device)
    k2 = torch.outer(k, k) / 256.0
    return k2.expand(3, 1, 5, 5).contiguous()


def pyramid_down(img: torch.Tensor) -> torch.Tensor:
    """Blur and halve the size."""
    blurred = F.conv2d(F.pad(img, (2, 2, 2, 2), mode="reflect"), _binomial_kernel(img.device),
                       groups=3)
    return blurred[:, :, ::2, ::2]


def laplacian_pyramid(img: torch.Tensor) -> list[torch.Tensor]:
    """Band-pass levels from full size down to 16 px, the last one the low-pass residual."""
    levels = []
    while img.shape[-1] > MIN_LEVEL_SIZE:
        small = pyramid_down(img)
        up = F.interpolate(small, size=img.shape[-2:], mode="bilinear", align_corners=False)
        levels.append(img - up)
        img = small
    levels.append(img)
    return levels


def random_patches(level: torch.Tensor, per_image: int, gen: torch.Generator) -> torch.Tensor:
    """``per_image`` random 7x7 patches from each image, flattened: [N * per_image, 147]."""
    n, c, h, w = level.shape
    ys = torch.randint(0, h - PATCH + 1, (n, per_image), generator=gen)
    xs = torch.randint(0, w - PATCH + 1, (n, per_image), generator=gen)
    offs = torch.arange(PATCH)
    rows = (ys[..., None] + offs)[..., :, None].expand(-1, -1, PATCH, PATCH)
    cols = (xs[..., None] + offs)[..., None, :].expand(-1, -1, PATCH, PATCH)
    batch = torch.arange(n)[:, None, None, None].expand_as(rows)
    patches = level.permute(0, 2, 3, 1)[batch, rows, cols]  # [n, per, 7, 7, c]
    return patches.reshape(n * per_image, PATCH * PATCH * c)


def normalise_descriptors(desc: torch.Tensor) -> torch.Tensor:
    """Zero mean and unit standard deviation per descriptor dimension."""
    return (desc - desc.mean(0)) / (desc.std(0) + 1e-8)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, gen: torch.Generator,
                       directions: int = 256, repeats: int = 4) -> float:
    """Sliced Wasserstein distance between two equal-sized sets of descriptors."""
    results = []
    for _ in range(repeats):
        dirs = torch.randn(a.shape[1], directions, generator=gen)
        dirs = dirs / dirs.norm(dim=0, keepdim=True)
        pa, _ = torch.sort(a @ dirs, dim=0)
        pb, _ = torch.sort(b @ dirs, dim=0)
        results.append((pa - pb).abs().mean())
    return float(torch.stack(results).mean())


@torch.no_grad()
def multiscale_swd(fakes: torch.Tensor, reals: torch.Tensor, seed: int = 0,
                   patches_per_image: int = 64) -> dict[str, float]:
    """SWD per pyramid level (x1e3, as in ProGAN) and their mean.

    Parameters
    ----------
    fakes, reals : Tensor
        Float images [N, 3, R, R] in [-1, 1]; the same N (at least 2) and R.
    seed : int
        Seed of the patch positions and projections.
    patches_per_image : int
        Patches drawn from each image at each level.

    Returns
    -------
    dict
        ``swd_<size>px`` per level and ``swd_mean``.
    """
    gen = torch.Generator().manual_seed(seed)
    out = {}
    levels = zip(laplacian_pyramid(fakes.float().cpu()), laplacian_pyramid(reals.float().cpu()),
                 strict=True)
    for lf, lr in levels:
        df = random_patches(lf, patches_per_image, gen)
        dr = random_patches(lr, patches_per_image, gen)
        both = normalise_descriptors(torch.cat([df, dr]))
        df, dr = both[: len(df)], both[len(df):]
        out[f"swd_{lf.shape[-1]}px"] = sliced_wasserstein(df, dr, gen) * 1e3
    out["swd_mean"] = sum(out.values()) / len(out)
    return out


@torch.no_grad()
def eeg_sensitivity(generator, windows_a: torch.Tensor, windows_b: torch.Tensor,
                    noise: torch.Tensor) -> dict[str, float]:
    """Mean image change between fakes made from two sets of EEG windows with the same noise.

    Parameters
    ----------
    generator : Generator
        The (EMA) generator.
    windows_a, windows_b : Tensor
        Steering vectors [N, F] (e.g. eyes closed and eyes open).
    noise : Tensor
        Noise [N, Z], shared by both sets.

    Returns
    -------
    dict
        ``eeg_image_change`` (mean absolute pixel change, 0-255 scale),
        ``eeg_feature_change`` (RMS change of the standardised features) and
        ``eeg_sensitivity`` (their ratio).
    """
    img_a = generator(windows_a, noise)
    img_b = generator(windows_b, noise)
    image_change = float((img_a - img_b).abs().mean()) * 127.5
    std = generator.mapping.feature_std
    feature_change = float(((windows_a - windows_b) / std).square().mean().sqrt())
    return {"eeg_image_change": image_change, "eeg_feature_change": feature_change,
            "eeg_sensitivity": image_change / max(feature_change, 1e-8)}


@torch.no_grad()
def critic_separation(critic, fakes: torch.Tensor, reals: torch.Tensor,
                      batch: int = 32) -> dict[str, float]:
    """How well the discriminator tells real crops from the generator's paintings.

    A critic that answers at chance gives the generator no direction to improve in: its logits
    sit near 0 for both, and the logistic losses near log 4 and log 2. Watching this, not the
    losses alone, tells a stalled run from a balanced one.

    Parameters
    ----------
    critic : Discriminator
        The run's discriminator (unaugmented input).
    fakes, reals : Tensor
        Paintings and real crops in [-1, 1], [N, 3, R, R].
    batch : int
        Images per forward pass (a multiple of the minibatch-stddev group of 4).

    Returns
    -------
    dict
        ``critic_accuracy``: the share of both sets on the right side of 0 (0.5 is chance);
        ``critic_gap``: mean real logit minus mean painting logit.
    """
    def logits(images: torch.Tensor) -> torch.Tensor:
        return torch.cat([critic(part).flatten().float() for part in images.split(batch)])

    real, fake = logits(reals), logits(fakes)
    accuracy = 0.5 * (float((real > 0).float().mean()) + float((fake < 0).float().mean()))
    return {"critic_accuracy": accuracy, "critic_gap": float(real.mean() - fake.mean())}


@torch.no_grad()
def nearest_reals(fakes: torch.Tensor, reals: torch.Tensor, size: int = 16) -> torch.Tensor:
    """Index of each fake's nearest real crop (L2 at ``size`` x ``size`` pixels)."""
    small_f = F.adaptive_avg_pool2d(fakes.float(), size).flatten(1)
    small_r = F.adaptive_avg_pool2d(reals.float(), size).flatten(1)
    return torch.cdist(small_f, small_r).argmin(dim=1)
