from __future__ import annotations

import pytest
import torch

from models.training.augment import AdaptiveProbability, augment


def extreme_images(n=16, size=32):
    gen = torch.Generator().manual_seed(0)
    return torch.randint(0, 2, (n, 3, size, size), generator=gen).float() * 2 - 1


def test_full_augmentation_keeps_images_in_range_and_changes_them():
    torch.manual_seed(0)
    images = extreme_images()
    out = augment(images, p=1.0)
    assert out.shape == images.shape
    assert out.min() >= -1 and out.max() <= 1
    assert (out - images).abs().mean() > 0.1


def test_zero_probability_is_the_identity():
    images = extreme_images()
    assert torch.equal(augment(images, p=0.0), images)


def test_gradients_reach_the_images():
    torch.manual_seed(1)
    images = (extreme_images() * 0.5).requires_grad_(True)
    augment(images, p=1.0).square().sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_small_probability_leaves_most_images_untouched():
    torch.manual_seed(2)
    images = extreme_images(n=256, size=16) * 0.5
    out = augment(images, p=0.02)
    unchanged = ((out - images).abs().flatten(1).max(dim=1).values < 1e-5).float().mean()
    assert unchanged > 0.7


@pytest.mark.parametrize(("logit", "direction"), [(5.0, 1), (-5.0, -1)])
def test_p_moves_toward_the_target(logit, direction):
    ada = AdaptiveProbability(target=0.6, speed_kimg=1.0, interval=4)
    ada.p = 0.5
    for _ in range(4):
        ada.accumulate(torch.full((25, 1), logit))
    assert ada.due()
    ada.adjust()
    assert ada.p == pytest.approx(0.5 + direction * 0.1)
    assert not ada.due()


def test_p_reaches_one_after_speed_kimg_of_full_imbalance_and_stays_in_range():
    ada = AdaptiveProbability(target=0.6, speed_kimg=0.5, interval=1)
    for _ in range(60):  # 600 images at r_t = 1
        ada.accumulate(torch.ones(10, 1))
        ada.adjust()
    assert ada.p == 1.0
    for _ in range(200):
        ada.accumulate(-torch.ones(10, 1))
        ada.adjust()
    assert ada.p == 0.0


def test_state_round_trips():
    ada = AdaptiveProbability(speed_kimg=1.0)
    ada.p = 0.3
    ada.accumulate(torch.ones(7, 1))
    other = AdaptiveProbability(speed_kimg=1.0)
    other.load_state_dict(ada.state_dict())
    assert (other.p, other.count, other.sign_sum, other.steps) == (0.3, 7, 7.0, 1)
