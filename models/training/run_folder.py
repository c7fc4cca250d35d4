"""A training run's folder, for both trainers (the generator's and the upscaler's).

``outdir/NNNNN-NAME-Rpx`` holds ``training_options.json`` (the run's whole configuration),
``stats.jsonl`` (one line per tick, also to TensorBoard), the snapshots and their pictures.
A run continues from its newest snapshot, in its own folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from installation.errors import ConfigError
from models.training.snapshots import latest_checkpoint

RUN_DIR_PATTERN = re.compile(r"^(\d{5})-")


def next_run_dir(outdir: Path, cfg: str, resolution: int) -> Path:
    """``outdir/NNNNN-cfg-Rpx`` with the next free number."""
    ids = [int(m.group(1)) for p in outdir.glob("*") if (m := RUN_DIR_PATTERN.match(p.name))]
    return outdir / f"{max(ids, default=-1) + 1:05d}-{cfg}-{resolution}px"


def prepare_run_dir(run_dir: Path, config: dict, tick: int) -> None:
    """Create the folder, write the options, and drop stats of ticks after the resumed one."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "training_options.json").write_text(json.dumps(config, indent=2) + "\n")
    stats = run_dir / "stats.jsonl"
    if tick and stats.exists():
        kept = [line for line in stats.read_text().splitlines()
                if (line_tick(line) or tick + 1) <= tick]
        stats.write_text("".join(line + "\n" for line in kept))
    print(f"run folder: {run_dir}", flush=True)


class StatsLog:
    """stats.jsonl + TensorBoard scalars + the tqdm line (rank 0 only).

    Parameters
    ----------
    run_dir : Path
        The run folder.
    total_kimg, start_kimg : float
        The progress bar's end and start.
    postfix_keys : tuple of str
        Figures of a record shown after the progress bar.
    """

    def __init__(self, run_dir: Path, total_kimg: float, start_kimg: float,
                 postfix_keys=("sec_per_kimg", "loss_G", "loss_D", "augment_p")):
        self.postfix_keys = tuple(postfix_keys)
        self.jsonl = open(run_dir / "stats.jsonl", "a")  # noqa: SIM115 - closed in close()
        self.tb = SummaryWriter(str(run_dir))
        self.bar = tqdm(total=round(total_kimg, 3), initial=round(start_kimg, 3), unit="kimg",
                        dynamic_ncols=True, mininterval=1.0)

    def write(self, record: dict) -> None:
        """Append one tick's record everywhere."""
        self.jsonl.write(json.dumps(record) + "\n")
        self.jsonl.flush()
        step = int(round(record["kimg"] * 1000))
        for key, value in record.items():
            if isinstance(value, (int, float)) and key not in ("tick", "kimg"):
                self.tb.add_scalar(key, value, step)
        self.tb.flush()
        self.bar.n = round(record["kimg"], 3)
        self.bar.set_postfix_str(" ".join(
            f"{k}={record[k]:.3g}" for k in self.postfix_keys if k in record))

    def pictures(self, pictures: dict, kimg: float) -> None:
        """Put uint8 (H, W, 3) pictures into TensorBoard under their names."""
        step = int(round(kimg * 1000))
        for name, image in pictures.items():
            self.tb.add_image(name, image, step, dataformats="HWC")
        self.tb.flush()

    def close(self) -> None:
        """Flush and close."""
        self.bar.close()
        self.tb.close()
        self.jsonl.close()


def continued_run(run: str | Path, read_state: Callable[[Path], dict], kimg: float | None,
                  snap: int | None) -> tuple[dict, dict, Path]:
    """(config, state, snapshot) of the run folder ``run`` to continue from its newest snapshot.

    ``read_state`` reads a snapshot (a ModelError sentence when unusable); the run's own
    configuration comes back with ``run_dir`` set to its folder and with ``kimg`` and ``snap``
    replaced where given.
    """
    if not Path(run).exists():
        raise ConfigError(f"The run {run} to resume does not exist; pass a run folder such as "
                          "runs/00001-128-128px, or one of its snapshots.")
    path = latest_checkpoint(run)
    state = read_state(path)
    if "config" not in state:
        raise ConfigError(f"{path} holds weights but no run (a bundle's compact checkpoint); "
                          "--resume takes a run folder or one of its snapshots.")
    config = dict(state["config"])
    config["run_dir"] = str(path.parent.resolve())
    if kimg is not None:
        config["kimg"] = kimg
    if snap is not None:
        config["snap"] = snap
    return config, state, path


def line_tick(line: str) -> int | None:
    """The tick of a stats.jsonl line; None for a line cut short by a crash."""
    try:
        return int(json.loads(line)["tick"])
    except (ValueError, KeyError, TypeError):
        return None
