"""One mains rule: calibration and the pipeline decide it alike; the show takes the profile's."""

from __future__ import annotations

import numpy as np
import pytest

from installation.eeg.baseline.quality import QualityMonitor
from installation.eeg.feature_pipeline import FeatureExtractor
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.features import FeatureNormaliser
from installation.eeg.filtering import detect_line_frequency
from installation.eeg.profile import PROFILE_FORMAT, profiled_extractor, validate_profile
from installation.eeg.sources.base import Chunk
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import ConfigError
from tests.conftest import shared_file

SPEC = FeatureSpec()


@pytest.fixture(scope="module")
def mains_changes_after_one_second():
    """Four seconds of a real recording: 50 Hz hum in its first second, stronger 60 Hz after.

    The first second says 50 Hz; the first three seconds say 60 Hz. Calibration used to look
    at three seconds and the feature pipeline at one, so they notched different frequencies.
    """
    recording = load_recording(shared_file("eeg/physionet_eegmmidb/S001R01.edf"))
    rate = recording.sample_rate
    data = recording.data[:, : int(4 * rate)].astype(np.float64)
    t = np.arange(data.shape[1]) / rate
    first_second = t < 1.0
    data += np.where(first_second, 20 * np.sin(2 * np.pi * 50 * t), 0.0)
    data += np.where(first_second, 0.0, 40 * np.sin(2 * np.pi * 60 * t))
    assert detect_line_frequency(data[:, : int(rate)], rate) == 50.0
    assert detect_line_frequency(data[:, : int(3 * rate)], rate) == 60.0  # the old disagreement
    return recording.info, data, t


def test_calibration_and_the_feature_pipeline_decide_the_same_mains(
        mains_changes_after_one_second):
    info, data, t = mains_changes_after_one_second
    monitor = QualityMonitor(info.channel_names, info.sample_rate)
    extractor = FeatureExtractor(SPEC, info)
    step = 40  # chunk by chunk, as a live stream arrives
    for start in range(0, data.shape[1], step):
        block = data[:, start: start + step]
        monitor.push(block)
        extractor.push(Chunk(block.astype(np.float32), t[start: start + step]))
    assert extractor.line_freq == monitor.line_freq == 50.0


def test_a_pipeline_with_a_short_window_waits_for_the_mains_second(
        mains_changes_after_one_second):
    info, data, t = mains_changes_after_one_second
    spec = FeatureSpec(window_s=0.5, hop_s=0.25)
    extractor = FeatureExtractor(spec, info)
    half = int(0.75 * info.sample_rate)
    assert extractor.push(Chunk(data[:, :half].astype(np.float32), t[:half])) == []
    assert extractor.line_freq is None
    frames = extractor.push(Chunk(data[:, half:].astype(np.float32), t[half:]))
    assert extractor.line_freq == 50.0
    whole = FeatureExtractor(spec, info).push(Chunk(data.astype(np.float32), t))
    assert len(frames) == len(whole)  # nothing lost by waiting
    np.testing.assert_allclose(frames[0].band_powers, whole[0].band_powers)


def profile_for(info, line_freq) -> dict:
    rng = np.random.default_rng(0)
    profile = FeatureNormaliser.profile_from(SPEC, rng.normal(1.0, 0.2, (20, SPEC.n_features)))
    profile.update(format=PROFILE_FORMAT, channel_names=list(info.channel_names),
                   sample_rate=info.sample_rate, bad_channels=[], line_freq=line_freq)
    validate_profile(profile)
    return profile


def test_the_show_notches_the_profiles_mains_not_its_own_guess(mains_changes_after_one_second):
    info, data, t = mains_changes_after_one_second
    extractor = profiled_extractor(SPEC, info, profile_for(info, 60.0))
    assert extractor.line_freq == 60.0  # before any sample: nothing left to decide
    extractor.push(Chunk(data.astype(np.float32), t))
    assert extractor.line_freq == 60.0  # though the stream's first second says 50 Hz
    undecided = profiled_extractor(SPEC, info, profile_for(info, None))  # an older profile
    undecided.push(Chunk(data.astype(np.float32), t))
    assert undecided.line_freq == 50.0
    assert profiled_extractor(SPEC, info, None).line_freq is None


def test_a_profile_with_another_mains_is_refused(mains_changes_after_one_second):
    info = mains_changes_after_one_second[0]
    with pytest.raises(ConfigError, match="50 or 60 Hz"):
        profile_for(info, 55.0)
