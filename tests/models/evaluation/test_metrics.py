from __future__ import annotations

import torch

from models.evaluation.metrics import multiscale_swd, nearest_reals
from models.networks import Generator


def smooth_images(n, seed):
    gen = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 4, 4, generator=gen) * 2 - 1
    return torch.nn.functional.interpolate(low, size=32, mode="bilinear", align_corners=False)


def test_swd_is_small_for_the_same_distribution_and_large_for_noise():
    reals = smooth_images(32, 0)
    same = multiscale_swd(smooth_images(32, 1), reals)
    noise = multiscale_swd(torch.rand(32, 3, 32, 32) * 2 - 1, reals)
    assert set(same) == {"swd_32px", "swd_16px", "swd_mean"}
    assert same["swd_mean"] < noise["swd_mean"] / 2


def test_nearest_real_finds_the_copy():
    reals = smooth_images(20, 3)
    fakes = reals[[4, 11]] + 0.01
    assert nearest_reals(fakes, reals).tolist() == [4, 11]


def test_eeg_sensitivity_is_zero_for_equal_windows_and_positive_otherwise():
    from models.evaluation.metrics import eeg_sensitivity

    torch.manual_seed(0)
    g = Generator(25, 8, 16, {4: 16, 8: 8, 16: 8}, w_dim=16, mapping_layers=1).eval()
    g.synthesis.set_noise_mode("const")
    a, b, z = torch.randn(4, 25), torch.randn(4, 25), torch.randn(4, 8)
    assert eeg_sensitivity(g, a, a, z)["eeg_image_change"] == 0
    moved = eeg_sensitivity(g, a, b, z)
    assert moved["eeg_image_change"] > 0 and moved["eeg_sensitivity"] > 0
