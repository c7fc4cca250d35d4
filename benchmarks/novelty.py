"""Does the default model paint new pictures, or copy its training crops?

Run: ``.venv/bin/python -m benchmarks.novelty [--model DIR] [--crops-per-painting N]``

Compares paintings at the bundle's output size (512 px where it has an upscaler) reduced to
32 x 32 pixels (composition and colour, the level a copy would show at):

- each of 64 generated paintings with its nearest crop among ``N`` random crops per painting
  (drawn as training draws them), painted from independent Gaussian steering;
- the same for 64 paintings of the shared people's steering, as the show feeds it (eyes-open
  and eyes-closed rest, each person z-scored by their own eyes-open rest): what visitors see;
- each of 64 real crops with its nearest crop of *another* painting: how close two different
  paintings of the artist come anyway.

A copying model would sit far below the last figure; one that paints like the artist sits near
it. Distances are RMS on the 0-255 scale.

The two steerings can disagree. Real steering spans few directions (the four people's pooled
hops: three principal axes hold 85 % of the variance), and Gaussian steering lies far off them,
where a mapping was never trained: what it paints there says how the model meets a wearer whose
features stray from their calibration, not what a visitor sees. (The default: 42.0 from Gaussian
steering, 30.0 from the people's.)
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks import PAINTINGS, PHYSIONET
from benchmarks.steering_contrast import squared_rms_distances
from installation.config import DEFAULT_MODEL

SIZE = 32
SAMPLES = 64


def small(images: torch.Tensor) -> np.ndarray:
    """uint8 [N, 3, H, W] -> float [N, 3 * SIZE²], area-averaged."""
    return F.adaptive_avg_pool2d(images.float(), SIZE).flatten(1).numpy()


def nearest_distance(queries: np.ndarray, pool: np.ndarray,
                     exclude: np.ndarray | None = None) -> np.ndarray:
    """RMS distance of each query to its nearest pool row (``exclude[i, j]`` rules pairs out)."""
    squared = squared_rms_distances(queries, pool)
    if exclude is not None:
        squared[exclude] = np.inf
    return np.sqrt(squared.min(axis=1))


def generated(model: Path, count: int, seed: int = 0) -> np.ndarray:
    """``count`` paintings of the bundle from random steering and noise, uint8 [N, R, R, 3]."""
    from installation.engine.generator_runtime import GeneratorRuntime

    return painted(GeneratorRuntime.load(model, provider="cpu"), count, seed)


def painted(runtime, count: int, seed: int = 0, people: bool = False) -> np.ndarray:
    """``count`` paintings of a loaded bundle with random noise, uint8 [N, R, R, 3].

    Steered by independent Gaussian features, or with ``people`` by the shared people's
    (``count`` divided among them, as :func:`benchmarks.painting_quality.people_steering`).
    """
    rng = np.random.default_rng(seed)
    if people:
        from benchmarks.painting_quality import PEOPLE, people_steering

        per_person = math.ceil(count / len(PEOPLE))
        steering = iter(people_steering(runtime.feature_spec, per_person, seed))
    else:  # drawn painting by painting, between the noise vectors (the figures' seeds)
        steering = (rng.standard_normal(runtime.feature_spec.n_features) for _ in range(count))
    images = [runtime.generate(next(steering).astype(np.float32),
                               rng.standard_normal(runtime.noise_dim).astype(np.float32))
              for _ in range(count)]
    return np.stack(images)


def measure(model: Path = DEFAULT_MODEL, crops_per_painting: int = 20,
            people: bool = True) -> dict:
    """The nearest-crop distances of the module docstring (medians) and their ratio.

    ``people`` adds the paintings of the shared people's steering (``people_to_nearest_crop``)
    where their recordings are under ``../shared/data``.
    """
    from installation.bundle import BundleSpec
    from installation.engine.generator_runtime import GeneratorRuntime
    from models.training.dataset import CropSettings, PaintingCrops

    spec = BundleSpec.load(model / "generator.json")
    resolution = spec.output_resolution  # the upscaler's paintings against crops at its size
    settings = CropSettings(resolution, crops_per_painting, seed=1,
                            min_side=resolution if spec.upscaler is not None else 0)
    crops = PaintingCrops(PAINTINGS, settings, cache_limit_bytes=0)
    pool = np.concatenate([small(crops.batch(chunk))
                           for chunk in np.array_split(np.arange(len(crops)), 64)])
    painting = crops.boxes[:, 0].astype(int)
    runtime = GeneratorRuntime.load(model, provider="cpu")
    fakes = torch.from_numpy(painted(runtime, SAMPLES)).permute(0, 3, 1, 2)
    fakes = nearest_distance(small(fakes), pool)
    picks = np.random.default_rng(0).choice(len(crops), SAMPLES, replace=False)
    reals = nearest_distance(pool[picks], pool, painting[picks][:, None] == painting[None, :])
    shown = {}
    if people and PHYSIONET.is_dir():
        steered = torch.from_numpy(painted(runtime, SAMPLES, people=True)).permute(0, 3, 1, 2)
        shown = {"people_to_nearest_crop": float(np.median(nearest_distance(small(steered),
                                                                            pool)))}
    return {**shown, "fake_to_nearest_crop": float(np.median(fakes)),
            "fake_to_nearest_crop_min": float(fakes.min()),
            "real_to_other_painting": float(np.median(reals)),
            "novelty_ratio": float(np.median(fakes) / np.median(reals)),
            "crops_compared": len(crops), "resolution": resolution}


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--crops-per-painting", type=int, default=20)
    parser.add_argument("--gaussian-only", action="store_true",
                        help="leave out the paintings of the shared people's steering")
    args = parser.parse_args()
    if not args.gaussian_only and not PHYSIONET.is_dir():
        print(f"{PHYSIONET} is absent: only Gaussian steering is measured")
    figures = measure(args.model, args.crops_per_painting, not args.gaussian_only)
    if "people_to_nearest_crop" in figures:
        print(f"the shared people's steering: painting to its nearest training crop, median "
              f"{figures['people_to_nearest_crop']:.1f}")
    print(f"Gaussian steering: painting to its nearest training crop: median "
          f"{figures['fake_to_nearest_crop']:.1f} "
          f"(closest {figures['fake_to_nearest_crop_min']:.1f}); "
          f"real crop to the nearest crop of another painting: median "
          f"{figures['real_to_other_painting']:.1f} ({figures['crops_compared']} crops at "
          f"{figures['resolution']} px)")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
