from __future__ import annotations

import threading

import numpy as np
import pytest

from installation.eeg.feature_pipeline import FeatureExtractor
from installation.eeg.sources.base import Chunk
from installation.eeg.sources.files.recordings import load_recording
from installation.engine.drift import LatentDrift
from installation.engine.generator_runtime import GeneratorRuntime
from installation.engine.ring_buffer import RingBuffer
from installation.engine.steering import LatestSlot, SteeringThread, SteeringWorker
from tests.installation.tiny_bundle import write_tiny_bundle


class FakeClock:
    """A hand-moved clock, so signal-loss timing is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def recording(eyes_closed_edf):
    return load_recording(eyes_closed_edf)


@pytest.fixture
def runtime(tmp_path):
    return GeneratorRuntime.load(write_tiny_bundle(tmp_path / "tiny"), threads=1)


def make_worker(recording, runtime, clock=None):
    ring = RingBuffer(recording.info.n_channels, int(10 * recording.sample_rate))
    extractor = FeatureExtractor(runtime.feature_spec, recording.info)
    events = []
    worker = SteeringWorker(ring, extractor, runtime, LatentDrift(runtime.noise_dim, seed=1),
                            on_event=events.append, clock=clock or FakeClock())
    return ring, worker, events


def push_seconds(ring, recording, start_s: float, stop_s: float) -> None:
    a, b = int(start_s * recording.sample_rate), int(stop_s * recording.sample_rate)
    for i in range(a, b, 8):
        j = min(i + 8, b)
        ring.push(Chunk(recording.data[:, i:j], recording.timestamps[i:j]))


def test_nothing_before_a_full_window(recording, runtime):
    ring, worker, _ = make_worker(recording, runtime)
    assert worker.step() is None
    push_seconds(ring, recording, 0, 0.5)
    assert worker.step() is None
    assert worker.samples_seen == 80


def test_only_the_newest_hop_is_rendered_when_behind(recording, runtime):
    ring, worker, _ = make_worker(recording, runtime)
    push_seconds(ring, recording, 0, 3.0)
    keyframe = worker.step()
    assert worker.frames_seen > 20  # every hop went through the extractor...
    assert keyframe is not None  # ...but one painting came out, for the newest hop
    assert keyframe.eeg_time == pytest.approx(worker.last_frame.eeg_time)
    assert keyframe.eeg_time > 2.9
    assert keyframe.image.shape == (32, 32, 3)
    np.testing.assert_array_equal(keyframe.steering, worker.last_frame.steering)
    assert np.array_equal(keyframe.image, runtime.generate(keyframe.steering, keyframe.noise))
    assert worker.step() is None  # nothing new


def test_one_keyframe_per_hop_when_fed_hop_by_hop(recording, runtime):
    ring, worker, _ = make_worker(recording, runtime)
    push_seconds(ring, recording, 0, 1.0)
    keyframes = [worker.step()]
    hop = worker.extractor.hop / recording.sample_rate
    for k in range(10):
        push_seconds(ring, recording, 1.0 + k * hop, 1.0 + (k + 1) * hop)
        keyframes.append(worker.step())
    assert all(k is not None for k in keyframes)
    times = np.array([k.eeg_time for k in keyframes])
    np.testing.assert_allclose(np.diff(times), hop, atol=1.5 / recording.sample_rate)


def test_signal_loss_keeps_painting_with_decaying_steering(recording, runtime):
    clock = FakeClock()
    ring, worker, events = make_worker(recording, runtime, clock)
    push_seconds(ring, recording, 0, 2.0)
    last = worker.step()
    clock.now += 0.5
    assert worker.step() is None and not worker.signal_lost  # a pause is not a loss yet
    clock.now += 1.0
    first_lost = worker.step()
    assert worker.signal_lost and [e.kind for e in events] == ["signal_lost"]
    assert first_lost is not None and first_lost.signal_lost
    assert first_lost.eeg_time == last.eeg_time
    assert worker.step() is None  # painting once per hop, not every call
    clock.now += 3.0
    later = worker.step()
    assert np.linalg.norm(later.steering) < np.linalg.norm(first_lost.steering)
    assert np.linalg.norm(first_lost.steering) < np.linalg.norm(last.steering)
    assert not np.array_equal(later.noise, first_lost.noise)  # the drift goes on
    push_seconds(ring, recording, 2.0, 2.5)
    worker.step()
    assert not worker.signal_lost and events[-1].kind == "signal_back"


def test_latest_slot_keeps_only_the_newest():
    slot = LatestSlot()
    assert slot.take() is None
    slot.put(1)
    slot.put(2)
    assert slot.take() == 2 and slot.take() is None
    assert slot.replaced == 1


class ExplodingRuntime:
    """A generator whose every run fails, to see the thread turn failures into events."""

    def __init__(self, runtime) -> None:
        self.feature_spec = runtime.feature_spec
        self.noise_dim = runtime.noise_dim

    def generate(self, steering, noise):
        raise RuntimeError("CUDA out of memory")


def test_thread_turns_failures_into_events(recording, runtime):
    ring, worker, _ = make_worker(recording, ExplodingRuntime(runtime))
    push_seconds(ring, recording, 0, 2.0)
    failed = threading.Event()
    events = []

    def on_event(event):
        events.append(event)
        failed.set()

    thread = SteeringThread(worker, LatestSlot(), on_event, error_pause_s=0.01)
    thread.start()
    assert failed.wait(30)
    thread.stop()
    assert not thread.is_alive()
    assert events[0].kind == "error" and "CUDA out of memory" in events[0].message
