"""profile.json: what the show loads, and the check that it fits the stream."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from installation.eeg.baseline.profile_builder import save_profile
from installation.eeg.baseline.session import CalibrationSession, default_steps
from installation.eeg.feature_pipeline import FeatureExtractor, feature_frames
from installation.eeg.features import FeatureNormaliser
from installation.eeg.profile import PROFILE_FORMAT, check_profile_fits, load_profile
from installation.eeg.sources.base import StreamInfo
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import ConfigError
from tests.conftest import shared_file
from tests.installation.eeg.baseline.sessions import run_until_done


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """A profile from 10 s of S001R01 baseline and 5 s 'eyes closed', with Oz flattened."""
    recording = load_recording(shared_file("eeg/physionet_eegmmidb/S001R01.edf"))
    data = recording.data.copy()
    data[recording.channel_names.index("Oz")] = 0.0
    recording = dataclasses.replace(recording, data=data)
    session = CalibrationSession(recording.info, steps=default_steps(10, 5), source="file:x",
                                 auto_advance=True)
    result = run_until_done(session, recording.chunks(64))
    path = save_profile(result.profile, tmp_path_factory.mktemp("profile") / "profile.json")
    return recording, result, path


def test_profile_holds_what_the_show_needs(calibrated):
    recording, result, path = calibrated
    profile = load_profile(path)
    assert profile["format"] == PROFILE_FORMAT
    assert profile["channel_names"] == list(recording.channel_names)
    assert profile["sample_rate"] == 160.0
    assert profile["line_freq"] in (50.0, 60.0)
    assert "Oz" in profile["bad_channels"]
    assert profile["channel_states"]["Oz"] == "flat"
    assert profile["created"].endswith("+00:00")
    assert profile["source"] == "file:x"
    assert profile["eyes_closed"]["ratio"] > 0
    assert len(profile["mean"]) == len(profile["std"]) == len(profile["feature_names"]) == 25
    normaliser = FeatureNormaliser.from_profile(profile)
    np.testing.assert_allclose(normaliser.mean, profile["mean"])


def test_show_pipeline_accepts_the_profile(calibrated):
    recording, _, path = calibrated
    profile = load_profile(path)
    normaliser = FeatureNormaliser.from_profile(profile)
    bad = check_profile_fits(profile, recording.info)
    extractor = FeatureExtractor(normaliser.spec, recording.info, normaliser, bad_channels=bad)
    frames = []
    for chunk in recording.chunks(160):
        frames.extend(extractor.push(chunk))
        if len(frames) > 20:
            break
    assert "Oz" in frames[-1].masked_channels
    assert np.abs(frames[-1].z).max() <= 5.0


def test_statistics_are_the_shows_features_without_the_bad_channels(calibrated):
    recording, result, _ = calibrated
    baseline = dataclasses.replace(recording, data=recording.data[:, : 10 * 160],
                                   timestamps=recording.timestamps[: 10 * 160])
    frames = feature_frames(baseline, FeatureNormaliser.from_profile(result.profile).spec,
                            bad_channels=result.profile["bad_channels"])
    powers = np.array([frame.band_powers for frame in frames])
    np.testing.assert_allclose(result.profile["mean"], powers.mean(axis=0), rtol=1e-9)
    assert result.profile["n_frames"] == len(frames)


def test_reordered_channels_fit_and_keep_their_names(calibrated):
    recording, _, path = calibrated
    profile = load_profile(path)
    names = tuple(reversed([n.lower() for n in recording.channel_names]))
    bad = check_profile_fits(profile, StreamInfo(names, 160.0, "reordered"))
    assert "oz" in bad  # spelt as the stream spells it


@pytest.mark.parametrize("names, rate, message", [
    (None, 250.0, "recorded at 160 Hz"),
    ("drop", 160.0, "missing now: IZ"),
    ("duplicate", 160.0, "appears twice"),
])
def test_profiles_that_do_not_fit_are_refused(calibrated, names, rate, message):
    recording, _, path = calibrated
    channel_names = list(recording.channel_names)
    if names == "drop":
        channel_names = channel_names[:-1]
    elif names == "duplicate":
        channel_names[1] = channel_names[0]
    with pytest.raises(ConfigError, match=message):
        check_profile_fits(load_profile(path), StreamInfo(tuple(channel_names), rate, "other"))


def test_loader_refuses_broken_files(tmp_path, calibrated):
    with pytest.raises(ConfigError, match="does not exist"):
        load_profile(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not readable JSON"):
        load_profile(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"mean": []}))
    with pytest.raises(ConfigError, match="is not a"):
        load_profile(tmp_path / "other.json")
    profile = load_profile(calibrated[2])
    profile["std"] = [0.0] * len(profile["std"])
    save_profile(profile, tmp_path / "zero_std.json")
    with pytest.raises(ConfigError, match="standard"):
        load_profile(tmp_path / "zero_std.json")
    profile = load_profile(calibrated[2])
    profile["bad_channels"] = ["Nope"]
    save_profile(profile, tmp_path / "stray.json")
    with pytest.raises(ConfigError, match="bad channels"):
        load_profile(tmp_path / "stray.json")
