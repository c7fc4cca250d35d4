"""The training loop: ticks of steps, statistics, and snapshots that a killed run resumes from.

``run(config)`` trains from a resolved configuration (see ``train.py``). Every tick appends a
line to ``stats.jsonl`` and TensorBoard; every ``snap`` ticks a snapshot writes the checkpoint
(atomically), a fakes grid with fixed EEG windows and seeds, a nearest-real panel (both into
TensorBoard too) and the metrics; the timelapse GIF gains a frame every ``timelapse_every``
ticks (1: every tick), and the run ends with a summary of what it wrote. Each tick draws its
batches from a generator seeded by (seed, rank, tick), so a resumed run continues exactly where
its last snapshot left off.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.profile import load_profile
from models.bundles.checkpoint import load_bundle_weights
from models.evaluation.inception import fid_kid, load_detector
from models.evaluation.metrics import (
    critic_separation,
    eeg_sensitivity,
    multiscale_swd,
    nearest_reals,
)
from models.training.dataset import CropSettings, PaintingCrops, to_float
from models.training.feature_pool import FeaturePool
from models.training.run_folder import StatsLog, prepare_run_dir
from models.training.run_summary import print_run_summary
from models.training.snapshots import (
    Timelapse,
    checkpoint_name,
    link_latest,
    save_atomic,
    save_grid,
    save_nearest_panel,
    snapshot_stem,
    tile,
    to_uint8_hwc,
)
from models.training.trainer import Trainer

GRID_ROWS, GRID_COLUMNS = 4, 6
STEERING_SAMPLE = 4096  # hops a checkpoint keeps of its EEG (400 kB for 25 features)
EYES_CLOSED, EYES_OPEN = "S001R02.edf", "S001R01.edf"


def setup_distributed() -> tuple[int, int, torch.device]:
    """Join the torchrun process group if there is one; return (rank, world size, device)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device("cuda", local) if cuda else torch.device("cpu")
    if cuda:
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick the fastest kernels
    if world > 1 and not dist.is_initialized():
        if cuda:
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if cuda else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    return rank, world, device


def finish_distributed(together: bool = True) -> None:
    """Leave the process group, if there is one.

    Parameters
    ----------
    together : bool
        Wait for every peer first (gloo aborts when a peer tears down mid-exit); a process
        that failed leaves at once, since its peers would never reach the barrier.
    """
    if dist.is_available() and dist.is_initialized():
        if together:
            dist.barrier()
        dist.destroy_process_group()


def tick_seed(seed: int, rank: int, tick: int) -> int:
    """The seed of one tick on one process."""
    return ((seed * 1_000_003 + tick) * 101 + rank) % 2**63


def tick_generator(seed: int, rank: int, tick: int) -> torch.Generator:
    """The batch sampling generator of one tick on one process."""
    return torch.Generator().manual_seed(tick_seed(seed, rank, tick))


def build_trainer(config: dict, pool: FeaturePool, device: torch.device) -> Trainer:
    """A Trainer for ``config``, its generator standardising features with the pool's stats."""
    torch.manual_seed(config["seed"])
    trainer = Trainer(config["G_kwargs"], config["D_kwargs"], config["train"], device)
    trainer.set_feature_stats(pool.mean, pool.std)
    return trainer


def sample_batch(dataset: PaintingCrops, pool: FeaturePool, n: int, noise_dim: int,
                 gen: torch.Generator, device: torch.device):
    """Real crops in [-1, 1], random EEG hops and noise for one step."""
    idx = torch.randint(len(dataset), (n,), generator=gen)
    reals = to_float(dataset.batch(idx).to(device))  # uint8 travels, the device converts
    features = pool.sample(n, gen).to(device)
    noise = torch.randn(n, noise_dim, generator=gen).to(device)
    return reals, features, noise


def run_tick(trainer: Trainer, dataset, pool, config: dict, rank: int, world: int,
             tick: int) -> dict:
    """Train for one tick; return the tick's mean losses."""
    gen = tick_generator(config["seed"], rank, tick)
    # Augmentation and the generator's noise draw from the global RNGs (CPU and CUDA): seed them
    # per tick too, so a resumed run repeats exactly what the killed one would have done.
    torch.manual_seed(tick_seed(config["seed"], rank, tick) + 1)
    local_batch = config["train"]["batch"] // world
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for _ in range(config["steps_per_tick"]):
        batch = sample_batch(dataset, pool, local_batch, config["G_kwargs"]["noise_dim"], gen,
                             trainer.device)
        for key, value in trainer.step(*batch).items():
            sums[key] = sums.get(key, 0.0) + value
            counts[key] = counts.get(key, 0) + 1
    return {k: sums[k] / counts[k] for k in sums}


def grid_inputs(pool: FeaturePool, noise_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed EEG windows (one per row) and seeds (one per column) of the fakes grid."""
    windows = pool.fixed_windows(GRID_ROWS).repeat_interleave(GRID_COLUMNS, dim=0)
    gen = torch.Generator().manual_seed(123)
    noise = torch.randn(GRID_COLUMNS, noise_dim, generator=gen).repeat(GRID_ROWS, 1)
    return windows, noise


def sensitivity_windows(pool: FeaturePool, n: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Eyes-closed vs eyes-open windows when both recordings are in the pool, else pool halves."""
    if EYES_CLOSED in pool.per_file and EYES_OPEN in pool.per_file:
        a = FeaturePool({EYES_CLOSED: pool.per_file[EYES_CLOSED]}).fixed_windows(n)
        b = FeaturePool({EYES_OPEN: pool.per_file[EYES_OPEN]}).fixed_windows(n)
        return a, b, "eyes_closed_vs_open"
    windows = pool.fixed_windows(2 * n)
    return windows[:n], windows[n:], "pool_first_vs_second_half"


@torch.no_grad()
def evaluate(trainer: Trainer, dataset, pool, config: dict) -> dict:
    """G_ema's metrics (SWD, FID/KID with --inception, EEG sensitivity) and D's separation."""
    return generator_metrics(trainer.G_ema, dataset, pool, config, trainer.device,
                             trainer.detector, critic=trainer.D)


@torch.no_grad()
def generator_metrics(g, dataset, pool, config: dict, device: torch.device | None = None,
                      detector=None, critic=None) -> dict:
    """A generator's SWD (FID/KID with a detector) to real crops, and its EEG sensitivity.

    The crops, windows and noise are drawn from the run's seed, so a snapshot and a generator
    distilled from it are measured on the same ones. With a ``critic`` (the run's D), also how
    well it tells those crops from those paintings (:func:`critic_separation`).
    """
    device = device or torch.device("cpu")
    n = min(config["metric_images"], len(dataset))
    gen = torch.Generator().manual_seed(config["seed"] + 7)
    reals = to_float(dataset.batch(torch.randperm(len(dataset), generator=gen)[:n]))
    features = pool.sample(n, gen)
    noise = torch.randn(n, g.noise_dim, generator=gen)
    fakes = torch.cat([g(f.to(device), z.to(device)).cpu()
                       for f, z in zip(features.split(16), noise.split(16), strict=True)])
    metrics = multiscale_swd(fakes, reals, seed=config["seed"])
    if detector is not None:
        metrics.update(fid_kid(detector, fakes, reals))
    if critic is not None:
        metrics.update(critic_separation(critic, fakes.to(device), reals.to(device)))
    a, b, label = sensitivity_windows(pool, 8)
    metrics.update(eeg_sensitivity(g, a.to(device), b.to(device), noise[:8].to(device)))
    metrics["eeg_sensitivity_pair"] = label
    return metrics


@torch.no_grad()
def fakes_grid(trainer: Trainer, pool, config: dict) -> tuple[torch.Tensor, np.ndarray]:
    """G_ema's paintings of the fixed EEG windows and seeds, and their uint8 grid."""
    windows, noise = grid_inputs(pool, config["G_kwargs"]["noise_dim"])
    fakes = trainer.G_ema(windows.to(trainer.device), noise.to(trainer.device)).cpu()
    return fakes, tile(to_uint8_hwc(fakes), GRID_COLUMNS)


@torch.no_grad()
def write_pictures(trainer: Trainer, dataset, pool, config: dict, run_dir: Path,
                   tick: int, timelapse: Timelapse) -> dict:
    """Fakes grid, nearest-real panel and timelapse frame; return the pictures by name."""
    stem = snapshot_stem(tick, trainer.kimg)
    fakes, _ = fakes_grid(trainer, pool, config)
    grid = save_grid(fakes, GRID_COLUMNS, run_dir / f"fakes-{stem}.png")
    candidates = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(5))[:2048]
    reals = to_float(dataset.batch(candidates))
    nearest = reals[nearest_reals(fakes[:GRID_COLUMNS], reals)]
    panel = save_nearest_panel(fakes[:GRID_COLUMNS], nearest, run_dir / f"nearest-{stem}.png")
    timelapse.add(grid)
    return {"fakes": grid, "nearest_real": panel}


def snapshot(trainer: Trainer, dataset, pool, config: dict, run_dir: Path, tick: int,
             timelapse: Timelapse) -> tuple[dict, dict]:
    """Metrics and pictures of ``tick`` (the checkpoint is saved apart)."""
    metrics = evaluate(trainer, dataset, pool, config)
    return metrics, write_pictures(trainer, dataset, pool, config, run_dir, tick, timelapse)


def timelapse_due(tick: int, config: dict) -> bool:
    """Whether ``tick`` adds a timelapse frame (``timelapse_every``: 1 every tick, 0 none)."""
    every = config.get("timelapse_every", 1)
    return bool(every) and tick % every == 0


def timelapse_grids(tick: int, config: dict) -> int:
    """Grids offered to the timelapse up to ``tick``: one per due tick or snapshot."""
    return sum(1 for t in range(1, tick + 1)
               if timelapse_due(t, config) or t % config["snap"] == 0)


def steering_sample(pool: FeaturePool, count: int = STEERING_SAMPLE) -> torch.Tensor:
    """Up to ``count`` hops spread over the pool (what a checkpoint keeps of its EEG)."""
    return pool.fixed_windows(min(count, len(pool.all))).clone()


def save_checkpoint(trainer: Trainer, config: dict, run_dir: Path, tick: int,
                    metrics: dict, pool: FeaturePool) -> None:
    """Save the checkpoint of ``tick``, with a sample of the steering it trains on.

    It is written after the tick's stats line: a kill between the two leaves a run that resumes
    from the previous checkpoint and writes the line again, never a checkpoint without its line.
    The steering sample lets a later re-fit of the mapping (:mod:`models.adaptation.mapping_fit`)
    find the ``w`` the synthesis network learned to paint from.
    """
    state = trainer.state_dict()
    state.update(tick=tick, config=config, metrics=metrics,
                 G_kwargs=config["G_kwargs"], D_kwargs=config["D_kwargs"],
                 steering_sample=steering_sample(pool),
                 rng={"torch": torch.get_rng_state()})
    name = checkpoint_name(tick, trainer.kimg)
    save_atomic(state, run_dir / name)
    link_latest(run_dir / name)


def load_data(config: dict) -> tuple[PaintingCrops, FeaturePool]:
    """The crops and the EEG feature pool of a configuration."""
    return PaintingCrops(config["images"], CropSettings(**config["crops"])), load_steering(config)


def load_steering(config: dict) -> FeaturePool:
    """The steering of a configuration: its ``steering_file``, else its recordings read now.

    A steering file (a pool saved beforehand, as a travel pack carries it) stands in for the
    recordings. Only reading recordings needs the EEG file libraries, so only then are they
    imported: a lent GPU machine has none of them.
    """
    if config.get("steering_file"):
        return FeaturePool.load(config["steering_file"])
    # the recordings' readers (MNE, pyxdf, BrainFlow) load only here: a leg has none
    from models.training.conditioning import load_feature_pool, load_people_pool

    spec = FeatureSpec.from_dict(config["feature_spec"])
    if config.get("people"):
        return load_people_pool([person_of(entry) for entry in config["people"]], spec)
    profile = load_profile(config["eeg_profile"]) if config.get("eeg_profile") else None
    return load_feature_pool(config["eeg"], spec, profile)


def person_of(entry: dict):
    """A :class:`~models.training.conditioning.Person` from its configuration entry."""
    from models.training.conditioning import Person  # with the readers, as in load_steering

    profile = load_profile(entry["profile"]) if entry.get("profile") else None
    return Person(entry["name"], tuple(Path(p) for p in entry["eeg"]), profile,
                  entry.get("stretches") or {})


def past(deadline: float | None) -> bool:
    """Whether the wall clock has passed ``deadline`` (``time.time()`` seconds; None: never).

    A leg on a lent machine has minutes, not kimg: it ends after the tick that passes its
    deadline, with a snapshot, as a run that reached its kimg does. A leg is one process:
    several would each read their own clock and could stop a tick apart.
    """
    return deadline is not None and time.time() >= deadline


def run(config: dict, resume_state: dict | None = None) -> Path:
    """Train according to ``config`` (resuming from ``resume_state``); return the run folder."""
    rank, world, device = setup_distributed()
    dataset, pool = load_data(config)
    config = {**config, "image_count": dataset.image_count}
    trainer = build_trainer(config, pool, device)
    if config.get("inception"):
        trainer.detector = load_detector(config["inception"], device)
    tick = 0
    if resume_state is None and config.get("init_bundle"):
        with_d = load_bundle_weights(trainer, config["init_bundle"])
        print(f"continuing {config['init_bundle']}"
              + ("" if with_d else " (it carries no discriminator: a fresh one starts; "
                 "`train.py --resume BUNDLE --adapt discriminator` warms one up first)"))
    if resume_state is not None:
        trainer.load_state_dict(resume_state)
        if "rng" in resume_state:  # a campaign's resume checkpoint carries none
            torch.set_rng_state(resume_state["rng"]["torch"])
        tick = int(resume_state["tick"])
    run_dir = Path(config["run_dir"])
    if rank == 0:
        prepare_run_dir(run_dir, config, tick)
    log = StatsLog(run_dir, config["kimg"], trainer.kimg) if rank == 0 else None
    grids_before = timelapse_grids(tick, config)
    timelapse = Timelapse(run_dir, grids_before=grids_before) if rank == 0 else None
    finished = done = False
    try:
        while not done and trainer.kimg < config["kimg"] - 1e-9:
            start = time.perf_counter()
            losses = run_tick(trainer, dataset, pool, config, rank, world, tick)
            tick += 1
            seconds = time.perf_counter() - start
            record = {"tick": tick, "kimg": round(trainer.kimg, 6), **losses,
                      "sec_per_kimg": seconds / config["tick_kimg"], "rt": trainer.ada.rt,
                      "augment_p": trainer.ada.p, "timestamp": time.time()}
            done = trainer.kimg >= config["kimg"] - 1e-9 or past(config.get("deadline"))
            snapping = rank == 0 and (tick % config["snap"] == 0 or done)
            metrics, pictures = snapshot(trainer, dataset, pool, config, run_dir, tick,
                                         timelapse) if snapping else ({}, {})
            if rank == 0 and not snapping and timelapse_due(tick, config):
                pictures = {"fakes": fakes_grid(trainer, pool, config)[1]}
                timelapse.add(pictures["fakes"], write=False)  # written at snapshots
            record.update(metrics)
            if log is not None:
                log.write(record)
                log.pictures(pictures, trainer.kimg)
            if snapping:
                save_checkpoint(trainer, config, run_dir, tick, metrics, pool)
        finished = True
    finally:
        if log is not None:
            log.close()
        finish_distributed(together=finished)
    if rank == 0:
        print_run_summary(run_dir)
    return run_dir
