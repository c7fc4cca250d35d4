"""A session in which the wearer changed trains as one person per wearer, each on its profile."""

from __future__ import annotations

import json

import numpy as np

from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import run_cli
from models.training.cli import main, people_config
from models.training.conditioning import load_feature_pool, load_people_pool
from models.training.training_loop import person_of
from models.training.wearers import slice_recording, split_wearers
from tests.conftest import shared_file
from tests.installation.outputs.test_session_profiles import (
    record_two_wearers,
    recording_profile,
)

SPEC = FeatureSpec()


def two_wearer_session(eyes_open_edf, tmp_path):
    """S001's rest, then S026's after an in-show calibration, recorded as one session."""
    s026 = shared_file("eeg/physionet_eegmmidb/S026R01.edf")
    first, second = load_recording(eyes_open_edf), load_recording(s026)
    start = recording_profile(first)
    folder = tmp_path / "session"
    _, _, _, new = record_two_wearers(folder, first, second, start)
    return folder, s026, first, start, new


def test_each_wearer_is_a_person_z_scored_by_their_own_profile(eyes_open_edf, tmp_path):
    folder, s026, first, start, new = two_wearer_session(eyes_open_edf, tmp_path)
    people = people_config([[str(folder)]])
    assert [p["name"] for p in people] == ["session", "session@1"]
    n = first.n_samples
    assert people[0]["stretches"] == {str(folder): [0, n]}
    assert people[0]["profile"] == str(folder / "profile.json")
    assert people[1]["profile"] == str(folder / "profiles" / "001.json")
    assert people[1]["stretches"][str(folder)][0] == n  # from the calibration's start
    pool = load_people_pool([person_of(json.loads(json.dumps(p))) for p in people], SPEC)
    # each stretch steers exactly as its wearer's own recording does with their own profile
    alone_first = load_feature_pool([eyes_open_edf], SPEC, start).per_file["S001R01.edf"]
    alone_second = load_feature_pool([s026], SPEC, new).per_file["S026R01.edf"]
    np.testing.assert_allclose(pool.per_file["session/session"], alone_first, atol=1e-5)
    np.testing.assert_allclose(pool.per_file["session@1/session"], alone_second, atol=1e-5)
    statistics = pool.normalisation["people"]
    assert statistics["session"]["mean"] == start["mean"]
    assert statistics["session@1"]["mean"] == new["mean"]


def test_a_session_of_one_wearer_is_not_split(eyes_open_edf, tmp_path):
    folder = tmp_path / "session"
    recording = load_recording(eyes_open_edf)
    record_two_wearers(folder, recording, recording, None, calibration_s=1000.0)  # never swaps
    entry = {"name": "a", "eeg": [str(folder)], "profile": None}
    assert split_wearers(entry) == [entry]


def test_a_short_wearer_is_left_out_and_said(eyes_open_edf, tmp_path, capsys):
    first = load_recording(eyes_open_edf)
    brief = slice_recording(load_recording(shared_file("eeg/physionet_eegmmidb/S026R01.edf")),
                            0, int(8 * first.sample_rate))  # put on, calibrated, gone
    folder = tmp_path / "session"
    record_two_wearers(folder, first, brief, recording_profile(first))
    (first_person,) = split_wearers({"name": "a", "eeg": [str(folder)], "profile": None},
                                    min_s=10.0)
    assert first_person["eeg"] == [str(folder)]
    assert first_person["stretches"] == {str(folder): [0, first.n_samples]}
    assert "wearer 1 has 8.0 s of EEG, less than 10 s" in capsys.readouterr().err


def test_train_splits_an_eeg_session_into_its_wearers(eyes_open_edf, tmp_path, capsys,
                                                      paintings_dir):
    folder, *_ = two_wearer_session(eyes_open_edf, tmp_path)
    argv = ["--images", str(paintings_dir), "--outdir", str(tmp_path / "runs"), "--cfg",
            "tiny", "--dry-run", "--eeg", str(folder)]
    assert run_cli(main, argv) == 0
    config = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in config["people"]] == ["session", "session@1"]
    assert config["people"][0]["profile"] == str(folder / "profile.json")
