"""What the upscaler learns from: real crops at the output size, and the base model's paintings.

Real crops are drawn like the base model's (a random fraction of each painting's short side),
but never from fewer source pixels than the output size, so the targets hold the painting's own
brushwork rather than an enlargement. Their low-resolution twins are antialiased bicubic
downscales, as the base model's training crops were made. The base generator's own paintings
(run from its bundle with ONNX Runtime) come without targets: they teach the upscaler,
adversarially, to turn *generated* pictures into brushwork.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F

from installation.bundle import (
    INPUT_FEATURES,
    INPUT_NOISE,
    OUTPUT_IMAGE,
    BundleSpec,
    resolve_bundle_paths,
)
from installation.errors import ModelError
from models.training.dataset import CropSettings, PaintingCrops, to_float


def real_crops(images: str | Path, resolution: int, crops_per_image: int, seed: int,
               min_fraction: float = 0.5, max_fraction: float = 1.0) -> PaintingCrops:
    """Real crops at ``resolution`` (the upscaler's output size), cut on the fly.

    Parameters
    ----------
    images : str or Path
        Folder of paintings.
    resolution : int
        Side of the crops: the upscaler's output size.
    crops_per_image : int
        Crops drawn from each painting.
    seed : int
        Seed of the crop boxes.
    min_fraction, max_fraction : float
        Range of the crop side as a fraction of the painting's short side.

    Returns
    -------
    PaintingCrops
    """
    settings = CropSettings(resolution=resolution, crops_per_image=crops_per_image,
                            min_fraction=min_fraction, max_fraction=max_fraction, seed=seed,
                            min_side=resolution)
    return PaintingCrops(images, settings, cache_limit_bytes=0)


def downscale(images: torch.Tensor, scale: int) -> torch.Tensor:
    """Antialiased bicubic downscale of float images [B, 3, H, W] by ``scale``."""
    size = (images.shape[-2] // scale, images.shape[-1] // scale)
    return F.interpolate(images, size=size, mode="bicubic", antialias=True, align_corners=False)


def aligned_windows(high: torch.Tensor, low: torch.Tensor, patch: int, scale: int,
                    gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The same random window of each high-resolution image and its low-resolution twin.

    Parameters
    ----------
    high : Tensor, shape (B, 3, scale*r, scale*r)
        High-resolution images.
    low : Tensor, shape (B, 3, r, r)
        Their downscales.
    patch : int
        Side of the high-resolution window (a multiple of ``scale``).
    scale : int
        Side of ``high`` over side of ``low``.
    gen : torch.Generator
        Source of the window positions.

    Returns
    -------
    (Tensor, Tensor)
        Windows (B, 3, patch, patch) and (B, 3, patch/scale, patch/scale).
    """
    small = patch // scale
    r = low.shape[-1]
    offsets = torch.randint(0, r - small + 1, (len(low), 2), generator=gen)
    hi, lo = [], []
    for (y, x), h, lo_img in zip(offsets.tolist(), high, low, strict=True):
        hi.append(h[:, y * scale:(y + small) * scale, x * scale:(x + small) * scale])
        lo.append(lo_img[:, y:y + small, x:x + small])
    return torch.stack(hi), torch.stack(lo)


def random_windows(images: torch.Tensor, side: int, gen: torch.Generator) -> torch.Tensor:
    """A random ``side``-pixel window of each image [B, 3, R, R]."""
    r = images.shape[-1]
    offsets = torch.randint(0, r - side + 1, (len(images), 2), generator=gen)
    return torch.stack([img[:, y:y + side, x:x + side]
                        for (y, x), img in zip(offsets.tolist(), images, strict=True)])


def base_paintings(bundle: str | Path, count: int, seed: int, threads: int = 1) -> torch.Tensor:
    """``count`` paintings of a base bundle's generator, uint8 [N, 3, r, r].

    The steering vectors and the noise are standard normal: the show feeds z-scored features,
    and the generator's noise input is Gaussian.

    Parameters
    ----------
    bundle : str or Path
        A bundle folder (its ``generator.onnx`` and ``generator.json``).
    count : int
        Number of paintings.
    seed : int
        Seed of the steering vectors and noise.
    threads : int
        ONNX Runtime threads.

    Returns
    -------
    Tensor, uint8, shape (count, 3, r, r)
    """
    onnx_path, json_path = resolve_bundle_paths(bundle)
    spec = BundleSpec.load(json_path)
    if not onnx_path.is_file():
        raise ModelError(f"The base model {onnx_path} is missing; pass --base with a bundle "
                         "folder made by `python -m models.export` (e.g. assets/default).")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    takes_noise = INPUT_NOISE in {i.name for i in session.get_inputs()}
    out = []
    for start in range(0, count, 16):
        n = min(16, count - start)
        feeds = {INPUT_FEATURES: rng.standard_normal((n, spec.feature_spec.n_features),
                                                     dtype=np.float32)}
        if takes_noise:
            feeds[INPUT_NOISE] = rng.standard_normal((n, spec.noise_dim), dtype=np.float32)
        out.append(session.run([OUTPUT_IMAGE], feeds)[0])
    return torch.from_numpy(np.concatenate(out)).permute(0, 3, 1, 2).contiguous()


def base_resolution(bundle: str | Path) -> int:
    """The resolution of a base bundle's generator (one sentence when unreadable)."""
    return BundleSpec.load(resolve_bundle_paths(bundle)[1]).resolution


__all__ = ["aligned_windows", "base_paintings", "base_resolution", "downscale", "random_windows",
           "real_crops", "to_float"]
