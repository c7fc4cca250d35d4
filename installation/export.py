"""``python -m installation.export SESSION --out FILE.fif|FILE.edf [--bids ROOT --subject ID]``.

A session recorded with ``--record`` leaves this project as a file any EEG software opens:

- the EEG with its channel names, in volts (as MNE expects), at its sample rate, dated from the
  session's start;
- on its own timeline: where samples are missing (a signal loss, a stretch the reader had to skip)
  the file holds zeros marked ``BAD_gap``, so what follows keeps its true time; nothing is glued;
- each keyframe as an annotation ``keyframe`` at the EEG time it was painted from.

``--bids ROOT --subject ID [--session ID] [--task performance]`` writes a BIDS entry with
mne-bids (EDF, the annotations as ``events.tsv``), the keyframe log beside it as a derivative,
and dataset descriptions that name this software. An existing output is refused unless
``--overwrite`` is given.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import mne
import numpy as np

from installation.eeg.sources.files.session_folder import (
    is_session_folder,
    read_header,
    read_keyframe_log,
    read_session_eeg,
)
from installation.eeg.sources.files.session_format import KEYFRAME_FILE
from installation.errors import ConfigError, OneLineParser, SourceError, run_cli

SOFTWARE = "eeg-painting"
FORMATS = {".fif": "fif", ".fif.gz": "fif", ".edf": "edf"}
MICROVOLTS_TO_VOLTS = 1e-6
# A clock step over this is a gap (the signal was lost); a live headset's timestamps jitter by
# tens of milliseconds, so a stretch the reader skipped is taken from the reader, not the clock.
GAP_S = 0.25
GAP_LABEL = "BAD_gap"
KEYFRAME_LABEL = "keyframe"


@dataclass(frozen=True, eq=False)
class Timeline:
    """A session's samples laid on a continuous grid at its sample rate.

    Attributes
    ----------
    data : ndarray, float32, shape (n_channels, n_samples)
        Microvolts; zeros where samples are missing.
    positions : ndarray, int64, shape (n_recorded,)
        The grid index of each recorded sample.
    source_times : ndarray, float64, shape (n_recorded,)
        Each recorded sample's time on the source's clock.
    gaps : list of (float, float)
        (onset, duration) in seconds on the grid of each stretch without samples.
    """

    data: np.ndarray
    positions: np.ndarray
    source_times: np.ndarray
    gaps: list[tuple[float, float]]

    def grid_seconds(self, source_time: float, rate: float) -> float:
        """Where a time on the source's clock lies on the grid (seconds from its start)."""
        return float(np.interp(source_time, self.source_times, self.positions)) / rate


def lay_out(data: np.ndarray, timestamps: np.ndarray, rate: float,
            breaks: tuple[int, ...] = ()) -> Timeline:
    """Put recorded samples on a continuous grid, zero-filled where samples are missing.

    A stretch begins at each of ``breaks`` (sample indices where the reader resumed after
    damage) and wherever the clock steps ahead by more than ``GAP_S``; within a stretch the
    samples stay side by side (a headset's clock jitters). A stretch starts where its first
    timestamp falls, never before the previous stretch's last sample.
    """
    stamps = np.where(np.isfinite(timestamps), timestamps, np.nan)
    steps = np.diff(stamps)
    jumps = np.flatnonzero(~(steps <= GAP_S)) + 1  # NaN steps count as gaps too
    starts = sorted({*jumps.tolist(), *(int(b) for b in breaks if 0 < b < len(stamps))})
    bounds = [0, *starts, len(stamps)]
    positions = np.empty(len(stamps), np.int64)
    gaps, end = [], 0
    for first, last in zip(bounds[:-1], bounds[1:], strict=True):
        begin = end
        if first > 0 and np.isfinite(stamps[first]) and np.isfinite(stamps[0]):
            begin = max(end, int(round((stamps[first] - stamps[0]) * rate)))
        if begin > end:
            gaps.append((end / rate, (begin - end) / rate))
        positions[first:last] = np.arange(begin, begin + last - first)
        end = begin + last - first
    filled = np.zeros((data.shape[0], end), np.float32)
    filled[:, positions] = data
    known = np.isfinite(stamps)
    source = stamps if known.all() else np.interp(np.arange(len(stamps)),
                                                  np.flatnonzero(known), stamps[known])
    return Timeline(filled, positions, source, gaps)


def session_raw(folder: Path) -> tuple[mne.io.RawArray, list[dict]]:
    """The session's EEG as an MNE Raw (volts, dated, annotated) and its keyframe log."""
    header = read_header(folder)
    names, rate = list(header["channel_names"]), float(header["sample_rate"])
    eeg = read_session_eeg(folder, len(names))
    if eeg.data.shape[1] == 0:
        raise SourceError(f"The session {folder} holds no whole EEG record, so there is nothing "
                          "to export.")
    timeline = lay_out(eeg.data, eeg.timestamps, rate, eeg.gaps)
    info = mne.create_info(names, rate, ch_types="eeg")
    raw = mne.io.RawArray(timeline.data.astype(np.float64) * MICROVOLTS_TO_VOLTS, info,
                          verbose="error")
    raw.set_meas_date(session_start(header))
    keyframes = read_keyframe_log(folder)
    raw.set_annotations(annotations(timeline, keyframes, rate, raw.info["meas_date"]))
    return raw, keyframes


def session_start(header: dict) -> datetime | None:
    """The session's start from its header (UTC); None when the header has no usable one."""
    started = header.get("started_unix")
    if isinstance(started, int | float) and np.isfinite(started) and 0 < started < 2 ** 33:
        return datetime.fromtimestamp(float(started), timezone.utc)
    return None


def annotations(timeline: Timeline, keyframes: list[dict], rate: float,
                orig_time) -> mne.Annotations:
    """``BAD_gap`` over each missing stretch and ``keyframe`` at each keyframe's EEG time."""
    onsets = [onset for onset, _ in timeline.gaps]
    durations = [duration for _, duration in timeline.gaps]
    labels = [GAP_LABEL] * len(onsets)
    length = timeline.data.shape[1] / rate
    for entry in keyframes:
        eeg_time = entry.get("eeg_time") if isinstance(entry, dict) else None
        if isinstance(eeg_time, int | float) and np.isfinite(eeg_time):
            onset = timeline.grid_seconds(float(eeg_time), rate)
            if 0 <= onset < length:
                onsets.append(onset)
                durations.append(0.0)
                labels.append(KEYFRAME_LABEL)
    return mne.Annotations(onsets, durations, labels, orig_time=orig_time)


def output_format(path: Path) -> str:
    """``fif`` or ``edf`` from the file name; one sentence for anything else."""
    name = path.name.lower()
    for suffix, fmt in sorted(FORMATS.items(), key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return fmt
    raise ConfigError(f"{path.name} has no extension this export writes; end --out with .fif, "
                      ".fif.gz or .edf.")


def refuse_existing(path: Path, overwrite: bool) -> None:
    """One sentence when ``path`` exists and ``--overwrite`` was not given."""
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} exists already; pass --overwrite to replace it, or choose "
                          "another --out.")


def write_file(raw: mne.io.RawArray, path: Path, overwrite: bool) -> None:
    """FIF (float32 samples) or EDF (16 bits a sample, scaled per channel)."""
    fmt = output_format(path)
    refuse_existing(path, overwrite)
    try:
        if fmt == "fif":
            raw.save(path, overwrite=True, verbose="error")
        else:
            mne.export.export_raw(path, raw, fmt="edf", physical_range="channelwise",
                                  overwrite=True, verbose="error")
    except OSError as exc:
        raise ConfigError(f"Cannot write {path} ({exc.strerror or exc}); choose a writable "
                          "--out.") from None


def write_bids(raw: mne.io.RawArray, folder: Path, args) -> Path:
    """A BIDS entry (EDF + sidecars + events.tsv) and the keyframe log as a derivative."""
    import mne_bids  # lazy: only --bids needs it, and it takes a second to import

    bids_path = mne_bids.BIDSPath(subject=args.subject, session=args.session, task=args.task,
                                  datatype="eeg", root=args.bids)
    if bids_path.fpath.exists() and not args.overwrite:
        raise ConfigError(f"{bids_path.fpath} exists already; pass --overwrite to replace it.")
    mne_bids.write_raw_bids(raw, bids_path, format="EDF", allow_preload=True,
                            overwrite=args.overwrite, verbose="error")
    mne_bids.make_dataset_description(path=args.bids, name="EEG painting performances",
                                      generated_by=[generated_by()], overwrite=True,
                                      verbose="error")
    return write_keyframe_derivative(folder, bids_path)


def generated_by() -> dict:
    """The BIDS ``GeneratedBy`` entry naming this software."""
    return {"Name": SOFTWARE, "Description": "A live EEG-to-painting installation; the session "
            "was recorded by its show (--record) and exported by python -m installation.export."}


def write_keyframe_derivative(folder: Path, bids_path) -> Path:
    """Copy ``keyframes.jsonl`` under ``derivatives/eeg-painting/``, BIDS-named."""
    root = Path(bids_path.root) / "derivatives" / SOFTWARE
    target = root / Path(bids_path.fpath).relative_to(bids_path.root).parent
    target.mkdir(parents=True, exist_ok=True)
    stem = bids_path.copy().update(suffix=None, extension=None, datatype=None).basename
    destination = target / f"{stem}_keyframes.jsonl"
    shutil.copyfile(folder / KEYFRAME_FILE, destination)
    description = {"Name": "EEG painting keyframes", "BIDSVersion": "1.9.0",
                   "DatasetType": "derivative", "GeneratedBy": [generated_by()]}
    (root / "dataset_description.json").write_text(json.dumps(description, indent=2) + "\n")
    return destination


def build_parser() -> OneLineParser:
    """The command line."""
    p = OneLineParser(prog="python -m installation.export", description=__doc__.split("\n")[0])
    p.add_argument("session", help="a session folder written by --record")
    p.add_argument("--out", help="the file to write: .fif, .fif.gz or .edf")
    p.add_argument("--bids", metavar="ROOT", help="write a BIDS dataset entry under ROOT")
    p.add_argument("--subject", help="the BIDS subject label (with --bids)")
    p.add_argument("--session", dest="bids_session", metavar="ID",
                   help="the BIDS session label (with --bids)")
    p.add_argument("--task", default="performance", help="the BIDS task label")
    p.add_argument("--overwrite", action="store_true", help="replace existing output")
    return p


def check_args(args) -> Path:
    """The session folder; one sentence for a request that cannot be met."""
    folder = Path(args.session)
    if not is_session_folder(folder):
        raise ConfigError(f"{folder} is not a session folder (no session.json); pass a folder "
                          "written by the show's --record.")
    if not args.out and not args.bids:
        raise ConfigError("Say where to export: --out FILE.fif|FILE.edf, --bids ROOT, or both.")
    if args.bids and not args.subject:
        raise ConfigError("--bids needs --subject ID (letters and digits, e.g. --subject 01).")
    for label in (args.subject, args.bids_session, args.task):
        if label is not None and not label.isalnum():
            raise ConfigError(f"BIDS labels are letters and digits only, not {label!r}.")
    if args.out:
        output_format(Path(args.out))
        refuse_existing(Path(args.out), args.overwrite)
    return folder


def export_main(argv: list[str] | None) -> int:
    """Export a session; see ``--help``."""
    args = build_parser().parse_args(argv)
    folder = check_args(args)
    args.session = args.bids_session
    raw, keyframes = session_raw(folder)
    if args.out:
        write_file(raw, Path(args.out), args.overwrite)
        print(f"wrote {args.out}: {len(raw.ch_names)} channels, {raw.times[-1]:.1f} s, "
              f"{len(keyframes)} keyframes")
    if args.bids:
        derivative = write_bids(raw, folder, args)
        print(f"wrote the BIDS entry of subject {args.subject} under {args.bids} and the "
              f"keyframe log as {derivative}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Console entry point: user errors become one line and exit code 2."""
    return run_cli(export_main, argv)


if __name__ == "__main__":
    sys.exit(main())
