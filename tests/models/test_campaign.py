"""A campaign's resume checkpoint: small, float16, and a new run folder goes on from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from installation.errors import run_cli
from models import campaign
from models.training.cli import main as train_main
from models.training.snapshots import checkpoints
from tests.conftest import shared_file
from tests.models.conftest import EEG_OPEN
from tests.models.training.test_training import TINY


def stats(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]


def test_packed_run_resumes_in_a_new_folder_with_its_kimg_and_p(few_paintings, tmp_path,
                                                                 capsys):
    eeg = str(shared_file(EEG_OPEN))
    runs = tmp_path / "runs"
    assert run_cli(train_main, ["--images", str(few_paintings), "--eeg", eeg, "--outdir",
                                str(runs), "--kimg", "0.032", "--snap", "1", "--ada-target",
                                "0.01", "--ada-kimg", "0.5", *TINY]) == 0
    first = runs / "00000-tiny-32px"
    snapshot = torch.load(checkpoints(first)[-1], weights_only=True)
    assert snapshot["augment"]["p"] > 0

    out = tmp_path / "resume.pt"
    assert run_cli(campaign.main, ["pack", str(first), "--out", str(out)]) == 0
    assert f"{snapshot['kimg']:.3f} kimg in all" in capsys.readouterr().out
    packed = torch.load(out, weights_only=True)
    assert "opt_G" not in packed and "rng" not in packed and "G" not in packed
    assert packed["G_ema"]["synthesis.blocks.0.const"].dtype == torch.float16
    assert packed["campaign_kimg"] == pytest.approx(snapshot["kimg"])
    assert out.stat().st_size < Path(checkpoints(first)[-1]).stat().st_size / 2

    assert run_cli(train_main, ["--resume", str(out)]) == 2
    assert "--outdir" in capsys.readouterr().err
    assert run_cli(train_main, ["--resume", str(out), "--outdir", str(runs),
                                "--kimg", str(snapshot["kimg"] + 0.016)]) == 0
    second = runs / "00001-tiny-32px"
    records = stats(second)
    assert records[0]["tick"] == snapshot["tick"] + 1
    assert records[0]["kimg"] == pytest.approx(snapshot["kimg"] + 0.016)
    assert abs(records[0]["augment_p"] - snapshot["augment"]["p"]) <= 0.065  # not reset to 0
    resumed = torch.load(checkpoints(second)[-1], weights_only=True)
    assert resumed["G_ema"]["synthesis.blocks.0.const"].dtype == torch.float32

    # A leg may widen its steering to several people; a run folder keeps its own.
    other = str(shared_file("eeg/physionet_eegmmidb/S005R01.edf"))
    capsys.readouterr()
    assert run_cli(train_main, ["--resume", str(out), "--outdir", str(runs), "--person", eeg,
                                "--person", other, "--dry-run"]) == 0
    widened = json.loads(capsys.readouterr().out)
    assert [person["eeg"] for person in widened["people"]] == [[eeg], [other]]
    assert widened["eeg"] == [] and widened["kimg"] == packed["config"]["kimg"]
    assert run_cli(train_main, ["--resume", str(second), "--person", other, "--dry-run"]) == 2
    assert "campaign's steering only" in capsys.readouterr().err


def test_packing_needs_a_training_snapshot(tmp_path, capsys):
    bundle = Path(campaign.REPO) / "assets" / "default"
    assert run_cli(campaign.main, ["pack", str(bundle / "generator.pt"),
                                   "--out", str(tmp_path / "r.pt")]) == 2
    assert "augmentation" in capsys.readouterr().err
    assert run_cli(campaign.main, ["pack", str(tmp_path / "absent")]) == 2
    assert not (tmp_path / "r.pt").exists()


def test_a_pack_keeps_its_peoples_profiles_beside_it(few_paintings, tmp_path, capsys):
    eeg = str(shared_file(EEG_OPEN))
    calibration = tmp_path / "calibration" / "profile.json"  # gone by the next session
    calibration.parent.mkdir()
    calibration.write_bytes((Path(campaign.REPO) / "assets/default/profile.json").read_bytes())
    runs = tmp_path / "runs"
    assert run_cli(train_main, ["--images", str(few_paintings), "--person", eeg,
                                str(calibration), "--outdir", str(runs), "--kimg", "0.016",
                                *TINY]) == 0
    out = tmp_path / "campaign" / "resume.pt"
    assert run_cli(campaign.main, ["pack", str(runs / "00000-tiny-32px"), "--out",
                                   str(out)]) == 0
    calibration.unlink()
    person = torch.load(out, weights_only=True)["config"]["people"][0]
    assert person["profile"] == f"profiles/{person['name']}.json"
    assert (out.parent / person["profile"]).read_bytes() == (
        Path(campaign.REPO) / "assets/default/profile.json").read_bytes()

    capsys.readouterr()
    assert run_cli(train_main, ["--resume", str(out), "--outdir", str(runs), "--dry-run"]) == 0
    resumed = json.loads(capsys.readouterr().out)["people"][0]
    assert resumed["profile"] == str(out.parent / person["profile"])
