"""The eyes-closed check on PhysioNet eegmmidb S001: closed vs open passes, open vs open fails."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from installation.eeg.baseline.alpha_check import (
    ALPHA_RATIO_THRESHOLD,
    alpha_feature_index,
    alpha_ratio,
    check_recordings,
)
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.montage import region_of
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import ConfigError


def _part(recording, columns=slice(None), rows=None):
    """A copy of part of a recording: some samples, some channels."""
    rows = list(range(len(recording.channel_names))) if rows is None else rows
    timestamps = recording.timestamps[columns]
    return dataclasses.replace(
        recording,
        data=recording.data[rows][:, columns],
        timestamps=timestamps - timestamps[0],
        channel_names=tuple(recording.channel_names[i] for i in rows),
    )


def test_eyes_closed_run_passes(eyes_open_edf, eyes_closed_edf):
    check = check_recordings(load_recording(eyes_open_edf), load_recording(eyes_closed_edf))
    assert check.where == "occipital"
    assert check.passed
    assert check.ratio > 5 * ALPHA_RATIO_THRESHOLD  # 12.3x measured


def test_two_halves_of_the_eyes_open_run_fail(eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    half = recording.n_samples // 2
    first, second = _part(recording, slice(0, half)), _part(recording, slice(half, None))
    for opened, closed in ((first, second), (second, first)):
        check = check_recordings(opened, closed)
        assert not check.passed
        assert 0.7 < check.ratio < 1.4


def test_without_occipital_channels_all_channels_are_used(eyes_open_edf, eyes_closed_edf):
    opened, closed = load_recording(eyes_open_edf), load_recording(eyes_closed_edf)
    keep = [i for i, n in enumerate(opened.channel_names) if region_of(n) != "occipital"]
    check = check_recordings(_part(opened, rows=keep), _part(closed, rows=keep))
    assert check.where == "all channels"
    assert check.passed  # alpha rises over the whole scalp, if less than at the back


def test_alpha_ratio_uses_the_occipital_alpha_entry():
    spec = FeatureSpec()
    index = alpha_feature_index(spec)
    assert spec.feature_names[index] == "occipital/alpha"
    opened = np.zeros((4, spec.n_features))
    closed = opened.copy()
    closed[:, index] = np.log10(2.0)  # alpha doubles, nothing else changes
    check = alpha_ratio(opened, closed, spec, ["O1", "Cz"])
    assert check.ratio == pytest.approx(2.0)
    assert check.passed


def test_spec_without_alpha_band_is_refused():
    spec = FeatureSpec(bands=(("theta", 4.0, 8.0), ("beta", 13.0, 30.0)))
    with pytest.raises(ConfigError, match="no 'alpha' band"):
        alpha_feature_index(spec)
