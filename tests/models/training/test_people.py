"""Training on several people, each z-scored by their own statistics; the mapping re-fit."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.profile import PROFILE_FORMAT
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import ConfigError, run_cli
from models.adaptation.mapping_fit import MappingFitSettings, fit_mapping
from models.bundles.default import untrained_generator
from models.training.cli import main
from models.training.conditioning import Person, load_feature_pool, load_people_pool
from tests.conftest import shared_file
from tests.helpers import assert_user_error
from tests.models.training.test_conditioning import eyes_open_profile

SPEC = FeatureSpec()


def person_files(name: str):
    return (shared_file(f"eeg/physionet_eegmmidb/{name}R01.edf"),
            shared_file(f"eeg/physionet_eegmmidb/{name}R02.edf"))


def calibration_profile(eyes_open) -> dict:
    """A profile as calibration writes it, from one eyes-open recording."""
    info = load_recording(eyes_open).info
    return {**eyes_open_profile(eyes_open), "format": PROFILE_FORMAT,
            "channel_names": list(info.channel_names), "sample_rate": info.sample_rate,
            "bad_channels": []}


def test_each_person_is_z_scored_by_their_own_statistics(monkeypatch):
    s001, s005 = person_files("S001"), person_files("S005")
    people = [Person("a", s001), Person("b", s005)]
    apart = load_people_pool(people, SPEC)
    together = load_feature_pool([*s001, *s005], SPEC)
    real_load = load_recording

    def second_person_louder(path, *args, **kwargs):
        recording = real_load(path, *args, **kwargs)
        if "S005" in str(path):  # another amplifier's gain: 3x on every channel
            recording = dataclasses.replace(recording, data=recording.data * 3.0)
        return recording

    monkeypatch.setattr("models.training.conditioning.load_recording", second_person_louder)
    louder_apart = load_people_pool(people, SPEC)
    louder_together = load_feature_pool([*s001, *s005], SPEC)
    # Their own statistics absorb the gain, as their calibration does in the show ...
    for key in apart.per_file:
        assert np.allclose(apart.per_file[key], louder_apart.per_file[key], atol=1e-3), key
    assert set(apart.normalisation["people"]) == {"a", "b"}
    # ... while statistics pooled over both people let it show as a state of mind.
    shift = louder_together.per_file["S005R01.edf"] - together.per_file["S005R01.edf"]
    assert np.abs(shift.mean(axis=0)).max() > 0.5


def test_two_people_of_one_name_are_refused():
    s001 = person_files("S001")
    with pytest.raises(ConfigError, match="same name"):
        load_people_pool([Person("a", s001), Person("a", s001)], SPEC)


def test_train_takes_people_with_their_profiles(tmp_path, capsys, paintings_dir):
    s001, s005 = person_files("S001"), person_files("S005")
    profile = tmp_path / "profile.json"
    argv = ["--images", str(paintings_dir), "--outdir", str(tmp_path / "runs"), "--cfg", "tiny",
            "--dry-run", "--person", *map(str, s001), str(profile), "--person", *map(str, s005)]
    assert_user_error(run_cli(main, argv), capsys.readouterr().err, "profile.json")

    profile.write_text(json.dumps(calibration_profile(s001[0])))
    assert run_cli(main, argv) == 0
    people = json.loads(capsys.readouterr().out)["people"]
    assert [p["name"] for p in people] == ["S001R01", "S005R01"]
    assert people[0]["profile"] == str(profile.resolve()) and people[1]["profile"] is None
    assert people[1]["eeg"] == [str(p.resolve()) for p in s005]


def test_a_folder_that_is_not_a_session_is_refused(tmp_path, capsys, paintings_dir):
    argv = ["--images", str(paintings_dir), "--eeg", str(tmp_path), "--outdir",
            str(tmp_path / "runs"), "--cfg", "tiny", "--dry-run"]
    assert_user_error(run_cli(main, argv), capsys.readouterr().err, "not a session")


def test_the_mapping_refit_moves_with_the_eeg_and_leaves_the_paintings_alone():
    generator = untrained_generator("tiny", spec=SPEC)
    pool = load_feature_pool(list(person_files("S001")), SPEC)
    synthesis = {k: v.clone() for k, v in generator.synthesis.state_dict().items()}
    settings = MappingFitSettings(steps=150, batch=64, reference_size=512)
    seen = []
    mapping, figures = fit_mapping(generator.mapping, pool, settings,
                                   lambda step, terms: seen.append(terms["isometry"]))
    assert len(seen) == 150
    assert np.mean(seen[-10:]) < 0.8 * np.mean(seen[:10])
    assert figures["seconds"] > 0
    changed = [not torch.equal(a, b) for a, b in zip(mapping.state_dict().values(),
                                                        generator.mapping.state_dict().values(),
                                                        strict=True)]
    assert any(changed)
    generator.mapping = mapping
    assert all(torch.equal(v, synthesis[k]) for k, v in generator.synthesis.state_dict().items())
