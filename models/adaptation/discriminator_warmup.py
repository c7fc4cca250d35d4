"""Warming a discriminator up against a generator that stays as it is.

A bundle exported from a run that kept no discriminator (the default model's was lost with its
run) can still be continued by GAN training, but a fresh discriminator knows nothing of the
generator: for its first thousands of images its gradients steer the generator at random and
the paintings pay for it. ``python train.py --resume BUNDLE --adapt discriminator --images DIR``
trains the discriminator alone, on the artist's crops against the bundle's own paintings (for
the steering the bundle keeps), and writes a run whose checkpoint carries it. The generator, its
EMA and so every painting the bundle makes stay exactly as they were; a continuation then starts
with a critic that already tells this generator's paintings from the artist's.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from installation.bundle import BundleSpec, resolve_bundle_paths
from models.adaptation.adapt import lineage_entry
from models.configs import CONFIGS, CPU_CFG
from models.training.dataset import PaintingCrops, to_float
from models.training.snapshots import checkpoint_name, link_latest, save_atomic
from models.training.trainer import Trainer

# A fixed draw of crops and paintings on which the before and after figures are taken.
CHECK_COUNT = 64


@dataclass(frozen=True)
class WarmupSettings:
    """How long the discriminator trains alone.

    Attributes
    ----------
    steps : int
        Discriminator steps (about 1.5 s each for the 128 px configuration on two CPU cores).
    batch : int
        Real crops and paintings per step.
    seed : int
        Seed of the crops, steering, noise and augmentation.
    """

    steps: int = 1000
    batch: int = 16
    seed: int = 0

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


def config_of(g_kwargs: dict) -> str:
    """The name of the configuration whose generator has these shapes (the CPU one if none)."""
    channels = {int(k): int(v) for k, v in g_kwargs["channels"].items()}
    for name, cfg in CONFIGS.items():
        if cfg.g_channels == channels and cfg.w_dim == g_kwargs["w_dim"]:
            return name
    return CPU_CFG


def warmup_trainer(ckpt: dict, batch: int) -> tuple[Trainer, dict]:
    """Build a trainer around the checkpoint's EMA generator and its discriminator.

    The EMA generator serves as both G and G_ema; a checkpoint without a discriminator
    gets a fresh one of the matching configuration. Returns the trainer and the
    discriminator's arguments.
    """
    g_kwargs = ckpt["G_kwargs"]
    cfg = CONFIGS[config_of(g_kwargs)]
    _, d_kwargs, train = cfg.network_kwargs(int(g_kwargs["resolution"]), batch,
                                            int(g_kwargs["n_features"]))
    d_kwargs = ckpt.get("D_kwargs") or d_kwargs
    trainer = Trainer(g_kwargs, d_kwargs, train, torch.device("cpu"))
    # the paintings the show makes are the EMA's: that is what the critic must learn
    trainer.G.load_state_dict(ckpt["G_ema"])
    trainer.G_ema.load_state_dict(ckpt["G_ema"])
    if "D" in ckpt:
        trainer.D.load_state_dict(ckpt["D"])
    return trainer, d_kwargs


def fake_inputs(ckpt: dict, count: int, noise_dim: int,
                generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Steering (drawn from the sample the bundle keeps) and noise for ``count`` paintings."""
    steering = ckpt.get("steering_sample")
    if steering is None or not len(steering):
        g_ema = ckpt["G_ema"]
        mean, std = g_ema["mapping.feature_mean"], g_ema["mapping.feature_std"]
        features = mean + std * torch.randn(count, len(mean), generator=generator)
    else:
        features = steering[torch.randint(len(steering), (count,), generator=generator)]
    return features.float(), torch.randn(count, noise_dim, generator=generator)


def real_batch(crops: PaintingCrops, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` random crops in [-1, 1]."""
    picks = torch.randint(len(crops), (count,), generator=generator)
    return to_float(crops.batch(picks))


@torch.no_grad()
def separation(trainer: Trainer, reals: torch.Tensor, features: torch.Tensor,
               noise: torch.Tensor) -> dict[str, float]:
    """How well the discriminator tells real crops from the generator's paintings.

    Returns the mean logit on each and the share it gets right (real above zero, painting
    below): 0.5 is a coin, a fresh discriminator's level.
    """
    real = trainer.D(reals).flatten()
    fake = trainer.D(trainer.G_ema(features, noise)).flatten()
    right = (real > 0).float().sum() + (fake < 0).float().sum()
    return {"real_logit": float(real.mean()), "painting_logit": float(fake.mean()),
            "accuracy": float(right) / (len(real) + len(fake))}


def warm_discriminator(trainer: Trainer, ckpt: dict, crops: PaintingCrops,
                       settings: WarmupSettings, progress=None) -> dict[str, float]:
    """Train ``trainer.D`` alone; return its separation before and after, and the seconds.

    Parameters
    ----------
    trainer : Trainer
        From :func:`warmup_trainer`; its generators are not changed.
    ckpt : dict
        The bundle's checkpoint (for its steering sample).
    crops : PaintingCrops
        The artist's crops at the generator's resolution.
    settings : WarmupSettings
        Steps, batch and seed.
    progress : callable, optional
        Called as ``progress(step, loss_D)`` after every step.
    """
    generator = torch.Generator().manual_seed(settings.seed)
    torch.manual_seed(settings.seed)  # the augmentation draws from the global generator
    noise_dim = int(ckpt["G_kwargs"]["noise_dim"])
    check = (real_batch(crops, CHECK_COUNT, generator),
             *fake_inputs(ckpt, CHECK_COUNT, noise_dim, generator))
    before = separation(trainer, *check)
    began = time.perf_counter()
    for index in range(settings.steps):
        reals = real_batch(crops, settings.batch, generator)
        features, noise = fake_inputs(ckpt, settings.batch, noise_dim, generator)
        with torch.no_grad():
            fakes = trainer.G(features, noise)
        loss = trainer.discriminator_step(reals, fakes)["loss_D"]
        trainer.adjust_augmentation()
        trainer.step_count += 1  # paces the lazy R1; the generator's kimg stay as they were
        if progress is not None:
            progress(index + 1, loss)
    after = separation(trainer, *check)
    return {**{f"{k}_before": v for k, v in before.items()}, **after,
            "augment_p": trainer.ada.p, "seconds": round(time.perf_counter() - began, 1)}


def warmup_run_config(bundle_dir: str | Path, ckpt: dict, images: str, crops: dict,
                      settings: WarmupSettings, run_dir: Path) -> dict:
    """The run's configuration: the bundle's own, with this warm-up added to its lineage."""
    base = ckpt.get("config", {})
    trained = BundleSpec.load(resolve_bundle_paths(bundle_dir)[1]).provenance
    lineage = [*base.get("lineage", []),
               lineage_entry(bundle_dir, ckpt, "discriminator", images=images, crops=crops,
                             warmup=settings.to_dict())]
    return {**base, "images": base.get("images") or (trained.get("data") or {}).get("images"),
            "command": " ".join(["python train.py", *sys.argv[1:]]), "run_dir": str(run_dir),
            "lineage": lineage, "base_bundle": str(Path(bundle_dir).resolve())}


def write_warmup_run(ckpt: dict, trainer: Trainer, d_kwargs: dict, figures: dict, config: dict,
                     run_dir: Path) -> Path:
    """Write the run folder: options, figures and one checkpoint with the warmed critic."""
    run_dir.mkdir(parents=True, exist_ok=True)
    state = {key: ckpt[key] for key in ("G", "G_ema", "G_kwargs", "steering_sample")
             if key in ckpt}
    state.update(D=trainer.D.state_dict(), D_kwargs=d_kwargs, config=config,
                 kimg=float(ckpt.get("kimg", 0)),
                 metrics={**ckpt.get("metrics", {}),
                          **{f"discriminator_warmup_{k}": v for k, v in figures.items()}})
    (run_dir / "training_options.json").write_text(json.dumps(config, indent=2) + "\n")
    (run_dir / "stats.jsonl").write_text(json.dumps({"tick": 0, **figures}) + "\n")
    path = run_dir / checkpoint_name(0)
    save_atomic(state, path)
    link_latest(path)
    return path
