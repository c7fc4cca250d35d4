"""The upscaler's training loop: ticks, snapshots, metrics and pictures, like train.py's.

A run folder gets ``network-snapshot-NNNNNN.pt`` (upscaler, its EMA, discriminator, optimisers,
config), ``fakes-NNNNNN.png`` (rows of: the 128 px input enlarged by pixel repetition, the
upscaled painting, a real crop), ``stats.jsonl``, TensorBoard scalars and ``timelapse.gif``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from models.evaluation.metrics import multiscale_swd
from models.evaluation.orientation import orientation_figure
from models.training.run_folder import StatsLog, prepare_run_dir
from models.training.snapshots import (
    Timelapse,
    checkpoint_name,
    link_latest,
    save_atomic,
    save_grid,
)
from models.upscaler.data import (
    aligned_windows,
    base_paintings,
    downscale,
    random_windows,
    real_crops,
    to_float,
)
from models.upscaler.lattice import lattice_figure
from models.upscaler.trainer import UpscaleTrainer

GRID_ROWS = 3  # of base paintings, then as many of real crops
POSTFIX_KEYS = ("sec_per_kimg", "loss_rec", "loss_adv", "loss_equivariance", "loss_D")


class UpscaleData:
    """Real crops at the output size and a pool of the base model's paintings.

    Parameters
    ----------
    config : dict
        The run's configuration (``images``, ``base``, ``resolution``, ``scale``, ...).
    """

    def __init__(self, config: dict) -> None:
        self.reals = real_crops(config["images"], config["resolution"],
                                config["crops_per_image"], config["seed"])
        self.base = base_paintings(config["base"], config["base_count"], config["seed"],
                                   config["threads"])
        self.scale = config["scale"]

    def batch(self, config: dict, gen: torch.Generator):
        """One training batch: (real windows, their downscales, base painting windows)."""
        index = torch.randint(0, len(self.reals), (config["batch"],), generator=gen)
        high = to_float(self.reals.batch(index))
        high_win, low_win = aligned_windows(high, downscale(high, self.scale), config["patch"],
                                            self.scale, gen)
        pick = torch.randint(0, len(self.base), (config["base_batch"],), generator=gen)
        base_win = random_windows(to_float(self.base[pick]), config["patch"] // self.scale, gen)
        return high_win, low_win, base_win

    def metric_sets(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` real crops and ``n`` base paintings, the same ones at every snapshot."""
        gen = torch.Generator().manual_seed(seed + 11)
        reals = to_float(self.reals.batch(torch.randperm(len(self.reals), generator=gen)[:n]))
        base = to_float(self.base[torch.randperm(len(self.base), generator=gen)[:n]])
        return reals, base


def lanczos(images: torch.Tensor, scale: int) -> torch.Tensor:
    """Float images [N, 3, r, r] enlarged ``scale`` times with PIL's Lanczos filter."""
    out = []
    for img in images:
        arr = ((img.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
        big = Image.fromarray(arr).resize((arr.shape[1] * scale, arr.shape[0] * scale),
                                          Image.Resampling.LANCZOS)
        out.append(torch.from_numpy(np.array(big)).permute(2, 0, 1))
    return to_float(torch.stack(out))


@torch.no_grad()
def upscale_all(upscaler, images: torch.Tensor, chunk: int = 8) -> torch.Tensor:
    """``upscaler`` over ``images`` in chunks on its own device, clamped to [-1, 1], on the CPU."""
    device = next(upscaler.parameters()).device
    return torch.cat([upscaler(c.to(device)).clamp(-1, 1).cpu() for c in images.split(chunk)])


def fine_bands(swd: dict, resolution: int) -> float:
    """Mean SWD of the two finest pyramid levels (the detail an upscaler adds)."""
    return (swd[f"swd_{resolution}px"] + swd[f"swd_{resolution // 2}px"]) / 2


@torch.no_grad()
def upscaler_metrics(upscaler, reals: torch.Tensor, base: torch.Tensor, seed: int) -> dict:
    """SWD of upscaled base paintings to real crops, and the reconstruction error.

    The SWD is per pyramid level, over the two finest (``upscaled_swd_fine``) and over all; the
    reconstruction error is the L1 (on 0-255) of upscaled real downscales to the real crops.
    """
    resolution, scale = reals.shape[-1], reals.shape[-1] // base.shape[-1]
    upscaled = upscale_all(upscaler, base)
    swd = multiscale_swd(upscaled, reals, seed=seed)
    rec = upscale_all(upscaler, downscale(reals, scale))
    return {**{f"upscaled_{k}": v for k, v in swd.items()},
            "upscaled_swd_fine": fine_bands(swd, resolution),
            "upscaled_lattice": lattice_figure(upscaled, scale),
            "upscaled_orientation": orientation_figure(upscaled),
            "reconstruction_l1": float((rec - reals).abs().mean()) * 127.5}


def lanczos_metrics(reals: torch.Tensor, base: torch.Tensor, seed: int) -> dict:
    """The same SWD figures for Lanczos enlargements of the base paintings (the baseline)."""
    resolution, scale = reals.shape[-1], reals.shape[-1] // base.shape[-1]
    swd = multiscale_swd(lanczos(base, scale), reals, seed=seed)
    return {"lanczos_swd_fine": fine_bands(swd, resolution), "lanczos_swd_mean": swd["swd_mean"],
            "real_lattice": lattice_figure(reals, scale),
            "real_orientation": orientation_figure(reals)}


def pixel_repeat(images: torch.Tensor, scale: int) -> torch.Tensor:
    """Nearest-neighbour enlargement: how the input looks, pixel for pixel."""
    return images.repeat_interleave(scale, dim=-2).repeat_interleave(scale, dim=-1)


@torch.no_grad()
def write_grid(trainer: UpscaleTrainer, reals: torch.Tensor, base: torch.Tensor,
               path: Path) -> np.ndarray:
    """Rows of (input, upscaled, real crop): base paintings first, then real downscales."""
    scale = trainer.scale
    low = torch.cat([base[:GRID_ROWS], downscale(reals[GRID_ROWS:2 * GRID_ROWS], scale)])
    real = reals[:2 * GRID_ROWS]
    up = upscale_all(trainer.U_ema, low)
    cells = torch.stack([pixel_repeat(low, scale), up, real], dim=1).flatten(0, 1)
    return save_grid(cells, 3, path)


def snapshot(trainer, config: dict, metric_sets, baseline: dict, run_dir: Path, tick: int,
             timelapse: Timelapse) -> dict:
    """Metrics, the grid and the checkpoint of ``tick``; return the metrics."""
    reals, base = metric_sets
    metrics = {**upscaler_metrics(trainer.U_ema, reals, base, config["seed"]), **baseline}
    timelapse.add(write_grid(trainer, reals, base, run_dir / f"fakes-{tick:06d}.png"))
    state = trainer.state_dict()
    state.update(tick=tick, config=config, metrics=metrics, rng={"torch": torch.get_rng_state()})
    save_atomic(state, run_dir / checkpoint_name(tick))
    link_latest(run_dir / checkpoint_name(tick))
    return metrics


def run_tick(trainer: UpscaleTrainer, data: UpscaleData, config: dict, tick: int) -> dict:
    """Train until the next tick boundary; return the tick's mean losses."""
    gen = torch.Generator().manual_seed(config["seed"] * 1_000_003 + tick)
    end = (tick + 1) * config["tick_kimg"]
    totals: dict[str, float] = {}
    steps = 0
    while trainer.kimg < min(end, config["kimg"]) - 1e-9:
        for key, value in trainer.step(*data.batch(config, gen)).items():
            totals[key] = totals.get(key, 0.0) + value
        steps += 1
    return {k: v / max(steps, 1) for k, v in totals.items()}


def run(config: dict, resume_state: dict | None = None) -> Path:
    """Train the upscaler according to ``config``; return the run folder."""
    torch.manual_seed(config["seed"])
    data = UpscaleData(config)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    trainer = UpscaleTrainer(config["U_kwargs"], config["D_kwargs"], config["train"], device)
    tick = 0
    if resume_state is not None:
        trainer.load_state_dict(resume_state)
        if "rng" in resume_state:
            torch.set_rng_state(resume_state["rng"]["torch"])
        tick = int(resume_state.get("tick", 0))
    run_dir = Path(config["run_dir"])
    prepare_run_dir(run_dir, config, tick)
    metric_sets = data.metric_sets(config["metric_images"], config["seed"])
    baseline = lanczos_metrics(*metric_sets, config["seed"])
    log = StatsLog(run_dir, config["kimg"], trainer.kimg, POSTFIX_KEYS)
    timelapse = Timelapse(run_dir)
    try:
        while trainer.kimg < config["kimg"] - 1e-9:
            start = time.perf_counter()
            losses = run_tick(trainer, data, config, tick)
            tick += 1
            record = {"tick": tick, "kimg": round(trainer.kimg, 6), **losses,
                      "sec_per_kimg": (time.perf_counter() - start) / config["tick_kimg"],
                      "timestamp": time.time()}
            if tick % config["snap"] == 0 or trainer.kimg >= config["kimg"] - 1e-9:
                record.update(snapshot(trainer, config, metric_sets, baseline, run_dir, tick,
                                       timelapse))
            log.write(record)
    finally:
        log.close()
    return run_dir
