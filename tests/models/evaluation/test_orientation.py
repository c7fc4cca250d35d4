"""Stroke direction: the figure sees one direction laid over a picture, and training turns it."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from models.evaluation.orientation import BINS, orientation_figure, orientation_histogram
from models.upscaler.network import Upscaler
from models.upscaler.trainer import UpscaleTrainer, dihedral

TINY = {"channels": 8, "blocks": 1, "scale": 4, "fine_channels": 4}


def equivariance_of(trainer: UpscaleTrainer, low: torch.Tensor) -> float:
    with torch.no_grad():
        return float(trainer.equivariance(low, trainer.U(low)))


def hatch(angle_deg: float, size: int = 64, period: float = 3.0) -> torch.Tensor:
    """A fine grating whose stripes run across ``angle_deg`` (its gradient points that way)."""
    yy, xx = torch.meshgrid(torch.arange(size * 1.0), torch.arange(size * 1.0), indexing="ij")
    a = math.radians(angle_deg)
    wave = torch.sin(2 * math.pi * (xx * math.cos(a) + yy * math.sin(a)) / period)
    return wave.expand(1, 3, size, size).contiguous()


def test_one_hatch_fills_one_direction_and_noise_spreads_evenly():
    torch.manual_seed(0)
    noise = torch.rand(4, 3, 64, 64) * 2 - 1
    assert orientation_figure(noise) < 1.2
    assert orientation_figure(hatch(67.0)) > 5
    assert orientation_figure(noise + 0.5 * hatch(67.0)) > 1.6


def test_a_transposed_hatch_turns_its_strongest_bin_to_the_mirror_angle():
    before = orientation_histogram(hatch(67.0))
    after = orientation_histogram(dihedral(hatch(67.0), 4))
    # Transposing maps a gradient at θ to 90° − θ: bin 4 (60-75°) to bin 1 (15-30°).
    assert int(before.argmax()) == 4 and int(after.argmax()) == 1
    assert before.sum() == pytest.approx(1.0) and len(before) == BINS


def test_the_eight_symmetries_differ_and_each_undoes_itself_or_its_partner():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 8, 8)
    turned = [dihedral(image, i) for i in range(8)]
    assert all(not torch.equal(turned[i], turned[j]) for i in range(8) for j in range(i))
    for i in range(8):
        assert any(torch.equal(dihedral(turned[i], j), image) for j in range(8))


def test_equivariance_term_charges_a_hatch_that_does_not_turn_with_the_picture():
    torch.manual_seed(0)
    trainer = UpscaleTrainer(TINY, {"channels": [8]},
                             {"lr": 1e-3, "adv_weight": 0.05, "consistency_weight": 1.0,
                              "equivariance_weight": 1.0, "warmup_kimg": 0.0, "ema_kimg": 0.01})
    with torch.no_grad():  # detail off: a plain bilinear enlargement turns with the picture
        trainer.U.tail.weight.zero_()
    low = torch.rand(2, 3, 16, 16) * 2 - 1
    assert equivariance_of(trainer, low) < 1e-5
    fixed = hatch(67.0)

    def hatched(painting: torch.Tensor) -> torch.Tensor:
        return Upscaler.forward(trainer.U, painting) + 0.1 * fixed

    trainer.U.forward = hatched
    assert equivariance_of(trainer, low) > 0.03


def test_training_with_the_equivariance_term_keeps_turning_the_hatch_down():
    torch.manual_seed(0)
    trainer = UpscaleTrainer(TINY, {"channels": [8]},
                             {"lr": 3e-3, "adv_weight": 0.0, "consistency_weight": 0.0,
                              "equivariance_weight": 1.0, "warmup_kimg": 0.0, "ema_kimg": 0.01})
    with torch.no_grad():  # a trained-looking upscaler whose detail does not turn
        trainer.U.tail.bias.zero_()
        trainer.U.tail.weight.normal_(0, 0.3)
    low = torch.rand(4, 3, 16, 16) * 2 - 1
    high = torch.nn.functional.interpolate(low, scale_factor=4, mode="bilinear")
    first = equivariance_of(trainer, low)
    for _ in range(40):
        trainer.step(high, low, low[:2])
    assert equivariance_of(trainer, low) < 0.5 * first


def test_shipped_upscaler_lays_no_single_direction_over_real_crops(paintings_dir: Path):
    from benchmarks.upscaler_orientation import TARGET, upscaler_on_real

    figures = upscaler_on_real(count=24)
    assert figures["real_orientation"] < TARGET
    assert figures["upscaler_orientation_real"] <= TARGET, figures
