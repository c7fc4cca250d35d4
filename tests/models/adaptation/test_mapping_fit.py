"""The mapping re-fit's two safeguards: whitened distribution matching, and kept steering."""

from __future__ import annotations

import numpy as np
import torch

from models.adaptation.adapt import ADAPT_ANCHOR, anchored, with_kept_steering
from models.adaptation.mapping_fit import (
    MappingFitSettings,
    fit_mapping,
    sliced_distance,
    whitening,
)
from models.bundles.default import untrained_generator
from models.training.feature_pool import FeaturePool


def narrow_cloud(count: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    """Points wide along 4 axes and 100x narrower along 60, one narrow axis moved by ``shift``."""
    generator = torch.Generator().manual_seed(seed)
    scale = torch.cat([torch.ones(4), torch.full((60,), 0.01)])
    points = torch.randn(count, 64, generator=generator) * scale
    points[:, 10] += shift * 0.01
    return points


def refit(generator, pool: FeaturePool, trained_on: torch.Tensor | None = None, **changes):
    """(mapping, figures) of a short re-fit of ``generator``'s mapping (``changes``: settings)."""
    settings = MappingFitSettings(**{"steps": 150, "batch": 64, "reference_size": 1024, **changes})
    return fit_mapping(generator.mapping, pool, settings, trained_on=trained_on)


def test_whitened_distance_sees_a_move_along_a_narrow_axis_that_raw_projections_miss():
    reference, same, moved = narrow_cloud(4096, 0), narrow_cloud(4096, 1), narrow_cloud(4096, 2, 4)
    mean, matrix = whitening(reference)

    def distances(transform):
        rng = torch.Generator().manual_seed(3)
        return [float(sliced_distance(transform(x), transform(reference), rng, 256))
                for x in (same, moved)]

    raw_same, raw_moved = distances(lambda x: x)
    white_same, white_moved = distances(lambda x: (x - mean) @ matrix)
    assert raw_moved < 3 * raw_same  # lost in the sampling noise of the wide axes
    assert white_moved > 20 * white_same


def test_whitening_floors_the_emptiest_axes():
    points = torch.randn(2048, 8, generator=torch.Generator().manual_seed(0))
    points[:, 7] = 0.0  # an axis with no spread at all
    _, matrix = whitening(points, floor=1e-2)
    assert torch.isfinite(matrix).all()
    assert float(matrix.norm(dim=0).max()) <= 1.01 / np.sqrt(1e-2 * 0.8)


def test_adapting_to_a_short_recording_keeps_the_paintings_of_the_eeg_it_answered():
    generator = untrained_generator("tiny")
    rng = np.random.default_rng(0)
    trained_on = torch.from_numpy(rng.standard_normal((1024, generator.n_features),
                                                      dtype=np.float32))
    # a short performance whose state sits far off, along one feature
    new = FeaturePool({"session": (rng.standard_normal((200, generator.n_features))
                                   * 0.3 + np.eye(generator.n_features)[0] * 3
                                   ).astype(np.float32)})
    noise = torch.randn(len(trained_on), generator.noise_dim,
                        generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        before = generator.mapping(trained_on, noise)

    def moved(anchor_weight):
        """How far the old EEG's ``w`` moved, against their typical distance."""
        mapping, figures = refit(generator, new, trained_on, anchor_weight=anchor_weight)
        assert ("anchor" in figures) == (anchor_weight > 0)
        with torch.no_grad():
            after = mapping(trained_on, noise)
        return float((after - before).norm(dim=1).mean() / (before - before.roll(1, 0)).norm(
            dim=1).mean())

    assert moved(10.0) < 0.5 * moved(0.0)


def test_an_adapted_bundle_keeps_a_sample_of_the_old_eeg_and_the_new():
    old = torch.zeros(1000, 3)
    new = FeaturePool({"session": np.ones((200, 3), dtype=np.float32)})
    kept = with_kept_steering(new, old)
    assert len(kept.all) == 400  # the new recordings are at least half
    assert kept.all[:200].min() == 1 and kept.all[200:].max() == 0


def test_adapting_holds_the_old_eeg_only_on_the_bundles_own_features():
    settings = MappingFitSettings()
    assert anchored(settings, same_features=True).anchor_weight == ADAPT_ANCHOR
    assert anchored(settings, same_features=True).probe_share == 0
    assert anchored(settings, same_features=False).anchor_weight == 0


def test_the_stray_term_holds_steering_no_calibration_gave_among_the_learned_paintings():
    generator = untrained_generator("tiny")
    rng = np.random.default_rng(0)
    n = generator.n_features
    # steering like the people's: three directions hold it all
    axes = np.linalg.qr(rng.standard_normal((n, 3)))[0].T
    low_rank = (rng.standard_normal((2048, 3)) @ axes * 0.5).astype(np.float32)
    pool = FeaturePool({"people": low_rank})
    trained_on = torch.from_numpy(low_rank)
    stray = torch.randn(1024, n, generator=torch.Generator().manual_seed(1))
    noise = torch.randn(1024, generator.noise_dim, generator=torch.Generator().manual_seed(2))

    def off_the_paintings(stray_weight):
        """Sliced distance of Gaussian steering's ``w`` to the trained steering's ``w``."""
        mapping, figures = refit(generator, pool, trained_on, batch=128, stray_weight=stray_weight)
        assert ("stray" in figures) == (stray_weight > 0)
        with torch.no_grad():
            learned, strayed = mapping(trained_on[:1024], noise), mapping(stray, noise)
        mean, matrix = whitening(learned)
        return float(sliced_distance((strayed - mean) @ matrix, (learned - mean) @ matrix,
                                     torch.Generator().manual_seed(3), 256))

    held, free = off_the_paintings(1.0), off_the_paintings(0.0)
    print(f"Gaussian steering off the learned w: {held:.3f} held, {free:.3f} free")
    assert held < 0.5 * free


def test_a_contrast_above_one_moves_a_change_of_state_more_than_the_wander_within_it():
    generator = untrained_generator("tiny")
    rng = np.random.default_rng(0)
    n = generator.n_features
    # two states far apart along one feature, each wandering a little
    shift = np.eye(n, dtype=np.float32)[0] * 3
    wander = rng.standard_normal((2, 1024, n)).astype(np.float32) * 0.3
    states = wander + np.stack([np.zeros(n, np.float32), shift])[:, None]
    pool = FeaturePool({"open": states[0], "closed": states[1]})
    noise = torch.randn(512, generator.noise_dim, generator=torch.Generator().manual_seed(2))

    def state_over_wander(contrast):
        """Distance between the states' ``w`` against two moments of one state's."""
        mapping, _ = refit(generator, pool, steps=200, batch=128, contrast=contrast,
                           probe_share=0.0)
        with torch.no_grad():
            a, b, c = (mapping(torch.from_numpy(x), noise)
                       for x in (states[0][:512], states[0][512:], states[1][:512]))
        return float((a - c).norm(dim=1).mean() / (a - b).norm(dim=1).mean())

    proportional, contrasted = state_over_wander(1.0), state_over_wander(2.0)
    print(f"states over wander: {proportional:.2f} in proportion, {contrasted:.2f} squared")
    assert contrasted > 1.1 * proportional
