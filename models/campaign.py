"""A long training campaign that outlives its run folders: one small resume checkpoint.

The default model trains over many sessions on different machines, and a run folder may be gone
by the next one. Between sessions the campaign lives in the repository as one file,
``assets/campaign/resume.pt``, replaced (never added) each time, so the history grows slowly:

    python -m models.campaign pack RUN_OR_SNAPSHOT [--out assets/campaign/resume.pt]
    python train.py --resume assets/campaign/resume.pt --outdir runs [--kimg K]
    python -m models.travel_pack write; then, on a lent GPU machine:
    python3 -m models.travel_pack leg --minutes 7 --out "$OUT"

It holds the generator's EMA and the discriminator in float16 (14 MB for the 128 px
configuration), the augmentation probability, the step count, kimg and the run's configuration.
A resumed run's generator starts from the EMA (the raw generator would take 6.5 MB more, over
the repository's 15: it is the EMA's noisier twin, half a life of 5 kimg ahead), and Adam
rebuilds its moments within a few hundred steps (its first moment is off: beta1 = 0).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from installation.errors import ConfigError, ModelError, OneLineParser, run_cli
from models.bundles.checkpoint import load_checkpoint
from models.training.snapshots import save_atomic

REPO = Path(__file__).resolve().parents[1]
RESUME_PATH = REPO / "assets" / "campaign" / "resume.pt"
FORMAT = "eeg-painting-campaign/1"
NETWORKS = ("G_ema", "D")
KEPT = ("G_kwargs", "D_kwargs", "config", "augment", "step", "kimg", "tick", "metrics",
        "steering_sample", "pl_mean")
SIZE_LIMIT_MB = 15.0
PROFILES = "profiles"  # beside the resume checkpoint: the people's calibrations


def half(state: dict) -> dict:
    """A state dict with its floating tensors in float16, contiguous (others untouched)."""
    return {k: v.detach().to(torch.float16).contiguous() if v.is_floating_point() else v
            for k, v in state.items()}


def full(state: dict) -> dict:
    """A state dict with its floating tensors back in float32."""
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def campaign_kimg(ckpt: dict) -> float:
    """Thousands of images the synthesis network has seen in all: its bundle's and this run's."""
    start = ckpt.get("config", {}).get("campaign_start_kimg")
    if start is None:
        lineage = ckpt.get("config", {}).get("lineage", [])
        start = float(lineage[-1].get("kimg", 0.0)) if lineage else 0.0
    return float(start) + float(ckpt.get("kimg", 0.0))


def packed(ckpt: dict) -> dict:
    """The resume checkpoint of a train.py snapshot (EMA and D in float16, no optimisers)."""
    missing = [key for key in (*NETWORKS, "G_kwargs", "D_kwargs", "config", "augment")
               if key not in ckpt]
    if missing:
        raise ModelError(f"The snapshot lacks {', '.join(missing)}; pack a network-snapshot-*.pt "
                         "written by train.py (a bundle's generator.pt holds no augmentation "
                         "state).")
    state = {key: half(ckpt[key]) for key in NETWORKS}
    state.update({key: ckpt[key] for key in KEPT if key in ckpt})
    config = dict(state["config"])
    config["campaign_start_kimg"] = campaign_kimg(ckpt) - float(ckpt.get("kimg", 0.0))
    state.update(config=config, format=FORMAT, campaign_kimg=campaign_kimg(ckpt))
    return state


def is_packed(ckpt: dict) -> bool:
    """Whether ``ckpt`` is a campaign's resume checkpoint."""
    return ckpt.get("format") == FORMAT


def unpacked(ckpt: dict) -> dict:
    """A resume checkpoint as train.py resumes it: float32, G from the EMA, no optimisers."""
    networks = {key: full(ckpt[key]) for key in NETWORKS}
    return {**ckpt, **networks, "G": {k: v.clone() for k, v in networks["G_ema"].items()}}


def pack(source: str | Path, out: str | Path = RESUME_PATH,
         configure: Callable[[dict], dict] | None = None) -> tuple[Path, float, float]:
    """Write the resume checkpoint of a run's newest snapshot; return (path, MB, kimg in all).

    ``configure``, when given, rewrites the run's configuration first: a leg trained elsewhere
    (:mod:`models.travel_pack`) gives its paths back this way, so the checkpoint resumes at home.
    """
    state = packed(load_checkpoint(source))
    if configure is not None:
        state["config"] = configure(state["config"])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    state["config"] = kept_profiles(state["config"], out.parent)
    save_atomic(state, out)
    size_mb = out.stat().st_size / 1e6
    if size_mb > SIZE_LIMIT_MB:
        out.unlink()
        raise ModelError(f"The resume checkpoint would take {size_mb:.1f} MB, over the "
                         f"{SIZE_LIMIT_MB:g} MB the repository keeps; train a smaller network.")
    return out, size_mb, state["campaign_kimg"]


def main(argv: list[str] | None = None) -> int:
    """``pack``: the command line."""
    parser = OneLineParser(prog="python -m models.campaign", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    pack_parser = commands.add_parser("pack", help="write the campaign's resume checkpoint")
    pack_parser.add_argument("source", help="a train.py run folder or network-snapshot-*.pt")
    pack_parser.add_argument("--out", default=str(RESUME_PATH))
    args = parser.parse_args(argv)
    if not Path(args.source).exists():
        raise ConfigError(f"{args.source} does not exist; pass a train.py run folder or one of "
                          "its network-snapshot-*.pt files.")
    path, size_mb, kimg = pack(args.source, args.out)
    print(f"{path}: {size_mb:.1f} MB, {kimg:.3f} kimg in all; continue with: python train.py "
          f"--resume {path} --outdir runs")
    return 0


def kept_profiles(config: dict, folder: Path) -> dict:
    """``config`` with its calibration profiles copied into ``folder/profiles``, named relative.

    The profiles that z-score the campaign's people are part of its state: a calibration folder
    may be gone by the next session, as a run folder may. Each is kept as ``profiles/NAME.json``
    beside the resume checkpoint (a few kB) and read from there on resuming (:func:`homed`).
    """
    config = with_own_people(config)
    for entry, key, name in profile_entries(config):
        source = entry.get(key)
        if not source or not Path(source).is_absolute():
            continue  # none, or kept already
        if not Path(source).is_file():
            raise ConfigError(f"The campaign's profile {source} is gone; pack from the machine "
                              "that trained it, or resume with --person and fresh calibrations.")
        kept = Path(PROFILES) / f"{name.replace('/', '_')}.json"
        (folder / kept).parent.mkdir(parents=True, exist_ok=True)
        if Path(source).resolve() != (folder / kept).resolve():
            shutil.copyfile(source, folder / kept)
        entry[key] = str(kept)
    return config


def with_own_people(config: dict) -> dict:
    """A copy of ``config`` whose people entries may be changed without touching the original."""
    return {**config, "people": [dict(person) for person in config.get("people") or []]}


def profile_entries(config: dict) -> list[tuple[dict, str, str]]:
    """(entry, key, name) of every calibration profile a configuration names."""
    return [*((person, "profile", person["name"]) for person in config["people"]),
            (config, "eeg_profile", "eeg_profile")]


def homed(config: dict, resume: str | Path) -> dict:
    """A packed configuration whose kept profiles are read beside its resume checkpoint."""
    folder = Path(resume).resolve().parent
    config = with_own_people(config)
    for entry, key, _ in profile_entries(config):
        if entry.get(key) and not Path(entry[key]).is_absolute():
            entry[key] = str(folder / entry[key])
    return config


def resume_state(path: str | Path) -> dict:
    """A campaign's resume checkpoint, refused in one sentence when it is something else."""
    if not Path(path).is_file():
        raise ConfigError(f"{path} does not exist; pass the campaign's resume checkpoint "
                          "(assets/campaign/resume.pt).")
    state = load_checkpoint(path)
    if not is_packed(state):
        raise ConfigError(f"{path} is not a campaign's resume checkpoint; pack one with: "
                          "python -m models.campaign pack RUN")
    return state


if __name__ == "__main__":
    sys.exit(run_cli(main))
