"""A source thread feeding the ring buffer, as the live show wires them."""

from __future__ import annotations

import threading

import numpy as np

from installation.eeg.sources.base import SourceThread
from installation.eeg.sources.files.file_source import FileSource
from installation.eeg.sources.files.recordings import load_recording
from installation.engine.ring_buffer import RingBuffer


def test_file_through_thread_into_ring_arrives_whole(eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    source = FileSource(eyes_open_edf, speed="max")
    info = source.open()
    ring = RingBuffer(info.n_channels, recording.n_samples)
    events, ended = [], threading.Event()

    def on_event(event):
        events.append(event)
        ended.set()

    thread = SourceThread(source, ring.push, on_event)
    thread.start()
    assert ended.wait(30)
    thread.stop()
    assert [event.kind for event in events] == ["ended"]
    everything = ring.since(0)
    assert everything.end_count == recording.n_samples and everything.dropped == 0
    np.testing.assert_array_equal(everything.data, recording.data)
    np.testing.assert_array_equal(everything.timestamps, recording.timestamps)


def test_a_failing_source_becomes_an_error_event(eyes_open_edf):
    source = FileSource(eyes_open_edf, speed="max")  # never opened: read() raises
    events, done = [], threading.Event()
    thread = SourceThread(source, lambda chunk: None, lambda e: (events.append(e), done.set()))
    thread.start()
    assert done.wait(10)
    thread.stop()
    assert events[0].kind == "error" and "open" in events[0].message
