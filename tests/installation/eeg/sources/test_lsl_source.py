"""LSL streams as sources: a real outlet on loopback, read back without loss or doubling."""

from __future__ import annotations

import uuid

import numpy as np
import pylsl
import pytest

from installation.eeg.sources import open_source
from installation.eeg.sources.files.recordings import load_recording
from installation.eeg.sources.live.lsl_source import LSLSource
from installation.errors import SourceError
from tests.source_reading import read_until

REPLAY_SECONDS = 4


def _outlet(name: str, labels: list[str], rate: float, unit: str) -> pylsl.StreamOutlet:
    info = pylsl.StreamInfo(name, "EEG", len(labels), rate, pylsl.cf_float32, name)
    info.set_channel_labels(labels)
    info.set_channel_units([unit] * len(labels))
    return pylsl.StreamOutlet(info)


def test_replayed_recording_arrives_whole(eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    n = int(REPLAY_SECONDS * recording.sample_rate)
    labels = list(recording.channel_names) + ["Counter"]
    name = f"test-eeg-{uuid.uuid4().hex[:8]}"
    outlet = _outlet(name, labels, recording.sample_rate, "microvolts")
    source = LSLSource(name=name, resolve_timeout=5.0, channels=labels)
    source.open()
    try:
        samples = np.vstack([recording.data[:, :n], np.arange(n, dtype=np.float32)]).T
        for start in range(0, n, 32):  # as fast as it goes, in device-sized chunks
            outlet.push_chunk(np.ascontiguousarray(samples[start:start + 32]))
        chunks = read_until(source, n)
    finally:
        source.close()
        del outlet
    data = np.hstack([c.data for c in chunks])
    stamps = np.concatenate([c.timestamps for c in chunks])
    counter = data[-1]
    np.testing.assert_array_equal(counter, np.arange(n))  # none lost, none doubled
    np.testing.assert_array_equal(data[:-1], recording.data[:, :n])
    assert stamps[0] == 0.0 and np.all(np.diff(stamps) > 0)


def test_eeg_channels_are_picked_by_label_and_volts_become_microvolts():
    name = f"test-volts-{uuid.uuid4().hex[:8]}"
    outlet = _outlet(name, ["EEG Fp1", "O2", "Counter", "AUX_RIGHT"], 250.0, "V")
    source = open_source(f"lsl:{name}", resolve_timeout=5.0)
    info = source.open()
    try:
        outlet.push_chunk(np.array([[10e-6, -20e-6, 0.0, 1.0]] * 8, dtype=np.float32))
        chunks = read_until(source, 8)
    finally:
        source.close()
        del outlet
    assert info.channel_names == ("Fp1", "O2")
    data = np.hstack([c.data for c in chunks])
    np.testing.assert_allclose(data[:, 0], [10.0, -20.0], rtol=1e-5)


def test_stream_that_never_appears():
    name = f"absent-{uuid.uuid4().hex[:8]}"
    with pytest.raises(SourceError, match=f"No LSL stream named {name} appeared within 0.5 s"):
        LSLSource(name=name, resolve_timeout=0.5).open()
