"""The operator's calibration screen (pygame): live traces, channel states, guided steps.

:class:`CalibrationScreen` is driven one frame at a time by :meth:`CalibrationScreen.step`
(handle events, read the source, draw), so a test can post key events and step it with the
dummy video driver. Space or Enter starts the next step (or ends the running one early); R
repeats the step running or last recorded; F toggles fullscreen; Esc quits. When the last step
ends the outputs are written and the verdict stays on screen, in the failure colour with the
next step when it failed. Everything is laid out for a 720-line window and scaled to the
window's height, so it reads the same at any size.
"""

from __future__ import annotations

import math

import numpy as np

from calibration.report import print_verdict, write_calibration
from calibration.tones import StepBell
from installation.eeg.baseline.quality import GOOD
from installation.eeg.baseline.session import (
    DONE,
    EYES_CLOSED,
    RECORDING,
    WAITING,
    CalibrationSession,
    default_steps,
)
from installation.eeg.baseline.verdicts import channel_figure, next_steps, passed, verdict_line
from installation.eeg.sources import EndOfStream, open_source
from installation.eeg.sources.base import Source
from installation.errors import ConfigError, InstallationError
from installation.screen.quiet_pygame import pygame

SIZE = (1280, 720)
DESIGN_HEIGHT = 720  # the layout's unit: every length below is for a 720-line window
FPS = 30
TRACE_SCALE_UV = 100.0  # half a trace row; scalp EEG rarely exceeds it, so more looks wrong
LINE_HEIGHT = 22
MAX_TRACES = 16  # rows that stay readable at 720 px; more channels show the first 16
BAND_RANGE = (-1.0, 3.0)  # log10 µV² shown by the band-power bars
BACKGROUND = (18, 18, 24)
TEXT = (230, 230, 230)
DIM = (140, 140, 150)
STATE_RGB = {
    "good": (46, 158, 68),
    "railed": (214, 39, 40),
    "flat": (127, 127, 127),
    "noisy": (255, 127, 14),
    "line_noise": (148, 103, 189),
    "abnormal": (227, 119, 194),
}
FAILURE = STATE_RGB["railed"]
START_KEYS = (pygame.K_SPACE, pygame.K_RETURN, pygame.K_KP_ENTER)


class CalibrationScreen:
    """Window, source and session, one frame per :meth:`step`.

    Parameters
    ----------
    session : CalibrationSession
        The guided steps (not auto-advancing: the operator starts each).
    source : Source
        An opened source feeding the session.
    out_dir : Path
        Where the outputs go when the last step ends.
    display : int
        Display index to open the window on.
    size : (int, int)
        Window size in pixels (the window can be resized; the layout follows).
    fullscreen : bool
        Start fullscreen (F toggles).
    bell : StepBell, optional
        Rings at the start and end of the eyes-closed step; one is made when None.
    """

    def __init__(self, session: CalibrationSession, source: Source, out_dir, display: int = 0,
                 size: tuple[int, int] = SIZE, fullscreen: bool = False,
                 bell: StepBell | None = None) -> None:
        self.session = session
        self.source = source
        self.out_dir = out_dir
        self.result = None
        self.paths: dict = {}
        self.message = ""
        self.source_ended = False
        self._finish_failed = False
        self.display, self.size, self.fullscreen = display, size, fullscreen
        pygame.display.init()
        pygame.font.init()
        try:
            _check_display(display)
        except ConfigError:
            pygame.display.quit()
            raise
        self.surface = self._open_window()
        pygame.display.set_caption("EEG painting: calibration")
        self.scale = 0.0
        self._fit_to_window()
        self.bell = bell or StepBell()
        self._phase = self._current_phase()

    def _open_window(self) -> pygame.Surface:
        if self.fullscreen:
            return pygame.display.set_mode((0, 0), pygame.FULLSCREEN, display=self.display)
        return pygame.display.set_mode(self.size, pygame.RESIZABLE, display=self.display)

    def toggle_fullscreen(self) -> None:
        """Switch between fullscreen and the window, on the same display."""
        if not self.fullscreen:
            self.size = self.surface.get_size()
        self.fullscreen = not self.fullscreen
        self.surface = self._open_window()
        self._fit_to_window()

    def _fit_to_window(self) -> None:
        """Fonts and lengths for the window's height (the layout is drawn for 720 lines)."""
        scale = self.surface.get_height() / DESIGN_HEIGHT
        if abs(scale - self.scale) < 1e-3:
            return
        self.scale = scale
        self.font = pygame.font.Font(None, self.px(24))
        self.big_font = pygame.font.Font(None, self.px(44))
        self.huge_font = pygame.font.Font(None, self.px(96))

    def px(self, length: float) -> int:
        """A length of the 720-line layout in this window's pixels."""
        return max(1, int(round(length * self.scale)))

    def step(self) -> bool:
        """Handle events, read the source, draw one frame; False once the operator quits."""
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                return False
            if event.type == pygame.KEYDOWN and not self._on_key(event.key):
                return False
        self._read_source()
        self._ring_the_bell()
        self._finish_when_done()
        self._fit_to_window()
        self.draw()
        pygame.display.flip()
        return True

    def close(self) -> None:
        """Close the window and the audio (the source is the caller's)."""
        self.bell.close()
        pygame.display.quit()

    def _on_key(self, key: int) -> bool:
        if key == pygame.K_ESCAPE:
            return False
        if key in START_KEYS:
            if self.session.state == WAITING and not self.source_ended:
                self.session.start_step()
            elif self.session.state == RECORDING:
                self.session.advance()
        elif key == pygame.K_r:
            self.repeat_step()
        elif key == pygame.K_f:
            self.toggle_fullscreen()
        return True

    def repeat_step(self) -> None:
        """Go back to the step running or last recorded; a written verdict is redone after it."""
        if self.source_ended:
            self.message = "The source has ended; a step cannot be repeated."
            return
        if not self.session.repeat_step():
            return
        self.result, self.paths, self._finish_failed = None, {}, False
        self.message = f"Repeating: {self.session.current_step.title}."

    def _current_phase(self) -> tuple[str, str | None]:
        step = self.session.current_step
        return self.session.state, None if step is None else step.name

    def _ring_the_bell(self) -> None:
        """A tone when the eyes-closed step starts and when it ends (the eyes are shut)."""
        phase = self._current_phase()
        if phase == self._phase:
            return
        if phase == (RECORDING, EYES_CLOSED):
            self.bell.ring("start")
        elif self._phase == (RECORDING, EYES_CLOSED):
            self.bell.ring("end")
        self._phase = phase

    def _read_source(self) -> None:
        if self.source_ended:
            return
        try:
            chunk = self.source.read()
        except EndOfStream:
            self.source_ended = True
            self.session.advance()  # a running step ends with what it has
            self.message = "The source has ended."
            return
        except InstallationError as exc:  # the window stays; the operator reads why
            self.message = str(exc)
            return
        if chunk is not None and chunk.n_samples:
            self.session.push(chunk)

    def _finish_when_done(self) -> None:
        """Write the outputs once: after the last step, or if the source ended after step 1."""
        if self.result is not None or self._finish_failed:
            return
        session = self.session
        if session.state != DONE and not (self.source_ended and session.step_index > 0):
            return
        try:
            self.result = session.finish()
            self.paths = write_calibration(self.out_dir, self.result)
            self.message = f"Wrote {self.paths['profile'].parent}. Esc quits."
        except InstallationError as exc:  # shown, not raised: the operator decides what next
            self._finish_failed = True
            self.message = str(exc)

    def draw(self) -> None:
        """Draw the whole frame."""
        self.surface.fill(BACKGROUND)
        width, height = self.surface.get_size()
        px, right = self.px, int(width * 0.55) + self.px(40)
        self._draw_traces(pygame.Rect(px(20), px(20), int(width * 0.55), height - px(240)))
        self._draw_channel_states(pygame.Rect(right, px(20), width - right - px(10),
                                              height - px(420)))
        self._draw_bands(pygame.Rect(right, height - px(380), px(300), px(130)))
        self._draw_step(pygame.Rect(px(20), height - px(215), width - px(40), px(200)))

    def _draw_traces(self, area: pygame.Rect) -> None:
        data = self.session.monitor.recent_filtered()
        names = self.session.info.channel_names[:MAX_TRACES]
        states = self._states()
        row = area.height / max(1, len(names))
        for i, name in enumerate(names):
            centre = area.top + (i + 0.5) * row
            colour = STATE_RGB.get(states.get(name, GOOD), TEXT)
            self._text(name, (area.left, centre - self.px(8)), colour)
            if data.shape[1] < 2:
                continue
            points = _trace_points(data[i], area.left + self.px(60), area.right, centre, row / 2)
            pygame.draw.lines(self.surface, colour, False, points)

    def _draw_channel_states(self, area: pygame.Rect) -> None:
        latest = self.session.monitor.latest()
        self._text("Channels (last 3 s): state, figure (limit)", area.topleft, DIM)
        line_height, top = self.px(LINE_HEIGHT), area.top + self.px(28)
        if latest is None:
            self._text("waiting for 3 s of signal...", (area.left, top), DIM)
            return
        thresholds = self.session.monitor.thresholds
        # Bad channels first: with 64 channels only those that need the operator fit.
        channels = sorted(latest.channels, key=lambda c: c.state == GOOD)
        fits = max(1, (area.height - self.px(30)) // line_height)
        if len(channels) > fits:
            channels, rest = channels[: fits - 1], len(channels) - fits + 1
        else:
            rest = 0
        box = self.px(12)
        for i, channel in enumerate(channels):
            y = top + i * line_height
            colour = STATE_RGB[channel.state]
            pygame.draw.rect(self.surface, colour, (area.left, y + self.px(3), box, box))
            self._text(f"{channel.name}: {channel.state}, {channel_figure(channel, thresholds)}",
                       (area.left + self.px(20), y), colour)
        if rest:
            n_bad = sum(c.state != GOOD for c in latest.channels) - sum(
                c.state != GOOD for c in channels)
            more = f"+{rest} more ({n_bad} with a problem)" if n_bad else f"+{rest} more, all good"
            self._text(more, (area.left + self.px(20), top + len(channels) * line_height), DIM)

    def _draw_bands(self, area: pygame.Rect) -> None:
        frame = self.session.latest_frame
        spec = self.session.spec
        self._text("Band power (log10 µV², mean of regions)", area.topleft, DIM)
        if frame is None:
            return
        powers = np.asarray(frame.band_powers).reshape(len(spec.regions), len(spec.bands))
        means = powers.mean(axis=0)
        bar_width = area.width // len(spec.bands)
        low, high = BAND_RANGE
        for j, (name, _, _) in enumerate(spec.bands):
            share = float(np.clip((means[j] - low) / (high - low), 0.0, 1.0))
            bar_height = int(share * (area.height - self.px(50)))
            left = area.left + j * bar_width
            top = area.bottom - self.px(22) - bar_height
            pygame.draw.rect(self.surface, (31, 119, 180),
                             (left + self.px(4), top, bar_width - self.px(8), bar_height))
            self._text(name.replace("low_gamma", "gamma")[:6],
                       (left + self.px(4), area.bottom - self.px(20)), DIM)

    def _draw_step(self, area: pygame.Rect) -> None:
        session, px = self.session, self.px
        self._text(self._verdict_text(), (area.left, area.top), self._verdict_colour())
        step = session.current_step
        if step is None:
            self._draw_outcome(area)
            return
        self._text(f"{step.title} ({step.duration_s:g} s): {self._action()}",
                   (area.left, area.top + px(36)), TEXT)
        self._text(step.instruction, (area.left, area.top + px(64)), TEXT, self.big_font)
        if session.state == RECORDING:
            countdown = self.huge_font.render(f"{self.seconds_left} s", True, TEXT)
            self.surface.blit(countdown, countdown.get_rect(topright=(area.right, area.top)))
        bar = pygame.Rect(area.left, area.bottom - px(24), area.width, px(18))
        pygame.draw.rect(self.surface, DIM, bar, 1)
        filled = bar.copy()
        filled.width = int(bar.width * session.progress)
        pygame.draw.rect(self.surface, STATE_RGB[GOOD], filled)
        if session.state == RECORDING and step.name == "baseline":
            _draw_cross(self.surface, (int(area.width * 0.6), area.top + px(85)), px(20))
        if self.message:
            self._text(self.message, (area.left, area.top + px(110)), DIM)

    def _action(self) -> str:
        if self.session.state == RECORDING:
            return "recording; Space ends it early, R starts it again"
        if self.session.step_index > 0:
            return "press Space to start (R repeats the last step)"
        return "press Space to start"

    def _draw_outcome(self, area: pygame.Rect) -> None:
        """After the last step: the next steps in the failure colour, or the message."""
        y = area.top + self.px(36)
        for line in self.advice:
            self._text(line, (area.left, y), FAILURE)
            y += self.px(LINE_HEIGHT + 4)
        self._text(self.message or "Calibration done.", (area.left, y), TEXT)

    @property
    def seconds_left(self) -> int:
        """Whole seconds the running step still records (rounded up)."""
        step = self.session.current_step
        if step is None or self.session.state != RECORDING:
            return 0
        return math.ceil(step.duration_s * (1.0 - self.session.progress) - 1e-6)

    @property
    def advice(self) -> list[str]:
        """What the operator should do next after a failed calibration (empty otherwise)."""
        if self.result is None:
            return []
        return [f"Next: {line[0].upper()}{line[1:]}." for line in next_steps(self.result)]

    def _verdict_text(self) -> str:
        if self.result is not None:
            return verdict_line(self.result)
        latest = self.session.monitor.latest()
        if latest is None:
            return "Verdict: waiting for signal"
        n_good = sum(c.state == GOOD for c in latest.channels)
        return f"Now: {n_good}/{len(latest.channels)} channels good"

    def _verdict_colour(self) -> tuple[int, int, int]:
        if self.result is not None:
            return STATE_RGB[GOOD] if passed(self.result) else FAILURE
        return TEXT

    def _states(self) -> dict[str, str]:
        latest = self.session.monitor.latest()
        return {} if latest is None else {c.name: c.state for c in latest.channels}

    def _text(self, text: str, position, colour, font=None) -> None:
        image = (font or self.font).render(text, True, colour)
        self.surface.blit(image, position)


def _check_display(display: int) -> None:
    count = pygame.display.get_num_displays()
    if not 0 <= display < count:
        raise ConfigError(f"--display {display} does not exist; this machine has {count} "
                          f"display(s), numbered from 0.")


def _trace_points(values: np.ndarray, left: int, right: int, centre: float, half: float):
    """Screen points of one trace, one per pixel column at most, clipped to its row."""
    columns = min(values.size, right - left)
    picks = np.linspace(0, values.size - 1, columns).astype(int)
    xs = np.linspace(left, right, columns)
    ys = centre - np.clip(values[picks] / TRACE_SCALE_UV, -1.0, 1.0) * half * 0.9
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


def _draw_cross(surface, centre, arm: int) -> None:
    x, y = centre
    width = max(2, arm // 7)
    pygame.draw.line(surface, TEXT, (x - arm, y), (x + arm, y), width)
    pygame.draw.line(surface, TEXT, (x, y - arm), (x, y + arm), width)


def run_screen(source_spec: str, spec, out_dir, baseline_s: float, eyes_closed_s: float,
               display: int = 0, fullscreen: bool = False) -> int:
    """Open the source and the window and run frames until the operator quits.

    Returns
    -------
    int
        0 when the outputs were written, 1 when the operator quit before the end.
    """
    steps = default_steps(baseline_s, eyes_closed_s)
    source = open_source(source_spec)
    info = source.open()
    screen = None
    try:
        session = CalibrationSession(info, spec, steps, source=source_spec)
        screen = CalibrationScreen(session, source, out_dir, display, fullscreen=fullscreen)
        clock = pygame.time.Clock()
        while screen.step():
            clock.tick(FPS)
    finally:
        if screen is not None:
            screen.close()
        source.close()
    if screen.result is None:
        print("calibration quit before the steps were done; nothing written")
        return 1
    print_verdict(screen.result, screen.paths)
    return 0
