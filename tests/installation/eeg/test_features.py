"""Band powers, masking, normalisation and smoothing, on real boards, recordings and signals."""

from __future__ import annotations

import time

import numpy as np
import pytest

from installation.eeg.feature_pipeline import feature_frames
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.features import BandPowerFeatures, FeatureNormaliser, FeatureSmoother
from installation.eeg.filtering import StreamingFilter
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import ConfigError

SPEC = FeatureSpec()
BANDS = [b[0] for b in SPEC.bands]
RATE = 250.0
N_WINDOW = 250


def _vector(values: np.ndarray) -> np.ndarray:
    """(n_regions, n_bands) view of a feature vector."""
    return values.reshape(len(SPEC.regions), len(SPEC.bands))


def _noise_window(rng, n_channels, scale=10.0):
    return scale * rng.standard_normal((n_channels, N_WINDOW))


def test_a_sine_gives_its_power_in_its_band():
    t = np.arange(N_WINDOW) / RATE
    amplitude = 20.0
    window = np.tile(amplitude * np.sin(2 * np.pi * 10 * t), (2, 1))
    features = BandPowerFeatures(SPEC, ["O1", "O2"], RATE)
    powers = _vector(features.compute(window))
    alpha = BANDS.index("alpha")
    # a sine of amplitude A holds A²/2 µV² of power
    assert powers[0, alpha] == pytest.approx(np.log10(amplitude**2 / 2), abs=0.05)
    assert (np.delete(powers[0], alpha) < powers[0, alpha] - 2).all()


def _synthetic_board_data(seconds: float = 3.0):
    from brainflow.board_shim import BoardIds, BoardShim, BrainFlowInputParams

    board_id = BoardIds.SYNTHETIC_BOARD.value
    BoardShim.disable_board_logger()
    board = BoardShim(board_id, BrainFlowInputParams())
    board.prepare_session()
    try:
        board.start_stream()
        time.sleep(seconds)
        data = board.get_board_data()
        board.stop_stream()
    finally:
        board.release_session()
    rows = BoardShim.get_eeg_channels(board_id)
    names = BoardShim.get_eeg_names(board_id)
    return data[rows], names, float(BoardShim.get_sampling_rate(board_id))


def test_brainflow_synthetic_board_channel_2_is_alpha():
    eeg, names, rate = _synthetic_board_data()
    filtered = StreamingFilter(rate, eeg.shape[0], line_freq=50).process(eeg)
    n_window = int(rate)
    assert filtered.shape[1] >= 2 * n_window, "the synthetic board delivered too little data"
    window = filtered[1:2, -n_window:]  # BrainFlow's EEG channel 2 is a 10 Hz sine
    features = BandPowerFeatures(SPEC, [names[1]], rate)
    powers = _vector(features.compute(window))
    shown = ", ".join(f"{band} {power:.2f}" for band, power in zip(BANDS, powers[0], strict=True))
    print(f"synthetic board channel 2, log10 band powers (µV²): {shown}")
    alpha = BANDS.index("alpha")
    assert powers[0].argmax() == alpha
    assert (np.delete(powers[0], alpha) < powers[0, alpha] - 1).all()


def _occipital_alpha(recording) -> float:
    frames = feature_frames(recording, SPEC)
    index = SPEC.feature_names.index("occipital/alpha")
    return float(np.mean([10 ** frame.band_powers[index] for frame in frames]))


def test_eyes_closed_occipital_alpha_exceeds_eyes_open(eyes_open_edf, eyes_closed_edf):
    eyes_open = _occipital_alpha(load_recording(eyes_open_edf))
    eyes_closed = _occipital_alpha(load_recording(eyes_closed_edf))
    ratio = eyes_closed / eyes_open
    print(
        f"occipital alpha eyes closed / eyes open: {ratio:.2f} "
        f"({eyes_closed:.1f} / {eyes_open:.1f} µV²)"
    )
    assert ratio > 3


def test_every_headset_gives_the_same_vector_shape(eyes_open_edf):
    rng = np.random.default_rng(0)
    cap = load_recording(eyes_open_edf)
    headsets = {
        "muse": ["TP9", "AF7", "AF8", "TP10"],
        "unnamed": [f"EXG Channel {i}" for i in range(8)],
        "cap": list(cap.info.channel_names),
    }
    for kind, names in headsets.items():
        rate = cap.info.sample_rate if kind == "cap" else RATE
        features = BandPowerFeatures(SPEC, names, rate)
        if kind == "cap":
            window = StreamingFilter(rate, len(names)).process(cap.data)[:, -int(rate) :]
        else:
            window = _noise_window(rng, len(names))
        vector = features.compute(window)
        assert vector.shape == (SPEC.n_features,), kind
        assert np.isfinite(vector).all(), kind


def test_regions_without_channels_take_the_mean_over_all_channels():
    rng = np.random.default_rng(1)
    window = _noise_window(rng, 4)
    window[1:3] *= 10  # frontal channels much louder than temporal ones
    features = BandPowerFeatures(SPEC, ["TP9", "AF7", "AF8", "TP10"], RATE)
    powers = _vector(features.compute(window))
    frontal, central, temporal, parietal, occipital = powers
    assert (frontal > temporal + 1).all()
    np.testing.assert_allclose(central, parietal, rtol=1e-12)
    np.testing.assert_allclose(central, occipital, rtol=1e-12)
    assert (temporal < central).all() and (central < frontal).all()


def test_unnamed_channels_fill_every_region_alike():
    rng = np.random.default_rng(2)
    features = BandPowerFeatures(SPEC, [f"EEG{i}" for i in range(8)], RATE)
    powers = _vector(features.compute(_noise_window(rng, 8)))
    for region in powers[1:]:
        np.testing.assert_allclose(region, powers[0], rtol=1e-12)


def test_nan_flat_and_absurd_channels_are_masked_and_never_give_nan():
    rng = np.random.default_rng(3)
    names = ["O1", "O2", "Oz", "Fz", "Cz", "Pz"]
    window = _noise_window(rng, 6)
    clean = BandPowerFeatures(SPEC, names[3:], RATE).compute(window[3:])
    window[0, 100] = np.nan  # one lost sample
    window[1] = 42.0  # flat: electrode off
    window[2, 50:60] = 9000.0  # absurd: a rail or a movement artefact
    features = BandPowerFeatures(SPEC, names, RATE)
    vector = features.compute(window)
    assert features.masked_channels == ("O1", "O2", "Oz")
    assert np.isfinite(vector).all()
    # occipital has no usable channel left: it takes the mean of the rest, like a headset without
    np.testing.assert_allclose(vector, clean, rtol=1e-12)


def test_no_usable_channel_repeats_the_previous_vector():
    rng = np.random.default_rng(4)
    features = BandPowerFeatures(SPEC, ["O1", "O2"], RATE)
    dead = np.full((2, N_WINDOW), np.nan)
    np.testing.assert_array_equal(features.compute(dead), np.zeros(SPEC.n_features))
    good = features.compute(_noise_window(rng, 2))
    np.testing.assert_array_equal(features.compute(dead), good)
    assert features.masked_channels == ("O1", "O2")


def test_bad_channels_given_at_construction_are_left_out():
    rng = np.random.default_rng(5)
    window = _noise_window(rng, 3)
    window[0] *= 100
    features = BandPowerFeatures(SPEC, ["O1", "O2", "Oz"], RATE, bad_channels=["o1"])
    expected = BandPowerFeatures(SPEC, ["O2", "Oz"], RATE).compute(window[1:])
    np.testing.assert_allclose(features.compute(window), expected, rtol=1e-12)
    assert features.masked_channels == ("O1",)
    with pytest.raises(ConfigError, match="not one of this stream's channels"):
        BandPowerFeatures(SPEC, ["O1", "O2"], RATE, bad_channels=["T7"])


def test_bands_above_nyquist_are_refused():
    with pytest.raises(ConfigError, match="Nyquist"):
        BandPowerFeatures(SPEC, ["O1"], 64.0)


def _profile(mean, std):
    return {"feature_spec": SPEC.to_dict(), "mean": list(mean), "std": list(std)}


def test_profile_normaliser_z_scores_and_clips():
    n = SPEC.n_features
    normaliser = FeatureNormaliser.from_profile(_profile(np.ones(n), np.full(n, 0.5)))
    x = np.ones(n)
    x[0], x[1] = 2.0, 100.0
    z = normaliser.update(x, 1 / 15)
    assert z[0] == pytest.approx(2.0)
    assert z[1] == 5.0
    assert (z[2:] == 0).all()
    assert normaliser.spec == SPEC


@pytest.mark.parametrize(
    "profile",
    [
        {"mean": [0.0] * 25, "std": [1.0] * 25},
        _profile([0.0] * 24, [1.0] * 25),
        _profile([0.0] * 25, [0.0] * 25),
        _profile([float("nan")] * 25, [1.0] * 25),
    ],
)
def test_a_broken_profile_is_one_config_error(profile):
    with pytest.raises(ConfigError, match="calibration"):
        FeatureNormaliser.from_profile(profile)


def test_profile_from_band_powers_round_trips():
    rng = np.random.default_rng(6)
    powers = rng.normal(1.0, 0.3, (200, SPEC.n_features))
    normaliser = FeatureNormaliser.from_profile(FeatureNormaliser.profile_from(SPEC, powers))
    z = np.array([normaliser.update(p, 1 / 15) for p in powers])
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-9)


def test_running_baseline_warm_starts_and_forgets_with_its_time_constant():
    n, dt, tau = 3, 1 / 15, 60.0
    normaliser = FeatureNormaliser.running(n, tau_s=tau)
    assert (normaliser.update(np.full(n, 7.0), dt) == 0).all()  # the first vector is the baseline
    for _ in range(3000):
        normaliser.update(np.zeros(n), dt)
    assert np.abs(normaliser.mean).max() < 0.01
    steps = int(round(tau / dt))
    for _ in range(steps):
        z = normaliser.update(np.ones(n), dt)
    # one time constant after a step the baseline has moved 1 - 1/e of the way
    np.testing.assert_allclose(normaliser.mean, 1 - np.exp(-1), atol=0.01)
    assert np.isfinite(z).all() and (np.abs(z) <= 5).all()


def test_smoother_is_dt_aware_and_splits_motion_and_pulse():
    spec = FeatureSpec(fast_tau_s=0.25, slow_tau_s=2.0, pulse_gain=0.5, motion_gain=1.0,
                       held_bands=())
    one, two = FeatureSmoother(spec), FeatureSmoother(spec)
    zero, step = np.zeros(4), np.ones(4)
    assert one.update(zero, 0.1).dtype == np.float32
    two.update(zero, 0.1)
    big = one.update(step, 0.2)
    two.update(step, 0.1)
    halves = two.update(step, 0.1)
    np.testing.assert_allclose(big, halves, rtol=1e-6)  # two half steps equal one whole step
    fast = 1 - np.exp(-0.2 / 0.25)
    slow = 1 - np.exp(-0.2 / 2.0)
    np.testing.assert_allclose(big, 1.0 * slow + 0.5 * (fast - slow), rtol=1e-6)
    for _ in range(500):
        settled = one.update(step, 0.1)
    np.testing.assert_allclose(settled, 1.0, rtol=1e-5)  # constant input: pulse dies out
