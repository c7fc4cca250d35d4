"""The blackout fades the picture to the mat colour and back, smoothly, whatever is asked when."""

from __future__ import annotations

import numpy as np
import pytest

from installation.screen.blackout import Blackout, switch_blackout

MAT = (30, 200, 90)


def painting() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (16, 24, 3), dtype=np.uint8)


def test_it_fades_to_the_mat_over_its_length_and_back():
    blackout, image = Blackout(fade_s=1.0), painting()
    assert blackout.apply(image, MAT, 0.0) is image  # off: the painting itself, no copy
    assert blackout.set(True, 10.0)
    assert blackout.level(10.5) == pytest.approx(0.5)
    half = blackout.apply(image, MAT, 10.5).astype(float)
    assert np.allclose(half, (image.astype(float) + MAT) / 2, atol=1)  # smoothstep(0.5) = 0.5
    assert (blackout.apply(image, MAT, 11.0) == MAT).all()
    assert blackout.set(False, 20.0)
    assert (blackout.apply(image, MAT, 21.0) == image).all()


def test_a_change_of_mind_mid_fade_turns_back_from_where_it_is():
    blackout = Blackout(fade_s=1.0)
    blackout.set(True, 0.0)
    assert blackout.set(False, 0.3)
    levels = [blackout.level(t) for t in np.arange(0.0, 0.7, 0.05)]
    assert levels[6] == pytest.approx(0.3)  # no jump at the turn
    assert max(np.abs(np.diff(levels))) <= 0.05 + 1e-9
    assert blackout.level(0.6) == 0.0
    assert not blackout.set(False, 1.0)  # asking for what it already does changes nothing


def test_switching_tells_the_event_sink_only_when_it_changes():
    blackout, events = Blackout(), []
    switch_blackout(blackout, True, 1.0, 12.5, "key", lambda *e: events.append(e))
    switch_blackout(blackout, True, 1.2, 12.6, "control", lambda *e: events.append(e))
    switch_blackout(blackout, False, 2.0, None, "control", lambda *e: events.append(e))
    assert events == [("blackout_on", 12.5, "key"), ("blackout_off", None, "control")]
