"""Seconds per thousand training images (sec/kimg): today's step against the step before it.

Run: ``.venv/bin/python -m benchmarks.train_bench [--cfg 128] [--steps 16] [--rounds 3]
[--threads 1]``

Times full training steps (D step with lazy R1 every 16th, G step, EMA, augmentation at
p = 0.5) on real painting crops when ../shared/data is present, random images otherwise. Two
trainers take turns in the same process, round after round, so both see the same machine:

- ``before``: the step as it was written until 2026-12: activations in the NCHW layout, the
  discriminator's downsampling convolutions run at full size, then average-pooled, every
  activation's gain a pass of its own, each synthesis layer's demodulation, noise, bias, leaky
  ReLU and gain one pass each, and the fakes painted twice (without gradients for D, again for
  G);
- ``after``: the shipped step: the channels-last layout on the CPU, each downsampling
  convolution fused with its pooling into one stride-2 convolution (``pooled_kernel``), the
  gains folded into the weights and the leaky ReLUs in place, a synthesis layer's
  demodulation, noise, bias and gain in one multiply-add, and D and G updated together from
  one synthesis pass and one pass of D over the fakes (``Trainer.step``).

The ratio is the median over rounds of before / after. Each trainer warms up first (oneDNN
picks its kernels on the first calls). Run it with nothing else busy: two jobs on two cores make
every timing meaningless.
"""

from __future__ import annotations

import argparse
import statistics
import time
import types

import torch
import torch.nn.functional as F

from benchmarks import PAINTINGS
from installation.eeg.feature_spec import FeatureSpec
from models.configs import CONFIGS
from models.networks import EqualConv2d, SynthesisLayer, lrelu
from models.training.augment import augment
from models.training.losses import R1_INTERVAL, generator_loss
from models.training.trainer import Trainer


def real_batches(resolution: int, batch: int):
    """Endless batches of real crops in [-1, 1] (random images without the shared data)."""
    if not PAINTINGS.is_dir():
        while True:
            yield torch.rand(batch, 3, resolution, resolution) * 2 - 1
    from models.training.dataset import CropSettings, PaintingCrops, to_float

    crops = PaintingCrops(PAINTINGS, CropSettings(resolution, crops_per_image=2))
    gen = torch.Generator().manual_seed(0)
    while True:
        yield to_float(crops.batch(torch.randint(len(crops), (batch,), generator=gen)))


def _conv_as_before(self: EqualConv2d, x: torch.Tensor) -> torch.Tensor:
    """A convolution as it was: full size, then 2×2 average pool (downsampling), then the
    activation and its gain, each a pass of its own."""
    x = F.conv2d(x, self.weight * self.weight_gain, self.bias, padding=self.padding)
    if self.down:
        x = F.avg_pool2d(x, 2)
    return lrelu(x) if self.activate else x


def _layer_as_before(self: SynthesisLayer, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """A synthesis layer as it was: demodulation, noise, bias, activation and gain in turn."""
    x = self.conv(x, w, up=self.up)
    x = x + self.noise_strength * self._noise(x)
    x = F.leaky_relu(x + self.bias[None, :, None, None], 0.2)
    return x * self.output_gain


def step_as_before(trainer: Trainer, reals, features, noise) -> dict:
    """The step as it was: D's fakes painted without gradients, D updated, then the fakes
    painted again for G and judged by the updated D (alternating updates)."""
    with torch.no_grad():
        fakes = trainer.G(features, noise)
    stats = trainer.discriminator_step(reals, fakes)
    trainer.G.requires_grad_(True)
    trainer.D.requires_grad_(False)
    loss = generator_loss(trainer.D(augment(trainer.G(features, noise), trainer.ada.p)))
    trainer.opt_G.zero_grad(set_to_none=True)
    loss.backward()
    trainer.opt_G.step()
    stats["loss_G"] = float(loss.detach())
    return trainer.finish_step(stats, features, noise)


def make_trainer(cfg_name: str, resolution: int, batch: int, variant: str) -> Trainer:
    """A trainer of ``cfg_name`` as ``variant`` ("before" or "after") runs it."""
    cfg = CONFIGS[cfg_name]
    g_kwargs, d_kwargs, train = cfg.network_kwargs(resolution, batch, FeatureSpec().n_features)
    torch.manual_seed(0)
    trainer = Trainer(g_kwargs, d_kwargs, train, torch.device("cpu"),
                      channels_last=variant == "after")
    if variant == "before":
        for module in trainer.D.modules():
            if isinstance(module, EqualConv2d):
                module.forward = types.MethodType(_conv_as_before, module)
        for module in trainer.G.modules():
            if isinstance(module, SynthesisLayer):
                module.forward = types.MethodType(_layer_as_before, module)
        trainer.step = types.MethodType(step_as_before, trainer)
    trainer.ada.p = 0.5
    return trainer


def timed_steps(trainer: Trainer, reals, steps: int) -> float:
    """Seconds per 1000 images over ``steps`` steps of ``trainer``."""
    n_features = trainer.G.n_features
    batch = trainer.train["batch"]
    start = time.perf_counter()
    for _ in range(steps):
        trainer.step(next(reals), torch.randn(batch, n_features),
                     torch.randn(batch, trainer.G.noise_dim))
    return (time.perf_counter() - start) / (steps * batch) * 1000


def sec_per_kimg(cfg_name: str, resolution: int, batch: int, steps: int,
                 variant: str = "after") -> float:
    """Mean seconds per 1000 images over ``steps`` timed steps of one variant (after warm-up)."""
    trainer = make_trainer(cfg_name, resolution, batch, variant)
    reals = real_batches(resolution, batch)
    timed_steps(trainer, reals, 2)
    return timed_steps(trainer, reals, steps)


def compare(cfg_name: str, resolution: int, batch: int, steps: int, rounds: int) -> dict:
    """Both variants in turns; their median sec/kimg and the speed-up (before / after)."""
    trainers = {v: make_trainer(cfg_name, resolution, batch, v) for v in ("before", "after")}
    reals = real_batches(resolution, batch)
    for trainer in trainers.values():
        timed_steps(trainer, reals, 2)
        trainer.step_count = 0  # every round of R1_INTERVAL steps holds one R1 step
    times: dict[str, list[float]] = {v: [] for v in trainers}
    for r in range(rounds):
        order = list(trainers) if r % 2 == 0 else list(reversed(trainers))
        for variant in order:
            times[variant].append(timed_steps(trainers[variant], reals, steps))
    before, after = (statistics.median(times[v]) for v in ("before", "after"))
    ratios = [b / a for b, a in zip(times["before"], times["after"], strict=True)]
    return {"train_sec_per_kimg_before": before, "train_sec_per_kimg": after,
            "train_speedup": statistics.median(ratios), "train_speedup_min": min(ratios),
            "train_rounds": rounds, "train_steps_per_round": steps}


def main() -> None:
    """Print the figures, then one JSON line."""
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cfg", default="128", choices=sorted(CONFIGS))
    parser.add_argument("--resolution", type=int)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--steps", type=int, default=R1_INTERVAL,
                        help="steps per round (16 holds one lazy R1 step)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = CONFIGS[args.cfg]
    resolution, batch = args.resolution or cfg.resolution, args.batch or cfg.batch
    f = compare(args.cfg, resolution, batch, args.steps, args.rounds)
    print(f"cfg {args.cfg}, {resolution} px, batch {batch}, {args.threads} CPU thread(s): "
          f"before {f['train_sec_per_kimg_before']:.1f} sec/kimg, now "
          f"{f['train_sec_per_kimg']:.1f} sec/kimg: {f['train_speedup']:.2f}x "
          f"(lowest round {f['train_speedup_min']:.2f}x)")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in f.items()}))


if __name__ == "__main__":
    main()
