"""Train the second-stage painter: ``python -m models.upscale``.

    python -m models.upscale --images PAINTINGS [--base assets/default] --outdir runs \
        [--cfg default|tiny] [--kimg K] [--batch N] [--patch P] [--threads N]
    python -m models.upscale --resume runs/00003-upscaler-512px [--kimg K]

The upscaler learns the artist's brushwork from real crops at its output size (the base bundle's
resolution times ``scale``) against their downscales, and, adversarially, from the base model's
own paintings. Snapshots, grids, ``stats.jsonl`` and the timelapse go into a numbered run folder
like train.py's; ``python -m models.export RUN --out BUNDLE`` puts the upscaler into a bundle.
Every bad value ends in one sentence and exit code 2; ``--dry-run`` prints the configuration.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import torch

from installation.errors import (
    ConfigError,
    ModelError,
    OneLineParser,
    ranged,
    require_image_folder,
    run_cli,
)
from models.bundles.checkpoint import is_upscaler_checkpoint, read_checkpoint
from models.configs import UPSCALER_PRESETS
from models.training.run_folder import continued_run, next_run_dir
from models.upscaler.data import base_resolution
from models.upscaler.export import CHECKPOINT_NAME
from models.upscaler.loop import run

DEFAULT_BASE = Path(__file__).resolve().parents[1] / "assets" / "default"


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    p = OneLineParser(prog="python -m models.upscale", description=__doc__.split("\n")[0])
    p.add_argument("--images", help="folder of the artist's paintings")
    p.add_argument("--base", default=str(DEFAULT_BASE),
                   help="bundle of the base generator whose paintings it learns to upscale")
    p.add_argument("--outdir", help="folder for numbered run folders")
    p.add_argument("--cfg", choices=sorted(UPSCALER_PRESETS), default="default")
    p.add_argument("--scale", type=int, choices=(2, 4, 8), default=4, help="output side / input")
    p.add_argument("--kimg", type=ranged(float, 0, low_open=True),
                   help="thousands of real crops to train on")
    p.add_argument("--batch", type=ranged(int, 1), help="real crops per step")
    p.add_argument("--patch", type=ranged(int, 1), help="side of the training windows at the "
                   "output size (a multiple of the scale)")
    p.add_argument("--adv-weight", type=ranged(float, 0, low_open=True),
                   help="weight of the adversarial term (default 0.05): more texture, and more "
                        "risk of a painted pattern")
    p.add_argument("--lattice-weight", type=ranged(float, 0),
                   help="weight of the penalty on power at the upscaling grid's frequencies "
                        "(default 0.1): a dot pattern repeating every scale pixels")
    p.add_argument("--equivariance-weight", type=ranged(float, 0),
                   help="weight of the term that makes a flipped or transposed picture upscale "
                        "to the flipped or transposed upscaling (default 1; 0 = off): without "
                        "it, the texture may take one direction everywhere")
    p.add_argument("--crops-per-image", type=ranged(int, 1), default=100)
    p.add_argument("--snap", type=ranged(int, 1), help="ticks between snapshots (default 4)")
    p.add_argument("--metric-images", type=ranged(int, 1), default=48)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=ranged(int, 1), help="torch threads (default: all cores)")
    p.add_argument("--resume", help="run folder (or snapshot) to continue")
    p.add_argument("--init", help="start a new run from these weights: an upscaler run folder, "
                   "snapshot, or a bundle with upscaler.pt (fine-tuning)")
    p.add_argument("--dry-run", action="store_true", help="print the configuration and exit")
    return p


def resolve_config(args, init: dict | None = None) -> dict:
    """The full configuration of a new run (``init``: the weights it starts from, if any)."""
    if not args.images or not args.outdir:
        raise ConfigError("A new upscaler run needs --images DIR and --outdir DIR (or --resume "
                          "RUN to continue one).")
    require_image_folder(args.images)
    preset = UPSCALER_PRESETS[args.cfg]
    input_resolution = base_resolution(args.base)
    resolution = input_resolution * args.scale
    patch = min(args.patch or preset.patch, resolution)
    if patch % args.scale:
        raise ConfigError(f"--patch {patch} is not a multiple of the scale {args.scale}.")
    return {
        "command": shlex.join(["python", "-m", "models.upscale", *sys.argv[1:]]),
        "images": str(Path(args.images).resolve()), "base": str(Path(args.base).resolve()),
        "run_dir": str(next_run_dir(Path(args.outdir).resolve(), f"upscaler-{args.cfg}",
                                    resolution)),
        "cfg": args.cfg, "scale": args.scale, "resolution": resolution,
        "input_resolution": input_resolution, "patch": patch,
        "batch": args.batch or preset.batch, "base_batch": preset.base_batch,
        "kimg": args.kimg or preset.kimg, "tick_kimg": preset.tick_kimg, "snap": args.snap or 4,
        "crops_per_image": args.crops_per_image, "metric_images": args.metric_images,
        "base_count": 512, "seed": args.seed, "threads": args.threads or 1,
        "init": str(Path(args.init).resolve()) if args.init else None,
        "init_kimg": float(init.get("kimg", 0.0)) if init else 0.0,
        "U_kwargs": init["U_kwargs"] if init else {
            "channels": preset.channels, "blocks": preset.blocks, "scale": args.scale,
            "fine_channels": preset.fine_channels},
        "D_kwargs": init["D_kwargs"] if init else {"channels": list(preset.d_channels)},
        "train": {"lr": preset.lr, "adv_weight": args.adv_weight or preset.adv_weight,
                  "consistency_weight": preset.consistency_weight,
                  "lattice_weight": args.lattice_weight
                  if args.lattice_weight is not None else preset.lattice_weight,
                  "equivariance_weight": args.equivariance_weight
                  if args.equivariance_weight is not None else preset.equivariance_weight,
                  "warmup_kimg": preset.warmup_kimg, "ema_kimg": preset.ema_kimg},
    }


def load_upscaler_checkpoint(path: str | Path) -> dict:
    """An upscaler snapshot (or a run folder's latest); one sentence when unusable."""
    state = read_checkpoint(path)
    if not is_upscaler_checkpoint(state):
        raise ModelError(f"{path} is not an upscaler checkpoint; pass a run folder made by "
                         "`python -m models.upscale`.")
    return state


def init_state(path: str | Path) -> dict:
    """The weights a new run starts from (a run, a snapshot, or a bundle's ``upscaler.pt``)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"The weights {path} to start from do not exist; pass an upscaler run "
                          "folder, one of its snapshots, or a bundle holding upscaler.pt.")
    if path.is_dir() and (path / CHECKPOINT_NAME).is_file():
        path = path / CHECKPOINT_NAME
    state = load_upscaler_checkpoint(path)
    if "D" not in state:
        raise ConfigError(f"{path} holds no discriminator to go on training with; pass a run "
                          "folder of models.upscale.")
    return {k: state[k] for k in ("U", "U_ema", "D", "U_kwargs", "D_kwargs", "kimg")
            if k in state}


def resume_config(args) -> tuple[dict, dict]:
    """(config, state) of the run to continue; --kimg, --snap and --threads may change."""
    config, state, _ = continued_run(args.resume, load_upscaler_checkpoint, args.kimg, args.snap)
    if args.threads is not None:
        config["threads"] = args.threads
    return config, state


def main(argv: list[str] | None = None) -> int:
    """Parse, resolve and train; see ``--help``."""
    args = build_parser().parse_args(argv)
    if args.resume and args.init:
        raise ConfigError("--resume continues a run and --init starts one: pass only one.")
    if args.resume:
        config, state = resume_config(args)
    else:
        init = init_state(args.init) if args.init else None
        config = resolve_config(args, init)
        state = {**init, "kimg": 0.0} if init else None  # the weights only: a new run
    if args.dry_run:
        print(json.dumps(config, indent=2))
        return 0


    torch.set_num_threads(config["threads"])
    run_dir = run(config, state)
    print(f"upscaler run: {run_dir}\nput it into a bundle: python -m models.export {run_dir} "
          f"--out {config['base']}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
