"""Training's EEG conditioning keeps the contrast between recordings that the show will see."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from installation.eeg.feature_pipeline import feature_frames
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.features import FeatureNormaliser
from installation.eeg.filtering import mains_frequency_at_start
from installation.eeg.profile import PROFILE_FORMAT, check_profile_fits, profiled_extractor
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import ConfigError, run_cli
from models.training.cli import main
from models.training.conditioning import load_feature_pool
from tests.helpers import assert_user_error

SPEC = FeatureSpec()
OCCIPITAL_ALPHA = SPEC.feature_names.index("occipital/alpha")


def eyes_open_profile(eyes_open_edf, spec: FeatureSpec = SPEC) -> dict:
    """A calibration-style profile: the statistics of the eyes-open recording's band powers."""
    frames = feature_frames(load_recording(eyes_open_edf), spec)
    return FeatureNormaliser.profile_from(spec, np.array([f.band_powers for f in frames]))


def occipital_alpha_means(pool) -> tuple[float, float]:
    """Mean occipital-alpha steering of (eyes open, eyes closed)."""
    return (float(pool.per_file["S001R01.edf"][:, OCCIPITAL_ALPHA].mean()),
            float(pool.per_file["S001R02.edf"][:, OCCIPITAL_ALPHA].mean()))


def test_pooled_statistics_keep_eyes_closed_apart_from_eyes_open(eyes_open_edf,
                                                                  eyes_closed_edf):
    pool = load_feature_pool([eyes_open_edf, eyes_closed_edf], SPEC)
    eyes_open, eyes_closed = occipital_alpha_means(pool)
    # A running baseline would centre both on 0; fixed pooled statistics put them ~1.8 apart.
    assert eyes_closed - eyes_open > 1.0
    assert pool.normalisation["source"] == "training recordings pooled"
    pooled = np.concatenate(list(pool.per_file.values()))
    assert np.abs(pooled.mean(axis=0)).max() < 0.3  # centred on the training data as a whole


def test_a_calibration_profile_centres_its_own_state(eyes_open_edf, eyes_closed_edf):
    profile = eyes_open_profile(eyes_open_edf)
    pool = load_feature_pool([eyes_open_edf, eyes_closed_edf], SPEC, profile)
    eyes_open, eyes_closed = occipital_alpha_means(pool)
    assert abs(eyes_open) < 0.5
    assert eyes_closed > 2.0
    assert pool.normalisation["source"] == "calibration profile"
    assert np.allclose(pool.normalisation["mean"], profile["mean"])


def test_a_profile_from_another_feature_spec_is_refused(eyes_open_edf):
    other = dataclasses.replace(SPEC, window_s=2.0)
    with pytest.raises(ConfigError, match="another feature spec"):
        load_feature_pool([eyes_open_edf], SPEC, eyes_open_profile(eyes_open_edf, other))


def test_train_records_the_profile_and_refuses_a_missing_one(tmp_path, capsys, eyes_open_edf):
    profile = tmp_path / "profile.json"
    common = ["--images", str(tmp_path), "--eeg", str(eyes_open_edf), "--outdir",
              str(tmp_path / "runs"), "--cfg", "tiny", "--dry-run", "--profile"]
    code = run_cli(main, [*common, str(profile)])
    assert_user_error(code, capsys.readouterr().err, "profile.json")

    info = load_recording(eyes_open_edf).info
    profile.write_text(json.dumps({
        **eyes_open_profile(eyes_open_edf), "format": PROFILE_FORMAT,
        "channel_names": list(info.channel_names), "sample_rate": info.sample_rate,
        "bad_channels": []}))
    assert run_cli(main, [*common, str(profile)]) == 0
    assert json.loads(capsys.readouterr().out)["eeg_profile"] == str(profile.resolve())


def test_training_and_the_show_refuse_a_profile_of_another_headset_alike(eyes_open_edf):
    """A 250 Hz four-channel profile for a 160 Hz 64-channel recording: one rule refuses it.

    Training used to keep the channels the two had in common (and apply the profile's bad
    channels); it now asks :func:`check_profile_fits`, as the show does.
    """
    info = load_recording(eyes_open_edf).info
    muse = {**eyes_open_profile(eyes_open_edf), "format": PROFILE_FORMAT,
            "channel_names": ["TP9", "AF7", "AF8", "TP10"], "sample_rate": 250.0,
            "bad_channels": ["AF7"]}
    with pytest.raises(ConfigError) as show_refusal:
        check_profile_fits(muse, info)
    with pytest.raises(ConfigError) as training_refusal:
        load_feature_pool([eyes_open_edf], SPEC, muse)
    assert "recorded at 250 Hz" in str(training_refusal.value)
    assert str(training_refusal.value) == str(show_refusal.value)


def test_a_dry_run_refuses_the_profile_training_would_refuse(tmp_path, capsys, eyes_open_edf):
    info = load_recording(eyes_open_edf).info
    muse = tmp_path / "muse.json"
    muse.write_text(json.dumps({
        **eyes_open_profile(eyes_open_edf), "format": PROFILE_FORMAT,
        "channel_names": ["TP9", "AF7", "AF8", "TP10"], "sample_rate": 250.0,
        "bad_channels": []}))
    code = run_cli(main, ["--images", str(tmp_path), "--eeg", str(eyes_open_edf), "--outdir",
                          str(tmp_path / "runs"), "--cfg", "tiny", "--dry-run",
                          "--profile", str(muse)])
    err = capsys.readouterr().err
    assert_user_error(code, err, "recorded at 250 Hz")
    assert f"{info.sample_rate:g} Hz" in err


def test_training_notches_the_profiles_mains_as_the_show_does(monkeypatch, eyes_open_edf):
    """Calibrated in a 60 Hz room, a recording whose first second hums at 50 Hz.

    The show notches the profile's 60 Hz (``profiled_extractor``); training used to decide
    each recording's mains from its first second and learnt from 50 Hz-notched features the
    show never plays. Both now give the very same steering.
    """
    recording = load_recording(eyes_open_edf)
    rate = recording.info.sample_rate
    t = np.arange(recording.data.shape[1]) / rate
    hum = np.where(t < 1.0, 20 * np.sin(2 * np.pi * 50 * t), 40 * np.sin(2 * np.pi * 60 * t))
    hummed = dataclasses.replace(recording, data=(recording.data + hum).astype(np.float32))
    assert mains_frequency_at_start(hummed.data, rate) == 50.0  # its own guess
    monkeypatch.setattr("models.training.conditioning.load_recording", lambda path: hummed)
    profile = {**eyes_open_profile(eyes_open_edf), "format": PROFILE_FORMAT,
               "channel_names": list(recording.info.channel_names), "sample_rate": rate,
               "bad_channels": [], "line_freq": 60.0}

    learnt = load_feature_pool([eyes_open_edf], SPEC, profile).per_file["S001R01.edf"]
    show = profiled_extractor(SPEC, hummed.info, profile)
    played = np.array([frame.steering for chunk in hummed.chunks(5) for frame in show.push(chunk)])
    np.testing.assert_allclose(learnt, played, rtol=0, atol=1e-6)
