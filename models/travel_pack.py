"""A campaign leg on a lent GPU machine: what travels there, and the leg that trains there.

A GPU machine is lent to some sessions for minutes (see ``docs/training.md``). Only the
checkout travels (64 MiB in all, 56 of them the bundle and the campaign's resume checkpoint),
and that machine has PyTorch but none of the EEG libraries. So the campaign's data goes in a
small pack, written here in an ignored folder:

    python -m models.travel_pack write [--out travel]

- ``paintings/``: every painting shrunk as training shrinks it (its short side just what the
  smallest crop needs), as WebP: the crops cut there are the crops cut here;
- ``steering.npz``: the campaign's EEG through the show's feature pipeline, every hop
  (:class:`~models.training.feature_pool.FeaturePool`), so no recording is read there;
- ``travel.json``: what it was made from.

There, one command trains the campaign from ``assets/campaign/resume.pt`` for a number of
minutes and writes the new resume checkpoint, the leg's statistics and its last fakes grid
into the folder that comes back:

    python3 -m models.travel_pack leg --pack travel --minutes 7 --out "$OUT"

Back here, the leg's ``resume.pt`` replaces ``assets/campaign/resume.pt``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from installation.errors import ConfigError, OneLineParser, ranged, run_cli
from models.campaign import REPO, RESUME_PATH, homed, resume_state, unpacked
from models.campaign import pack as pack_campaign
from models.training.dataset import CropSettings, find_images, load_paintings
from models.training.feature_pool import FeaturePool
from models.training.run_folder import next_run_dir
from models.training.training_loop import load_steering, run

FORMAT = "eeg-painting-travel/1"
PAINTINGS, STEERING, MANIFEST = "paintings", "steering.npz", "travel.json"
WEBP_QUALITY = 85  # 4.2 MiB for 207 paintings, 4.4 levels rms from the decoded JPEGs
UNBOUNDED_KIMG = 1e6  # a leg's target: its deadline ends it
TRAVEL_LIMIT_MIB = 64.0  # what the device tool carries, checkout included


def write_pack(config: dict, out: str | Path, images: str | Path | None = None) -> dict:
    """Write the travel pack of a campaign's configuration into ``out``; return its manifest.

    Parameters
    ----------
    config : dict
        The campaign's run configuration (its resume checkpoint's ``config``).
    out : path
        The pack's folder (emptied first).
    images : path, optional
        The paintings, where they are not where the configuration says (another machine).
    """
    images = Path(images or config["images"])
    crops = CropSettings(**config["crops"])
    paths = find_images(images)
    paintings, skipped = load_paintings(paths, crops)
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / PAINTINGS).mkdir(parents=True)
    kept = [path for path in paths if path not in {bad for bad, _ in skipped}]
    for path, painting in zip(kept, paintings, strict=True):
        painting.save(out / PAINTINGS / f"{path.stem}.webp", "WEBP", quality=WEBP_QUALITY,
                      method=6)
    pool = load_steering(config)
    pool.save(out / STEERING)
    manifest = {"format": FORMAT, "images": str(images.resolve()),
                "paintings": len(paintings), "steering_hops": int(len(pool.all)),
                "steering_files": list(pool.per_file), "made": time.strftime("%Y-%m-%d %H:%M")}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def folder_mib(folder: str | Path) -> float:
    """MiB of the files under ``folder``."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 2**20


def read_manifest(pack: str | Path) -> dict:
    """The pack's manifest; ConfigError (one sentence) for a folder that is not a pack."""
    pack = Path(pack)
    try:
        manifest = json.loads((pack / MANIFEST).read_text())
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ConfigError(f"{pack} is not a travel pack; write one with: python -m "
                          f"models.travel_pack write --out {pack}")
    for part in (PAINTINGS, STEERING):
        if not (pack / part).exists():
            raise ConfigError(f"The travel pack {pack} lacks {part}; write it again.")
    return manifest


def leg_config(config: dict, pack: str | Path, workdir: str | Path, minutes: float) -> dict:
    """The campaign's configuration for a leg that trains from ``pack`` for ``minutes``.

    A leg spends the minutes it was lent: it ends at its deadline, even past the campaign's
    kimg, which the packed checkpoint keeps as it was.
    """
    pack, workdir = Path(pack).resolve(), Path(workdir).resolve()
    return {**config, "images": str(pack / PAINTINGS), "steering_file": str(pack / STEERING),
            "outdir": str(workdir), "inception": None, "kimg": UNBOUNDED_KIMG,
            "run_dir": str(next_run_dir(workdir, config["cfg"], config["resolution"])),
            "deadline": time.time() + 60.0 * minutes}


def home_config(trained: dict, home: dict) -> dict:
    """The leg's configuration as the campaign keeps it: its paths and kimg are home's again.

    ``home`` is the configuration as packed, whose kept profiles are named relative to it.
    """
    config = {key: value for key, value in trained.items()
              if key not in ("steering_file", "deadline")}
    config.update({key: home[key] for key in ("images", "outdir", "run_dir", "kimg",
                                              "inception", "people", "eeg_profile")
                   if key in home})
    return config


def run_leg(pack: str | Path, minutes: float, out: str | Path, resume: str | Path,
            workdir: str | Path | None = None) -> dict:
    """Train the campaign from ``resume`` on ``pack`` for ``minutes``; pack it into ``out``.

    Returns what the leg did: kimg before and after, seconds a kimg, and the last snapshot's
    figures. ``out`` receives ``resume.pt``, ``stats.jsonl`` and the last fakes grid; the run
    folder stays in ``workdir`` when one is given, else it goes with its temporary folder.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="campaign-leg-") as scratch:
            return run_leg(pack, minutes, out, resume, scratch)

    read_manifest(pack)
    state = resume_state(resume)
    home = dict(state["config"])
    check_steering_width(FeaturePool.load(Path(pack) / STEERING), state)
    before = float(state["kimg"])
    run_dir = run(leg_config(homed(home, resume), pack, workdir, minutes), unpacked(state))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path, size_mb, in_all = pack_campaign(run_dir, out / "resume.pt",
                                          lambda trained: home_config(trained, home))
    shutil.copy(run_dir / "stats.jsonl", out / "stats.jsonl")
    grids = sorted(run_dir.glob("fakes-*.png"))
    if grids:
        shutil.copy(grids[-1], out / "fakes-last.png")
    return leg_summary(run_dir, before, in_all, path, size_mb)


def check_steering_width(pool: FeaturePool, state: dict) -> None:
    """ConfigError when the pack's steering does not fit the campaign's mapping network."""
    width, expected = pool.all.shape[1], state["G_kwargs"]["n_features"]
    if width != expected:
        raise ConfigError(f"The travel pack's steering has {width} features, the campaign's "
                          f"generator takes {expected}; write the pack again from this "
                          "campaign.")


def leg_summary(run_dir: Path, before: float, in_all: float, path: Path,
                size_mb: float) -> dict:
    """What a leg trained (kimg, seconds a kimg) and its last snapshot's figures."""
    records = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]
    timed = [r["sec_per_kimg"] for r in records if "sec_per_kimg" in r]
    last = next((r for r in reversed(records) if "swd_mean" in r), {})
    return {"kimg_before": round(before, 3), "kimg_after": round(records[-1]["kimg"], 3),
            "kimg_in_all": round(in_all, 3),
            "sec_per_kimg": round(sorted(timed)[len(timed) // 2], 1) if timed else None,
            "swd_mean": last.get("swd_mean"), "critic_accuracy": last.get("critic_accuracy"),
            "resume": str(path), "resume_mb": round(size_mb, 1)}


def main(argv: list[str] | None = None) -> int:
    """``write`` and ``leg``: the command line."""
    parser = OneLineParser(prog="python -m models.travel_pack",
                           description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="write the pack a leg on a lent GPU trains from")
    write.add_argument("--resume", default=str(RESUME_PATH), help="the campaign to pack for")
    write.add_argument("--images", help="the paintings, where not where the campaign says")
    write.add_argument("--out", default=str(REPO / "travel"), help="the pack's folder")
    leg = commands.add_parser("leg", help="train the campaign from a travel pack for minutes")
    leg.add_argument("--pack", default=str(REPO / "travel"), help="the travel pack's folder")
    leg.add_argument("--resume", default=str(RESUME_PATH), help="the campaign to continue")
    leg.add_argument("--minutes", type=ranged(float, 0, 600, low_open=True), default=7.0,
                     help="wall-clock minutes of training (the leg ends after that tick)")
    leg.add_argument("--out", required=True, help="folder for resume.pt, stats and the grid")
    args = parser.parse_args(argv)
    return write_command(args) if args.command == "write" else leg_command(args)


def write_command(args) -> int:
    """Write the travel pack and say what travels."""
    state = resume_state(args.resume)
    manifest = write_pack(homed(state["config"], args.resume), args.out, args.images)
    pack_mib = folder_mib(args.out)
    tracked_mib = tracked_size_mib()
    print(f"{args.out}: {manifest['paintings']} paintings and {manifest['steering_hops']} hops "
          f"of steering, {pack_mib:.1f} MiB; with the checkout ({tracked_mib:.1f} MiB) "
          f"{pack_mib + tracked_mib:.1f} of the {TRAVEL_LIMIT_MIB:g} MiB that travel")
    if pack_mib + tracked_mib > TRAVEL_LIMIT_MIB:
        raise ConfigError(f"The checkout and the pack come to {pack_mib + tracked_mib:.1f} MiB, "
                          f"over the {TRAVEL_LIMIT_MIB:g} MiB that travel to a lent machine; "
                          "write it again with --images a smaller folder of paintings.")
    return 0


def leg_command(args) -> int:
    """Run one leg and print what it did (one JSON line last)."""
    summary = run_leg(args.pack, args.minutes, args.out, args.resume)
    print(f"leg: {summary['kimg_before']:.1f} -> {summary['kimg_after']:.1f} kimg of the run "
          f"({summary['kimg_in_all']:.1f} in all), {summary['sec_per_kimg']} s/kimg; "
          f"{summary['resume']} ({summary['resume_mb']} MB)")
    print(json.dumps(summary))
    return 0


def tracked_size_mib() -> float:
    """MiB of the files git tracks in this checkout (what travels besides carried folders)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                            check=False)
    names = [name for name in listed.stdout.decode().split("\0") if name]
    return sum((REPO / name).stat().st_size for name in names
               if (REPO / name).is_file()) / 2**20


if __name__ == "__main__":
    sys.exit(run_cli(main))
