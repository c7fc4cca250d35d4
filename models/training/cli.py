"""Train the painting generator on the artist's paintings and EEG (StyleGAN2-ADA).

    python train.py --images PAINTINGS --eeg rest.edf [--eeg more.xdf ...] --outdir runs \
        [--cfg tiny|256|512] [--resolution R] [--kimg K] [--batch N] [--snap N] [--seed N]
    python train.py --images PAINTINGS --person a1.edf a2.edf [a/profile.json] \
        --person b1.edf ... --outdir runs
    python train.py --resume runs/00000-tiny-64px [--kimg K]
    python train.py --resume assets/campaign/resume.pt --outdir runs [--person ... | --eeg ...]
    python train.py --resume BUNDLE --adapt mapping --eeg SESSION [...] --outdir runs
    python train.py --resume BUNDLE --adapt discriminator --images PAINTINGS --outdir runs
    torchrun --nproc_per_node N train.py ...

Every bad value ends in one sentence and exit code 2; ``--dry-run`` prints the resolved
configuration as JSON and exits.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.profile import load_profile
from installation.eeg.sources.files.session_folder import is_session_folder
from installation.eeg.sources.files.session_format import SESSION_PROFILE_FILE
from installation.errors import ConfigError, OneLineParser, ranged, require_image_folder
from models.adaptation.adapt import adapt_bundle, adapted_spec, continue_config
from models.adaptation.discriminator_warmup import (
    WarmupSettings,
    warm_discriminator,
    warmup_run_config,
    warmup_trainer,
    write_warmup_run,
)
from models.adaptation.mapping_fit import (
    CONTRAST_RANGE,
    STRAY_WEIGHT_RANGE,
    MappingFitSettings,
)
from models.bundles.checkpoint import bundle_checkpoint, is_bundle_dir, load_checkpoint
from models.campaign import homed, is_packed, unpacked
from models.configs import ADA_TARGET, CONFIGS, machine_cfg
from models.evaluation.inception import load_detector
from models.training.dataset import CropSettings, PaintingCrops
from models.training.run_folder import continued_run, next_run_dir
from models.training.training_loop import load_steering, run, setup_distributed
from models.training.wearers import split_wearers


def power_of_two(text: str) -> int:
    """An argparse type: a power of two from 16 to 1024."""
    value = ranged(int, 16, 1024)(text)
    if value & (value - 1):
        raise argparse.ArgumentTypeError(f"{value} is not a power of two (e.g. 64, 256, 512)")
    return value


class DefaultsShown(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, except for options whose default is resolved later (None)."""

    def _get_help_string(self, action):
        if action.default in (None, []) or "%(default)" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def preset_figures(configs: dict, name: str) -> str:
    """``tiny: 5, 128: 500, ...``: one field of every preset, for the help text."""
    return ", ".join(f"{key}: {getattr(cfg, name):g}" for key, cfg in configs.items())


def build_parser() -> argparse.ArgumentParser:
    """The command line, with types, ranges and defaults."""
    p = OneLineParser(prog="python train.py", description=__doc__.split("\n")[0],
                      formatter_class=DefaultsShown)
    p.add_argument("--images", metavar="DIR", help="folder of paintings (JPEG, PNG, WebP)")
    p.add_argument("--eeg", action="append", default=[], metavar="FILE",
                   help="EEG recording (EDF, BDF, FIF, XDF, OpenBCI text, BrainFlow CSV); repeat")
    p.add_argument("--person", action="append", nargs="+", default=[], metavar="FILE",
                   help="one person's recordings (files or --record session folders), with their "
                        "calibration profile.json among them if they have one; repeat per "
                        "person: each is z-scored by their own statistics")
    p.add_argument("--profile", metavar="FILE",
                   help="calibration profile.json whose statistics z-score the EEG (the one the "
                        "show will use); default: statistics of all --eeg recordings pooled")
    p.add_argument("--outdir", metavar="DIR", help="folder for numbered run folders")
    p.add_argument("--cfg", choices=sorted(CONFIGS), help="network configuration (default: 256 "
                   "with a GPU, 128 on a CPU; the run says which it took)")
    p.add_argument("--resolution", type=power_of_two, metavar="R",
                   help="pixels (default: the cfg's)")
    p.add_argument("--kimg", type=ranged(float, 0, low_open=True), metavar="K",
                   help="thousands of images to train for (default per cfg: "
                        f"{preset_figures(CONFIGS, 'kimg')})")
    p.add_argument("--batch", type=ranged(int, 2, 4096), metavar="N",
                   help="total batch (default: the cfg's)")
    p.add_argument("--tick", type=ranged(float, 0, low_open=True), metavar="K",
                   help=f"kimg per tick (default per cfg: {preset_figures(CONFIGS, 'tick_kimg')})")
    p.add_argument("--snap", type=ranged(int, 1), metavar="N",
                   help="ticks between snapshots (default: 5)")
    p.add_argument("--timelapse-every", type=ranged(int, 0), default=1, metavar="N",
                   help="ticks between timelapse frames (0: snapshots only)")
    p.add_argument("--seed", type=ranged(int, 0, 2**31 - 1), default=0, metavar="N",
                   help="random seed")
    p.add_argument("--gamma", type=ranged(float, 0),
                   help="R1 weight (default: the cfg's; with --resume, a new weight from here on)")
    p.add_argument("--lr", type=ranged(float, 0, 0.1, low_open=True), metavar="RATE",
                   help="Adam learning rate of G and D (default: the cfg's; with --resume, a new "
                        "rate from here on, say a calmer leg of a campaign)")
    p.add_argument("--ada-target", type=ranged(float, 0, 1, low_open=True), metavar="T",
                   help=f"ADA target for E[sign(D(real))] (default: {ADA_TARGET:g}; with "
                        "--resume, a new target from here on)")
    p.add_argument("--hold-from", type=power_of_two, metavar="R",
                   help="keep the synthesis blocks at R px and finer as they are, training the "
                        "coarser blocks, the mapping and the discriminator around them (a leg "
                        "that must not lose the finest detail it starts with; with --resume, "
                        "from here on)")
    p.add_argument("--hold-features", action="store_true", default=None,
                   help="keep every synthesis convolution as it is, so that only the RGB outputs "
                        "of the blocks (those coarser than --hold-from), the mapping and the "
                        "discriminator train: colour and composition move, the features the "
                        "finest blocks read do not (with --resume, from here on)")
    p.add_argument("--ada-kimg", type=ranged(float, 0, low_open=True),
                   help="kimg for p to go 0 -> 1 at full imbalance (default: the cfg's)")
    p.add_argument("--crops-per-image", type=ranged(int, 1, 100000), default=100,
                   help="random crops per painting")
    p.add_argument("--crop-min", type=ranged(float, 0, 1, low_open=True), default=0.5,
                   help="smallest crop side, as a fraction of the painting's short side")
    p.add_argument("--crop-max", type=ranged(float, 0, 1, low_open=True), default=1.0,
                   help="largest crop side, as a fraction of the painting's short side")
    p.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=True,
                   help="mirror half of the crops (hurts asymmetric content)")
    p.add_argument("--metric-images", type=ranged(int, 2, 50000), default=64,
                   help="fakes and reals compared by SWD at each snapshot")
    p.add_argument("--threads", type=ranged(int, 0, 256), default=0,
                   help="torch CPU threads per process (0: torch's default)")
    p.add_argument("--resume", metavar="RUN",
                   help="run folder (or checkpoint) to continue; or a model bundle: with --adapt "
                        "mapping, re-fit its mapping; with --images, --eeg and --outdir, a new "
                        "run starting from its networks")
    p.add_argument("--adapt", choices=["mapping", "discriminator"],
                   help="with --resume BUNDLE: re-fit only the mapping network to the given EEG "
                        "(minutes on a CPU), or train only a discriminator against the bundle's "
                        "paintings and --images, for a later full run to start from; the "
                        "paintings stay as they are")
    p.add_argument("--features", choices=["bundle", "current"], default="bundle",
                   help="with --adapt: keep the bundle's feature definition, or move it to this "
                        "version's")
    p.add_argument("--adapt-steps", type=ranged(int, 1, 10**6), default=1500, metavar="N",
                   help="with --adapt: optimiser steps (a discriminator's take about 1.5 s "
                        "each on two CPU cores)")
    p.add_argument("--adapt-distance", choices=["whitened", "raw"], default="whitened",
                   help="with --adapt mapping: compare the new w with the old in the old w's "
                        "whitened axes (every direction alike; for a first re-fit) or raw (the "
                        "widest directions, colour and composition, count most; for a re-fit of "
                        "a re-fitted bundle)")
    p.add_argument("--adapt-contrast", type=ranged(float, *CONTRAST_RANGE),
                   default=MappingFitSettings.contrast, metavar="P",
                   help="with --adapt mapping: the painting moves as the EEG's distance to the "
                        "power P (1: in proportion; above 1, a change of state counts more and "
                        "the wander within a state less)")
    p.add_argument("--adapt-stray", type=ranged(float, *STRAY_WEIGHT_RANGE),
                   default=MappingFitSettings.stray_weight, metavar="W",
                   help="with --adapt mapping: weight of a term that holds steering no "
                        "calibration gave (independent Gaussian features) among the learned "
                        "paintings too (0: off)")
    p.add_argument("--inception", metavar="PATH",
                   help="TorchScript Inception (inception-2015-12-05.pt) for FID/KID")
    p.add_argument("--dry-run", action="store_true",
                   help="read the EEG and its profiles, print the resolved config and exit")
    return p


def check_new_run(args) -> None:
    """The options a new run needs, each checked where it enters."""
    if not args.images or not (args.eeg or args.person) or not args.outdir:
        raise ConfigError("A new run needs --images DIR, --eeg FILE (or --person FILE ...) and "
                          "--outdir DIR (or --resume RUN to continue one).")
    require_image_folder(args.images)
    check_eeg_and_outdir(args)
    if args.crop_min > args.crop_max:
        raise ConfigError(f"--crop-min {args.crop_min} is larger than --crop-max "
                          f"{args.crop_max}; swap them.")


def check_outdir(outdir: str) -> None:
    """ConfigError when ``--outdir`` names a file rather than a folder (or nothing yet)."""
    if Path(outdir).exists() and not Path(outdir).is_dir():
        raise ConfigError(f"--outdir {outdir} is a file; pass a folder for the run folders.")


def check_eeg_and_outdir(args) -> None:
    """The recordings, profile and output folder of a new run or an adaptation."""
    if args.eeg and args.person:
        raise ConfigError("Give the recordings either with --eeg (one person) or with --person "
                          "(one per person), not both.")
    check_outdir(args.outdir)
    for eeg in [*args.eeg, *(f for person in args.person for f in person
                             if not f.lower().endswith(".json"))]:
        check_recording_path(eeg)
    if args.profile:
        load_profile(args.profile)  # refuse a missing or garbled profile before training


def check_recording_path(path: str) -> None:
    """Refuse a path that is neither a recording file nor a session folder of the show."""
    if not Path(path).exists():
        raise ConfigError(f"The EEG recording {path} does not exist; check the --eeg path.")
    if Path(path).is_dir() and not is_session_folder(Path(path)):
        raise ConfigError(f"{path} is a folder but not a session recorded by the show (it has "
                          "no session.json); pass a recording file or a --record folder.")


def session_profile(recordings: list[str]) -> str | None:
    """The calibration profile the show kept in a recorded session among ``recordings``."""
    for recording in recordings:
        kept = Path(recording) / SESSION_PROFILE_FILE
        if kept.is_file():
            return str(kept.resolve())
    return None


def eeg_profile(args) -> str | None:
    """``--profile``, else the profile a recorded session among ``--eeg`` was shown with."""
    return str(Path(args.profile).resolve()) if args.profile else session_profile(args.eeg)


def people_config(person_args: list[list[str]]) -> list[dict]:
    """``--person`` groups as ``{"name", "eeg", "profile"[, "stretches"]}``.

    A .json among a person's files is their calibration profile (checked now), else the one a
    session recorded by the show kept; the rest are their recordings. A session in which the
    wearer changed (an in-show calibration) adds a person per later wearer
    (:func:`~models.training.wearers.split_wearers`).
    """
    people, names = [], set()
    for files in person_args:
        profiles = [f for f in files if f.lower().endswith(".json")]
        recordings = [str(Path(f).resolve()) for f in files if f not in profiles]
        if len(profiles) > 1 or not recordings:
            raise ConfigError(f"--person {' '.join(files)} must list recordings and at most "
                              "one profile.json.")
        profiles = profiles or [p for p in [session_profile(recordings)] if p]
        for profile in profiles:
            load_profile(profile)
        name, n = Path(recordings[0]).stem, 1
        while name in names:
            n += 1
            name = f"{Path(recordings[0]).stem}#{n}"
        names.add(name)
        people.extend(split_wearers({
            "name": name, "eeg": recordings,
            "profile": str(Path(profiles[0]).resolve()) if profiles else None}))
    return unique_names(people)


def unique_names(people: list[dict]) -> list[dict]:
    """The people with ``#2``, ``#3``... added to a name met before."""
    names = set()
    for person in people:
        name, n = person["name"], 1
        while name in names:
            n += 1
            name = f"{person['name']}#{n}"
        person["name"] = name
        names.add(name)
    return people


def eeg_people(args) -> list[dict]:
    """The people of a run: ``--person`` groups, or ``--eeg`` where a session changed wearer.

    Where a session among ``--eeg`` changed wearer, the ``--eeg`` recordings are the first
    person (with ``--profile`` or the session's start profile) and each later wearer one more;
    otherwise ``--eeg`` stays one pool (no people).
    """
    if args.person:
        return people_config(args.person)
    if not args.eeg:
        return []
    recordings = [str(Path(e).resolve()) for e in args.eeg]
    people = split_wearers({"name": Path(recordings[0]).stem, "eeg": recordings,
                            "profile": eeg_profile(args)})
    split = len(people) > 1 or (people and "stretches" in people[0])
    return unique_names(people) if split else []


def resolve_config(args, world: int = 1) -> dict:
    """The full configuration of a new run from the parsed options."""
    cfg = CONFIGS[args.cfg]
    resolution = args.resolution or cfg.resolution
    batch = args.batch or cfg.batch
    if batch % world:
        raise ConfigError(f"--batch {batch} does not split over {world} processes; use a "
                          f"multiple of {world}.")
    tick_kimg = args.tick or cfg.tick_kimg
    steps_per_tick = max(1, round(tick_kimg * 1000 / batch))
    spec = FeatureSpec()
    g_kwargs, d_kwargs, train = cfg.network_kwargs(resolution, batch, spec.n_features, args.gamma,
                                                   args.ada_target, args.ada_kimg)
    if args.lr is not None:
        train["lr"] = args.lr
    if args.hold_from is not None:
        train["hold_from"] = checked_hold(args.hold_from, resolution)
    if args.hold_features:
        train["hold_features"] = True
    crops = CropSettings(resolution, args.crops_per_image, args.crop_min, args.crop_max,
                         args.mirror, args.seed)
    return {
        "command": " ".join(["python train.py", *sys.argv[1:]]),
        "images": str(Path(args.images).resolve()),
        "eeg": [str(Path(e).resolve()) for e in args.eeg],
        "people": eeg_people(args),
        "eeg_profile": eeg_profile(args),
        "outdir": str(Path(args.outdir).resolve()),
        "run_dir": str(next_run_dir(Path(args.outdir).resolve(), args.cfg, resolution)),
        "cfg": args.cfg, "resolution": resolution, "batch": batch, "seed": args.seed,
        "kimg": args.kimg or cfg.kimg,
        "tick_kimg": steps_per_tick * batch / 1000, "steps_per_tick": steps_per_tick,
        "inception": str(Path(args.inception).resolve()) if args.inception else None,
        "snap": args.snap or 5, "metric_images": args.metric_images, "world_size": world,
        "timelapse_every": args.timelapse_every,
        "crops": crops.to_dict(),
        "feature_spec": spec.to_dict(),
        "G_kwargs": g_kwargs,
        "D_kwargs": d_kwargs,
        "train": train,
    }


def choose_cfg(args) -> None:
    """Without --cfg, take the one that suits this machine and say so (on stderr)."""
    if args.cfg is None:
        args.cfg, why = machine_cfg()
        print(f"--cfg {args.cfg}: {why}; pass --cfg to choose another.", file=sys.stderr)


def resume_config(args) -> tuple[dict, dict]:
    """(config, checkpoint) of the run to continue; --kimg and --snap may change."""
    config, state, path = continued_run(args.resume, load_checkpoint, args.kimg, args.snap)
    if is_packed(state):  # a campaign's resume checkpoint: a new run folder goes on from it
        if not args.outdir:
            raise ConfigError(f"{path} is a campaign's resume checkpoint: pass --outdir DIR for "
                              "the run folder that continues it.")
        state, config = unpacked(state), homed(config, path)
        config.update(outdir=str(Path(args.outdir).resolve()), run_dir=str(next_run_dir(
            Path(args.outdir).resolve(), config["cfg"], config["resolution"])))
        config.update(steering_of(args))
    elif args.eeg or args.person:
        raise ConfigError("--eeg and --person change a campaign's steering only: a run folder "
                          "goes on with the recordings it started with.")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if config["batch"] % world:
        raise ConfigError(f"The run's batch {config['batch']} does not split over {world} "
                          "processes; resume with a process count that divides it.")
    return retuned(config, args, float(state.get("kimg", 0.0))), state


def retuned(config: dict, args, kimg: float) -> dict:
    """The resumed run's configuration with the leg's new training settings applied.

    A campaign that has drifted (the critic winning, the finest detail coarsening) goes on from
    a good snapshot otherwise: a lower learning rate (``--lr``), a stronger R1 penalty
    (``--gamma``), an augmentation that starts sooner (``--ada-target``), or weights held as
    they are (``--hold-from``, ``--hold-features``), from here on. The optimisers keep their
    moments and the augmentation its probability; only their settings change.
    """
    given = (("lr", args.lr), ("r1_gamma", args.gamma), ("ada_target", args.ada_target),
             ("hold_from", args.hold_from), ("hold_features", args.hold_features))
    changes = {key: value for key, value in given if value is not None}
    if "hold_from" in changes:
        checked_hold(changes["hold_from"], config["resolution"])
    if changes:
        config = {**config, "train": {**config["train"], **changes}}
        config["retuned"] = [*config.get("retuned", []),
                             {"from_kimg": kimg, **changes}]
    return config


def checked_hold(hold_from: int, resolution: int) -> int:
    """``--hold-from``, refused when no block of a ``resolution`` px run is that fine."""
    if hold_from > resolution:
        raise ConfigError(f"--hold-from {hold_from} is finer than the run's {resolution} px: "
                          f"give {resolution} or less.")
    return hold_from


def steering_of(args) -> dict:
    """The recordings a resumed campaign leg trains on: those given now, else its own.

    A campaign outlives the machine whose paths its configuration holds, and a leg may widen
    its steering (say, from the artist to every calibrated person): ``--eeg`` or ``--person``
    replace the recordings, their profiles and their people; nothing given keeps them.
    """
    if not (args.eeg or args.person):
        return {}
    check_eeg_and_outdir(args)
    return {"eeg": [str(Path(e).resolve()) for e in args.eeg], "people": eeg_people(args),
            "eeg_profile": eeg_profile(args)}


def main(argv: list[str] | None = None) -> int:
    """Parse, resolve and train; see ``--help``."""
    args = build_parser().parse_args(argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if args.adapt:
        return adapt(args)
    if args.resume and is_bundle_dir(args.resume):  # a new run continuing a bundle

        check_new_run(args)
        choose_cfg(args)
        config, state = continue_config(resolve_config(args, world), args.resume), None
    elif args.resume:
        config, state = resume_config(args)
    else:
        check_new_run(args)
        choose_cfg(args)
        config, state = resolve_config(args, world), None
    if config.get("inception"):
        load_detector(config["inception"])  # refuse unusable weights before training
    if args.dry_run:
        check_eeg(config)
        print(json.dumps(config, indent=2))
        return 0
    return train(config, state, args.threads)


def check_eeg(config: dict) -> None:
    """Read the run's EEG as training will, so that a dry run refuses what training would.

    A profile of another headset, or from another feature spec, is refused here with the
    sentence training would end on, minutes later, after the paintings were loaded.
    """
    if config.get("eeg") or config.get("people"):
        load_pool(config, FeatureSpec.from_dict(config["feature_spec"]))


def adapt(args) -> int:
    """``--resume BUNDLE --adapt mapping``: re-fit the mapping, write a run, say how to export."""
    if not args.resume or not is_bundle_dir(args.resume) or not args.adapt:
        raise ConfigError(f"--adapt {args.adapt} continues a model bundle: pass --resume BUNDLE "
                          f"(a folder with generator.json) with --adapt {args.adapt}.")
    if args.adapt == "discriminator":
        return adapt_discriminator(args)
    if not (args.eeg or args.person) or not args.outdir:
        raise ConfigError("Adapting needs the new EEG (--eeg FILE_OR_SESSION or --person ...) "
                          "and --outdir DIR.")
    check_eeg_and_outdir(args)


    ckpt = bundle_checkpoint(args.resume)  # a bundle without one is refused before the EEG
    spec = adapted_spec(args.resume, args.features == "current")
    eeg = {"eeg": [str(Path(e).resolve()) for e in args.eeg],
           "people": eeg_people(args),
           "eeg_profile": eeg_profile(args)}
    pool = load_pool(eeg, spec)
    settings = MappingFitSettings(steps=args.adapt_steps, seed=args.seed,
                                  whiten=args.adapt_distance == "whitened",
                                  stray_weight=args.adapt_stray,
                                  contrast=args.adapt_contrast)
    if args.dry_run:
        print(json.dumps({**eeg, "bundle": args.resume, "feature_spec": spec.to_dict(),
                          "hops": len(pool.all), "fit": settings.to_dict()}, indent=2))
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    run_dir = next_run_dir(Path(args.outdir).resolve(), "adapt-mapping",
                           ckpt["G_kwargs"]["resolution"])
    checkpoint = adapt_bundle(args.resume, pool, spec, eeg, run_dir, settings, ckpt)
    print(f"wrote {checkpoint}\nnext: python -m models.export {run_dir} --out NEW_BUNDLE, then "
          f"python -m installation --model NEW_BUNDLE ...")
    return 0


def adapt_discriminator(args) -> int:
    """``--resume BUNDLE --adapt discriminator``: warm a critic up, write a run, say what next."""
    if not args.images or not args.outdir:
        raise ConfigError("--adapt discriminator needs the paintings (--images DIR) and "
                          "--outdir DIR.")
    require_image_folder(args.images)
    check_outdir(args.outdir)


    ckpt = bundle_checkpoint(args.resume)
    resolution = int(ckpt["G_kwargs"]["resolution"])
    crops = CropSettings(resolution, args.crops_per_image, args.crop_min, args.crop_max,
                         args.mirror, args.seed)
    settings = WarmupSettings(steps=args.adapt_steps, batch=args.batch or 16, seed=args.seed)
    images = str(Path(args.images).resolve())
    if args.dry_run:
        print(json.dumps({"bundle": args.resume, "images": images, "crops": crops.to_dict(),
                          "warmup": settings.to_dict()}, indent=2))
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    dataset = PaintingCrops(images, crops)
    trainer, d_kwargs = warmup_trainer(ckpt, settings.batch)
    print(f"training {'the' if 'D' in ckpt else 'a fresh'} discriminator of {args.resume} "
          f"alone against its paintings and {dataset.image_count} paintings' crops "
          f"({settings.steps} steps)", flush=True)
    figures = warm_discriminator(trainer, ckpt, dataset, settings, discriminator_progress)
    print(f"telling crops from paintings: {figures['accuracy_before']:.0%} right before, "
          f"{figures['accuracy']:.0%} after", flush=True)
    run_dir = next_run_dir(Path(args.outdir).resolve(), "adapt-discriminator", resolution)
    config = warmup_run_config(args.resume, ckpt, images, crops.to_dict(), settings, run_dir)
    checkpoint = write_warmup_run(ckpt, trainer, d_kwargs, figures, config, run_dir)
    print(f"wrote {checkpoint}\nnext: python -m models.export {run_dir} --out NEW_BUNDLE (the "
          "same paintings, with the discriminator to continue from)")
    return 0


def discriminator_progress(step: int, loss: float, every: int = 100) -> None:
    """Print the discriminator's loss every ``every`` steps."""
    if step % every == 0:
        print(f"step {step}: discriminator loss {loss:.3f}", flush=True)


def load_pool(eeg: dict, spec):
    """The EEG of ``eeg`` (the config entries) through the feature pipeline."""
    return load_steering({**eeg, "feature_spec": spec.to_dict()})


def train(config: dict, state: dict | None, threads: int) -> int:
    """Create the run folder (rank 0) and run the training loop."""
    if threads:
        torch.set_num_threads(threads)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    rank, world, _ = setup_distributed()
    if state is None:
        config = agree_on_run_dir(config, rank, world)
    run(config, state)
    return 0


def agree_on_run_dir(config: dict, rank: int, world: int) -> dict:
    """Give every process rank 0's choice of run folder."""
    if world > 1:
        box = [config["run_dir"] if rank == 0 else None]
        dist.broadcast_object_list(box, src=0)
        config = {**config, "run_dir": box[0]}
    return config

