"""The closing words of a training run: what it wrote, the best snapshot, and the next command.

Read back from the run folder itself (``stats.jsonl``, the checkpoints, the timelapse), so the
summary of a resumed run covers the whole run, and every path it names exists.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from models.training.snapshots import checkpoint_tick, checkpoints

SWD_KEY = "swd_mean"
CRITIC_AT_CHANCE = 0.6  # below this share right, D's verdicts are close to coin flips


def read_stats(run_dir: Path) -> list[dict]:
    """The run's ``stats.jsonl`` records (a line cut short by a crash is skipped)."""
    path = Path(run_dir) / "stats.jsonl"
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def best_swd(records: list[dict]) -> dict | None:
    """The record with the lowest sliced Wasserstein distance (None when none was measured)."""
    measured = [r for r in records if isinstance(r.get(SWD_KEY), (int, float))]
    return min(measured, key=lambda r: r[SWD_KEY]) if measured else None


def run_summary(run_dir: Path) -> list[str]:
    """Lines that say what the run wrote and how to use it.

    Parameters
    ----------
    run_dir : Path
        A train.py run folder.

    Returns
    -------
    list of str
        The last snapshot, the best SWD and its checkpoint, the timelapse, TensorBoard, and the
        export and show commands with this run's paths.
    """
    run_dir = Path(run_dir)
    saved = {checkpoint_tick(p): p for p in checkpoints(run_dir)}
    records = read_stats(run_dir)
    lines = [f"training done; run folder: {run_dir}"]
    if not saved:
        return lines + ["no snapshot was written; train for at least one snapshot tick"]
    last_tick = max(saved)
    kimg = next((r["kimg"] for r in records if r.get("tick") == last_tick), None)
    at = f" (tick {last_tick}" + (f", {kimg:g} kimg)" if kimg is not None else ")")
    lines.append(f"last snapshot: {saved[last_tick]}{at}")
    best = best_swd([r for r in records if r.get("tick") in saved])
    chosen = saved[last_tick]
    if best is not None:
        chosen = saved[best["tick"]]
        lines.append(f"best SWD: {best[SWD_KEY]:.2f} at tick {best['tick']} "
                     f"({best['kimg']:g} kimg): {chosen}")
    lines += _critic(records)
    lines += _pictures(run_dir)
    bundle = run_dir / "bundle"
    lines.append("next: " + shlex.join(["python", "-m", "models.export", str(chosen),
                                       "--out", str(bundle)]))
    lines.append("then: " + shlex.join(["python", "-m", "installation", "--model",
                                       str(bundle)]))
    return lines


def _critic(records: list[dict]) -> list[str]:
    """How well D told real crops from paintings at the last snapshot that measured it."""
    measured = [r for r in records if isinstance(r.get("critic_accuracy"), (int, float))]
    if not measured:
        return []
    accuracy = measured[-1]["critic_accuracy"]
    line = (f"critic: told real crops from paintings {accuracy:.0%} of the time at the last "
            "snapshot (50% is chance)")
    if accuracy < CRITIC_AT_CHANCE:
        line += ("; near chance, the generator gets little direction from it, and more kimg "
                 "change the paintings little")
    return [line]


def _pictures(run_dir: Path) -> list[str]:
    lines = []
    timelapse = run_dir / "timelapse.gif"
    if timelapse.is_file():
        lines.append(f"timelapse: {timelapse}")
    if any(p.name.startswith("events.out.tfevents") for p in run_dir.iterdir()):
        lines.append("curves and pictures: " + shlex.join(["tensorboard", "--logdir",
                                                           str(run_dir)]))
    return lines


def print_run_summary(run_dir: Path) -> None:
    """Print :func:`run_summary`, one line each."""
    print("\n".join(run_summary(run_dir)), flush=True)
