"""Make the demo's recording: 21 s of S001's eyes-open rest, then 21 s of their eyes-closed rest.

Run from the repository root with ../shared/data beside it (needs ``edfio``, which MNE's EDF
export uses: ``.venv/bin/pip install edfio``)::

    .venv/bin/python assets/demo/make_excerpt.py

It writes ``assets/demo/s001-eyes-open-closed.edf`` (EDF+, 17 channels, 160 Hz, annotated
"eyes open" at 0 s and "eyes closed" at 21 s) and ``assets/demo/profile.json``: the default's
shipped calibration of S001 (``assets/default/profile.json``) kept to those 17 channels. The
features are per-region means, so the profile's statistics hold for the subset; the show only
requires that a profile names the stream's channels. 17 of the 64 channels, across every region
and most of all the occipital and parietal ones where the eyes' alpha rhythm lives, keep the
file near 230 kB. The 21 s come from 20-41 s of each one-minute run: of the windows starting
at 0, 10, 20, 30 and 38 s, this one paints the two states farthest apart against the drift
within each (4.8 times, the measure of tests/installation/test_demo.py; 2.5-4.0 elsewhere).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mne
import numpy as np

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO.parent / "shared" / "data" / "eeg" / "physionet_eegmmidb"
OUT = REPO / "assets" / "demo"
EXCERPT = OUT / "s001-eyes-open-closed.edf"
CHANNELS = ("F3", "Fz", "F4", "C3", "Cz", "C4", "T7", "T8", "P3", "Pz", "P4",
            "PO3", "POz", "PO4", "O1", "Oz", "O2")
START_S = 20.0  # 20-41 s of each run: both states hold steady there (see the docstring)
PART_S = 21.0
STATES = (("S001R01.edf", "eyes open"), ("S001R02.edf", "eyes closed"))


def clean(name: str) -> str:
    """PhysioNet's padded names (``Fc5.``, ``O1..``) as the 10-10 system writes them."""
    name = name.strip(".").upper()
    return name.replace("Z", "z").replace("FP", "Fp")


def part(file_name: str) -> mne.io.BaseRaw:
    """``PART_S`` seconds of one run, from ``START_S``, the excerpt's channels only."""
    raw = mne.io.read_raw_edf(SOURCE / file_name, preload=True, verbose="error")
    raw.rename_channels({name: clean(name) for name in raw.ch_names})
    raw.pick(list(CHANNELS))
    raw.set_annotations(None)
    return raw.crop(START_S, START_S + PART_S, include_tmax=False)


def excerpt() -> mne.io.BaseRaw:
    """Both runs end to end, annotated with the state each part shows."""
    raw = mne.concatenate_raws([part(name) for name, _ in STATES])
    raw.set_annotations(mne.Annotations(onset=[i * PART_S for i in range(len(STATES))],
                                        duration=[PART_S] * len(STATES),
                                        description=[state for _, state in STATES]))
    return raw


def subset_profile(profile: dict) -> dict:
    """The default's calibration of S001, kept to the excerpt's channels."""
    keep = set(CHANNELS)
    return {**profile,
            "channel_names": [n for n in profile["channel_names"] if n in keep],
            "bad_channels": [n for n in profile["bad_channels"] if n in keep],
            "line_noise_channels": [n for n in profile["line_noise_channels"] if n in keep],
            "channel_states": {n: s for n, s in profile["channel_states"].items() if n in keep},
            "source": profile["source"] + f" (kept to the {len(keep)} channels of the demo's "
                                          "excerpt, assets/demo/s001-eyes-open-closed.edf)"}


def main() -> int:
    """Write the excerpt and its profile."""
    if not SOURCE.is_dir():
        print(f"{SOURCE} is absent; put the shared data beside the repository.", file=sys.stderr)
        return 2
    raw = excerpt()
    mne.export.export_raw(EXCERPT, raw, fmt="edf", physical_range="channelwise",
                          overwrite=True, verbose="error")
    profile = json.loads((REPO / "assets" / "default" / "profile.json").read_text())
    (OUT / "profile.json").write_text(json.dumps(subset_profile(profile), indent=1) + "\n")
    seconds = raw.n_times / raw.info["sfreq"]
    print(f"wrote {EXCERPT} ({EXCERPT.stat().st_size / 1e3:.0f} kB, {len(CHANNELS)} channels, "
          f"{seconds:g} s) and {OUT / 'profile.json'}; sample check {np.ptp(raw.get_data()):.2e} V")
    return 0


if __name__ == "__main__":
    sys.exit(main())
