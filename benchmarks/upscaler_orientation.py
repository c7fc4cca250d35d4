"""Which way does the upscaler's brushwork run? Stroke direction at the wall's size, 512 px.

Run: ``.venv/bin/python -m benchmarks.upscaler_orientation [--model DIR] [--count N]
[--show-frames N] [--provider NAME]``

The figure (:mod:`models.evaluation.orientation`): the finest band's gradient directions in 12
bins; the strongest bin's share times 12 (1 = even; real Constable crops about 1.2-1.4).
It is printed for

- real 512 px crops of the paintings, and the same crops brought down to the generator's size
  and enlarged again by Lanczos and by the bundle's upscaler (``upscaler_on_real``);
- the show's own paintings: S001's eyes-open and eyes-closed rest played through the show
  (``python -m installation --speed max``), ``--show-frames`` of its keyframes from each
  rendered through the chain at 512 px, and the same keyframes at the generator's size enlarged
  by Lanczos.

The upscaler passes when both of its figures stay at or below 1.6. Beside them: the fine-band
SWD of the show's paintings against real crops, upscaler vs Lanczos (lower is closer).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from benchmarks import EYES_CLOSED_EDF, EYES_OPEN_EDF, PAINTINGS
from benchmarks.upscaler_quality import as_float
from installation.config import DEFAULT_MODEL

SEED = 5
TARGET = 1.6


def as_uint8(images: torch.Tensor) -> np.ndarray:
    """float NCHW in [-1, 1] -> uint8 NHWC."""
    pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).contiguous().numpy()


def real_crops_at(resolution: int, count: int, seed: int = SEED) -> torch.Tensor:
    """``count`` real crops of the shared paintings at ``resolution``, float NCHW in [-1, 1]."""
    from models.upscaler.data import real_crops

    crops = real_crops(PAINTINGS, resolution, crops_per_image=2, seed=seed)
    picks = torch.randperm(len(crops), generator=torch.Generator().manual_seed(seed))[:count]
    return crops.batch(picks).float() / 127.5 - 1


def upscale(runtime, low: np.ndarray, chunk: int = 4) -> np.ndarray:
    """uint8 NHWC paintings at the generator's size through the bundle's upscaler."""
    from installation.bundle import INPUT_PAINTING, OUTPUT_IMAGE

    parts = [runtime.upscaler.run([OUTPUT_IMAGE], {INPUT_PAINTING: low[i:i + chunk]})[0]
             for i in range(0, len(low), chunk)]
    return np.concatenate(parts)


def upscaler_on_real(model: Path = DEFAULT_MODEL, count: int = 48, provider: str = "cpu") -> dict:
    """Orientation of real crops, and of their downscales enlarged by Lanczos and the upscaler."""
    from installation.engine.generator_runtime import GeneratorRuntime
    from models.evaluation.orientation import orientation_figure
    from models.upscaler.data import downscale
    from models.upscaler.loop import lanczos

    runtime = GeneratorRuntime.load(model, provider=provider, threads=1)
    if runtime.upscaler is None:
        raise SystemExit(f"{model} has no upscaler: no brushwork of its own to measure.")
    scale = runtime.resolution // runtime.spec.resolution
    reals = real_crops_at(runtime.resolution, count)
    low = downscale(reals, scale)
    upscaled = as_float(upscale(runtime, as_uint8(low)))
    return {"real_orientation": orientation_figure(reals),
            "lanczos_orientation_real": orientation_figure(lanczos(low, scale)),
            "upscaler_orientation_real": orientation_figure(upscaled)}


def show_paintings(model: Path, frames: int,
                   provider: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """(generator-size, chain-size) paintings of ``frames`` keyframes per S001 rest recording."""
    from benchmarks.steering_contrast import show_keyframes
    from installation.engine.generator_runtime import GeneratorRuntime

    native = GeneratorRuntime.load(model, provider=provider, threads=1, native=True)
    chained = GeneratorRuntime.load(model, provider=provider, threads=1)
    small, big = [], []
    with tempfile.TemporaryDirectory() as folder:
        for recording in (EYES_OPEN_EDF, EYES_CLOSED_EDF):
            steering, noise = show_keyframes(model, None, recording, Path(folder), native=True)
            picks = np.linspace(0, len(steering) - 1, frames).round().astype(int)
            for i in picks:
                small.append(native.generate(steering[i], noise[i]))
                big.append(chained.generate(steering[i], noise[i]))
    return np.stack(small), np.stack(big)


def upscaler_on_show(model: Path = DEFAULT_MODEL, frames: int = 24, provider: str = "cpu") -> dict:
    """Orientation and fine-band SWD of the show's paintings, upscaler against Lanczos."""
    from models.evaluation.metrics import multiscale_swd
    from models.evaluation.orientation import orientation_figure
    from models.upscaler.loop import fine_bands, lanczos

    small, big = show_paintings(model, frames, provider)
    resolution, scale = big.shape[1], big.shape[1] // small.shape[1]
    upscaled, enlarged = as_float(big), lanczos(as_float(small), scale)
    reals = real_crops_at(resolution, len(big), seed=SEED + 1)
    return {"show_frames": len(big),
            "upscaler_orientation_show": orientation_figure(upscaled),
            "lanczos_orientation_show": orientation_figure(enlarged),
            "show_upscaled_swd_fine": fine_bands(multiscale_swd(upscaled, reals, seed=SEED),
                                                 resolution),
            "show_lanczos_swd_fine": fine_bands(multiscale_swd(enlarged, reals, seed=SEED),
                                                resolution)}


def main() -> None:
    """Print the figures, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--count", type=int, default=48, help="real crops")
    parser.add_argument("--show-frames", type=int, default=24,
                        help="keyframes per recording (eyes open, eyes closed)")
    parser.add_argument("--provider", default="cpu",
                        help="runtime of the paintings, as the show's --provider (default cpu)")
    args = parser.parse_args()
    if not PAINTINGS.is_dir():
        raise SystemExit(f"{PAINTINGS} is absent: the figures need the shared paintings.")
    torch.set_num_threads(1)
    f = {**upscaler_on_real(args.model, args.count, args.provider),
         **upscaler_on_show(args.model, args.show_frames, args.provider), "provider": args.provider}
    print(f"strongest stroke direction, times its even share (target <= {TARGET}): "
          f"real crops {f['real_orientation']:.2f}; their downscales through the upscaler "
          f"{f['upscaler_orientation_real']:.2f}, through Lanczos "
          f"{f['lanczos_orientation_real']:.2f}; the show's {f['show_frames']} paintings of S001 "
          f"through the upscaler {f['upscaler_orientation_show']:.2f}, through Lanczos "
          f"{f['lanczos_orientation_show']:.2f}")
    print(f"fine-band SWD of the show's paintings to real crops: upscaler "
          f"{f['show_upscaled_swd_fine']:.1f}, Lanczos {f['show_lanczos_swd_fine']:.1f}")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in f.items()}))


if __name__ == "__main__":
    main()
