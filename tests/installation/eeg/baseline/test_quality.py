"""Per-channel quality on real recordings, with faults injected into in-memory copies."""

from __future__ import annotations

import numpy as np
import pytest

from installation.eeg.baseline.quality import (
    FLAT,
    GOOD,
    LINE_NOISE,
    NOISY,
    RAILED,
    QualityMonitor,
    QualityThresholds,
    assess_quality,
    classify,
)
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import ConfigError
from tests.conftest import shared_file

SECONDS = 30


@pytest.fixture(scope="module")
def clean_eeg():
    """30 s of PhysioNet eegmat Subject00 rest: 19 channels, 500 Hz, every channel good."""
    recording = load_recording(shared_file("eeg/physionet_eegmat/Subject00_1.edf"))
    n = int(SECONDS * recording.sample_rate)
    return recording.data[:, :n].astype(np.float64), recording.sample_rate, recording.channel_names


def _assess(data, rate, names, **kwargs):
    return assess_quality(data, rate, names, **kwargs)


def test_clean_recording_is_good(clean_eeg):
    report = _assess(*clean_eeg)
    assert report.verdict == GOOD
    assert report.bad_channels == []
    assert all(5 < c.rms_uv < 40 for c in report.channels)


def test_flat_channel_is_flagged(clean_eeg):
    data, rate, names = clean_eeg
    data = data.copy()
    data[3] = 1234.5  # an electrode off a DC-coupled amplifier: a constant
    report = _assess(data, rate, names)
    assert report.states[names[3]] == FLAT
    assert report.channels[3].raw_std_uv == 0.0
    assert [n for n in report.bad_channels] == [names[3]]


def test_stalled_channel_is_flat(clean_eeg):
    data, rate, names = clean_eeg
    data = data.copy()
    data[5] = np.repeat(data[5, ::10], 10)[: data.shape[1]]  # each value held ten samples
    report = _assess(data, rate, names)
    assert report.states[names[5]] == FLAT
    assert report.channels[5].repeated_share > 0.85


def test_injected_mains_hum_is_line_noise(clean_eeg):
    data, rate, names = clean_eeg
    data = data.copy()
    t = np.arange(data.shape[1]) / rate
    data[7] += 40.0 * np.sin(2 * np.pi * 50.0 * t)
    report = _assess(data, rate, names)
    assert report.line_freq == 50.0
    assert report.states[names[7]] == LINE_NOISE
    assert report.channels[7].line_log_ratio < -0.3
    assert report.bad_channels == [names[7]]
    # the notched 1-40 Hz RMS does not see the hum, so the channel is not also "noisy"
    assert report.channels[7].rms_uv < 40


def test_railed_channel_is_flagged(clean_eeg):
    data, rate, names = clean_eeg
    data = data.copy()
    data[0, : int(10 * rate)] = 187_500.02  # the rail, as in the Jordan recording
    report = _assess(data, rate, names)
    assert report.states[names[0]] == RAILED
    assert report.channels[0].railed_share > 0.2


def test_loud_channel_is_noisy(clean_eeg):
    data, rate, names = clean_eeg
    data = data.copy()
    data[2] += np.random.default_rng(0).normal(0, 300.0, data.shape[1])
    report = _assess(data, rate, names)
    assert report.states[names[2]] == NOISY
    assert report.channels[2].rms_uv > 100


def test_verdict_needs_three_quarters_good(clean_eeg):
    data, rate, names = clean_eeg
    data = data.copy()
    data[:5] = 0.0  # 14 of 19 good (74%)
    assert _assess(data, rate, names).verdict == "bad"
    data[4] = clean_eeg[0][4]  # 15 of 19 (79%)
    assert _assess(data, rate, names).verdict == GOOD


def test_chunking_does_not_change_the_windows(clean_eeg):
    data, rate, names = clean_eeg
    data = data[:, : int(8 * rate)]
    whole = QualityMonitor(names, rate)
    whole.push(data)
    chunked = QualityMonitor(names, rate)
    for start in range(0, data.shape[1], 37):
        chunked.push(data[:, start:start + 37])
    assert len(whole.windows) == len(chunked.windows) == 11  # 3 s, then every 0.5 s to 8 s
    for a, b in zip(whole.windows, chunked.windows, strict=True):
        assert a.end_s == b.end_s
        np.testing.assert_allclose([c.rms_uv for c in a.channels],
                                   [c.rms_uv for c in b.channels], rtol=1e-9)


def test_summary_before_a_full_window_says_so(clean_eeg):
    data, rate, names = clean_eeg
    monitor = QualityMonitor(names, rate)
    assert monitor.push(data[:, : int(2 * rate)]) == []
    with pytest.raises(ConfigError, match="at least 3 s"):
        monitor.summary()


def test_classify_reports_the_first_problem_to_fix():
    t = QualityThresholds()
    # railed and flat at once (stuck at the rail): railed
    assert classify(0.0, 1.0, 0.0, 1.0, None, t) == RAILED
    assert classify(500.0, 0.0, 0.1, 0.0, -2.0, t) == FLAT
    assert classify(500.0, 0.0, 50.0, 0.0, -2.0, t) == NOISY
    assert classify(20.0, 0.0, 50.0, 0.0, -2.0, t) == LINE_NOISE
    assert classify(20.0, 0.0, 50.0, 0.0, -0.01, t) == GOOD
    assert classify(20.0, 0.0, 50.0, 0.0, None, t) == GOOD
