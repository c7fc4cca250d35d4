"""A campaign leg on a lent GPU: the pack travels, the leg trains without any EEG library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from installation.errors import ConfigError, run_cli
from models import campaign, travel_pack
from models.training.cli import main as train_main
from models.training.feature_pool import FeaturePool
from tests.conftest import REPO, shared_file
from tests.models.conftest import EEG_OPEN
from tests.models.training.test_training import TINY

# What a lent GPU machine lacks: importing any of them there fails, so here too.
WITHOUT_EEG_LIBRARIES = """
import runpy, sys
BLOCKED = {"mne", "pyxdf", "pylsl", "brainflow", "pygame", "openvino", "av", "pythonosc",
           "edfio", "mne_bids"}
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"No module named {name!r} (not on the lent machine)")
sys.meta_path.insert(0, Absent())
sys.argv = ["models.travel_pack", *sys.argv[1:]]
runpy.run_module("models.travel_pack", run_name="__main__")
"""


@pytest.fixture
def tiny_campaign(few_paintings, tmp_path) -> Path:
    """A tiny campaign's resume checkpoint, trained on S001's eyes-open rest."""
    runs = tmp_path / "runs"
    assert run_cli(train_main, ["--images", str(few_paintings), "--eeg",
                                str(shared_file(EEG_OPEN)), "--outdir", str(runs), "--kimg",
                                "0.016", "--snap", "1", *TINY]) == 0
    out = tmp_path / "resume.pt"
    assert run_cli(campaign.main, ["pack", str(runs / "00000-tiny-32px"), "--out",
                                   str(out)]) == 0
    return out


def test_a_leg_trains_from_the_pack_without_eeg_libraries_and_comes_home(tiny_campaign,
                                                                         tmp_path, capsys):
    pack = tmp_path / "travel"
    assert run_cli(travel_pack.main, ["write", "--resume", str(tiny_campaign), "--out",
                                   str(pack)]) == 0
    assert "of the 64 MiB that travel" in capsys.readouterr().out
    manifest = travel_pack.read_manifest(pack)
    assert manifest["paintings"] == 4 == len(list((pack / "paintings").glob("*.webp")))
    steering = FeaturePool.load(pack / "steering.npz")
    assert len(steering.all) == manifest["steering_hops"] > 100

    home = torch.load(tiny_campaign, weights_only=True)
    out = tmp_path / "back"
    done = subprocess.run([sys.executable, "-c", WITHOUT_EEG_LIBRARIES, "leg", "--pack",
                           str(pack), "--resume", str(tiny_campaign), "--minutes", "0.001",
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["kimg_after"] > summary["kimg_before"] == pytest.approx(home["kimg"])

    back = torch.load(out / "resume.pt", weights_only=True)
    assert campaign.is_packed(back)
    assert back["kimg"] == pytest.approx(summary["kimg_after"])
    assert back["config"]["images"] == home["config"]["images"]  # resumes at home
    assert "steering_file" not in back["config"] and "deadline" not in back["config"]
    assert (out / "stats.jsonl").read_text().strip()
    assert not torch.equal(back["G_ema"]["synthesis.blocks.0.const"],
                           home["G_ema"]["synthesis.blocks.0.const"])


def test_a_leg_refuses_what_is_no_pack_in_one_sentence(tiny_campaign, tmp_path, capsys):
    assert run_cli(travel_pack.main, ["leg", "--pack", str(tmp_path), "--resume",
                                   str(tiny_campaign), "--out", str(tmp_path / "out")]) == 2
    assert "is not a travel pack" in capsys.readouterr().err
    assert run_cli(travel_pack.main, ["write", "--resume", str(tmp_path / "absent.pt"),
                                   "--out", str(tmp_path / "travel")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_steering_file_that_is_not_one_is_refused(tmp_path):
    bad = tmp_path / "steering.npz"
    bad.write_bytes(b"not a pool")
    with pytest.raises(ConfigError, match="not a steering file"):
        FeaturePool.load(bad)
