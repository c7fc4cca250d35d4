"""StreamingFilter: chunking independence, seeding, notch, line-frequency detection, validation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from installation.eeg.filtering import StreamingFilter, design_sos, detect_line_frequency
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import ConfigError


def _chunked(filt: StreamingFilter, data: np.ndarray, size: int) -> np.ndarray:
    return np.concatenate(
        [filt.process(data[:, i : i + size]) for i in range(0, data.shape[1], size)], axis=1
    )


@pytest.fixture(scope="module")
def eyes_open_data():
    from tests.conftest import shared_file

    recording = load_recording(shared_file("eeg/physionet_eegmmidb/S001R01.edf"))
    return recording.data, recording.info.sample_rate


@pytest.mark.parametrize("size", [1, 7, 160])
def test_any_chunking_equals_one_pass(eyes_open_data, size):
    data, rate = eyes_open_data
    one_pass = StreamingFilter(rate, data.shape[0], line_freq=60).process(data)
    chunked = _chunked(StreamingFilter(rate, data.shape[0], line_freq=60), data, size)
    assert chunked.shape == data.shape
    np.testing.assert_allclose(chunked, one_pass, rtol=0, atol=1e-9)


def test_one_pass_matches_scipy_sosfilt_with_the_same_seed(eyes_open_data):
    data, rate = eyes_open_data
    filt = StreamingFilter(rate, data.shape[0], line_freq=50)
    zi = signal.sosfilt_zi(filt.sos)[:, None, :] * data[None, :, 0, None].astype(np.float64)
    expected, _ = signal.sosfilt(filt.sos, data.astype(np.float64), axis=1, zi=zi)
    np.testing.assert_allclose(filt.process(data), expected, rtol=0, atol=1e-9)


def test_seeding_absorbs_a_large_dc_offset():
    rate = 250.0
    t = np.arange(int(10 * rate)) / rate
    sine = 20.0 * np.sin(2 * np.pi * 10 * t)
    data = np.vstack([50_000.0 + sine, -50_000.0 + sine])
    seeded = StreamingFilter(rate, 2).process(data)
    sos = design_sos(rate)
    unseeded = signal.sosfilt(sos, data, axis=1)
    # without the seed the 50 mV step rings through the high-pass: the test can fail
    assert np.abs(unseeded).max() > 1000.0
    assert np.abs(seeded).max() < 2 * 20.0
    assert _tone_amplitude(seeded[0], rate, 10) == pytest.approx(20, rel=0.12)


def _tone_amplitude(y: np.ndarray, rate: float, freq: float) -> float:
    """Amplitude of a tone in the steady-state second half of y (one channel)."""
    half = y[y.size // 2 :]
    t = np.arange(half.size) / rate
    return float(2 * np.abs(np.mean(half * np.exp(-2j * np.pi * freq * t))))


@pytest.mark.parametrize("line", [50.0, 60.0])
def test_notch_attenuates_line_noise_by_more_than_20_db(line):
    rate = 250.0
    t = np.arange(int(20 * rate)) / rate
    x = (10 * np.sin(2 * np.pi * 10 * t) + 30 * np.sin(2 * np.pi * line * t))[None, :]
    with_notch = StreamingFilter(rate, 1, line_freq=line).process(x)[0]
    without = StreamingFilter(rate, 1, line_freq=None).process(x)[0]
    attenuation_db = 20 * np.log10(
        _tone_amplitude(without, rate, line) / _tone_amplitude(with_notch, rate, line)
    )
    print(f"notch at {line:g} Hz: {attenuation_db:.1f} dB beyond the band-pass")
    assert attenuation_db > 20
    # the alpha tone passes (within 1 dB)
    assert _tone_amplitude(with_notch, rate, 10) == pytest.approx(10, rel=0.12)


def test_notch_at_or_above_nyquist_is_skipped():
    filt = StreamingFilter(100.0, 2, band=(1, 40), line_freq=50)
    assert not filt.notches_line
    assert filt.sos.shape[0] == design_sos(100.0, (1, 40), None).shape[0]
    assert StreamingFilter(250.0, 2, line_freq=50).notches_line


def _background_eeg(rng, n_channels, n_samples, rate):
    """Band-limited noise with a 1/f-like tilt and a 10 Hz rhythm, tens of µV."""
    white = rng.standard_normal((n_channels, n_samples))
    pink = signal.lfilter([1.0], [1.0, -0.95], white, axis=1)
    t = np.arange(n_samples) / rate
    return 5 * pink + 10 * np.sin(2 * np.pi * 10 * t + rng.uniform(0, 6, (n_channels, 1)))


@pytest.mark.parametrize("line", [50.0, 60.0])
@pytest.mark.parametrize("rate", [160.0, 250.0, 500.0])
def test_detect_line_frequency_finds_injected_mains(line, rate):
    rng = np.random.default_rng(int(line + rate))
    n = int(rate)
    t = np.arange(n) / rate
    data = _background_eeg(rng, 8, n, rate) + 3000.0  # DC offsets do not matter
    data += 8 * np.sin(2 * np.pi * line * t + rng.uniform(0, 6, (8, 1)))
    assert detect_line_frequency(data, rate) == line


def test_detect_line_frequency_is_none_without_mains():
    rng = np.random.default_rng(3)
    data = _background_eeg(rng, 8, 250, 250.0)
    assert detect_line_frequency(data, 250.0) is None


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(sample_rate=60.0, band=(1, 40)), "Nyquist"),
        (dict(sample_rate=250.0, band=(0, 40)), "0 < low < high"),
        (dict(sample_rate=250.0, band=(30, 10)), "0 < low < high"),
        (dict(sample_rate=-1.0), "sample rate"),
        (dict(sample_rate=250.0, order=0), "order"),
        (dict(sample_rate=250.0, notch_q=0), "quality"),
    ],
)
def test_bad_settings_raise_one_sentence_config_errors(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment) as caught:
        StreamingFilter(n_channels=4, **kwargs)
    assert str(caught.value).count(". ") == 0 and str(caught.value).endswith(".")


def test_wrong_channel_count_is_refused():
    filt = StreamingFilter(250.0, 4)
    with pytest.raises(ConfigError, match="4 channels"):
        filt.process(np.zeros((3, 10)))


def test_non_finite_input_is_held_and_does_not_poison_the_state():
    rate = 250.0
    t = np.arange(int(4 * rate)) / rate
    x = np.vstack([20 * np.sin(2 * np.pi * 10 * t), 20 * np.sin(2 * np.pi * 10 * t)])
    x[0, 300:310] = np.nan
    x[0, 500] = np.inf
    filt = StreamingFilter(rate, 2)
    y = _chunked(filt, x, 64)
    assert np.isfinite(y).all()
    # long after the gap, the damaged channel tracks the clean one again
    np.testing.assert_allclose(y[0, -250:], y[1, -250:], atol=1.0)
