from __future__ import annotations

import pytest
import torch

from models.evaluation.metrics import critic_separation, multiscale_swd, nearest_reals
from models.networks import Discriminator, Generator


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


def test_critic_separation_is_chance_on_identical_sets_and_perfect_on_an_easy_cue():
    reals = smooth_images(40, 5)
    random_critic = Discriminator(32, {4: 16, 8: 16, 16: 8, 32: 8}).eval()
    chance = critic_separation(random_critic, reals.clone(), reals, batch=8)
    assert chance["critic_accuracy"] == pytest.approx(0.5) and chance["critic_gap"] == 0.0

    def brightness(images):  # a critic that calls bright images real
        return images.mean(dim=(1, 2, 3)).unsqueeze(1)

    bright, dark = reals.abs() * 0.5 + 0.2, -reals.abs() * 0.5 - 0.2
    easy = critic_separation(brightness, dark, bright, batch=8)
    assert easy["critic_accuracy"] == 1.0 and easy["critic_gap"] > 0.3
    fooled = critic_separation(brightness, bright, dark, batch=8)
    assert fooled["critic_accuracy"] == 0.0 and fooled["critic_gap"] < -0.3
