"""Seconds per thousand training images (sec/kimg) of a training configuration on this machine.

Run: ``.venv/bin/python -m benchmarks.train_bench [--cfg tiny] [--resolution R] [--batch N]
[--steps N] [--threads N]``

Times full training steps (D step with lazy R1, G step, EMA, augmentation at p = 0.5) on real
painting crops when ../shared/data is present, random images otherwise; the first steps are
warm-up and not timed.
"""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks import PAINTINGS
from installation.eeg.feature_spec import FeatureSpec
from models.configs import CONFIGS
from models.trainer import Trainer


def real_batches(resolution: int, batch: int):
    """Endless batches of real crops in [-1, 1] (random images without the shared data)."""
    if not PAINTINGS.is_dir():
        while True:
            yield torch.rand(batch, 3, resolution, resolution) * 2 - 1
    from models.dataset import CropSettings, PaintingCrops, to_float

    crops = PaintingCrops(PAINTINGS, CropSettings(resolution, crops_per_image=2))
    gen = torch.Generator().manual_seed(0)
    while True:
        yield to_float(crops.batch(torch.randint(len(crops), (batch,), generator=gen)))


def sec_per_kimg(cfg_name: str, resolution: int, batch: int, steps: int) -> float:
    """Mean seconds per 1000 images over ``steps`` timed training steps."""
    cfg = CONFIGS[cfg_name]
    n_features = FeatureSpec().n_features
    g_kwargs, d_kwargs, train = cfg.network_kwargs(resolution, batch, n_features)
    trainer = Trainer(g_kwargs, d_kwargs, train, torch.device("cpu"))
    trainer.ada.p = 0.5
    reals = real_batches(resolution, batch)
    warmup = 2
    for i in range(warmup + steps):
        if i == warmup:
            start = time.perf_counter()
        trainer.step(next(reals), torch.randn(batch, n_features),
                     torch.randn(batch, cfg.noise_dim))
    return (time.perf_counter() - start) / (steps * batch) * 1000


def main() -> None:
    """Print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cfg", default="tiny", choices=sorted(CONFIGS))
    parser.add_argument("--resolution", type=int)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = CONFIGS[args.cfg]
    resolution, batch = args.resolution or cfg.resolution, args.batch or cfg.batch
    seconds = sec_per_kimg(args.cfg, resolution, batch, args.steps)
    print(f"cfg {args.cfg}, {resolution} px, batch {batch}, {args.threads} CPU threads: "
          f"{seconds:.1f} sec/kimg ({1000 / seconds:.0f} images/s); "
          f"1 kimg in {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
