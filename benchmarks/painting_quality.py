"""Does the model still paint like the artist? Its own paintings against real crops, by SWD.

Run: ``.venv/bin/python -m benchmarks.painting_quality [--model DIR ...] [--count N] [--repeats K]
[--per-person]``

Each bundle's generator (at its own size, without the upscaler) paints ``N`` pictures from the
inputs the show gives it: the steering of the shared people's eyes-open and eyes-closed rest,
each z-scored by a profile of that person's eyes-open rest (as their calibration would), with
random noise. They are compared with ``N`` real crops of the paintings, drawn as training draws
them, by the multi-scale sliced Wasserstein distance (``models.evaluation.metrics``; lower is
closer to the artist): every model is measured against the same crops with the same seed, so the
figures of two bundles side by side say which paints closer to the artist.

The pooled figure hides whose steering paints far: the SWD of a mixture is not the mean of its
parts, and one wearer whose moments all land on one odd picture lifts it for everyone.
``--per-person`` adds each person's paintings alone against as many crops.
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

import numpy as np
import torch

from benchmarks import PAINTINGS, PHYSIONET
from installation.config import DEFAULT_MODEL

SEED = 11
PEOPLE = ("S001", "S005", "S026", "S070")


def people_steering(spec, per_person: int, seed: int,
                    people: tuple[str, ...] = PEOPLE) -> np.ndarray:
    """``per_person`` steering vectors of each of ``people``, as the show would feed them."""
    from installation.eeg.feature_pipeline import extract_feature_sequence, feature_frames
    from installation.eeg.features import FeatureNormaliser
    from installation.eeg.sources.files.recordings import load_recording

    rng, out = np.random.default_rng(seed), []
    for person in people:
        eyes_open = load_recording(PHYSIONET / f"{person}R01.edf")
        eyes_closed = load_recording(PHYSIONET / f"{person}R02.edf")
        profile = FeatureNormaliser.profile_from(
            spec, np.array([f.band_powers for f in feature_frames(eyes_open, spec)]))
        hops = np.concatenate([
            extract_feature_sequence(rec, spec, FeatureNormaliser.from_profile(profile))[0]
            for rec in (eyes_open, eyes_closed)])
        out.append(hops[rng.choice(len(hops), per_person, replace=False)])
    return np.concatenate(out)


def paintings(model: Path, count: int, seed: int = SEED,
              people: tuple[str, ...] = PEOPLE) -> torch.Tensor:
    """The bundle's paintings for the people's steering, float [N, 3, R, R] in [-1, 1]."""
    from installation.engine.generator_runtime import GeneratorRuntime

    runtime = GeneratorRuntime.load(model, provider="cpu", native=True)
    steering = people_steering(runtime.feature_spec, count // len(people), seed, people)
    rng = np.random.default_rng(seed + 1)
    images = [runtime.generate(s, rng.standard_normal(runtime.noise_dim).astype(np.float32))
              for s in steering]
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


@functools.lru_cache(maxsize=4)
def real_crops(resolution: int, count: int, seed: int = SEED) -> torch.Tensor:
    """``count`` real crops at ``resolution``, float [N, 3, R, R] in [-1, 1].

    Kept for the next call with the same arguments: every bundle, and with ``--per-person``
    every person, of one draw is measured against the same crops, and cutting them means
    opening all the paintings.
    """
    from models.training.dataset import CropSettings, PaintingCrops

    crops = PaintingCrops(PAINTINGS, CropSettings(resolution, 4, 0.5, 1.0, True, seed))
    picks = torch.randperm(len(crops), generator=torch.Generator().manual_seed(seed))[:count]
    return crops.batch(picks).float() / 127.5 - 1.0


def measure(models: list[Path], count: int = 512, repeats: int = 3,
            people: tuple[str, ...] = PEOPLE) -> dict:
    """SWD per pyramid level and their mean for each bundle, over ``repeats`` draws.

    Every draw (seed) takes other EEG moments, noise and real crops, the same for every bundle;
    a figure is the mean over the draws, with their standard deviation beside it (``_sd``),
    since one draw of a few hundred paintings moves the finer bands by 10-30 %.
    """
    from models.evaluation.metrics import multiscale_swd

    draws: dict[str, list[dict]] = {str(model): [] for model in models}
    for seed in range(SEED, SEED + repeats):
        reals = None
        for model in models:
            fakes = paintings(model, count, seed, people)
            if reals is None or reals.shape[-1] != fakes.shape[-1]:
                reals = real_crops(fakes.shape[-1], len(fakes), seed)
            draws[str(model)].append(multiscale_swd(fakes, reals[:len(fakes)], seed=seed))
    figures = {}
    for model, runs in draws.items():
        keys = runs[0].keys()
        figures[model] = {**{k: round(float(np.mean([r[k] for r in runs])), 2) for k in keys},
                          **{f"{k}_sd": round(float(np.std([r[k] for r in runs])), 2)
                             for k in keys}}
    return figures


def main(argv: list[str] | None = None) -> int:
    """Print each bundle's figures and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, action="append",
                        help="bundle to measure; repeat to compare (default: the default model)")
    parser.add_argument("--count", type=int, default=512, help="paintings per bundle and draw")
    parser.add_argument("--repeats", type=int, default=3, help="draws (seeds) to average")
    parser.add_argument("--per-person", action="store_true",
                        help="also each person's own paintings (a quarter of --count each) "
                             "against as many crops: which wearer's steering paints far")
    args = parser.parse_args(argv)
    models = args.model or [DEFAULT_MODEL]
    figures = measure(models, args.count, args.repeats)
    for model, swd in figures.items():
        print(f"{model}: SWD to real crops, {described(swd)}")
    if args.per_person:
        for person in PEOPLE:
            alone = measure(models, args.count // len(PEOPLE), args.repeats, (person,))
            for model, swd in alone.items():
                print(f"  {person} through {model}: {described(swd)}")
                figures[model][f"person_{person}"] = swd
    print(json.dumps(figures))
    return 0


def described(swd: dict) -> str:
    """The mean and each band of one bundle's figures, coarsest band first, with their spread."""
    bands = sorted((k for k in swd if k.endswith("px")), key=lambda k: -int(k[4:-2]))
    return (f"mean {swd['swd_mean']:.1f} ± {swd['swd_mean_sd']:.1f}; "
            + ", ".join(f"{k[4:]} {swd[k]:.1f} ± {swd[k + '_sd']:.1f}" for k in bands))


if __name__ == "__main__":
    raise SystemExit(main())
