"""A training run says what it made: the closing summary, TensorBoard pictures, the timelapse."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import imageio.v3 as iio
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from installation.errors import run_cli
from models.snapshots import checkpoints
from tests.conftest import shared_file
from tests.models.conftest import EEG_OPEN
from tests.models.test_training import TINY
from train import main


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
