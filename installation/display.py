"""The gallery window: the painting scaled to the screen, blended between keyframes, with keys.

:class:`DisplayLoop` draws one frame per :meth:`~DisplayLoop.step`, paced to the refresh rate
by a pygame clock; it never waits for the generator, it takes whatever keyframe is newest.
Keys: F fullscreen, H HUD, S snapshot, Esc or Q quit.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import numpy as np  # noqa: E402

with warnings.catch_warnings():  # pygame 2.6 imports pkg_resources, which warns on import
    warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
    import pygame

from installation.blending import KeyframeBlender  # noqa: E402
from installation.errors import ConfigError  # noqa: E402
from installation.hud import Hud, RateMeter, ShowStatus, hud_lines  # noqa: E402

log = logging.getLogger(__name__)

WINDOW_SIZE = (960, 720)
BACKGROUND = (0, 0, 0)
QUIT_KEYS = (pygame.K_ESCAPE, pygame.K_q)


def fit_inside(image_size: tuple[int, int], screen_size: tuple[int, int]) -> pygame.Rect:
    """The largest rectangle of the image's aspect ratio centred in the screen."""
    iw, ih = image_size
    sw, sh = screen_size
    scale = min(sw / iw, sh / ih)
    w, h = max(1, int(round(iw * scale))), max(1, int(round(ih * scale)))
    return pygame.Rect((sw - w) // 2, (sh - h) // 2, w, h)


def snapshot_name(eeg_time: float | None) -> str:
    """File name of a snapshot, e.g. ``snapshot-eeg0012.345s.png``."""
    if eeg_time is None:
        return "snapshot-eeg-none.png"
    return f"snapshot-eeg{eeg_time:08.3f}s.png"


def free_path(path: Path) -> Path:
    """``path``, or ``name-2.png``, ``name-3.png``... when it already exists."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


class DisplayLoop:
    """The pygame window of the show, one frame per :meth:`step`.

    Parameters
    ----------
    poll_keyframe : callable
        Returns the newest :class:`~installation.steering.Keyframe`, or None when none is new.
    status : ShowStatus
        Source, signal state and last error for the HUD.
    fullscreen : bool
        Start fullscreen (F toggles).
    display : int
        Index of the screen to open on.
    fps : float
        Refresh rate to pace to; 0 draws as fast as possible.
    window_size : (int, int)
        Size of the window when not fullscreen.
    snapshot_dir : str or Path
        Where S saves PNGs.
    clock : callable
        Seconds for blending and rates (a test may pass a virtual clock).
    """

    def __init__(self, poll_keyframe: Callable, status: ShowStatus, fullscreen: bool = False,
                 display: int = 0, fps: float = 60.0, window_size=WINDOW_SIZE,
                 snapshot_dir: str | Path = "snapshots",
                 clock: Callable[[], float] = time.perf_counter,
                 title: str = "EEG painting") -> None:
        self.poll_keyframe = poll_keyframe
        self.status = status
        self.fullscreen = fullscreen
        self.display = int(display)
        self.fps = float(fps)
        self.window_size = tuple(window_size)
        self.snapshot_dir = Path(snapshot_dir)
        self.clock = clock
        self.title = title
        self.blender = KeyframeBlender()
        self.hud: Hud | None = None
        self.screen: pygame.Surface | None = None
        self.running = False
        self.frames = 0
        self.keyframes = 0
        self.keyframe = None  # the newest keyframe shown
        self.snapshots: list[Path] = []
        self.fps_meter = RateMeter()
        self.keyframe_meter = RateMeter()
        self._pacer = pygame.time.Clock()
        self._snapshot_requested = False
        self._latency_ms: float | None = None
        self._scaled_cache: tuple[tuple, pygame.Rect] | None = None

    def open(self) -> None:
        """Initialise pygame and open the window on the chosen display."""
        try:
            pygame.display.init()
        except pygame.error as exc:
            raise ConfigError(f"No display is available ({exc}); set DISPLAY or run with "
                              "--headless --frames-out DIR.") from None
        n_displays = pygame.display.get_num_displays()
        if not 0 <= self.display < n_displays:
            pygame.display.quit()
            raise ConfigError(f"Display {self.display} does not exist (this machine has "
                              f"{n_displays}); pass --display 0 to {n_displays - 1}.")
        pygame.display.set_caption(self.title)
        self.hud = Hud()
        self._set_mode()
        pygame.mouse.set_visible(not self.fullscreen)
        self.running = True

    def show_first(self, image: np.ndarray, t: float | None = None) -> None:
        """Put a warm-up image on screen before any keyframe arrives."""
        self.blender.add(image, self.clock() if t is None else t)

    def step(self) -> bool:
        """Handle input, take the newest keyframe, draw and pace one frame.

        Returns
        -------
        bool
            False once the user asked to quit.
        """
        for event in pygame.event.get():
            self._handle(event)
        if not self.running:
            return False
        now = self.clock()
        keyframe = self.poll_keyframe()
        if keyframe is not None:
            self._take(keyframe, now)
        self._draw(self.blender.frame(now), now)
        if self._snapshot_requested:
            self._save_snapshot()
        pygame.display.flip()
        self.frames += 1
        self.fps_meter.tick(now)
        if self.fps > 0:
            self._pacer.tick(self.fps)
        return True

    def close(self) -> None:
        """Close the window; safe to call twice."""
        self.running = False
        if pygame.display.get_init():
            pygame.display.quit()

    def _take(self, keyframe, now: float) -> None:
        self.blender.add(keyframe.image, now)
        self.keyframe = keyframe
        self._latency_ms = 1000.0 * (time.perf_counter() - keyframe.arrival)
        self.keyframes += 1
        self.keyframe_meter.tick(now)
        self.status.took_keyframe(keyframe)

    def _handle(self, event) -> None:
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.KEYDOWN:
            if event.key in QUIT_KEYS:
                self.running = False
            elif event.key == pygame.K_f:
                self.fullscreen = not self.fullscreen
                self._set_mode()
            elif event.key == pygame.K_h and self.hud is not None:
                self.hud.toggle()
            elif event.key == pygame.K_s:
                self._snapshot_requested = True

    def _set_mode(self) -> None:
        if self.fullscreen:
            self.screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN, display=self.display)
        else:
            self.screen = pygame.display.set_mode(self.window_size, 0, display=self.display)
            if self.screen.get_size() != self.window_size:
                # SDL 2 leaves fullscreen at the desktop size first; asking again resizes.
                self.screen = pygame.display.set_mode(self.window_size, 0, display=self.display)
        pygame.mouse.set_visible(not self.fullscreen)
        self._scaled_cache = None

    def _draw(self, image: np.ndarray | None, now: float) -> None:
        screen = self.screen
        screen.fill(BACKGROUND)
        if image is not None:
            h, w = image.shape[:2]
            painting = pygame.image.frombuffer(image, (w, h), "RGB")
            rect = self._target_rect((w, h), screen.get_size())
            if rect.size != (w, h):
                painting = pygame.transform.smoothscale(painting, rect.size)
            screen.blit(painting, rect.topleft)
        if self.hud is not None and self.hud.visible:
            self.hud.draw(screen, hud_lines(self.fps_meter.rate(now),
                                            self.keyframe_meter.rate(now),
                                            self.latency_ms(), self.status))

    def latency_ms(self) -> float | None:
        """Milliseconds from the newest keyframe's newest sample arriving to its first frame."""
        return self._latency_ms

    def _target_rect(self, image_size, screen_size) -> pygame.Rect:
        key = (image_size, screen_size)
        if self._scaled_cache is None or self._scaled_cache[0] != key:
            self._scaled_cache = (key, fit_inside(image_size, screen_size))
        return self._scaled_cache[1]

    def _save_snapshot(self) -> None:
        self._snapshot_requested = False
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        eeg_time = None if self.keyframe is None else self.keyframe.eeg_time
        path = free_path(self.snapshot_dir / snapshot_name(eeg_time))
        pygame.image.save(self.screen, str(path))
        self.snapshots.append(path)
        log.info("snapshot saved to %s", path)
