"""Held bands: measured and reported, but not steering (muscle and eye artefacts)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from installation.eeg.feature_pipeline import FeatureExtractor, feature_frames
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.features import FeatureNormaliser
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import ConfigError
from models.training.conditioning import pooled_normaliser
from tests.conftest import shared_file

BURST_S = (20.0, 35.0)


@pytest.fixture(scope="module")
def eyes_open():
    return load_recording(shared_file("eeg/physionet_eegmmidb/S001R01.edf"))


def with_burst(recording, low_hz: float, high_hz: float, amplitude_uv: float):
    """The recording with band-limited noise on every channel over ``BURST_S``.

    Between 32 and 38 Hz it stands for a clenched jaw (scalp muscle), between 1.5 and 2.5 Hz
    for a run of blinks and glances.
    """
    rate = recording.sample_rate
    start, stop = (int(s * rate) for s in BURST_S)
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((recording.data.shape[0], stop - start))
    band = sosfiltfilt(butter(4, (low_hz, high_hz), "bandpass", fs=rate, output="sos"), noise)
    band *= amplitude_uv / band.std()
    data = recording.data.copy()
    data[:, start:stop] += band.astype(np.float32)
    return dataclasses.replace(recording, data=data)


def steering_and_z(recording, spec: FeatureSpec, profile: dict):
    """(steering, z, EEG time) of every hop, z-scored by ``profile``."""
    frames = feature_frames(recording, spec, FeatureNormaliser.from_profile(profile))
    return (np.array([f.steering for f in frames]), np.array([f.z for f in frames]),
            np.array([f.eeg_time for f in frames]))


@pytest.mark.parametrize("band, low_hz, high_hz, amplitude_uv", [
    ("low_gamma", 32.0, 38.0, 40.0), ("delta", 1.5, 2.5, 100.0)])
def test_an_artefact_in_a_held_band_does_not_move_the_steering(eyes_open, band, low_hz,
                                                                 high_hz, amplitude_uv):
    steered, held = FeatureSpec(held_bands=()), FeatureSpec(held_bands=(band,))
    profile = pooled_normaliser([eyes_open], steered).profile
    burst = with_burst(eyes_open, low_hz, high_hz, amplitude_uv)
    moves = {}
    for name, spec in (("steered", steered), ("held", held)):
        clean, _, times = steering_and_z(eyes_open, spec, profile)
        noisy, z, _ = steering_and_z(burst, spec, profile)
        during = (times > BURST_S[0] + 1) & (times < BURST_S[1])
        moves[name] = np.abs(noisy - clean)[during].mean(axis=0)
        if name == "held":
            column = spec.held_features
            assert (noisy[:, column] == 0).all()
            assert np.abs(z[during][:, column]).mean() > 2  # still measured, for the feeds
    column = held.held_features
    # steered, the burst drives its band far from the baseline...
    assert moves["steered"][column].mean() > 2
    # ...held, the steering hardly moves, and the other bands move as they did
    assert moves["held"].max() < 0.25 * moves["steered"][column].mean()
    np.testing.assert_allclose(moves["held"][~column], moves["steered"][~column], atol=1e-6)


def test_a_profile_made_without_held_bands_still_fits(eyes_open):
    profile = pooled_normaliser([eyes_open], FeatureSpec(held_bands=())).profile
    normaliser = FeatureNormaliser.from_profile(profile)
    FeatureExtractor(FeatureSpec(held_bands=("low_gamma",)), eyes_open.info, normaliser)
    with pytest.raises(ConfigError, match="different feature spec"):
        FeatureExtractor(FeatureSpec(window_s=2.0), eyes_open.info,
                         FeatureNormaliser.from_profile(profile))


def test_older_specs_read_as_holding_no_band():
    written = FeatureSpec(held_bands=("delta",)).to_dict()
    assert FeatureSpec.from_dict(written).held_bands == ("delta",)
    del written["held_bands"]  # as generator.json files written before it existed
    assert FeatureSpec.from_dict(written).held_bands == ()


def test_a_held_band_that_is_no_band_is_refused():
    with pytest.raises(ConfigError, match="not among the feature bands"):
        FeatureSpec(held_bands=("gamma",)).validate()


def test_the_default_holds_the_muscle_band_only_where_the_bands_have_one():
    assert FeatureSpec().held_bands == ("low_gamma",)
    custom = FeatureSpec(bands=(("alpha", 8.0, 13.0), ("beta", 13.0, 30.0)))
    assert custom.validate().held_bands == ()
    assert not custom.held_features.any()
