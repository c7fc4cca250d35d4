from __future__ import annotations

import numpy as np
import pygame
import pytest

from installation.engine.generator_runtime import GeneratorRuntime
from installation.engine.steering import Keyframe
from installation.screen.display import DisplayLoop, fit_inside, snapshot_name
from installation.screen.hud import ShowStatus
from tests.installation.tiny_bundle import write_tiny_bundle

FRAME_S = 1 / 60
KEYFRAME_EVERY = 8  # frames between keyframes (7.5 keyframes/s at 60 fps)


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class KeyframeSource:
    """Real paintings from the tiny ONNX graph, one every KEYFRAME_EVERY polls."""

    def __init__(self, runtime: GeneratorRuntime) -> None:
        self.runtime = runtime
        self.polls = 0
        self.made = 0

    def __call__(self) -> Keyframe | None:
        self.polls += 1
        if (self.polls - 1) % KEYFRAME_EVERY:
            return None
        steering = np.full(25, np.sin(self.made), np.float32)
        noise = np.full(self.runtime.noise_dim, np.cos(self.made), np.float32)
        self.made += 1
        image = self.runtime.generate(steering, noise)
        return Keyframe(image, 1.0 + self.made / 15, 0.0, 0.0, steering, noise, ("T7",))


@pytest.fixture
def runtime(tmp_path):
    return GeneratorRuntime.load(write_tiny_bundle(tmp_path / "tiny"), threads=1)


@pytest.fixture
def loop(runtime, tmp_path):
    clock = VirtualClock()
    display = DisplayLoop(KeyframeSource(runtime), ShowStatus("test source", "cpu"), fps=0,
                          window_size=(96, 64), snapshot_dir=tmp_path / "snaps", clock=clock)
    display.open()
    yield display, clock
    display.close()


def screen_pixels() -> np.ndarray:
    """What the X or dummy window shows, (W, H, 3) as pygame's surfarray gives it."""
    return pygame.surfarray.array3d(pygame.display.get_surface()).copy()


def press(key) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))


def test_fit_inside_keeps_the_aspect_and_centres():
    assert fit_inside((256, 256), (1920, 1080)) == pygame.Rect(420, 0, 1080, 1080)
    assert fit_inside((200, 100), (100, 100)) == pygame.Rect(0, 25, 100, 50)


def test_snapshot_names_carry_the_eeg_time():
    assert snapshot_name(12.3456) == "snapshot-eeg0012.346s.png"


def test_runs_120_frames_blending_between_keyframes(loop):
    display, clock = loop
    shots = []
    for _ in range(128):
        assert display.step()
        shots.append(screen_pixels())
        clock.now += FRAME_S
    assert display.frames == 128
    assert display.keyframes == 128 // KEYFRAME_EVERY
    painting = pygame.Rect((0, 0), display.screen_size).inflate(-40, -8)  # inside the mat
    assert shots[0][painting.centerx, painting.centery].any()  # something is painted
    for k in range(KEYFRAME_EVERY, 120, KEYFRAME_EVERY):
        start, middle, end = shots[k], shots[k + KEYFRAME_EVERY // 2], shots[k + KEYFRAME_EVERY]
        assert not np.array_equal(middle, start)
        assert not np.array_equal(middle, end)
    # a fade lasts one keyframe interval: the frame just before a keyframe shows the last one
    last = display.keyframe.image
    assert np.array_equal(display.blender.frame(clock.now + 1.0), last)


def test_h_toggles_the_hud_and_it_is_drawn(loop):
    display, clock = loop
    display.step()
    plain = screen_pixels()
    press(pygame.K_h)
    display.step()
    assert display.hud.visible
    assert not np.array_equal(screen_pixels()[:40, :20], plain[:40, :20])
    press(pygame.K_h)
    display.step()
    assert not display.hud.visible


def test_a_recordings_caption_shows_while_the_hud_is_hidden(loop):
    display, clock = loop
    display.step()
    plain = screen_pixels()
    assert display.overlay_lines(clock()) == []
    display.status.caption = "eyes closed"
    display.step()
    assert not display.hud.visible
    assert display.overlay_lines(clock()) == ["recording: eyes closed"]
    assert not np.array_equal(screen_pixels()[:40, :20], plain[:40, :20])
    press(pygame.K_h)
    display.step()
    assert "recording: eyes closed" in display.overlay_lines(clock())
    assert len(display.overlay_lines(clock())) > 1  # the whole HUD, the caption in it


def test_s_saves_a_snapshot_named_with_the_eeg_time(loop):
    display, clock = loop
    display.step()
    press(pygame.K_s)
    display.step()
    press(pygame.K_s)
    display.step()
    names = sorted(p.name for p in display.snapshots)
    expected = snapshot_name(display.keyframe.eeg_time)
    assert names == sorted([expected, expected.replace(".png", "-2.png")])
    saved = pygame.image.load(str(display.snapshots[0]))
    assert saved.get_size() == display.keyframe.image.shape[1::-1]  # the painting's own size
    assert pygame.surfarray.array3d(saved).std() > 5


def test_f_toggles_fullscreen(loop):
    display, clock = loop
    display.step()
    press(pygame.K_f)
    display.step()
    assert display.fullscreen
    assert pygame.display.get_surface().get_flags() & pygame.FULLSCREEN
    press(pygame.K_f)
    display.step()
    assert not display.fullscreen
    assert display.screen_size == (96, 64)


@pytest.mark.parametrize("key", [pygame.K_q, pygame.K_ESCAPE])
def test_q_and_escape_end_the_loop(loop, key):
    display, clock = loop
    assert display.step()
    press(key)
    assert not display.step()
    assert not display.running


def test_a_display_that_does_not_exist_is_a_config_error(runtime, tmp_path):
    from installation.errors import ConfigError

    display = DisplayLoop(lambda: None, ShowStatus(), display=7, fps=0)
    with pytest.raises(ConfigError, match="Display 7 does not exist"):
        display.open()


def test_the_window_and_the_headless_loop_take_a_keyframe_alike(loop, runtime, tmp_path):
    """Both update the show's state from the keyframe they show (the headless loop's caller
    used to do it for it)."""
    from installation.engine.signal_state import Signal
    from installation.screen.headless import FrameWriter, HeadlessLoop

    display, clock = loop
    display.step()
    status = ShowStatus("test source", "cpu")
    headless = HeadlessLoop(FrameWriter(tmp_path / "frames", frame_every=0), status)
    headless.take(display.keyframe, 0.0)
    headless.writer.close()
    for shown in (display.status, status):
        assert shown.masked_channels == ("T7",) and shown.signal is Signal.OK
