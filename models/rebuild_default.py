"""Rebuild the default model bundle (``assets/default``) from the shared data, step by step.

Run: ``python -m models.rebuild_default --outdir DIR [--tiny]``

The steps are the recipe the default was made by (``docs/default-model.md``), each one a
subprocess of the project's stable command lines (``python -m calibration``, ``train.py``,
``python -m models.upscale``, ``python -m models.export``), so the recipe keeps working when
modules move. Each step writes a bundle folder of its own under ``DIR/bundles``; the last one is
copied to ``DIR/default``. The full recipe takes hours on two CPU cores (the base generator
alone about two); ``--tiny`` runs the same chain at the smallest configuration, on a handful of
paintings and a few steps, in a minute or two, to prove the chain works.

What it cannot redo: the base generator's original training run (95 kimg on two CPU
processes) was lost with an earlier machine, and training is not bit-reproducible across
machines and thread timings, so a rebuild trains a new base generator of the same recipe whose
paintings differ from the shipped ones. What survives of the original is the bundle itself:
``generator.onnx``, ``generator.pt`` rebuilt from that graph by ``python -m
models.bundles.onnx_import`` (the discriminator in it warmed afresh), and the campaign's resume
checkpoint ``assets/campaign/resume.pt``, from which its training goes on. The original re-fits
also moved the bundle from older feature definitions onto newer ones, with the people calibrated
afresh for each; a rebuild on today's code has today's features from the start, so one round of
calibrations serves both re-fits.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("EEG_PAINTING_SHARED_DATA", REPO.parent / "shared" / "data"))
EEG_DIR = SHARED_DATA / "eeg" / "physionet_eegmmidb"
PAINTINGS = SHARED_DATA / "paintings" / "john_constable"
CREDITS = REPO / "assets" / "credits"
PEOPLE = ("S001", "S005", "S026", "S070")
TRAINED_ON = "S001"  # whose rest trains the base generator and whose profile ships

CANNOT_REDO = (
    "note: this trains a new base generator by the default's recipe; the original training run "
    "was lost, so its paintings will differ from assets/default's (what survives: the bundle's "
    "generator.onnx, generator.pt rebuilt from it, and assets/campaign/resume.pt).")


@dataclass(frozen=True)
class Scale:
    """How big each step runs: the default's own settings, or the smallest that still runs.

    Attributes
    ----------
    paintings : int or None
        Paintings to train on (None: all).
    people : tuple of str
        PhysioNet subjects whose rest re-fits the mapping.
    calibration_s : float
        Seconds of eyes-open rest each calibration records.
    base : list of str
        ``train.py`` options of the base generator's run.
    upscaler : list of str
        ``models.upscale`` options of the upscaler's first run.
    upscaler_more : list of str
        ``models.upscale`` options of its fine-tune with the equivariance term.
    first_refit, warmup, second_refit : list of str
        ``--adapt`` options of the two mapping re-fits and the discriminator warm-up.
    processes : int
        ``train.py`` processes for the base run (torchrun when more than one).
    """

    paintings: int | None
    people: tuple[str, ...]
    calibration_s: float
    base: list[str]
    upscaler: list[str]
    upscaler_more: list[str]
    first_refit: list[str] = field(default_factory=list)
    warmup: list[str] = field(default_factory=list)
    second_refit: list[str] = field(default_factory=list)
    processes: int = 1


FULL = Scale(
    paintings=None, people=PEOPLE, calibration_s=55, processes=2,
    base=["--cfg", "128", "--kimg", "95", "--threads", "1", "--snap", "4"],
    upscaler=["--kimg", "24", "--adv-weight", "0.02", "--equivariance-weight", "0",
              "--threads", "1"],
    upscaler_more=["--kimg", "6", "--threads", "2"],
    warmup=["--adapt-steps", "1000"],
    second_refit=["--adapt-steps", "150"])

TINY = Scale(
    paintings=4, people=PEOPLE[:2], calibration_s=12,
    base=["--cfg", "tiny", "--batch", "8", "--tick", "0.016", "--kimg", "0.016", "--snap", "1",
          "--crops-per-image", "4", "--metric-images", "8", "--threads", "1"],
    upscaler=["--cfg", "tiny", "--kimg", "0.01", "--adv-weight", "0.02",
              "--equivariance-weight", "0", "--metric-images", "4", "--crops-per-image", "4",
              "--snap", "1", "--threads", "1"],
    upscaler_more=["--cfg", "tiny", "--kimg", "0.01", "--metric-images", "4",
                   "--crops-per-image", "4", "--snap", "1", "--threads", "1"],
    first_refit=["--adapt-steps", "10"],
    warmup=["--adapt-steps", "10", "--crops-per-image", "4", "--threads", "1"],
    second_refit=["--adapt-steps", "10"])


class StepFailed(Exception):
    """A step's command exited non-zero; the message names it and its last line."""


def run(command: list[str], title: str) -> None:
    """Run one step's command in the repository, printing its title and duration.

    Parameters
    ----------
    command : list of str
        The command line; its output is captured and shown only when it fails.
    title : str
        What the step does, for the progress line.

    Raises
    ------
    StepFailed
        When the command exits non-zero.
    """
    print(f"[{time.strftime('%H:%M:%S')}] {title}: {shown(command)}", flush=True)
    start = time.perf_counter()
    # One thread per process: the default was made so, and a shared machine stalls on more.
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise StepFailed(f"{title} failed (exit {done.returncode}): {last}")
    print(f"    done in {time.perf_counter() - start:.0f} s", flush=True)


def shown(command: list[str]) -> str:
    """The command as a shell line, long arguments (the credits' texts) cut short."""
    return shlex.join(arg if len(arg) <= 80 else arg[:40] + "..." for arg in command)


def python(module: str, *args) -> list[str]:
    """``python -m module args`` with this interpreter."""
    return [sys.executable, "-m", module, *map(str, args)]


def train_py(*args, processes: int = 1) -> list[str]:
    """``train.py args``, through torchrun when ``processes`` > 1, as the default was trained."""
    launcher = [sys.executable]
    if processes > 1:
        launcher += ["-m", "torch.distributed.run", "--standalone",
                     f"--nproc_per_node={processes}"]
    return [*launcher, str(REPO / "train.py"), *map(str, args)]


def new_run(runs: Path, command: list[str], title: str) -> Path:
    """Run a training command and return the run folder it made under ``runs``."""
    before = set(runs.iterdir()) if runs.is_dir() else set()
    run(command, title)
    made = sorted(set(runs.iterdir()) - before)
    if not made:
        raise StepFailed(f"{title} wrote no run folder into {runs}")
    return made[-1]


def credits() -> list[str]:
    """``--credit`` options for the paintings' status and the PhysioNet citation."""
    options = []
    for name in ("paintings.txt", "eeg.txt"):
        options += ["--credit", (CREDITS / name).read_text().strip()]
    return options


def paintings_folder(outdir: Path, count: int | None) -> Path:
    """The shared paintings, or a folder linking the first ``count`` of them."""
    if count is None:
        return PAINTINGS
    folder = outdir / "paintings"
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(PAINTINGS.glob("*.jpg"))[:count]:
        link = folder / path.name
        if not link.exists():
            link.symlink_to(path)
    return folder


def calibrate(person: str, seconds: float, out: Path, model: Path | None = None) -> Path:
    """The show's calibration of ``person``'s eyes-open rest; returns its profile.json."""
    args = ["--source", f"file:{EEG_DIR / f'{person}R01.edf'}", "--headless", "--duration",
            seconds, "--eyes-closed-duration", "0", "--out", out]
    if model is not None:
        args += ["--model", model]
    run(python("calibration", *args), f"calibrate {person} on their eyes-open rest")
    return out / "profile.json"


def export(run_dir: Path, bundle: Path, profile: Path | None, with_credits: bool) -> Path:
    """Export a run into ``bundle`` and, when given, put the calibration profile beside it."""
    run(python("models.export", run_dir, "--out", bundle, *(credits() if with_credits else [])),
        f"export {run_dir.name} into {bundle.name}")
    if profile is not None:
        shutil.copy(profile, bundle / "profile.json")
    return bundle


def person_options(profiles: dict[str, Path]) -> list[str]:
    """``--person`` options: each person's eyes-open and eyes-closed rest and their profile."""
    options = []
    for person, profile in profiles.items():
        options += ["--person", str(EEG_DIR / f"{person}R01.edf"),
                    str(EEG_DIR / f"{person}R02.edf"), str(profile)]
    return options


def base_generator(scale: Scale, work: Path, images: Path) -> Path:
    """Steps 1-2: S001's calibration, the base generator trained on it, exported."""
    profile = calibrate(TRAINED_ON, scale.calibration_s, work / f"profile-{TRAINED_ON}R01")
    eeg = [f"--eeg={EEG_DIR / f'{TRAINED_ON}R0{i}.edf'}" for i in (1, 2)]
    run_dir = new_run(work / "runs", train_py(
        "--images", images, *eeg, "--profile", profile, "--outdir", work / "runs", *scale.base,
        processes=scale.processes), "train the base generator")
    return export(run_dir, work / "bundles" / "01-base", profile, with_credits=True)


def upscaler(scale: Scale, work: Path, images: Path, bundle: Path) -> Path:
    """Steps 3-4 (and 7): train the upscaler on the bundle's paintings and add it to the bundle.

    Without an upscaler in ``bundle`` this is the first run (no equivariance term); with one,
    the fine-tune from it with the equivariance term.
    """
    first = not (bundle / "upscaler.pt").is_file()
    start = ["--base", bundle] if first else ["--base", bundle, "--init", bundle]
    run_dir = new_run(work / "runs", python(
        "models.upscale", "--images", images, *start, "--outdir", work / "runs",
        *(scale.upscaler if first else scale.upscaler_more)),
        "train the upscaler" if first else "fine-tune the upscaler with the equivariance term")
    export(run_dir, bundle, None, with_credits=False)
    return bundle


def adapt(work: Path, bundle: Path, out_name: str, options: list[str], title: str,
          profile: Path) -> Path:
    """One ``train.py --resume BUNDLE --adapt ...`` step, exported into a new bundle folder."""
    run_dir = new_run(work / "runs", train_py(
        "--resume", bundle, *options, "--outdir", work / "runs"), title)
    return export(run_dir, work / "bundles" / out_name, profile, with_credits=True)


def people_profiles(scale: Scale, work: Path, bundle: Path) -> dict[str, Path]:
    """Each person's calibration on the bundle's features, as the show would calibrate them."""
    return {person: calibrate(person, scale.calibration_s,
                              work / "calibrations" / f"profile-{person}R01", model=bundle)
            for person in scale.people}


def rebuild(scale: Scale, outdir: Path) -> Path:
    """Run every step of the recipe in order; return the finished bundle ``outdir/default``.

    Parameters
    ----------
    scale : Scale
        :data:`FULL` for the default's own settings, :data:`TINY` for a quick check.
    outdir : Path
        Work folder: run folders, calibrations and one bundle per step.

    Returns
    -------
    Path
        The rebuilt bundle.
    """
    images = paintings_folder(outdir, scale.paintings)
    bundle = upscaler(scale, outdir, images, base_generator(scale, outdir, images))
    # The default's second re-fit was calibrated afresh because the feature definition had
    # changed in between; here every bundle has today's features, so one round serves both.
    profiles = people_profiles(scale, outdir, bundle)
    shipped = profiles[TRAINED_ON]
    bundle = adapt(outdir, bundle, "02-mapping", [
        "--adapt", "mapping", "--features", "current", *scale.first_refit,
        *person_options(profiles)], "re-fit the mapping to the people's rest", shipped)
    bundle = adapt(outdir, bundle, "03-discriminator", [
        "--adapt", "discriminator", "--images", str(images), *scale.warmup],
        "warm a discriminator against the bundle's paintings", shipped)
    bundle = adapt(outdir, bundle, "04-mapping-raw", [
        "--adapt", "mapping", "--features", "current", "--adapt-distance", "raw",
        *scale.second_refit, *person_options(profiles)],
        "re-fit the mapping again against the raw w of its own paintings", shipped)
    bundle = upscaler(scale, outdir, images, bundle)
    final = outdir / "default"
    shutil.copytree(bundle, final, dirs_exist_ok=True)
    return final


def check_inputs(outdir: Path) -> str | None:
    """One sentence saying why the rebuild cannot start, or None."""
    missing = [p for p in (PAINTINGS, *(EEG_DIR / f"{s}R0{i}.edf" for s in PEOPLE
                                        for i in (1, 2))) if not p.exists()]
    if missing:
        return (f"the rebuild needs the shared paintings and PhysioNet rest recordings under "
                f"{SHARED_DATA}; {missing[0]} is absent.")
    if (outdir / "default").exists():
        return f"{outdir / 'default'} exists already; give an empty --outdir."
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot make --outdir {outdir} ({exc.strerror})."
    return None


def main(argv: list[str] | None = None) -> int:
    """Rebuild the default bundle; 2 with one sentence on bad input, 1 when a step fails."""
    parser = argparse.ArgumentParser(prog="python -m models.rebuild_default",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--outdir", type=Path, required=True,
                        help="work folder for runs, calibrations and the rebuilt bundle")
    parser.add_argument("--tiny", action="store_true",
                        help="the smallest configuration, a few paintings and steps (minutes)")
    args = parser.parse_args(argv)
    problem = check_inputs(args.outdir)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(CANNOT_REDO, flush=True)
    start = time.perf_counter()
    try:
        final = rebuild(TINY if args.tiny else FULL, args.outdir.resolve())
    except StepFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"rebuilt bundle: {final} in {time.perf_counter() - start:.0f} s"
          f"{' (tiny: a check of the chain, not a model to show)' if args.tiny else ''}")
    print(f"play it: python -m installation --model {final} --profile {final}/profile.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
