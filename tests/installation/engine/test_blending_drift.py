from __future__ import annotations

import numpy as np

from installation.engine.blending import KeyframeBlender
from installation.engine.drift import LatentDrift


def solid(value: int, size: int = 8) -> np.ndarray:
    return np.full((size, size, 3), value, dtype=np.uint8)


def test_blender_has_nothing_before_the_first_keyframe():
    assert KeyframeBlender().frame(1.0) is None


def test_first_keyframe_shows_at_once():
    blender = KeyframeBlender()
    blender.add(solid(200), 0.0)
    assert np.array_equal(blender.frame(0.0), solid(200))


def test_blends_over_the_interval_keyframes_arrive_at():
    blender = KeyframeBlender()
    blender.add(solid(0), 0.0)
    blender.add(solid(100), 0.5)  # interval 0.5 s
    assert blender.interval_s == 0.5
    assert blender.frame(0.5)[0, 0, 0] == 0
    assert blender.frame(0.625)[0, 0, 0] == 25
    assert blender.frame(0.75)[0, 0, 0] == 50
    assert blender.frame(1.0)[0, 0, 0] == 100
    assert blender.frame(5.0)[0, 0, 0] == 100


def test_a_keyframe_arriving_mid_fade_starts_from_what_is_on_screen():
    blender = KeyframeBlender()
    blender.add(solid(0), 0.0)
    blender.add(solid(200), 1.0)
    on_screen = blender.frame(1.5)[0, 0, 0]  # halfway: 100
    blender.add(solid(0), 1.5)  # early: the fade restarts from 100, not from 200 or 0
    assert blender.frame(1.5)[0, 0, 0] == on_screen == 100
    assert blender.interval_s == 0.5
    assert blender.frame(1.75)[0, 0, 0] == 50


def test_blend_frames_are_strictly_between_their_ends():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    blender = KeyframeBlender()
    blender.add(a, 0.0)
    blender.add(b, 0.2)
    middle = blender.frame(0.3)
    assert not np.array_equal(middle, a) and not np.array_equal(middle, b)
    low, high = np.minimum(a, b), np.maximum(a, b)
    assert ((middle >= low) & (middle <= high)).all()


def test_drift_depends_on_total_time_not_on_the_step_rate():
    slow, fast = LatentDrift(16, seed=3, speed=0.5), LatentDrift(16, seed=3, speed=0.5)
    for _ in range(15):
        a = slow.step(1 / 15)
    for _ in range(60):
        b = fast.step(1 / 60)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_drift_moves_smoothly_and_far():
    drift = LatentDrift(32, seed=0, speed=0.2)
    path = np.array([drift.step(1 / 60) for _ in range(60 * 20)])  # 20 s: four key points
    assert path.dtype == np.float32 and path.shape == (1200, 32)
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    assert steps.max() < 0.2  # no jumps between frames
    assert np.linalg.norm(path[-1] - path[0]) > 3.0  # but it wanders far over time
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.sqrt(32), rtol=1e-4)


def test_drift_with_no_noise_input_is_empty():
    assert LatentDrift(0).step(0.1).shape == (0,)
