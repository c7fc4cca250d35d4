"""FeatureExtractor: one frame per hop, independent of chunking, identical offline and live."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from installation.eeg.feature_pipeline import (
    FeatureExtractor,
    expected_frame_count,
    extract_feature_sequence,
    feature_frames,
)
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.features import ABSURD_UV, FeatureNormaliser
from installation.eeg.filtering import StreamingFilter
from installation.eeg.sources.base import Chunk, StreamInfo
from installation.eeg.sources.files.recording import Recording
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import ConfigError, SourceError

SPEC = FeatureSpec()


@pytest.fixture(scope="module")
def eyes_open():
    from tests.conftest import shared_file

    return load_recording(shared_file("eeg/physionet_eegmmidb/S001R01.edf"))


def _push_in_chunks(extractor, recording, size, seconds=None):
    """Frames from pushing a recording (or its first seconds) in chunks of ``size`` samples."""
    n = recording.data.shape[1]
    if seconds is not None:
        n = min(n, int(seconds * recording.info.sample_rate))
    frames = []
    for start in range(0, n, size):
        stop = min(start + size, n)
        chunk = Chunk(recording.data[:, start:stop], recording.timestamps[start:stop], start)
        frames.extend(extractor.push(chunk))
    return frames


def _assert_same_frames(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.eeg_time == y.eeg_time
        np.testing.assert_allclose(x.band_powers, y.band_powers, rtol=0, atol=1e-9)
        np.testing.assert_allclose(x.z, y.z, rtol=0, atol=1e-7)
        np.testing.assert_allclose(x.steering, y.steering, rtol=0, atol=1e-5)
        assert x.masked_channels == y.masked_channels


def test_frames_do_not_depend_on_chunking(eyes_open):
    rate = eyes_open.info.sample_rate
    hop = round(SPEC.hop_s * rate)
    by_hop = _push_in_chunks(FeatureExtractor(SPEC, eyes_open.info), eyes_open, hop, 20)
    by_37 = _push_in_chunks(FeatureExtractor(SPEC, eyes_open.info), eyes_open, 37, 20)
    by_1 = _push_in_chunks(FeatureExtractor(SPEC, eyes_open.info), eyes_open, 1, 4)
    assert len(by_hop) == expected_frame_count(int(20 * rate), SPEC, rate)
    _assert_same_frames(by_hop, by_37)
    _assert_same_frames(by_1, by_hop[: len(by_1)])


def test_one_frame_per_hop_after_the_first_window(eyes_open):
    rate = eyes_open.info.sample_rate
    window, hop = round(SPEC.window_s * rate), round(SPEC.hop_s * rate)
    frames = _push_in_chunks(FeatureExtractor(SPEC, eyes_open.info), eyes_open, 5)
    n = eyes_open.data.shape[1]
    assert len(frames) == 1 + (n - window) // hop == expected_frame_count(n, SPEC, rate)
    newest = [window - 1 + k * hop for k in range(len(frames))]
    np.testing.assert_array_equal([f.eeg_time for f in frames], eyes_open.timestamps[newest])
    # arrival is that of the chunk that brought the newest sample (chunks of 5 carry their start)
    assert [f.arrival for f in frames] == [float(i - i % 5) for i in newest]
    for frame in frames:
        assert frame.steering.dtype == np.float32
        assert frame.band_powers.shape == frame.z.shape == (SPEC.n_features,)
        assert np.isfinite(frame.steering).all()


def test_no_frame_before_a_full_window(eyes_open):
    extractor = FeatureExtractor(SPEC, eyes_open.info)
    assert _push_in_chunks(extractor, eyes_open, 7, seconds=SPEC.window_s - 0.05) == []
    assert extractor.line_freq is None  # not decided before the first window


def test_offline_sequence_equals_live_frames(eyes_open):
    steering, eeg_times = extract_feature_sequence(eyes_open, SPEC)
    live = _push_in_chunks(FeatureExtractor(SPEC, eyes_open.info), eyes_open, 5)
    assert steering.dtype == np.float32 and steering.shape == (len(live), SPEC.n_features)
    np.testing.assert_allclose(steering, np.array([f.steering for f in live]), atol=1e-5)
    np.testing.assert_array_equal(eeg_times, [f.eeg_time for f in live])


def test_line_frequency_detected_once_and_alike_for_any_chunking():
    rate, n = 250.0, 2500
    rng = np.random.default_rng(0)
    t = np.arange(n) / rate
    data = 10 * rng.standard_normal((4, n)) + 40 * np.sin(2 * np.pi * 60 * t)
    recording = _recording(data, rate, ("O1", "O2", "Fz", "Cz"))
    whole = FeatureExtractor(SPEC, recording.info)
    whole.push(Chunk(recording.data, recording.timestamps, 0.0))
    pieces = FeatureExtractor(SPEC, recording.info)
    _push_in_chunks(pieces, recording, 3)
    assert whole.line_freq == pieces.line_freq == 60.0
    fixed = FeatureExtractor(dataclasses.replace(SPEC, line_freq=50.0), recording.info)
    assert fixed.line_freq == 50.0


# 700: blocks that hold an artefact together with windows that end before it; 2500: one block,
# as train.py and calibration cut a recording (10 s blocks).
@pytest.mark.parametrize("chunk", [8, 700, 2500])
def test_non_finite_samples_mask_their_channel_while_in_the_window(chunk):
    rate, n = 250.0, 2500
    rng = np.random.default_rng(1)
    data = (20 * rng.standard_normal((3, n))).astype(np.float32)
    data[1, 1000:1003] = np.nan
    recording = _recording(data, rate, ("O1", "O2", "Oz"))
    frames = _push_in_chunks(FeatureExtractor(SPEC, recording.info), recording, chunk)
    hop, window = round(SPEC.hop_s * rate), round(SPEC.window_s * rate)
    for k, frame in enumerate(frames):
        end = window + k * hop
        holds_nan = end - window <= 1002 and 1000 < end
        assert ("O2" in frame.masked_channels) == holds_nan, k
        assert np.isfinite(frame.band_powers).all() and np.isfinite(frame.steering).all()


@pytest.mark.parametrize("chunk", [8, 700, 2500])
def test_absurd_samples_mask_exactly_the_windows_that_hold_them(chunk):
    rate, n = 250.0, 2500
    rng = np.random.default_rng(2)
    data = 20 * rng.standard_normal((3, n))
    t = np.arange(50) / rate
    data[1, 1000:1050] += 20_000 * np.sin(2 * np.pi * 20 * t)  # a 20 mV artefact in the band
    recording = _recording(data, rate, ("O1", "O2", "Oz"))
    extractor = FeatureExtractor(dataclasses.replace(SPEC, line_freq=50.0), recording.info)
    frames = _push_in_chunks(extractor, recording, chunk)
    # reference: the same filter in one pass, each window scanned whole
    filtered = StreamingFilter(rate, 3, line_freq=50.0).process(recording.data)
    hop, window = round(SPEC.hop_s * rate), round(SPEC.window_s * rate)
    masked_count = 0
    for k, frame in enumerate(frames):
        end = window + k * hop
        absurd = np.abs(filtered[1, end - window:end]) > ABSURD_UV
        assert ("O2" in frame.masked_channels) == absurd.any(), k
        assert "O1" not in frame.masked_channels and np.isfinite(frame.band_powers).all()
        masked_count += absurd.any()
    assert masked_count > 10


def test_a_profile_from_another_spec_is_refused(eyes_open):
    other = dataclasses.replace(SPEC, window_s=2.0)
    profile = {"feature_spec": other.to_dict(), "mean": [0.0] * 25, "std": [1.0] * 25}
    with pytest.raises(ConfigError, match="different feature spec"):
        FeatureExtractor(SPEC, eyes_open.info, FeatureNormaliser.from_profile(profile))


def test_a_profile_normaliser_is_used(eyes_open):
    profile = {"feature_spec": SPEC.to_dict(), "mean": [1.0] * 25, "std": [0.5] * 25}
    normaliser = FeatureNormaliser.from_profile(profile)
    frames = feature_frames(eyes_open, SPEC, normaliser)
    frame = frames[10]
    np.testing.assert_allclose(frame.z, np.clip((frame.band_powers - 1.0) / 0.5, -5, 5))


def test_a_rate_too_low_for_the_spec_is_refused():
    info = StreamInfo(("O1", "O2"), 60.0, "slow")
    with pytest.raises(ConfigError, match="Nyquist"):
        FeatureExtractor(SPEC, info)


def test_a_chunk_with_the_wrong_channel_count_is_refused(eyes_open):
    extractor = FeatureExtractor(SPEC, eyes_open.info)
    with pytest.raises(SourceError, match="64 channels"):
        extractor.push(Chunk(np.zeros((8, 10), np.float32), np.arange(10) / 160.0, 0.0))


def _recording(data, rate, names) -> Recording:
    """A made-up recording."""
    timestamps = np.arange(data.shape[1]) / rate
    return Recording(data.astype(np.float32), rate, names, timestamps, "synthetic")


def test_railed_openbci_recording_is_masked_and_never_gives_nan():
    from tests.conftest import shared_file

    recording = load_recording(shared_file("eeg/openbci_gui/OpenBCI_2016-02-13_Jordan_focus.txt"))
    frames = feature_frames(recording, SPEC)
    assert len(frames) == expected_frame_count(recording.n_samples, SPEC, recording.sample_rate)
    assert all(np.isfinite(f.band_powers).all() and np.isfinite(f.steering).all() for f in frames)
    masked_share = np.mean([len(f.masked_channels) for f in frames]) / recording.info.n_channels
    print(f"railed OpenBCI file: {masked_share:.0%} of channel-windows masked")
    assert "Ch3" in frames[len(frames) // 2].masked_channels  # sits at the ±187.5 mV rail
    assert masked_share > 0.3


def test_dc_offsets_of_tens_of_millivolts_mask_nothing():
    from tests.conftest import shared_file

    path = shared_file("eeg/openbci_gui/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt")
    recording = load_recording(path)
    assert np.abs(recording.data).max() > 20_000  # the raw file does hold such offsets
    frames = feature_frames(recording, SPEC)
    assert frames and not any(f.masked_channels for f in frames)
