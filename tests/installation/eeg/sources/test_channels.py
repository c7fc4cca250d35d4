"""Channel names: 10-20 spelling and what counts as EEG."""

from __future__ import annotations

import pytest

from installation.eeg.channels import clean_channel_name, is_eeg_channel


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Fc5.", "FC5"),
        ("Cz..", "Cz"),
        ("Fp1.", "Fp1"),
        ("Oz..", "Oz"),
        ("Iz..", "Iz"),
        ("Fpz.", "Fpz"),
        ("Afz.", "AFz"),
        ("Tp10", "TP10"),
        ("EEG Fp1", "Fp1"),
        ("EEG T3", "T3"),
        ("EEG A2-A1", "A2-A1"),
        ("EEG FP1-REF", "Fp1"),
        ("FP2", "Fp2"),
        ("EXG Channel 0", "EXG Channel 0"),
        ("Ch1", "Ch1"),
    ],
)
def test_names_take_standard_10_20_spelling(raw, clean):
    assert clean_channel_name(raw) == clean


@pytest.mark.parametrize(
    "name", ["Fp1", "Fc5.", "EEG O2", "TP9", "AF7", "EXG Channel 3", "Ch8", "EEG1", "Iz.."]
)
def test_eeg_channels_are_kept(name):
    assert is_eeg_channel(name)


@pytest.mark.parametrize(
    "name",
    [
        "ECG ECG", "EKG", "EOG left", "HEOG", "EMG1", "TRG", "TRIGGER", "STI 014", "STI014",
        "Status", "AUX_RIGHT", "Right AUX", "AUX1", "Accel Channel 0", "ACC_X", "Gyro 1",
        "Marker Channel", "Markers", "Timestamp", "Timestamp (Formatted)", "Sample Index",
        "SampleIndex", "Counter", "A1", "A2", "EEG A2-A1", "M1", "PPG",
    ],
)
def test_non_eeg_channels_are_rejected(name):
    assert not is_eeg_channel(name)
