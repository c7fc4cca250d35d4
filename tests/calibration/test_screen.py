"""The operator screen, stepped frame by frame with posted key events (dummy video driver)."""

from __future__ import annotations

import pygame
import pytest

from calibration.screen import CalibrationScreen
from installation.eeg.baseline.session import (
    DONE,
    EYES_CLOSED,
    RECORDING,
    WAITING,
    CalibrationSession,
    default_steps,
)
from installation.eeg.features import FeatureNormaliser
from installation.eeg.profile import check_profile_fits, load_profile
from installation.eeg.sources import open_source
from installation.errors import ConfigError

MAX_FRAMES = 200  # 4 s steps at 0.25 s a frame need ~40; a hang fails instead of spinning


def _press(key: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))


def _step_until(screen, condition) -> int:
    for frame in range(MAX_FRAMES):
        if condition():
            return frame
        assert screen.step()
    raise AssertionError("the screen never got there")


@pytest.fixture
def screen(tmp_path, eyes_open_edf):
    source = open_source(f"file:{eyes_open_edf}", speed="max", chunk_s=0.25)
    info = source.open()
    session = CalibrationSession(info, steps=default_steps(4, 4), source="file:S001R01.edf")
    screen = CalibrationScreen(session, source, tmp_path / "out")
    yield screen
    screen.close()
    source.close()


def test_screen_walks_through_both_steps_and_writes_a_usable_profile(screen, tmp_path):
    session = screen.session
    assert screen.step()
    assert session.state == WAITING and session.progress == 0.0
    for _ in range(3):  # idle frames record nothing
        assert screen.step()
    assert session.state == WAITING and session.recorded_samples == 0

    _press(pygame.K_SPACE)
    assert screen.step()
    assert session.state == RECORDING
    _step_until(screen, lambda: session.state == WAITING)
    assert session.current_step.name == EYES_CLOSED
    assert not (tmp_path / "out").exists()  # nothing written between the steps

    _press(pygame.K_RETURN)
    _step_until(screen, lambda: session.state == DONE and screen.result is not None)
    assert session.recorded_samples == 8 * 160
    profile = load_profile(tmp_path / "out" / "profile.json")
    FeatureNormaliser.from_profile(profile)
    assert check_profile_fits(profile, session.info) == tuple(profile["bad_channels"])
    assert (tmp_path / "out" / "quality.png").stat().st_size > 0
    assert "Wrote" in screen.message

    _press(pygame.K_ESCAPE)
    assert not screen.step()


def test_frames_show_the_channel_states_in_colour(screen):
    _press(pygame.K_SPACE)
    _step_until(screen, lambda: screen.session.monitor.latest() is not None)
    screen.step()
    pixels = pygame.surfarray.array3d(screen.surface)
    green = (pixels == (46, 158, 68)).all(axis=2).sum()
    assert green > 100  # S001R01's good channels: their traces and labels are green


def test_space_during_a_step_ends_it_early(screen):
    _press(pygame.K_SPACE)
    for _ in range(6):  # 1.5 s of the 4 s baseline
        screen.step()
    _press(pygame.K_SPACE)
    screen.step()
    assert screen.session.state == WAITING and screen.session.step_index == 1
    assert "recorded 1.5 s of the 4 s planned" in screen.session.notes[0]


def test_window_close_quits(screen):
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert not screen.step()


def test_missing_display_is_refused(tmp_path, eyes_open_edf):
    source = open_source(f"file:{eyes_open_edf}", speed="max")
    info = source.open()
    session = CalibrationSession(info, steps=default_steps(4, 4))
    with pytest.raises(ConfigError, match="--display 7 does not exist"):
        CalibrationScreen(session, source, tmp_path, display=7)
    pygame.display.quit()
