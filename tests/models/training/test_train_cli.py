from __future__ import annotations

import json

import pytest
from PIL import Image

from installation.errors import run_cli
from models.training.cli import main
from tests.conftest import shared_file
from tests.helpers import assert_user_error
from tests.models.conftest import EEG_OPEN


def run_train(argv, capsys):
    code = run_cli(main, argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_dry_run_prints_the_resolved_config(tmp_path, capsys):
    eeg = shared_file(EEG_OPEN)
    (tmp_path / "runs" / "00003-tiny-64px").mkdir(parents=True)
    code, out, _ = run_train(["--images", str(tmp_path), "--eeg", str(eeg), "--outdir",
                              str(tmp_path / "runs"), "--cfg", "tiny", "--kimg", "2",
                              "--dry-run"], capsys)
    assert code == 0
    config = json.loads(out)
    assert config["cfg"] == "tiny" and config["resolution"] == 64 and config["kimg"] == 2.0
    assert config["run_dir"].endswith("00004-tiny-64px")
    assert config["G_kwargs"]["n_features"] == 25
    assert not (tmp_path / "runs" / "00004-tiny-64px").exists()


def test_a_preset_added_to_the_table_trains_with_its_own_length(tmp_path, capsys, monkeypatch):
    """A preset is one entry of CONFIGS: its run length comes with it (a second table in
    train.py used to give a KeyError traceback for a preset it did not list)."""
    import dataclasses

    from models.configs import CONFIGS

    monkeypatch.setitem(CONFIGS, "pocket", dataclasses.replace(CONFIGS["tiny"], name="pocket",
                                                               kimg=1.5, tick_kimg=0.1))
    code, out, err = run_train(["--images", str(tmp_path), "--eeg", str(shared_file(EEG_OPEN)),
                                "--outdir", str(tmp_path / "runs"), "--cfg", "pocket",
                                "--dry-run"], capsys)
    assert code == 0, err
    config = json.loads(out)
    assert config["kimg"] == 1.5
    assert config["tick_kimg"] == pytest.approx(0.1, abs=0.01)


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "(default: 256 with a GPU, 128 on a CPU" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(("option", "value", "fragment"), [
    ("--resolution", "100", "not a power of two"),
    ("--kimg", "-1", "out of range"),
    ("--batch", "1", "out of range"),
    ("--cfg", "huge", "invalid choice"),
    ("--seed", "x", "not a valid int"),
])
def test_bad_values_are_one_sentence(tmp_path, capsys, option, value, fragment):
    code, _, err = run_train(["--images", str(tmp_path), "--eeg", "x.edf", "--outdir",
                              str(tmp_path), option, value], capsys)
    assert_user_error(code, err, fragment)


def test_a_hold_finer_than_the_run_is_one_sentence_and_one_within_it_is_recorded(
        tmp_path, capsys):
    common = ["--images", str(tmp_path), "--eeg", str(shared_file(EEG_OPEN)), "--outdir",
              str(tmp_path / "runs"), "--cfg", "tiny", "--resolution", "32", "--dry-run"]
    code, _, err = run_train([*common, "--hold-from", "64"], capsys)
    assert_user_error(code, err, "--hold-from 64 is finer than the run's 32 px")
    code, out, err = run_train([*common, "--hold-from", "16", "--hold-features"], capsys)
    assert code == 0, err
    train = json.loads(out)["train"]
    assert train["hold_from"] == 16 and train["hold_features"] is True


@pytest.mark.parametrize(("content", "fragment"), [
    (None, "do not exist"), (b"not torchscript", "not a usable TorchScript")])
def test_unusable_inception_weights_are_one_sentence(tmp_path, capsys, content, fragment):
    eeg = shared_file(EEG_OPEN)
    weights = tmp_path / "inception.pt"
    if content is not None:
        weights.write_bytes(content)
    code, _, err = run_train(["--images", str(tmp_path), "--eeg", str(eeg), "--outdir",
                              str(tmp_path), "--inception", str(weights), "--dry-run"], capsys)
    assert_user_error(code, err, fragment)


def test_missing_eeg_file(tmp_path, capsys):
    code, _, err = run_train(["--images", str(tmp_path), "--eeg", str(tmp_path / "none.edf"),
                              "--outdir", str(tmp_path)], capsys)
    assert_user_error(code, err, "does not exist")


def test_no_images(tmp_path, capsys):
    eeg = shared_file(EEG_OPEN)
    (tmp_path / "empty").mkdir()
    code, _, err = run_train(["--images", str(tmp_path / "empty"), "--eeg", str(eeg),
                              "--outdir", str(tmp_path / "runs"), "--cfg", "tiny"], capsys)
    assert_user_error(code, err, "holds no JPEG, PNG or WebP")
    assert not (tmp_path / "runs").exists()


def test_only_tiny_images(tmp_path, capsys):
    eeg = shared_file(EEG_OPEN)
    for i in range(3):
        Image.new("RGB", (40, 30)).save(tmp_path / f"small{i}.png")
    code, _, err = run_train(["--images", str(tmp_path), "--eeg", str(eeg), "--outdir",
                              str(tmp_path / "runs"), "--cfg", "tiny"], capsys)
    assert_user_error(code, err, "lower --resolution")


def test_unreadable_eeg(few_paintings, tmp_path, capsys):
    bad = tmp_path / "broken.edf"
    bad.write_bytes(b"0       this is not an EDF header at all" * 10)
    code, _, err = run_train(["--images", str(few_paintings), "--eeg", str(bad), "--outdir",
                              str(tmp_path / "runs"), "--cfg", "tiny", "--resolution", "32",
                              "--crops-per-image", "2"], capsys)
    assert_user_error(code, err, "broken.edf")


def test_resume_without_a_run(tmp_path, capsys):
    code, _, err = run_train(["--resume", str(tmp_path / "nothing")], capsys)
    assert_user_error(code, err, "does not exist")
