"""Training images: random square crops of the artist's paintings.

A folder of paintings (JPEG, PNG, WebP; greyscale, palette, CMYK and alpha become RGB) turns
into ``crops_per_image`` random square crops per painting, each a random fraction of the
painting's short side, resized to the training resolution and optionally mirrored. Crop boxes
are drawn once from the seed, so crop ``i`` is the same crop in every run with that seed; the
pixels are precomputed into a uint8 tensor when they fit in ``cache_limit_bytes``, else cut on
the fly from the decoded paintings.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from installation.errors import ConfigError, require_image_folder

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")


@dataclass(frozen=True)
class CropSettings:
    """How paintings become training crops.

    Attributes
    ----------
    resolution : int
        Side of a crop after resizing, in pixels.
    crops_per_image : int
        Crops drawn from each painting.
    min_fraction, max_fraction : float
        Range of the crop side as a fraction of the painting's short side.
    mirror : bool
        Mirror half of the crops horizontally.
    seed : int
        Seed of the crop boxes.
    min_side : int
        Fewest source pixels a crop's side may span (0: no floor); a floor of ``resolution``
        keeps every crop a reduction, never an enlargement, of the painting.
    """

    resolution: int
    crops_per_image: int = 100
    min_fraction: float = 0.5
    max_fraction: float = 1.0
    mirror: bool = True
    seed: int = 0
    min_side: int = 0

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


def find_images(folder: str | Path) -> list[Path]:
    """Image files under ``folder`` (recursively), sorted; ConfigError if it is no folder."""
    require_image_folder(folder)
    folder = Path(folder)
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS
                  and p.is_file())


def open_rgb(path: Path) -> Image.Image:
    """Decode an image as RGB; transparent parts are composited over white."""
    with Image.open(path) as img:
        img.load()
        if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
            rgba = img.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return Image.alpha_composite(white, rgba).convert("RGB")
        return img.convert("RGB")


def shrink_for_crops(img: Image.Image, settings: CropSettings) -> Image.Image:
    """Downscale so the smallest crop still has about ``resolution`` pixels (saves memory)."""
    needed = math.ceil(settings.resolution / settings.min_fraction)
    short = min(img.size)
    if short <= needed:
        return img
    scale = needed / short
    size = (max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale)))
    return img.resize(size, Image.Resampling.LANCZOS)


def load_paintings(paths: list[Path], settings: CropSettings) -> tuple[list[Image.Image], list]:
    """Decode and shrink the paintings; return (images, [(path, reason) skipped])."""
    images, skipped = [], []
    for path in paths:
        try:
            img = open_rgb(path)
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            skipped.append((path, f"unreadable ({type(exc).__name__})"))
            continue
        if min(img.size) < settings.resolution:
            skipped.append((path, f"too small ({img.size[0]}x{img.size[1]})"))
            continue
        images.append(shrink_for_crops(img, settings))
    return images, skipped


def draw_crop_boxes(sizes: list[tuple[int, int]], settings: CropSettings) -> np.ndarray:
    """Random crop boxes: int64 [N, 5] rows of (painting, left, top, side, mirrored)."""
    rng = np.random.default_rng(settings.seed)
    rows = []
    for index, (width, height) in enumerate(sizes):
        short = min(width, height)
        for _ in range(settings.crops_per_image):
            fraction = rng.uniform(settings.min_fraction, settings.max_fraction)
            side = max(1, min(short, max(round(fraction * short), settings.min_side)))
            left = int(rng.integers(0, width - side + 1))
            top = int(rng.integers(0, height - side + 1))
            mirrored = int(settings.mirror and rng.random() < 0.5)
            rows.append((index, left, top, side, mirrored))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 5)


def cut_crop(img: Image.Image, box: np.ndarray, resolution: int) -> np.ndarray:
    """One crop as uint8 [3, R, R]."""
    _, left, top, side, mirrored = (int(v) for v in box)
    crop = img.crop((left, top, left + side, top + side))
    crop = crop.resize((resolution, resolution), Image.Resampling.BICUBIC)
    if mirrored:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return np.ascontiguousarray(np.array(crop, dtype=np.uint8).transpose(2, 0, 1))


class PaintingCrops(torch.utils.data.Dataset):
    """Random crops of a folder of paintings, as uint8 tensors [3, R, R].

    Parameters
    ----------
    folder : str or Path
        Folder of paintings (searched recursively).
    settings : CropSettings
        Crop resolution, count, size range, mirroring and seed.
    cache_limit_bytes : int
        Precompute all crops when they take at most this much memory.

    Raises
    ------
    ConfigError
        When no usable painting is found.
    """

    def __init__(self, folder: str | Path, settings: CropSettings,
                 cache_limit_bytes: int = 6 * 1024**3):
        self.folder, self.settings = Path(folder), settings
        paths = find_images(folder)
        self.paintings, self.skipped = load_paintings(paths, settings)
        report_skipped(self.skipped, len(paths))
        if not self.paintings:
            raise ConfigError(no_images_message(self.folder, paths, settings.resolution))
        self.boxes = draw_crop_boxes([img.size for img in self.paintings], settings)
        self.cache = None
        if len(self.boxes) * 3 * settings.resolution**2 <= cache_limit_bytes:
            self.cache = torch.from_numpy(np.stack([self._cut(i) for i in range(len(self))]))

    @property
    def image_count(self) -> int:
        """Number of paintings used."""
        return len(self.paintings)

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index: int) -> torch.Tensor:
        if self.cache is not None:
            return self.cache[index]
        return torch.from_numpy(self._cut(index))

    def batch(self, indices) -> torch.Tensor:
        """Crops ``indices`` stacked as uint8 [B, 3, R, R]."""
        if self.cache is not None:
            return self.cache[torch.as_tensor(indices, dtype=torch.long)]
        return torch.stack([self[int(i)] for i in indices])

    def _cut(self, index: int) -> np.ndarray:
        box = self.boxes[index]
        return cut_crop(self.paintings[int(box[0])], box, self.settings.resolution)


def report_skipped(skipped: list, total: int) -> None:
    """One warning for all skipped images, naming a few."""
    if not skipped:
        return
    names = ", ".join(f"{p.name} {why}" for p, why in skipped[:5])
    more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
    log.warning("skipped %d of %d images: %s%s", len(skipped), total, names, more)


def no_images_message(folder: Path, paths: list[Path], resolution: int) -> str:
    """The sentence for a folder with no usable painting."""
    if not paths:
        return (f"The image folder {folder} holds no JPEG, PNG or WebP images; point --images "
                "at the folder of paintings.")
    return (f"None of the {len(paths)} images in {folder} is usable (unreadable, or shorter "
            f"than {resolution} px on a side); add larger paintings or lower --resolution.")


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [B, 3, R, R] -> float in [-1, 1]."""
    return images.float() / 127.5 - 1.0
