"""The profiles folder (--profiles): timestamped saves, the newest that fits at start."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from installation.config import ShowOptions, validate
from installation.eeg.baseline.session import CalibrationSession, default_steps
from installation.eeg.profile_folder import (
    newest_fitting_profile,
    profile_files,
    save_to_profiles,
)
from installation.eeg.sources.base import StreamInfo
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import ConfigError
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def calibrated():
    recording = load_recording(shared_file("eeg/physionet_eegmmidb/S001R01.edf"))
    session = CalibrationSession(recording.info, steps=default_steps(6, 0), auto_advance=True)
    for chunk in recording.chunks(64):
        session.push(chunk)
    return recording.info, session.finish().profile


def test_the_newest_profile_that_fits_is_taken_and_damaged_or_foreign_ones_passed_over(
        calibrated, tmp_path):
    info, profile = calibrated
    older = save_to_profiles(profile, tmp_path, datetime(2026, 12, 5, 20, 0, 0))
    newest_fitting = save_to_profiles(dict(profile, baseline_s=7.0), tmp_path,
                                      datetime(2026, 12, 6, 9, 0, 0))
    foreign = save_to_profiles(dict(profile, sample_rate=250.0), tmp_path,
                               datetime(2026, 12, 6, 10, 0, 0))
    (tmp_path / "profile-20261206-110000.json").write_text('{"format": "eeg-pain')  # cut short
    again = save_to_profiles(profile, tmp_path, datetime(2026, 12, 5, 20, 0, 0))
    assert again != older and again.name == "profile-20261205-200000-2.json"
    assert profile_files(tmp_path)[0].name == "profile-20261206-110000.json"
    path, found = newest_fitting_profile(tmp_path, info)
    assert path == newest_fitting and found["baseline_s"] == 7.0
    assert foreign.exists()  # passed over, never removed
    other = StreamInfo(info.channel_names[:8], info.sample_rate, "eight of its channels")
    assert newest_fitting_profile(tmp_path, other) is None
    assert newest_fitting_profile(tmp_path / "absent", info) is None
    assert json.loads(path.read_text())["mean"] == profile["mean"]


def test_the_profiles_option_must_name_a_folder(tmp_path):
    a_file = tmp_path / "profile.json"
    a_file.write_text("{}")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        validate(ShowOptions(profiles=str(a_file)))
    with pytest.raises(ConfigError, match="calibration_s must be from 3.0"):
        validate(ShowOptions(calibration_s=2.0))
    with pytest.raises(ConfigError, match="finite"):
        validate(ShowOptions(calibration_eyes_closed_s=float("nan")))
    assert validate(ShowOptions(profiles=str(tmp_path / "new"), calibration_s=4.0))
