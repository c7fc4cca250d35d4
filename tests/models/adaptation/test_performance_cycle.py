"""The performance cycle: calibrate, perform with --record, adapt on the recording, export, play."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from calibration.cli import main as calibrate
from installation.cli import main as show
from installation.errors import run_cli
from models.bundles.default import build_untrained_bundle
from models.export import main as export
from models.training.cli import main as train
from tests.helpers import assert_user_error


def perform(bundle: Path, source: str, profile: Path, out: Path, seconds: float,
            record: Path | None = None) -> int:
    """The show, headless at full speed over a file, optionally recording."""
    argv = ["--source", source, "--model", str(bundle), "--profile", str(profile),
            "--headless", "--speed", "max", "--duration", str(seconds),
            "--frames-out", str(out), "--frame-every", "1000"]
    return show(argv + (["--record", str(record)] if record else []))


def test_record_adapt_export_and_perform_again(tmp_path, eyes_open_edf, eyes_closed_edf):
    bundle = build_untrained_bundle(tmp_path / "tiny", cfg_name="tiny")
    assert calibrate(["--source", f"file:{eyes_open_edf}", "--headless", "--duration", "12",
                      "--eyes-closed-duration", "0", "--model", str(bundle),
                      "--out", str(tmp_path / "calibration")]) == 0
    profile = tmp_path / "calibration" / "profile.json"
    session = tmp_path / "session"
    assert perform(bundle, f"file:{eyes_closed_edf}", profile, tmp_path / "frames", 8,
                   record=session) == 0
    assert json.loads((session / "profile.json").read_text()) == json.loads(profile.read_text())

    runs = tmp_path / "runs"
    assert train(["--resume", str(bundle), "--adapt", "mapping", "--eeg", str(session),
                  "--outdir", str(runs), "--adapt-steps", "20", "--adapt-distance", "raw"]) == 0
    (run_dir,) = runs.iterdir()
    options = json.loads((run_dir / "training_options.json").read_text())
    assert options["eeg_profile"] == str((session / "profile.json").resolve())
    assert options["lineage"][-1]["fit"]["whiten"] is False
    assert options["lineage"][-1]["bundle"] == str(bundle.resolve())
    assert (run_dir / "fakes-000000.png").is_file()

    adapted = tmp_path / "adapted"
    assert export([str(run_dir), "--out", str(adapted)]) == 0
    provenance = json.loads((adapted / "generator.json").read_text())["provenance"]
    assert provenance["lineage"][-1]["adapted"] == "mapping"
    assert (adapted / "generator.pt").is_file()  # the next cycle can continue from it
    assert perform(adapted, f"file:{session}", profile, tmp_path / "again", 4) == 0
    rows = (tmp_path / "again" / "frames.csv").read_text().splitlines()
    assert len(rows) > 10


def test_a_bundle_without_its_checkpoint_is_one_sentence(tmp_path, capsys, eyes_open_edf):
    bundle = build_untrained_bundle(tmp_path / "tiny", cfg_name="tiny")
    (bundle / "generator.pt").unlink()
    code = run_cli(train, ["--resume", str(bundle), "--adapt", "mapping", "--eeg",
                           str(eyes_open_edf), "--outdir", str(tmp_path / "runs")])
    assert_user_error(code, capsys.readouterr().err, "generator.pt")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("part, data_option", [("mapping", "--eeg"),
                                                ("discriminator", "--images")])
def test_adapting_a_run_folder_is_one_sentence(tmp_path, capsys, eyes_open_edf, few_paintings,
                                               part, data_option):
    folder = tmp_path / "not-a-bundle"
    folder.mkdir()
    data = eyes_open_edf if data_option == "--eeg" else few_paintings
    code = run_cli(train, ["--resume", str(folder), "--adapt", part, data_option, str(data),
                           "--outdir", str(tmp_path / "runs")])
    assert_user_error(code, capsys.readouterr().err, f"--adapt {part} continues a model bundle")
    shutil.rmtree(folder)


def test_a_full_run_continues_from_the_bundle(tmp_path, few_paintings, eyes_open_edf, capsys):
    import torch

    bundle = build_untrained_bundle(tmp_path / "tiny", cfg_name="tiny")
    runs = tmp_path / "runs"
    assert train(["--resume", str(bundle), "--images", str(few_paintings), "--eeg",
                  str(eyes_open_edf), "--outdir", str(runs), "--cfg", "tiny", "--batch", "8",
                  "--tick", "0.016", "--kimg", "0.016", "--snap", "1", "--crops-per-image", "4",
                  "--metric-images", "8", "--threads", "1"]) == 0
    assert "carries no discriminator: a fresh one starts" in capsys.readouterr().out
    (run_dir,) = runs.iterdir()
    ckpt = torch.load(run_dir / "network-snapshot-latest.pt", weights_only=True)
    start = torch.load(bundle / "generator.pt", weights_only=True)
    # Two steps on from the bundle's weights, not a fresh generator's.
    weight = "synthesis.blocks.0.conv1.conv.weight"
    moved = (ckpt["G_ema"][weight] - start["G_ema"][weight]).abs().mean()
    assert moved < 0.01 * start["G_ema"][weight].abs().mean()
    assert ckpt["config"]["lineage"][-1]["adapted"] == "all"
