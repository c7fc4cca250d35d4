"""What a training snapshot writes: the checkpoint (atomically) and the pictures to look at."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from installation.errors import ConfigError

# NNNNNN is the tick; the kimg follows it (older runs' names have no kimg; both are read)
CHECKPOINT_PATTERN = re.compile(r"^network-snapshot-(\d+)(?:-[\d.]+kimg)?\.pt$")
LATEST_NAME = "network-snapshot-latest.pt"
GRID_PATTERN = re.compile(r"^fakes-(\d+)(?:-[\d.]+kimg)?\.png$")
TIMELAPSE_MAX_FRAMES = 400  # about 0.5 MB each at 512 px: a long run's GIF stays small
LABEL_COLUMN_PX = 128  # a labelled panel's columns are enlarged to at least this width
def snapshot_stem(tick: int, kimg: float | None = None) -> str:
    """``000012-0.192kimg``: the tick, then the thousands of images trained (when given)."""
    return f"{tick:06d}" if kimg is None else f"{tick:06d}-{kimg:.3f}kimg"


def checkpoint_name(tick: int, kimg: float | None = None) -> str:
    """File name of the checkpoint written at ``tick``, after ``kimg`` thousand images."""
    return f"network-snapshot-{snapshot_stem(tick, kimg)}.pt"


def checkpoint_tick(path: Path) -> int | None:
    """The tick in a checkpoint's file name; None for other files."""
    match = CHECKPOINT_PATTERN.match(Path(path).name)
    return int(match.group(1)) if match else None


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
    return sorted(found, key=checkpoint_tick)


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


def save_nearest_panel(fakes: torch.Tensor, reals: torch.Tensor, path: Path) -> np.ndarray:
    """Write pairs (fake, its nearest real crop) side by side under labels; return the panel."""
    pairs = torch.stack([fakes.float().cpu(), reals.float().cpu()], dim=1).flatten(0, 1)
    panel = label_columns(tile(to_uint8_hwc(pairs), 2), ("generated", "nearest real crop"))
    iio.imwrite(path, panel)
    return panel


def label_columns(image: np.ndarray, labels) -> np.ndarray:
    """``image`` with a caption above each of its equal columns (enlarged to be readable).

    Columns narrower than ``LABEL_COLUMN_PX`` are enlarged by pixel repetition first, so the
    captions fit over 32 px paintings too.
    """
    column = image.shape[1] // len(labels)
    factor = -(-LABEL_COLUMN_PX // column)
    image = image.repeat(factor, axis=0).repeat(factor, axis=1)
    column *= factor
    font = ImageFont.load_default(size=max(10, column // 9))
    band = int(font.size * 1.6)
    canvas = Image.new("RGB", (image.shape[1], image.shape[0] + band), (255, 255, 255))
    canvas.paste(Image.fromarray(image), (0, band))
    draw = ImageDraw.Draw(canvas)
    for i, label in enumerate(labels):
        draw.text((i * column + column // 2, band // 2), label, fill=(0, 0, 0), font=font,
                  anchor="mm")
    return np.asarray(canvas)


class Timelapse:
    """A GIF of the run's fakes grids in order, grown by one frame each time it is due.

    A long run would otherwise hold thousands of frames: past ``max_frames`` every second
    frame is dropped and from then on only every second grid is kept, so the GIF stays evenly
    spaced over the whole run and its memory bounded. A resumed run starts from its GIF's
    frames (runs older than the per-tick GIF: from its ``fakes-*.png`` grids).

    Parameters
    ----------
    run_dir : Path
        The run folder.
    max_side : int
        Frames are subsampled until their longer side fits.
    grids_before : int, optional
        Grids offered before this (resumed) run started: the frames of later, killed ticks
        are dropped. All frames are kept when None.
    max_frames : int
        Most frames held (see above).
    """

    def __init__(self, run_dir: Path, max_side: int = 512, grids_before: int | None = None,
                 max_frames: int = TIMELAPSE_MAX_FRAMES) -> None:
        self.path = run_dir / "timelapse.gif"
        self.max_side = max_side
        self.max_frames = max_frames
        self.offered, self.stride = 0, 1
        frames = self._earlier_frames(run_dir)
        if grids_before is not None:
            self.offered = grids_before
            count, self.stride = kept_frames(grids_before, max_frames)
            frames = frames[:count]
        self.frames = frames

    def _earlier_frames(self, run_dir: Path) -> list[np.ndarray]:
        if self.path.is_file():
            return [frame[..., :3] for frame in iio.imread(self.path, index=None)]
        grids = sorted((p for p in run_dir.iterdir() if GRID_PATTERN.match(p.name)),
                       key=lambda p: int(GRID_PATTERN.match(p.name).group(1)))
        return [shrink(iio.imread(p), self.max_side) for p in grids]

    def add(self, grid: np.ndarray, write: bool = True) -> None:
        """Offer a new grid; with ``write`` rewrite the GIF (atomically) afterwards."""
        self.offered += 1
        if self.offered % self.stride == 0:
            self.frames.append(shrink(grid, self.max_side))
            if len(self.frames) > self.max_frames:
                self.frames, self.stride = self.frames[::2], 2 * self.stride
        if write:
            self.write()

    def write(self) -> None:
        """Write the GIF of the frames so far (atomically)."""
        if not self.frames:
            return
        tmp = self.path.with_name("tmp-" + self.path.name)
        iio.imwrite(tmp, np.stack(self.frames), duration=500, loop=0)
        os.replace(tmp, self.path)


def kept_frames(offered: int, max_frames: int = TIMELAPSE_MAX_FRAMES) -> tuple[int, int]:
    """Frames a :class:`Timelapse` holds after ``offered`` grids, and its stride then."""
    count, stride = 0, 1
    for index in range(1, offered + 1):
        if index % stride == 0:
            count += 1
            if count > max_frames:
                count, stride = (count + 1) // 2, 2 * stride
    return count, stride


def shrink(img: np.ndarray, max_side: int) -> np.ndarray:
    """Subsample by an integer step until the longer side fits ``max_side``."""
    step = -(-max(img.shape[:2]) // max_side)
    return img[::step, ::step]
