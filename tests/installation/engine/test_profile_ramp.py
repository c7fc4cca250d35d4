"""A new profile takes over the steering smoothly: two pipelines on the same samples, blended.

The stream changes wearer (PhysioNet eegmmidb S001's rest, then S026's); the first wearer's
profile steers until the second one's is handed over. A swap at once jumps the steering by
many ordinary steps; the ramp keeps every step near the ordinary ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from installation.eeg.baseline.session import CalibrationSession, default_steps
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.profile import profiled_extractor
from installation.eeg.sources.base import Chunk
from installation.eeg.sources.files.recordings import load_recording
from installation.engine.drift import LatentDrift
from installation.engine.generator_runtime import GeneratorRuntime
from installation.engine.profile_ramp import ProfileRamp, warm_extractor
from installation.engine.ring_buffer import RingBuffer
from installation.engine.steering import SteeringWorker
from tests.conftest import shared_file
from tests.installation.tiny_bundle import write_tiny_bundle

SPEC = FeatureSpec()
RATE = 160.0


def _profile(recording) -> dict:
    session = CalibrationSession(recording.info, SPEC, default_steps(20, 0), auto_advance=True)
    for chunk in recording.chunks(40):
        session.push(chunk)
    return session.finish().profile


@pytest.fixture(scope="module")
def wearers():
    """S001's first 30 s then S026's 40 s as one stream, and each wearer's profile."""
    first = load_recording(shared_file("eeg/physionet_eegmmidb/S001R01.edf"))
    second = load_recording(shared_file("eeg/physionet_eegmmidb/S026R01.edf"))
    data = np.concatenate([first.data[:, : int(30 * RATE)], second.data[:, : int(40 * RATE)]], 1)
    return first.info, data, _profile(first), _profile(second)


def _steering_steps(wearers, ramp_s: float, swap_at_s: float = 55.0, stretch: bool = False,
                    ramps: list | None = None):
    """Norms of the steering's hop-to-hop steps, and the index of the first after the swap.

    ``stretch`` gives the ramp the median step so far, as the worker does; ``ramps`` collects
    the ramp made.
    """
    info, data, old_profile, new_profile = wearers
    stamps = np.arange(data.shape[1]) / RATE
    ring = RingBuffer(info.n_channels, int(30 * RATE))
    extractor, seen, steering, swap_index = profiled_extractor(SPEC, info, old_profile), 0, [], 0
    for i in range(0, data.shape[1], 8):
        ring.push(Chunk(data[:, i:i + 8], stamps[i:i + 8]))
        chunk = ring.since(seen)
        seen = chunk.end_count
        steering += [frame.steering for frame in extractor.push(chunk)]
        if isinstance(extractor, ProfileRamp) and extractor.done:
            extractor = extractor.new
        if i == int(swap_at_s * RATE):
            new = profiled_extractor(SPEC, info, new_profile)
            assert warm_extractor(new, ring, seen, extractor.samples_to_next_frame) > 0
            assert new.samples_to_next_frame == extractor.samples_to_next_frame
            so_far = np.linalg.norm(np.diff(np.array(steering), axis=0), axis=1)
            ordinary = float(np.median(so_far)) if stretch else None
            extractor = ProfileRamp(extractor, new, ramp_s, ordinary_step=ordinary)
            swap_index = len(steering)
            if ramps is not None:
                ramps.append(extractor)
    steps = np.linalg.norm(np.diff(np.array(steering), axis=0), axis=1)
    return steps, swap_index


def test_the_ramp_keeps_the_swap_within_ordinary_steps_where_a_hard_swap_jumps(wearers):
    hard, at = _steering_steps(wearers, ramp_s=0.0)
    ramped, at_ramped = _steering_steps(wearers, ramp_s=3.0)
    ordinary = ramped[: at_ramped - 1]
    after = slice(at_ramped - 1, at_ramped + int(5 / SPEC.hop_s))
    assert hard[at - 1: at + 5].max() > 10 * np.median(ordinary)  # the jump the ramp avoids
    assert ramped[after].max() < 1.25 * ordinary.max()  # no larger than an ordinary step
    assert ramped[after].max() < 5 * np.median(ordinary)


def test_a_far_new_profile_stretches_the_ramp_until_each_hop_adds_half_an_ordinary_step(wearers):
    ramps: list = []
    steps, at = _steering_steps(wearers, ramp_s=3.0, stretch=True, ramps=ramps)
    plain, _ = _steering_steps(wearers, ramp_s=3.0)
    ramp = ramps[0]
    ordinary = steps[: at - 1]
    assert 3.0 < ramp.ramp_s <= 30.0  # S001's and S026's z-scorings lie far apart
    during = steps[at - 1: at + int(ramp.ramp_s / SPEC.hop_s)]
    # the blend adds half a median step to each hop; the steps during it stay ordinary
    assert np.median(during) < 2.0 * np.median(ordinary)
    assert during.max() <= plain[at - 1: at + int(3 / SPEC.hop_s)].max()


def test_a_warmed_extractor_gives_the_same_frames_as_one_that_ran_all_along(wearers):
    """Warmed on the ring's newest seconds at the running one's phase, it is settled at once."""
    info, data, old_profile, _ = wearers
    stamps = np.arange(data.shape[1]) / RATE
    ring = RingBuffer(info.n_channels, int(30 * RATE))
    along = profiled_extractor(SPEC, info, old_profile)
    seen = int(25 * RATE)
    ring.push(Chunk(data[:, :seen], stamps[:seen]))
    along.push(ring.since(0))
    warmed = profiled_extractor(SPEC, info, old_profile)
    assert warm_extractor(warmed, ring, seen, along.samples_to_next_frame) >= 19 * RATE
    rest = Chunk(data[:, seen: seen + int(5 * RATE)], stamps[seen: seen + int(5 * RATE)])
    a, b = along.push(rest), warmed.push(rest)
    assert len(a) == len(b) > 10
    assert [f.eeg_time for f in a] == [f.eeg_time for f in b]
    # 20 s of warm-up, five times the slow smoothing's time constant: settled
    np.testing.assert_allclose(np.array([f.steering for f in b]),
                               np.array([f.steering for f in a]), atol=0.02)


def test_the_worker_switches_profile_at_its_next_step_and_reports_when(wearers, tmp_path):
    info, data, old_profile, new_profile = wearers
    stamps = np.arange(data.shape[1]) / RATE
    runtime = GeneratorRuntime.load(write_tiny_bundle(tmp_path / "tiny"), threads=1)
    ring = RingBuffer(info.n_channels, int(30 * RATE))
    worker = SteeringWorker(ring, profiled_extractor(SPEC, info, old_profile), runtime,
                            LatentDrift(runtime.noise_dim, seed=1))
    started, keyframes = [], 0
    for i in range(0, int(50 * RATE), 16):
        ring.push(Chunk(data[:, i:i + 16], stamps[i:i + 16]))
        if i == int(35 * RATE):
            new = profiled_extractor(SPEC, info, new_profile)
            worker.switch_extractor(new, 3.0, on_started=started.append)
        keyframes += worker.step() is not None
    assert len(started) == 1 and 35.0 <= started[0] <= 35.2
    assert worker.extractor is new  # the ramp is over: the new profile's pipeline alone
    assert worker.extractor.normaliser.mean.tolist() == pytest.approx(new_profile["mean"])
    steps = int(50 * RATE) // 16
    assert keyframes >= steps - 2 * RATE / 16  # every step after the first window painted
