"""Features that carry the state, not the electrode: one loud channel, the calibration's flag."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from installation.eeg.baseline.montage_outliers import ABNORMAL
from installation.eeg.baseline.profile_builder import channels_to_leave_out
from installation.eeg.baseline.quality import assess_quality
from installation.eeg.feature_pipeline import extract_feature_sequence, feature_frames
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.features import FeatureNormaliser
from installation.eeg.montage import region_of
from installation.eeg.sources.files.recordings import load_recording
from tests.conftest import shared_file

LOUD_CHANNEL = "O1"


def louder(recording, channel: str, factor: float = 5.0):
    """The recording with one channel's amplitude multiplied (a loose electrode)."""
    data = recording.data.copy()
    data[recording.channel_names.index(channel)] *= factor
    return dataclasses.replace(recording, data=data)


def steering_contrast(eyes_open, eyes_closed, spec: FeatureSpec) -> float:
    """Distance of the two recordings' mean steering against that of each one's halves.

    Both are z-scored by the eyes-open recording's statistics, as a calibration does.
    """
    profile = FeatureNormaliser.profile_from(
        spec, np.array([f.band_powers for f in feature_frames(eyes_open, spec)]))
    closed, opened = (
        extract_feature_sequence(rec, spec, FeatureNormaliser.from_profile(profile))[0]
        for rec in (eyes_closed, eyes_open))

    def halves(x):
        return np.linalg.norm(x[:len(x) // 2].mean(0) - x[len(x) // 2:].mean(0))

    return float(np.linalg.norm(closed.mean(0) - opened.mean(0))
                 / ((halves(closed) + halves(opened)) / 2))


@pytest.fixture(scope="module")
def recordings():
    return (load_recording(shared_file("eeg/physionet_eegmmidb/S001R01.edf")),
            load_recording(shared_file("eeg/physionet_eegmmidb/S001R02.edf")))


def test_a_channel_five_times_louder_gives_the_same_contrast(recordings):
    eyes_open, eyes_closed = recordings
    loud_open, loud_closed = (louder(r, LOUD_CHANNEL) for r in recordings)
    spec = FeatureSpec()
    clean = steering_contrast(eyes_open, eyes_closed, spec)
    loud = steering_contrast(loud_open, loud_closed, spec)
    assert clean > 2.0
    assert loud == pytest.approx(clean, rel=0.05)


def test_the_power_mean_of_older_bundles_lets_the_loud_channel_speak_for_its_region(recordings):
    eyes_open, eyes_closed = recordings
    spec = FeatureSpec(region_mean="power")
    occipital_alpha = spec.feature_names.index("occipital/alpha")
    quiet = feature_frames(eyes_open, spec)[50].band_powers[occipital_alpha]
    loud = feature_frames(louder(eyes_open, LOUD_CHANNEL), spec)[50].band_powers[occipital_alpha]
    log_spec = FeatureSpec()
    log_quiet = feature_frames(eyes_open, log_spec)[50].band_powers[occipital_alpha]
    log_loud = feature_frames(louder(eyes_open, LOUD_CHANNEL),
                              log_spec)[50].band_powers[occipital_alpha]
    occipital = [n for n in eyes_open.channel_names if region_of(n) == "occipital"]
    # 25x the power in one of the occipital channels: the power mean follows that channel, the
    # log mean moves by a constant share of log10(25), whatever that channel does next.
    assert loud - quiet > 0.4
    assert log_loud - log_quiet == pytest.approx(np.log10(25) / len(occipital), abs=0.01)


def test_calibration_flags_a_loud_channel_and_leaves_it_out(recordings):
    eyes_open, _ = recordings
    # A quieter headset (a third of the amplitude), so the loose electrode stays under the
    # absolute 100 uV limit that would call it noisy: only the montage's own median shows it.
    quiet = dataclasses.replace(eyes_open, data=eyes_open.data * 0.3)
    clean = assess_quality(quiet.data, quiet.sample_rate, quiet.channel_names)
    assert set(clean.states.values()) <= {"good", "noisy"}  # S001's frontal blinks

    loud = louder(quiet, LOUD_CHANNEL)
    report = assess_quality(loud.data, loud.sample_rate, loud.channel_names)
    assert report.states[LOUD_CHANNEL] == ABNORMAL
    assert [c for c, s in report.states.items() if s == ABNORMAL] == [LOUD_CHANNEL]
    assert LOUD_CHANNEL in channels_to_leave_out(report)


def test_older_specs_read_as_the_power_mean_they_were_made_with():
    written = FeatureSpec().to_dict()
    del written["region_mean"]  # as generator.json files written before it existed
    assert FeatureSpec.from_dict(written).region_mean == "power"
    assert FeatureSpec.from_dict(FeatureSpec().to_dict()).region_mean == "log"
