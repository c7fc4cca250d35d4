"""A training run says what it made: the closing summary, TensorBoard pictures, the timelapse."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from installation.errors import run_cli
from models.training.cli import main
from models.training.snapshots import Timelapse, checkpoints, kept_frames
from tests.conftest import shared_file
from tests.models.conftest import EEG_OPEN
from tests.models.training.test_training import TINY


def test_tiny_run_summary_names_files_that_exist(few_paintings, tmp_path, capsys):
    code = run_cli(main, ["--images", str(few_paintings), "--eeg", str(shared_file(EEG_OPEN)),
                          "--outdir", str(tmp_path / "runs"), "--kimg", "0.048", "--snap", "2",
                          *TINY])
    out = capsys.readouterr().out
    assert code == 0
    run_dir = tmp_path / "runs" / "00000-tiny-32px"
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)

    # snapshots at ticks 2 and 3 (the last), named by tick and kimg
    names = [p.name for p in checkpoints(run_dir)]
    assert names == ["network-snapshot-000002-0.032kimg.pt", "network-snapshot-000003-0.048kimg.pt"]
    assert lines["last snapshot"] == f"{run_dir / names[-1]} (tick 3, 0.048 kimg)"
    best = lines["best SWD"].rsplit(": ", 1)[1]
    assert Path(best).is_file() and Path(best).name in names
    assert Path(lines["timelapse"]).is_file()
    assert re.match(r"told real crops from paintings \d+% of the time", lines["critic"])
    export = shlex.split(lines["next"])
    assert export[:4] == ["python", "-m", "models.export", best]
    assert export[4:] == ["--out", str(run_dir / "bundle")]

    # a timelapse frame per tick, not per snapshot
    assert len(iio.imread(run_dir / "timelapse.gif", index=None)) == 3

    # TensorBoard holds the pictures as well as the curves
    events = EventAccumulator(str(run_dir), size_guidance={"images": 0})
    events.Reload()
    assert {"fakes", "nearest_real"} <= set(events.Tags()["images"])
    assert [e.step for e in events.Images("fakes")] == [16, 32, 48]  # every tick
    assert len(events.Images("nearest_real")) == 2  # every snapshot

    # the nearest-real panel says which is which: a white caption band above the pairs
    panel = iio.imread(run_dir / "nearest-000003-0.048kimg.png")
    band = panel[: panel.shape[0] - 6 * 128]  # six pairs of 32 px paintings, shown at 128 px
    assert band.shape[0] > 10 and (band > 200).mean() > 0.7 and (band < 60).any()
    checkpoint = torch.load(run_dir / names[-1], weights_only=True)
    assert checkpoint["kimg"] == pytest.approx(0.048)


def test_cfg_defaults_to_the_machine_and_says_so(tmp_path, capsys):
    code = run_cli(main, ["--images", str(tmp_path), "--eeg", str(shared_file(EEG_OPEN)),
                          "--outdir", str(tmp_path / "runs"), "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 0
    expected = "256" if torch.cuda.is_available() else "128"
    assert json.loads(out)["cfg"] == expected
    assert f"--cfg {expected}:" in err and ("no GPU" in err) != torch.cuda.is_available()
    assert json.loads(out)["timelapse_every"] == 1


def test_a_long_run_timelapse_stays_bounded_and_evenly_spaced(tmp_path):
    grids = [np.full((8, 8, 3), 10 * i, np.uint8) for i in range(1, 21)]
    (tmp_path / "whole").mkdir()
    whole = Timelapse(tmp_path / "whole", max_frames=4)
    for grid in grids:
        whole.add(grid, write=False)
    shown = [int(frame[0, 0, 0]) // 10 for frame in whole.frames]
    assert len(shown) <= 4 and (len(shown), whole.stride) == kept_frames(20, 4)
    gaps = np.diff(shown)
    assert shown[-1] >= 16 and gaps.max() - gaps.min() <= whole.stride // 2 + 1

    # the same run killed after a snapshot at grid 12 (the GIF written) and resumed
    (tmp_path / "killed").mkdir()
    killed = Timelapse(tmp_path / "killed", max_frames=4)
    for grid in grids[:12]:
        killed.add(grid, write=False)
    killed.write()
    resumed = Timelapse(tmp_path / "killed", grids_before=12, max_frames=4)
    for grid in grids[12:]:
        resumed.add(grid)
    again = [int(frame[0, 0, 0]) // 10 for frame in iio.imread(resumed.path, index=None)]
    assert again == shown
