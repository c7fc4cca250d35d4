"""Walk the calibration screen through its steps in a real window, as an operator would.

``python -m tests.calibration.screen_walk RECORDING OUT_DIR [SHOTS_DIR]`` runs in an X server
(Xvfb): it plays a real recording at full speed (a quarter second a frame), presses the keys,
saves a screenshot of each stage into SHOTS_DIR and prints what it saw as one JSON line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pygame

from calibration.screen import FAILURE, CalibrationScreen
from installation.eeg.baseline.session import (
    DONE,
    RECORDING,
    WAITING,
    CalibrationSession,
    default_steps,
)
from installation.eeg.sources import open_source

MAX_FRAMES = 400


def press(key: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))


def step_until(screen, condition, seen=None) -> None:
    for _ in range(MAX_FRAMES):
        if condition():
            return
        assert screen.step()
        if seen is not None:
            seen.append(screen.seconds_left)
    raise AssertionError("the screen never got there")


def failure_pixels(screen) -> int:
    """Pixels of the failure colour in the step area (the bottom of the window)."""
    pixels = pygame.surfarray.array3d(screen.surface)
    bottom = pixels[:, -screen.px(215):]
    return int((bottom == FAILURE).all(axis=2).sum())


def walk(recording: str, out_dir: Path, shots: Path | None) -> dict:
    """Both steps, the failed verdict, R, and F; the figures a test checks."""
    source = open_source(f"file:{recording}", speed="max", chunk_s=0.25)
    session = CalibrationSession(source.open(), steps=default_steps(4, 4))
    screen = CalibrationScreen(session, source, out_dir)
    figures = {"window": list(screen.surface.get_size()), "scale": screen.scale}

    def shot(name: str) -> None:
        if shots is not None:
            pygame.image.save(screen.surface, str(shots / f"{name}.png"))

    try:
        for _ in range(3):  # idle frames: the operator reads the screen
            screen.step()
        shot("1-waiting-for-baseline")
        press(pygame.K_SPACE)
        baseline_countdown: list[int] = []
        assert session.progress == 0.0  # nothing recorded yet: the bar is empty
        step_until(screen, lambda: session.progress > 0.5, baseline_countdown)
        shot("2-baseline-recording")
        step_until(screen, lambda: session.state == WAITING, baseline_countdown)
        figures["baseline_countdown"] = baseline_countdown
        shot("3-waiting-for-eyes-closed")
        figures["progress_between_steps"] = session.progress
        press(pygame.K_SPACE)
        step_until(screen, lambda: session.progress > 0.3)
        shot("4-eyes-closed-recording")
        step_until(screen, lambda: screen.result is not None)
        screen.step()
        shot("5-verdict")
        figures.update(verdict=screen._verdict_text(), advice=screen.advice,
                       failure_pixels=failure_pixels(screen), bell=list(screen.bell.played),
                       written=sorted(p.name for p in out_dir.iterdir()))
        press(pygame.K_r)
        screen.step()
        shot("6-repeat-eyes-closed")
        figures["after_repeat"] = [session.state, session.current_step.name,
                                   screen.result is None, failure_pixels(screen)]
        press(pygame.K_SPACE)
        screen.step()
        figures["repeat_recording"] = session.state == RECORDING
        step_until(screen, lambda: session.state == DONE and screen.result is not None)
        figures["bell_after_repeat"] = list(screen.bell.played)
        press(pygame.K_f)
        screen.step()
        shot("7-fullscreen")
        figures.update(fullscreen=[screen.fullscreen, *screen.surface.get_size()],
                       fullscreen_scale=screen.scale)
    finally:
        screen.close()
        source.close()
    return figures


if __name__ == "__main__":
    recording, out = sys.argv[1], Path(sys.argv[2])
    shots_dir = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    if shots_dir is not None:
        shots_dir.mkdir(parents=True, exist_ok=True)
    print(json.dumps(walk(recording, out, shots_dir)))
