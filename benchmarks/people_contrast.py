"""Does the painting answer whoever wears the headset? Eyes closed vs open, person by person.

Run: ``.venv/bin/python -m benchmarks.people_contrast [--model DIR] [--leave-one-out-from BASE
[--adapt-stray W] [--adapt-contrast P]]``

Every shared PhysioNet person (eyes-open rest R01, eyes-closed rest R02) is calibrated on their
own eyes-open rest, as docs/calibration.md tells an operator to do, and both recordings go
through the show (:mod:`benchmarks.steering_contrast`, without the upscaler: the figures pool to
128 px).
Printed per person: the ratio of mean images (``centroid``: closed vs open against the two
halves of one recording; target >= 2, >= 1.5 for S005, whose alpha barely rises) and all pairs
(target >= 1.5 for the people the model was fitted to), and how steady the painting is: the
distance between the states against the median change from one keyframe to the next
(``state_over_step``; a shimmering painting has it low), then the minimum.

``--leave-one-out-from BASE`` re-fits the mapping network of ``BASE`` (the bundle before its
mapping saw these people; for the default model, the one before its re-fits) to every person but
one as the default's was made (:mod:`models.adaptation.mapping_fit`, as ``train.py --resume BASE
--adapt mapping --features current`` does): whitened, with every band steering; then, where the
model's spec holds bands, 150 steps against the raw ``w`` on the held features (``--adapt-distance
raw --adapt-steps 150``). It shows the result to the one left out: the figure for a person the
model never saw. A model whose re-fits took ``train.py``'s ``--adapt-stray`` or
``--adapt-contrast`` is left out with the same options, given here under the same names, in both
fits.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import PHYSIONET, REPO
from benchmarks.steering_contrast import measure
from installation.config import DEFAULT_MODEL
from installation.errors import ranged
from models.adaptation.mapping_fit import CONTRAST_RANGE, STRAY_WEIGHT_RANGE, MappingFitSettings

PEOPLE = ("S001", "S005", "S026", "S070")
TARGETS = {"S005": 1.5}  # alpha rises only 1.4x with eyes closed; 2 for everyone else
# The default's second re-fit, to its held bands: short, against the raw w (longer fits matched
# that w no better and gave back S026's move: 2.44 after 150 steps, 1.70 after 1500).
HELD_BANDS_FIT_STEPS = 150


def recordings(person: str) -> tuple[Path, Path]:
    """(eyes open, eyes closed) rest of one person."""
    return PHYSIONET / f"{person}R01.edf", PHYSIONET / f"{person}R02.edf"


def calibrate(person: str, model: Path, out: Path) -> Path:
    """The person's calibration profile from their eyes-open rest, as an operator makes it."""
    eyes_open, _ = recordings(person)
    command = [sys.executable, "-m", "calibration", "--source", f"file:{eyes_open}",
               "--headless", "--duration", "55", "--eyes-closed-duration", "0",
               "--model", str(model), "--out", str(out)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"calibration failed for {person}: {done.stderr.strip()}")
    return out / "profile.json"


def person_figures(model: Path, person: str, profile: Path) -> dict:
    """Centroid and all-pairs ratios of one person through the show."""
    eyes_open, eyes_closed = recordings(person)
    figures = measure(model, profile, eyes_closed, eyes_open, native=True)
    return {"centroid": round(figures["centroid_distance_ratio"], 3),
            "all_pairs": round(figures["eyes_closed_open_ratio"], 3),
            "step_median": round(figures["keyframe_step_median"], 2),
            "state_over_step": round(figures["eyes_closed_open_distance"]
                                     / figures["keyframe_step_median"], 2)}


def leave_one_out_bundle(model: Path, base: Path, person: str, profiles: dict,
                         out: Path, terms: dict | None = None) -> Path:
    """``base`` with its mapping re-fitted to everyone but ``person``, as the default's was.

    First whitened, with every band steering; then, where ``model``'s spec holds bands, a short
    fit on its features against the raw ``w`` (see the module docstring). ``terms`` are further
    :class:`MappingFitSettings` fields both fits take (``stray_weight``, ``contrast``).
    """
    from installation.bundle import BundleSpec, resolve_bundle_paths
    from installation.eeg.profile import load_profile
    from models.adaptation.mapping_fit import MappingFitSettings, fit_mapping
    from models.bundles.checkpoint import bundle_checkpoint, generator_from_checkpoint
    from models.bundles.generator_export import export_generator
    from models.training.conditioning import Person, load_people_pool
    from models.training.training_loop import steering_sample

    spec = BundleSpec.load(resolve_bundle_paths(model)[1]).feature_spec
    others = [Person(p, recordings(p), load_profile(profiles[p])) for p in PEOPLE if p != person]
    ckpt = bundle_checkpoint(base)
    generator = generator_from_checkpoint(ckpt).eval()
    every_band = load_people_pool(others, dataclasses.replace(spec, held_bands=()))
    terms = terms or {}
    generator.mapping, _ = fit_mapping(generator.mapping, every_band, MappingFitSettings(**terms),
                                       trained_on=ckpt.get("steering_sample"))
    if spec.held_bands:
        generator.mapping, _ = fit_mapping(generator.mapping, load_people_pool(others, spec),
                                           MappingFitSettings(steps=HELD_BANDS_FIT_STEPS,
                                                              whiten=False, **terms),
                                           trained_on=steering_sample(every_band))
    export_generator(generator, spec, out, {"trained": True,
                                            "left_out": person, "base": str(base)})
    return out


def table(model: Path, base: Path | None, terms: dict | None = None) -> dict:
    """Per-person figures (and, with a ``base``, those of the person left out of a re-fit).

    ``terms``: further re-fit settings of the leave-one-out fits (see
    :func:`leave_one_out_bundle`).
    """
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        profiles = {p: calibrate(p, model, Path(tmp) / f"profile-{p}") for p in PEOPLE}
        for person in PEOPLE:
            rows[person] = person_figures(model, person, profiles[person])
            if base is not None:
                bundle = leave_one_out_bundle(model, base, person, profiles,
                                              Path(tmp) / f"loo-{person}", terms)
                rows[person]["left_out"] = person_figures(bundle, person, profiles[person])
            print(person, json.dumps(rows[person]), flush=True)
    return rows


def summary(rows: dict) -> dict:
    """The minimum of each figure over people, and which targets are met."""
    out = {"centroid_min": min(r["centroid"] for r in rows.values()),
           "all_pairs_min": min(r["all_pairs"] for r in rows.values())}
    if all("left_out" in r for r in rows.values()):
        out["left_out_centroid_min"] = min(r["left_out"]["centroid"] for r in rows.values())
    out["targets_met"] = all(r["centroid"] >= TARGETS.get(p, 2.0) for p, r in rows.items())
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the table, its minimum, and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--leave-one-out-from", type=Path, metavar="BASE",
                        help="also re-fit BASE's mapping without each person and show them the "
                             "result")
    parser.add_argument("--adapt-stray", type=ranged(float, *STRAY_WEIGHT_RANGE),
                        default=MappingFitSettings.stray_weight, metavar="W",
                        help="the leave-one-out fits' stray term, as train.py's option")
    parser.add_argument("--adapt-contrast", type=ranged(float, *CONTRAST_RANGE),
                        default=MappingFitSettings.contrast, metavar="P",
                        help="the leave-one-out fits' contrast exponent, as train.py's option")
    args = parser.parse_args(argv)
    if not all(path.exists() for p in PEOPLE for path in recordings(p)):
        print(f"skipped: the PhysioNet recordings are not in {PHYSIONET}", file=sys.stderr)
        return 0
    terms = {"stray_weight": args.adapt_stray, "contrast": args.adapt_contrast}
    rows = table(args.model, args.leave_one_out_from, terms)
    for person, row in rows.items():
        left = (f"; left out of the fit: centroid {row['left_out']['centroid']:.2f}"
                if "left_out" in row else "")
        print(f"{person}: eyes closed vs open, centroid {row['centroid']:.2f} (target >= "
              f"{TARGETS.get(person, 2.0):g}), all pairs {row['all_pairs']:.2f}, state change "
              f"{row['state_over_step']:.1f}x a keyframe step{left}")
    figures = summary(rows)
    print(json.dumps({"people": rows, **figures}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
