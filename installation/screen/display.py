"""The gallery window: the painting scaled to the screen, blended between keyframes, with keys.

:class:`DisplayLoop` draws one frame per :meth:`~DisplayLoop.step`, paced to the refresh rate
by a pygame clock; it never waits for the generator, it takes whatever keyframe is newest. It
blends at the painting's own size and hands the picture to a screen
(:mod:`installation.screen.screens`) that scales it to the ``fit`` or ``fill`` rectangles of
:mod:`installation.screen.presentation`. Keys: F fullscreen, H HUD, S snapshot of the painting, B
blackout (a fade to the mat colour and back), C calibrate the wearer inside the show, Esc or Q
quit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from installation.config import parse_colour
from installation.eeg.sources.base import EventKind, SourceEvent
from installation.engine.blending import KeyframeBlender
from installation.errors import ConfigError
from installation.screen.blackout import Blackout, switch_blackout
from installation.screen.hud import Hud, RateMeter, ShowStatus, hud_lines, overlay_lines
from installation.screen.presentation import MODES, fit_inside, placement
from installation.screen.quiet_pygame import pygame
from installation.screen.screens import PATHS, image_surface, open_screen

log = logging.getLogger(__name__)

WINDOW_SIZE = (960, 720)
BACKGROUND = (0, 0, 0)
QUIT_KEYS = (pygame.K_ESCAPE, pygame.K_q)

__all__ = ["DisplayLoop", "fit_inside", "free_path", "snapshot_name"]


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
        Returns the newest :class:`~installation.engine.steering.Keyframe`, or None when none is
        new.
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
        Where S saves PNGs of the painting.
    clock : callable
        Seconds for blending and rates (a test may pass a virtual clock).
    title : str
        Window title.
    mode : {"fit", "fill"}
        ``fit``: the whole painting, centred on the mat; ``fill``: cropped to cover the screen.
    mat : str or (int, int, int)
        Colour around a fitted painting, ``#rrggbb`` or an RGB triple.
    path : {"auto", "surface", "renderer"}
        How frames reach the screen (see :func:`installation.screen.screens.open_screen`).
    on_event : callable, optional
        Takes ``(kind, eeg_time or None, detail)`` for ``blackout_on`` and ``blackout_off``
        (detail: ``key`` or ``control``); None: they are only logged.
    on_calibrate : callable, optional
        Key C: starts an in-show calibration; returns None, or why it was refused (the
        calibration shows that on the HUD itself). None: the key only logs that it is not
        available.
    """

    def __init__(self, poll_keyframe: Callable, status: ShowStatus, fullscreen: bool = False,
                 display: int = 0, fps: float = 60.0, window_size=WINDOW_SIZE,
                 snapshot_dir: str | Path = "snapshots",
                 clock: Callable[[], float] = time.perf_counter,
                 title: str = "EEG painting", mode: str = "fit",
                 mat: str | tuple[int, int, int] = BACKGROUND, path: str = "auto",
                 on_event: Callable[[str, float | None, str], None] | None = None,
                 on_calibrate: Callable[[], str | None] | None = None) -> None:
        if mode not in MODES:
            raise ConfigError(f"Unknown mode {mode!r}; use fit or fill.")
        if path not in PATHS:
            raise ConfigError(f"Unknown display path {path!r}; use {', '.join(PATHS)}.")
        self.poll_keyframe = poll_keyframe
        self.status = status
        self.fullscreen = fullscreen
        self.display = int(display)
        self.fps = float(fps)
        self.window_size = tuple(window_size)
        self.snapshot_dir = Path(snapshot_dir)
        self.clock = clock
        self.title = title
        self.mode = mode
        self.mat = parse_colour(mat) if isinstance(mat, str) else tuple(int(c) for c in mat)
        self.path = path
        self.on_calibrate = on_calibrate
        self.blender = KeyframeBlender()
        self.hud: Hud | None = None
        self.screen = None  # a SurfaceScreen or RendererScreen once open
        self.running = False
        self.frames = 0
        self.keyframes = 0
        self.keyframe = None  # the newest keyframe shown
        self.painting: np.ndarray | None = None  # the blended picture last drawn, own size
        self.unfaded: np.ndarray | None = None  # the same before the blackout's fade
        self.blackout = Blackout()
        self.on_event = on_event
        self.snapshots: list[Path] = []
        self.fps_meter = RateMeter()
        self.keyframe_meter = RateMeter()
        self._pacer = pygame.time.Clock()
        self._snapshot_requested = False
        self._latency_ms: float | None = None
        self._placement_cache: tuple[tuple, tuple] | None = None

    @property
    def screen_size(self) -> tuple[int, int]:
        """Width and height of the window's drawable area in pixels."""
        return self.screen.size

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
        self.hud = Hud()
        self.screen = open_screen(self.path, self.title, self.display, self.window_size,
                                  self.fullscreen)
        log.info("display: %s path, %dx%d, %s", self.screen.name, *self.screen_size, self.mode)
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
        self.unfaded = self.blender.frame(now)
        self.painting = self.blackout.apply(self.unfaded, self.mat, now)
        self._draw(self.painting, now)
        if self._snapshot_requested:
            self._save_snapshot()
        self.frames += 1
        self.fps_meter.tick(now)
        if self.fps > 0:
            self._pacer.tick(self.fps)
        return True

    def close(self) -> None:
        """Close the window; safe to call twice."""
        self.running = False
        if self.screen is not None:
            self.screen.close()
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
        elif event.type in (pygame.VIDEOEXPOSE, pygame.WINDOWEXPOSED):
            self.screen.invalidate()  # a frame identical to the last is skipped otherwise
        elif event.type == pygame.KEYDOWN:
            if event.key in QUIT_KEYS:
                self.running = False
            elif event.key == pygame.K_f:
                self.fullscreen = not self.fullscreen
                self.screen.set_fullscreen(self.fullscreen)
                pygame.mouse.set_visible(not self.fullscreen)
            elif event.key == pygame.K_h and self.hud is not None:
                self.hud.toggle()
            elif event.key == pygame.K_s:
                self._snapshot_requested = True
            elif event.key == pygame.K_b:
                self.set_blackout(not self.blackout.on, "key")
            elif event.key == pygame.K_c:
                self._calibrate()

    def set_hud(self, visible: bool) -> None:
        """Show or hide the HUD (the H key toggles it)."""
        if self.hud is not None:
            self.hud.visible = bool(visible)

    def request_snapshot(self) -> None:
        """Save a snapshot at the end of the next frame, as the S key does."""
        self._snapshot_requested = True

    def set_blackout(self, on: bool, why: str = "key") -> None:
        """Fade to the mat colour (``on``) or back to the painting; ``why``: key or control."""
        eeg_time = None if self.keyframe is None else self.keyframe.eeg_time
        switch_blackout(self.blackout, on, self.clock(), eeg_time, why, self.on_event)

    def _calibrate(self) -> None:
        """Key C: start an in-show calibration (it says on the HUD how it goes)."""
        if self.on_calibrate is None:
            log.info("key C: in-show calibration is not available in this show")
            return
        reason = self.on_calibrate()
        if reason is not None:
            log.info("key C: %s", reason)

    def _draw(self, image: np.ndarray | None, now: float) -> None:
        screen_size = self.screen_size
        source = destination = None
        if image is not None:
            source, destination = self._placement(image.shape[1::-1], screen_size)
        hud = None
        lines = self.overlay_lines(now)
        if self.hud is not None and lines:
            self.hud.fit_screen(screen_size[1])
            hud = self.hud.render(lines, now, force=True)
        margin = self.hud.margin if self.hud is not None else 0
        self.screen.draw(image, source, destination, self.mat, hud, (margin, margin))

    def overlay_lines(self, now: float) -> list[str]:
        """The whole HUD when shown (or while waiting); else a recording's caption alone."""
        if self.hud is None:
            return []
        if self.hud.visible or self.status.waiting_for:
            return hud_lines(self.fps_meter.rate(now), self.keyframe_meter.rate(now),
                             self.latency_ms(), self.status)
        lines = [f"recording: {self.status.caption}"] if self.status.caption else []
        return lines + overlay_lines(self.status)

    def latency_ms(self) -> float | None:
        """Milliseconds from the newest keyframe's newest sample arriving to its first frame."""
        return self._latency_ms

    def screen_pixels(self) -> np.ndarray:
        """What the window shows, uint8 (H, W, 3) (the painting, the mat and the HUD)."""
        return self.screen.pixels()

    def _placement(self, image_size, screen_size) -> tuple[pygame.Rect, pygame.Rect]:
        key = (image_size, screen_size, self.mode)
        if self._placement_cache is None or self._placement_cache[0] != key:
            self._placement_cache = (key, placement(self.mode, image_size, screen_size))
        return self._placement_cache[1]

    def _save_snapshot(self) -> None:
        """Save the painting as blended, at its own size: no mat, no HUD, no scaling.

        Nor the blackout: the painting goes on beneath it.
        """
        self._snapshot_requested = False
        if self.unfaded is None:
            log.warning("snapshot skipped: no painting yet")
            return
        eeg_time = None if self.keyframe is None else self.keyframe.eeg_time
        try:
            self.snapshot_dir.mkdir(parents=True, exist_ok=True)
            path = free_path(self.snapshot_dir / snapshot_name(eeg_time))
            pygame.image.save(image_surface(self.unfaded), str(path))
        except (OSError, pygame.error) as exc:  # a full disk loses the snapshot, not the show
            self.status.note(SourceEvent(EventKind.ERROR, f"Snapshot not saved into "
                                                          f"{self.snapshot_dir}: {exc}"))
            return
        self.snapshots.append(path)
        log.info("snapshot saved to %s", path)
