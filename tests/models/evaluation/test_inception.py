from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from models.evaluation.inception import fid_kid, frechet_distance, kernel_distance, load_detector


class PatchFeatures(torch.nn.Module):
    """A small fixed TorchScript detector with the Inception interface (uint8 NCHW in)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.proj = torch.nn.Conv2d(3, 64, 4, stride=4)

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        x = torch.nn.functional.interpolate(x.float() / 127.5 - 1, size=(16, 16), mode="area")
        return torch.relu(self.proj(x)).mean(dim=(2, 3))


def save_detector(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.script(PatchFeatures()).save(str(path))
    return path


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 8))
    b = rng.standard_normal((4000, 8)) + 0.5
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    assert frechet_distance(a, b) == pytest.approx(8 * 0.25, rel=0.1)


def test_kernel_distance_is_near_zero_for_one_distribution():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((500, 8)), rng.standard_normal((500, 8))
    far = kernel_distance(a, b + 1.0, subsets=5, subset_size=200)
    assert abs(kernel_distance(a, b, subsets=5, subset_size=200)) < far / 10


def test_detector_file_gives_fid_and_kid(tmp_path):
    detector = load_detector(save_detector(tmp_path / "det.pt"))
    smooth = torch.nn.functional.interpolate(torch.rand(40, 3, 4, 4) * 2 - 1, size=32,
                                             mode="bilinear", align_corners=False)
    noisy = torch.rand(40, 3, 32, 32) * 2 - 1
    same = fid_kid(detector, smooth[:20], smooth[20:])
    apart = fid_kid(detector, noisy[:20], smooth[20:])
    assert set(same) == {"fid", "kid"}
    assert apart["fid"] > same["fid"] and apart["kid"] > same["kid"]
