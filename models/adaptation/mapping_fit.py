"""Re-fitting the mapping network to new EEG while the synthesis network stays as it is.

The paintings a generator can make are fixed by its synthesis network; which painting a moment
of EEG gets is decided by the small mapping network in front of it. Re-fitting only the mapping
(minutes on a CPU, no discriminator, no paintings needed) lets a model learn new people or a new
feature definition without touching how it paints. Two terms hold it:

- **Stay among the learned paintings**: the sliced Wasserstein distance between the new
  mapping's ``w`` and reference ``w``: the old mapping's for the steering it was trained on
  (the sample a checkpoint keeps) and Gaussian noise. The synthesis network only ever learned
  to paint from that region of ``w``, so the painting's quality is kept. (Independent Gaussian
  features of the stored statistics, the fallback for a checkpoint without a sample, miss that
  region: the default model's finest-band SWD went from 39 to 87 with them, 32 with its sample.)
  The distance is taken in the reference's whitened principal axes: random projections of raw
  ``w`` mostly see its few widest directions, and a mapping matched that way still left the
  narrow ones, which carry the fine brushwork (the default's 128 px band: 45 raw, 29 whitened,
  against 38 before any re-fit; 256 paintings of the four shared people).
- **Move as the brain moves**: for two moments of EEG with the same noise, the distance between
  their ``w`` is held proportional to the distance between their feature vectors (an isometry,
  up to a learnt scale); for one moment with two noise vectors, to ``drift_share`` times the
  noise's typical distance. A change of state (eyes closed: alpha up over the back of the head)
  is then a large move for everyone, and the drift a smaller one. A GAN-trained mapping has no
  reason to do either: it may spend its range on features that differ between people.

A re-fit may add a term for **steering no calibration gave**: independent Gaussian features (each
off by about one calibration spread, in every direction at once) must land among the learned
paintings too. The people's steering spans about three directions, so every other direction is
one the GAN never trained. On the campaign's 230.1 kimg snapshot, re-fitted without the term,
Gaussian steering's ``w`` sat 9.5 from the people's mean (their spread: 8.1) and painted one
dark picture with a white blotch, what a wearer whose features stray from their calibration
would be shown; with it, 0.7 from their mean, and the pictures are the people's kind.

Adapting a bundle to new recordings on its own features adds a further term, the **anchor**: the
EEG it was fitted to keeps the ``w`` it had, moment by moment. The first two terms alone, run
again on a mapping that already meets them, wander along directions the distribution term
cannot see (on the default model, the four shared people's finest SWD band went from 29 to 75
after adapting to one of them; with the anchor, 30).
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass

import torch

from models.networks import MappingNetwork
from models.training.feature_pool import FeaturePool

# What the command lines accept for the two optional terms (train.py, people_contrast).
CONTRAST_RANGE = (0.5, 4.0)
STRAY_WEIGHT_RANGE = (0.0, 100.0)


@dataclass(frozen=True)
class MappingFitSettings:
    """How long and how hard the mapping is re-fitted.

    Attributes
    ----------
    steps : int
        Optimiser steps (1500 take about a minute on one CPU core).
    batch : int
        Pairs per step.
    lr : float
        Adam's step on the layers' effective weights (divided by each layer's ``lr_mul``, which
        the GAN used to slow the mapping down).
    isometry_weight : float
        Weight of the "move as the brain moves" term against the distribution term.
    drift_share : float
        How far the drift noise moves ``w`` against a typical change of EEG (0.3: a third).
    reference_size : int
        Reference ``w`` drawn from the old mapping.
    probe_share : float
        Share of the pairs whose second moment is the first moved in a random direction (up to
        1.5 typical distances), so that a state the fitted people never showed still moves
        the painting in proportion (with half the pairs probed, S005 left out of the default's
        re-fit gets 1.93 where it got 1.10 without probes).
    whiten : bool
        Compare the distributions in the reference's whitened principal axes, where every
        direction of ``w`` counts alike (raw projections mostly see the few widest ones).
    directions : int
        Random projections of the sliced distance per step.
    contrast : float
        Exponent on the EEG's distance in the "move as the brain moves" term (1: an isometry).
        Above 1, a large change of EEG (a change of state) moves the painting more than its
        share and the small wander within a state less, for a synthesis network whose
        paintings change less than in proportion to far moves of ``w``.
    stray_weight : float
        Weight of the distribution term for independent Gaussian features, which no
        calibration gave (0: off).
    anchor_weight : float
        Weight of a further term, for adapting rather than re-fitting: the EEG the mapping was
        fitted to (``trained_on``) keeps the very ``w`` it had, moment by moment, so only the
        new recordings find new places among the paintings (0: off).
    seed : int
        Seed of the pairs, the noise and the projections.
    """

    steps: int = 1500
    batch: int = 256
    lr: float = 1e-3
    isometry_weight: float = 1.0
    drift_share: float = 0.3
    reference_size: int = 8192
    probe_share: float = 0.5
    contrast: float = 1.0
    stray_weight: float = 0.0
    anchor_weight: float = 0.0
    whiten: bool = True
    directions: int = 256
    seed: int = 0

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


def reference_w(mapping: MappingNetwork, count: int, generator: torch.Generator,
                steering: torch.Tensor | None = None) -> torch.Tensor:
    """``w`` of the old mapping for its training inputs, [count, w_dim].

    Parameters
    ----------
    mapping : MappingNetwork
        The trained mapping.
    count : int
        How many.
    generator : torch.Generator
        Seeds the draw.
    steering : Tensor, optional
        Steering vectors it was trained on [N, F], drawn with replacement; without them,
        independent Gaussians of its stored feature statistics (a poorer stand-in).
    """
    if steering is not None and len(steering):
        features = steering[torch.randint(len(steering), (count,), generator=generator)]
    else:
        features = torch.randn(count, mapping.n_features, generator=generator)
        features = mapping.feature_mean + features * mapping.feature_std
    noise = torch.randn(count, mapping.noise_dim, generator=generator)
    with torch.no_grad():
        return mapping(features, noise)


def sliced_distance(a: torch.Tensor, b: torch.Tensor, generator: torch.Generator,
                    directions: int = 128) -> torch.Tensor:
    """Squared sliced Wasserstein distance between two equally large point sets."""
    projection = torch.randn(a.shape[1], directions, generator=generator)
    projection = projection / projection.norm(dim=0, keepdim=True)
    return ((torch.sort(a @ projection, 0)[0] - torch.sort(b @ projection, 0)[0]) ** 2).mean()


def whitening(reference: torch.Tensor, floor: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, matrix) that whiten ``reference`` along its principal axes.

    Axes whose variance is under ``floor`` times the largest are scaled as if they had that
    variance, so that the nearly empty directions of ``w`` are not magnified without bound.
    """
    mean = reference.mean(0)
    variance, axes = torch.linalg.eigh(torch.cov((reference - mean).T))
    variance = variance.clamp_min(float(variance.max()) * floor)
    return mean, axes / variance.sqrt()


def probed(features: torch.Tensor, scale: torch.Tensor,
           generator: torch.Generator) -> torch.Tensor:
    """``features`` each moved in a random direction by up to 1.5 ``scale``."""
    direction = torch.randn(features.shape, generator=generator)
    direction = direction / direction.norm(dim=1, keepdim=True)
    length = 1.5 * scale * torch.rand(len(features), 1, generator=generator)
    return features + direction * length


def median_pair_distance(x: torch.Tensor, generator: torch.Generator,
                         pairs: int = 4096) -> torch.Tensor:
    """Median distance between random pairs of rows of ``x``."""
    i = torch.randint(len(x), (pairs,), generator=generator)
    j = torch.randint(len(x), (pairs,), generator=generator)
    return (x[i] - x[j]).norm(dim=1).median().clamp_min(1e-6)


def optimiser(mapping: MappingNetwork, scale: torch.Tensor, lr: float) -> torch.optim.Adam:
    """Adam with each layer's rate undoing its ``lr_mul`` (a GAN's slow-mapping trick)."""
    groups = [{"params": list(layer.parameters()), "lr": lr / getattr(layer, "lr_mul", 1.0)}
              for layer in (mapping.embed, *mapping.layers)]
    return torch.optim.Adam([*groups, {"params": [scale], "lr": lr}], lr=lr)


class MappingFit:
    """One re-fit of a mapping network to a pool of steering vectors.

    Parameters
    ----------
    mapping : MappingNetwork
        The trained mapping; it is copied, not changed.
    pool : FeaturePool
        Steering vectors of the EEG to fit to (each person z-scored by their own statistics).
    settings : MappingFitSettings
        Steps, rates and weights.
    trained_on : Tensor, optional
        A sample of the steering the mapping was trained on (a checkpoint's
        ``steering_sample``), for the reference ``w`` (:func:`reference_w`).
    """

    def __init__(self, mapping: MappingNetwork, pool: FeaturePool,
                 settings: MappingFitSettings = MappingFitSettings(),
                 trained_on: torch.Tensor | None = None) -> None:
        self.settings = settings
        self.rng = torch.Generator().manual_seed(settings.seed)
        self.old = mapping
        self.features = torch.from_numpy(pool.all)
        self.reference = reference_w(mapping, settings.reference_size, self.rng, trained_on)
        self.anchored = trained_on if settings.anchor_weight > 0 else None
        noise = torch.randn(4096, mapping.noise_dim, generator=self.rng)
        self.feature_scale = median_pair_distance(self.features, self.rng)
        self.noise_scale = median_pair_distance(noise, self.rng)
        self.w_scale = median_pair_distance(self.reference, self.rng)
        self.centre, self.whitener = (whitening(self.reference) if settings.whiten else
                                      (torch.zeros(mapping.w_dim), torch.eye(mapping.w_dim)))
        self.mapping = copy.deepcopy(mapping).train(False).requires_grad_(True)
        self.log_scale = torch.zeros((), requires_grad=True)
        self.optimiser = optimiser(self.mapping, self.log_scale, settings.lr)

    def losses(self) -> dict[str, torch.Tensor]:
        """The terms on one batch of random pairs (and the anchor, when one is set)."""
        n, m = self.settings.batch, self.mapping
        pick = torch.randint(len(self.features), (2, n), generator=self.rng)
        f1, f2 = self.features[pick[0]], self.features[pick[1]]
        probes = int(round(self.settings.probe_share * n))
        if probes:  # moves in directions these people never showed: isometric there too
            f2 = torch.cat([f2[:n - probes], probed(f1[n - probes:], self.feature_scale,
                                                     self.rng)])
        z1 = torch.randn(n, m.noise_dim, generator=self.rng)
        z2 = torch.randn(n, m.noise_dim, generator=self.rng)
        w11, w21, w12 = m(f1, z1), m(f2, z1), m(f1, z2)
        scale = self.w_scale * self.log_scale.exp()
        reference = self.reference[torch.randint(len(self.reference), (n,),
                                                  generator=self.rng)]
        by_eeg = ((w11 - w21).norm(dim=1) / scale
                  - ((f1 - f2).norm(dim=1) / self.feature_scale) ** self.settings.contrast)
        by_noise = ((w11 - w12).norm(dim=1) / scale
                    - self.settings.drift_share * (z1 - z2).norm(dim=1) / self.noise_scale)
        terms = {"distribution": self.distance(w11, reference),
                 "isometry": (by_eeg ** 2).mean() + (by_noise ** 2).mean()}
        if self.settings.stray_weight > 0:
            terms["stray"] = self.stray(n, reference)
        if self.anchored is not None:
            terms["anchor"] = self.anchor(n)
        return terms

    def stray(self, n: int, reference: torch.Tensor) -> torch.Tensor:
        """The distribution term for ``n`` independent Gaussian feature vectors."""
        features = torch.randn(n, self.mapping.n_features, generator=self.rng)
        noise = torch.randn(n, self.mapping.noise_dim, generator=self.rng)
        return self.distance(self.mapping(features, noise), reference)

    def anchor(self, n: int) -> torch.Tensor:
        """Mean squared move of the old EEG's ``w`` (in typical distances of ``w``)."""
        features = self.anchored[torch.randint(len(self.anchored), (n,), generator=self.rng)]
        noise = torch.randn(n, self.mapping.noise_dim, generator=self.rng)
        with torch.no_grad():
            before = self.old(features, noise)
        moved = (self.mapping(features, noise) - before).norm(dim=1) / self.w_scale
        return (moved ** 2).mean()

    def distance(self, w: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """The distribution term: sliced distance, in whitened axes when the settings say so."""
        return sliced_distance((w - self.centre) @ self.whitener,
                               (reference - self.centre) @ self.whitener, self.rng,
                               self.settings.directions)

    def step(self) -> dict[str, float]:
        """One optimiser step; the terms' values before it."""
        terms = self.losses()
        loss = (terms["distribution"] + self.settings.isometry_weight * terms["isometry"]
                + self.settings.stray_weight * terms.get("stray", 0.0)
                + self.settings.anchor_weight * terms.get("anchor", 0.0))
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser.step()
        return {name: float(value.detach()) for name, value in terms.items()}

    def distribution_of(self, mapping: MappingNetwork) -> float:
        """The distribution term of ``mapping`` on one batch (before and after figures)."""
        n = self.settings.batch
        features = self.features[torch.randint(len(self.features), (n,), generator=self.rng)]
        noise = torch.randn(n, mapping.noise_dim, generator=self.rng)
        with torch.no_grad():
            return float(self.distance(mapping(features, noise), self.reference[:n]))

    def run(self, progress=None) -> dict[str, float]:
        """All steps; the last terms, the distribution term before and after, and seconds."""
        before = self.distribution_of(self.old)
        began, terms = time.perf_counter(), {}
        for index in range(self.settings.steps):
            terms = self.step()
            if progress is not None:
                progress(index + 1, terms)
        return {**terms, "distribution_before": before,
                "distribution_after": self.distribution_of(self.mapping),
                "seconds": round(time.perf_counter() - began, 1)}


def fit_mapping(mapping: MappingNetwork, pool: FeaturePool,
                settings: MappingFitSettings = MappingFitSettings(),
                progress=None, trained_on: torch.Tensor | None = None
                ) -> tuple[MappingNetwork, dict]:
    """Re-fit ``mapping`` to ``pool``; returns the new mapping (in eval mode) and its figures.

    Parameters
    ----------
    mapping : MappingNetwork
        The trained mapping (not changed).
    pool : FeaturePool
        The EEG to fit to.
    settings : MappingFitSettings
        Steps, rates and weights.
    progress : callable, optional
        Called as ``progress(step, terms)`` after every step.
    trained_on : Tensor, optional
        The steering sample ``mapping`` was trained on (see :class:`MappingFit`).
    """
    fit = MappingFit(mapping, pool, settings, trained_on)
    figures = fit.run(progress)
    return fit.mapping.requires_grad_(False).eval(), figures
