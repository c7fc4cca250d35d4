"""What a training snapshot writes: the checkpoint (atomically) and the pictures to look at."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch

from installation.errors import ConfigError

CHECKPOINT_PATTERN = re.compile(r"^network-snapshot-(\d+)\.pt$")
LATEST_NAME = "network-snapshot-latest.pt"
GRID_PATTERN = re.compile(r"^fakes-(\d+)\.png$")
RUN_DIR_PATTERN = re.compile(r"^(\d{5})-")


def next_run_dir(outdir: Path, cfg: str, resolution: int) -> Path:
    """``outdir/NNNNN-cfg-Rpx`` with the next free number."""
    ids = [int(m.group(1)) for p in outdir.glob("*") if (m := RUN_DIR_PATTERN.match(p.name))]
    return outdir / f"{max(ids, default=-1) + 1:05d}-{cfg}-{resolution}px"


def checkpoint_name(tick: int) -> str:
    """File name of the checkpoint written at ``tick``."""
    return f"network-snapshot-{tick:06d}.pt"


def save_atomic(obj: dict, path: Path) -> None:
    """``torch.save`` to a temporary file, then rename over ``path`` (complete or absent)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def link_latest(checkpoint: Path) -> Path:
    """Point ``network-snapshot-latest.pt`` at ``checkpoint`` (hard link, else a copy)."""
    latest = checkpoint.with_name(LATEST_NAME)
    tmp = latest.with_name(LATEST_NAME + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(checkpoint, tmp)
    except OSError:
        shutil.copyfile(checkpoint, tmp)
    os.replace(tmp, latest)
    return latest


def checkpoints(run_dir: Path) -> list[Path]:
    """The run's complete checkpoints, oldest first."""
    found = [p for p in Path(run_dir).iterdir() if CHECKPOINT_PATTERN.match(p.name)]
    return sorted(found, key=lambda p: int(CHECKPOINT_PATTERN.match(p.name).group(1)))


def latest_checkpoint(run: str | Path) -> Path:
    """The newest checkpoint of a run folder (or ``run`` itself when it is a .pt file)."""
    run = Path(run)
    if run.is_file():
        return run
    if not run.is_dir():
        raise ConfigError(f"The run {run} to resume does not exist; pass a run folder such as "
                          "runs/00000-tiny-64px.")
    found = checkpoints(run)
    if not found:
        raise ConfigError(f"The run {run} has no checkpoint yet; start a new run instead of "
                          "--resume.")
    return found[-1]


def to_uint8_hwc(images: torch.Tensor) -> np.ndarray:
    """Float NCHW in [-1, 1] -> uint8 NHWC."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def tile(images: np.ndarray, columns: int) -> np.ndarray:
    """Lay out uint8 NHWC images row by row, ``columns`` per row."""
    n, h, w, c = images.shape
    rows = -(-n // columns)
    canvas = np.zeros((rows * h, columns * w, c), dtype=np.uint8)
    for i, img in enumerate(images):
        r, col = divmod(i, columns)
        canvas[r * h:(r + 1) * h, col * w:(col + 1) * w] = img
    return canvas


def save_grid(images: torch.Tensor, columns: int, path: Path) -> np.ndarray:
    """Write a grid PNG of float images in [-1, 1]; return the grid."""
    grid = tile(to_uint8_hwc(images), columns)
    iio.imwrite(path, grid)
    return grid


def save_nearest_panel(fakes: torch.Tensor, reals: torch.Tensor, path: Path) -> None:
    """Write pairs (fake, its nearest real crop) side by side, one pair per row."""
    pairs = torch.stack([fakes.float().cpu(), reals.float().cpu()], dim=1).flatten(0, 1)
    save_grid(pairs, 2, path)


class Timelapse:
    """A GIF of the run's fakes grids in snapshot order, grown by one frame per snapshot.

    Grids already in the run folder (a resumed run) are read once here; later grids are added
    from memory, so a snapshot never decodes the earlier PNGs again.

    Parameters
    ----------
    run_dir : Path
        The run folder holding ``fakes-NNNNNN.png``.
    max_side : int
        Frames are subsampled until their longer side fits.
    """

    def __init__(self, run_dir: Path, max_side: int = 512) -> None:
        self.path = run_dir / "timelapse.gif"
        self.max_side = max_side
        grids = sorted((p for p in run_dir.iterdir() if GRID_PATTERN.match(p.name)),
                       key=lambda p: int(GRID_PATTERN.match(p.name).group(1)))
        self.frames = [shrink(iio.imread(p), max_side) for p in grids]

    def add(self, grid: np.ndarray) -> None:
        """Append a new grid and rewrite the GIF atomically."""
        self.frames.append(shrink(grid, self.max_side))
        tmp = self.path.with_name("tmp-" + self.path.name)
        iio.imwrite(tmp, np.stack(self.frames), duration=500, loop=0)
        os.replace(tmp, self.path)


def shrink(img: np.ndarray, max_side: int) -> np.ndarray:
    """Subsample by an integer step until the longer side fits ``max_side``."""
    step = -(-max(img.shape[:2]) // max_side)
    return img[::step, ::step]
