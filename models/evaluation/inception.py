"""FID and KID from Inception features, with weights the user already has (no downloads).

``--inception PATH`` takes a TorchScript feature detector with the interface of NVlabs'
``inception-2015-12-05.pt`` (the one stylegan2-ada-pytorch and clean-fid use): called as
``detector(images, return_features=True)`` on uint8 NCHW images of any size, it returns
[N, 2048] float features. With few images (a tiny run) the figures are noisy; compare them
between snapshots of one run, not with published values.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import scipy.linalg
import torch

from installation.errors import ConfigError


def load_detector(path: str | Path, device: torch.device | str = "cpu"):
    """Load the TorchScript detector; ConfigError with one sentence if it cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"The Inception weights {path} do not exist; pass the TorchScript file "
                          "inception-2015-12-05.pt you have, or leave out --inception.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TorchScript's deprecation notice
            detector = torch.jit.load(str(path), map_location=device).eval()
            probe = torch.zeros(2, 3, 64, 64, dtype=torch.uint8, device=device)
            features = detector(probe, return_features=True)
    except Exception as exc:  # a foreign file fails in many ways inside TorchScript
        raise ConfigError(f"{path} is not a usable TorchScript Inception feature detector "
                          f"({type(exc).__name__}); pass inception-2015-12-05.pt or leave out "
                          "--inception.") from None
    if features.ndim != 2 or features.shape[0] != 2:
        raise ConfigError(f"{path} returns features of shape {list(features.shape)}, not "
                          "[N, D]; pass inception-2015-12-05.pt or leave out --inception.")
    return detector


@torch.no_grad()
def detector_features(detector, images: torch.Tensor, batch: int = 64) -> np.ndarray:
    """Features [N, D] (float64) of float images in [-1, 1]."""
    out = []
    device = next(iter(detector.parameters()), torch.zeros(0)).device
    for chunk in images.split(batch):
        as_uint8 = ((chunk.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        out.append(detector(as_uint8.to(device), return_features=True).double().cpu())
    return torch.cat(out).numpy()


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b)
    root = np.real(root)  # discard tiny imaginary parts from numerical error
    return float(np.square(mu_a - mu_b).sum() + np.trace(cov_a + cov_b - 2 * root))


def kernel_distance(a: np.ndarray, b: np.ndarray, subsets: int = 50, subset_size: int = 1000,
                    seed: int = 0) -> float:
    """KID: unbiased squared MMD with the cubic polynomial kernel, averaged over subsets."""
    rng = np.random.default_rng(seed)
    n = min(len(a), len(b), subset_size)
    dim = a.shape[1]
    total = 0.0
    for _ in range(subsets):
        x = a[rng.choice(len(a), n, replace=False)]
        y = b[rng.choice(len(b), n, replace=False)]
        kxx = (x @ x.T / dim + 1) ** 3
        kyy = (y @ y.T / dim + 1) ** 3
        kxy = (x @ y.T / dim + 1) ** 3
        off_diag = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (n - 1)
        total += off_diag / n - 2 * kxy.mean()
    return float(total / subsets)


def fid_kid(detector, fakes: torch.Tensor, reals: torch.Tensor) -> dict[str, float]:
    """FID and KID between fakes and reals (float images in [-1, 1])."""
    f = detector_features(detector, fakes)
    r = detector_features(detector, reals)
    return {"fid": frechet_distance(f, r), "kid": kernel_distance(f, r)}
