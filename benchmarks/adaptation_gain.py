"""Does adapting a model to a person's own performance make it answer them better?

Run: ``.venv/bin/python -m benchmarks.adaptation_gain [--model DIR] [--person S005 ...]``

For each shared PhysioNet person, the first half of their eyes-open and eyes-closed rest plays
the part of a performance: calibrated on the first half of the eyes-open rest, both first halves
go through the show with ``--record`` (the sessions keep the profile). The model is adapted on
those two sessions (``train.py --resume MODEL --adapt mapping --eeg SESSION ...``, timed) and
exported. Then the second halves, which the adaptation never saw, go through the show with the
model before and after: printed are the eyes-closed vs open ratio of mean paintings for both
(:mod:`benchmarks.steering_contrast`), the minutes the adaptation took, and the SWD of both
models' paintings to real crops (:mod:`benchmarks.painting_quality`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import REPO
from benchmarks.people_contrast import PEOPLE, recordings
from benchmarks.steering_contrast import measure
from installation.config import DEFAULT_MODEL


def halves(recording: Path, out: Path) -> tuple[Path, Path]:
    """The recording's first and second halves as FIF files in ``out``."""
    import mne
    import numpy as np

    from installation.eeg.sources.files.recordings import load_recording

    rec = load_recording(recording)
    middle = rec.data.shape[1] // 2
    paths = []
    for name, part in (("first", rec.data[:, :middle]), ("second", rec.data[:, middle:])):
        info = mne.create_info(list(rec.channel_names), rec.sample_rate, "eeg")
        raw = mne.io.RawArray(np.asarray(part, dtype=np.float64) * 1e-6, info, verbose="error")
        path = out / f"{recording.stem}-{name}_raw.fif"
        raw.save(path, overwrite=True, verbose="error")
        paths.append(path)
    return paths[0], paths[1]


def run(args: list[str]) -> None:
    """A module of this project in a subprocess; its stderr on failure."""
    done = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed: {done.stderr.strip()[-500:]}")


def adapt_to(person: str, model: Path, tmp: Path) -> dict:
    """Record, adapt, export and measure one person (see the module docstring)."""
    eyes_open, eyes_closed = recordings(person)
    open_first, open_second = halves(eyes_open, tmp)
    closed_first, closed_second = halves(eyes_closed, tmp)
    run(["-m", "calibration", "--source", f"file:{open_first}", "--headless", "--duration",
         "25", "--eyes-closed-duration", "0", "--model", str(model), "--out", str(tmp / "cal")])
    profile = tmp / "cal" / "profile.json"
    sessions = []
    for name, source in (("open", open_first), ("closed", closed_first)):
        sessions.append(tmp / f"session-{name}")
        run(["-m", "installation", "--source", f"file:{source}", "--model", str(model),
             "--profile", str(profile), "--headless", "--speed", "max", "--native",
             "--record", str(sessions[-1]), "--frames-out", str(tmp / f"frames-{name}"),
             "--frame-every", "100000"])
    started = time.perf_counter()
    run(["train.py", "--resume", str(model), "--adapt", "mapping", "--threads", "1",
         "--eeg", str(sessions[0]), "--eeg", str(sessions[1]), "--outdir", str(tmp / "runs")])
    minutes = (time.perf_counter() - started) / 60
    (run_dir,) = (tmp / "runs").iterdir()
    adapted = tmp / "adapted"
    run(["-m", "models.export", str(run_dir), "--out", str(adapted)])
    before = measure(model, profile, closed_second, open_second, native=True)
    after = measure(adapted, profile, closed_second, open_second, native=True)
    from benchmarks.painting_quality import measure as painting_swd

    swd = painting_swd([model, adapted], count=256, repeats=1)
    return {"before": round(before["centroid_distance_ratio"], 3),
            "after": round(after["centroid_distance_ratio"], 3),
            "minutes": round(minutes, 1),
            "swd_before": swd[str(model)]["swd_mean"], "swd_after": swd[str(adapted)]["swd_mean"],
            "swd_128px_before": swd[str(model)]["swd_128px"],
            "swd_128px_after": swd[str(adapted)]["swd_128px"]}


def main(argv: list[str] | None = None) -> int:
    """Print a row per person and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--person", action="append", choices=PEOPLE,
                        help="a shared person (default: all four)")
    args = parser.parse_args(argv)
    rows = {}
    for person in args.person or PEOPLE:
        with tempfile.TemporaryDirectory() as tmp:
            rows[person] = adapt_to(person, args.model.resolve(), Path(tmp))
        row = rows[person]
        print(f"{person}: eyes closed vs open on unseen halves {row['before']:.2f} -> "
              f"{row['after']:.2f} after {row['minutes']:.1f} min of adaptation; SWD "
              f"{row['swd_before']:.0f} -> {row['swd_after']:.0f}", flush=True)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
