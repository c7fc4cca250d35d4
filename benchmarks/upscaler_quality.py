"""Does the second stage paint like the artist? Upscaled paintings against Lanczos, at 512 px.

Run: ``.venv/bin/python -m benchmarks.upscaler_quality [--model DIR] [--count N]``

The bundle's generator paints ``N`` pictures from random steering and noise (as
``benchmarks.novelty`` draws them); each is enlarged twice to the output size: by the bundle's
upscaler (the chain the show runs, through ONNX Runtime) and by PIL's Lanczos filter. Both sets
are compared with ``N`` real crops of the paintings at the output size (drawn as the upscaler's
training draws them, with another seed) by the multi-scale sliced Wasserstein distance; the two
finest pyramid levels are the detail an upscaler adds. Lower is closer to the artist. The
lattice figure (``models.upscaler.lattice``) says whether the upscaled paintings repeat on the
upscaling's pixel grid, a GAN upscaler's typical artefact: real crops give about 2. That ratio
divides by the power around the grid's frequencies, which a smooth upscale hardly has, so the
8-bit rounding alone raises it; the sub-pixel spread (``lattice_amplitude``, in levels of 255)
is the lattice one could see: real crops read a few hundredths of a level.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from benchmarks import PAINTINGS
from installation.config import DEFAULT_MODEL

SEED = 3


def chain_paintings(model: Path, count: int, seed: int = SEED):
    """(native, upscaled) paintings of the bundle from the same random inputs, uint8 NHWC."""
    from installation.engine.generator_runtime import GeneratorRuntime

    chained = GeneratorRuntime.load(model, provider="cpu")
    if chained.upscaler is None:
        raise SystemExit(f"{model} has no upscaler: nothing to compare with Lanczos.")
    native = GeneratorRuntime.load(model, provider="cpu", native=True)
    rng = np.random.default_rng(seed)
    small, big = [], []
    for _ in range(count):
        steering = rng.standard_normal(native.feature_spec.n_features).astype(np.float32)
        noise = rng.standard_normal(native.noise_dim).astype(np.float32)
        small.append(native.generate(steering, noise))
        big.append(chained.generate(steering, noise))
    return np.stack(small), np.stack(big)


def as_float(images: np.ndarray) -> torch.Tensor:
    """uint8 NHWC -> float NCHW in [-1, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def measure(model: Path = DEFAULT_MODEL, count: int = 96) -> dict:
    """SWD of upscaled and Lanczos-enlarged paintings to real crops, per level and fine bands."""
    from models.evaluation.metrics import multiscale_swd
    from models.upscaler.data import real_crops
    from models.upscaler.lattice import lattice_amplitude, lattice_figure
    from models.upscaler.loop import fine_bands, lanczos

    small, big = chain_paintings(model, count)
    resolution, scale = big.shape[1], big.shape[1] // small.shape[1]
    crops = real_crops(PAINTINGS, resolution, crops_per_image=4, seed=SEED + 1)
    picks = torch.randperm(len(crops), generator=torch.Generator().manual_seed(SEED))[:count]
    reals = crops.batch(picks).float() / 127.5 - 1.0
    upscaled = multiscale_swd(as_float(big), reals, seed=SEED)
    enlarged = multiscale_swd(lanczos(as_float(small), scale), reals, seed=SEED)
    return {
        "output_resolution": resolution,
        "upscaled_swd_fine": fine_bands(upscaled, resolution),
        "lanczos_swd_fine": fine_bands(enlarged, resolution),
        "upscaled_swd_mean": upscaled["swd_mean"],
        "lanczos_swd_mean": enlarged["swd_mean"],
        "upscaled_lattice": lattice_figure(as_float(big), scale),
        "real_lattice": lattice_figure(reals, scale),
        "upscaled_lattice_levels": lattice_amplitude(as_float(big), scale),
        "real_lattice_levels": lattice_amplitude(reals, scale),
        **{f"upscaled_{k}": v for k, v in upscaled.items() if k != "swd_mean"},
        **{f"lanczos_{k}": v for k, v in enlarged.items() if k != "swd_mean"},
        "paintings_compared": count,
    }


def main() -> None:
    """Print the figures, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--count", type=int, default=96)
    args = parser.parse_args()
    torch.set_num_threads(1)
    f = measure(args.model, args.count)
    print(f"at {f['output_resolution']} px, SWD to real crops over the two finest levels: "
          f"upscaler {f['upscaled_swd_fine']:.1f}, Lanczos {f['lanczos_swd_fine']:.1f} "
          f"(all levels: {f['upscaled_swd_mean']:.1f} vs {f['lanczos_swd_mean']:.1f}; lower is "
          "closer to the paintings)")
    print(f"lattice on the upscaling grid: upscaled {f['upscaled_lattice']:.1f}, real crops "
          f"{f['real_lattice']:.1f} (ratio); sub-pixel spread upscaled "
          f"{f['upscaled_lattice_levels']:.3f}, real crops {f['real_lattice_levels']:.3f} levels")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in f.items()}))


if __name__ == "__main__":
    main()
