"""The operator's calibration screen (pygame): live traces, channel states, guided steps.

:class:`CalibrationScreen` is driven one frame at a time by :meth:`CalibrationScreen.step`
(handle events, read the source, draw), so a test can post key events and step it with the
dummy video driver. Space or Enter starts the next step (or ends the running one early); Esc
quits. When the last step ends the outputs are written and the verdict stays on screen.
"""

from __future__ import annotations

import numpy as np
import pygame

from calibration.quality import GOOD
from calibration.report import write_calibration
from calibration.session import DONE, RECORDING, WAITING, CalibrationSession, default_steps
from installation.errors import ConfigError, InstallationError
from installation.sources import EndOfStream, open_source
from installation.sources.base import Source

SIZE = (1280, 720)
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
        Window size in pixels.
    """

    def __init__(self, session: CalibrationSession, source: Source, out_dir, display: int = 0,
                 size: tuple[int, int] = SIZE) -> None:
        self.session = session
        self.source = source
        self.out_dir = out_dir
        self.result = None
        self.paths: dict = {}
        self.message = ""
        self.source_ended = False
        self._finish_failed = False
        pygame.display.init()
        pygame.font.init()
        try:
            _check_display(display)
        except ConfigError:
            pygame.display.quit()
            raise
        self.surface = pygame.display.set_mode(size, display=display)
        pygame.display.set_caption("EEG painting: calibration")
        self.font = pygame.font.Font(None, 24)
        self.big_font = pygame.font.Font(None, 44)

    def step(self) -> bool:
        """Handle events, read the source, draw one frame; False once the operator quits."""
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                return False
            if event.type == pygame.KEYDOWN and not self._on_key(event.key):
                return False
        self._read_source()
        self._finish_when_done()
        self.draw()
        pygame.display.flip()
        return True

    def close(self) -> None:
        """Close the window (the source is the caller's)."""
        pygame.display.quit()

    def _on_key(self, key: int) -> bool:
        if key == pygame.K_ESCAPE:
            return False
        if key in START_KEYS:
            if self.session.state == WAITING and not self.source_ended:
                self.session.start_step()
            elif self.session.state == RECORDING:
                self.session.advance()
        return True

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
        self._draw_traces(pygame.Rect(20, 20, int(width * 0.6), height - 200))
        self._draw_channel_states(pygame.Rect(int(width * 0.6) + 40, 20, 300, height - 380))
        self._draw_bands(pygame.Rect(int(width * 0.6) + 40, height - 340, 300, 130))
        self._draw_step(pygame.Rect(20, height - 170, width - 40, 150))

    def _draw_traces(self, area: pygame.Rect) -> None:
        data = self.session.monitor.recent_filtered()
        names = self.session.info.channel_names[:MAX_TRACES]
        states = self._states()
        row = area.height / max(1, len(names))
        for i, name in enumerate(names):
            centre = area.top + (i + 0.5) * row
            colour = STATE_RGB.get(states.get(name, GOOD), TEXT)
            self._text(name, (area.left, centre - 8), colour)
            if data.shape[1] < 2:
                continue
            points = _trace_points(data[i], area.left + 60, area.right, centre, row / 2)
            pygame.draw.lines(self.surface, colour, False, points)

    def _draw_channel_states(self, area: pygame.Rect) -> None:
        latest = self.session.monitor.latest()
        self._text("Channels (last 3 s)", area.topleft, DIM)
        if latest is None:
            self._text("waiting for 3 s of signal...", (area.left, area.top + 28), DIM)
            return
        # Bad channels first: with 64 channels only those that need the operator fit.
        channels = sorted(latest.channels, key=lambda c: c.state == GOOD)
        fits = max(1, (area.height - 30) // LINE_HEIGHT)
        if len(channels) > fits:
            channels, rest = channels[: fits - 1], len(channels) - fits + 1
        else:
            rest = 0
        for i, channel in enumerate(channels):
            y = area.top + 28 + i * LINE_HEIGHT
            colour = STATE_RGB[channel.state]
            pygame.draw.rect(self.surface, colour, (area.left, y + 3, 12, 12))
            self._text(f"{channel.name}: {channel.state} {_figure(channel)}",
                       (area.left + 20, y), colour)
        if rest:
            n_bad = sum(c.state != GOOD for c in latest.channels) - sum(
                c.state != GOOD for c in channels)
            more = f"+{rest} more ({n_bad} with a problem)" if n_bad else f"+{rest} more, all good"
            self._text(more, (area.left + 20, area.top + 28 + len(channels) * LINE_HEIGHT), DIM)

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
            bar_height = int(share * (area.height - 50))
            left = area.left + j * bar_width
            top = area.bottom - 22 - bar_height
            pygame.draw.rect(self.surface, (31, 119, 180), (left + 4, top, bar_width - 8,
                                                            bar_height))
            self._text(name.replace("low_gamma", "gamma")[:6], (left + 4, area.bottom - 20), DIM)

    def _draw_step(self, area: pygame.Rect) -> None:
        session = self.session
        self._text(self._verdict_text(), (area.left, area.top), self._verdict_colour())
        step = session.current_step
        if step is None:
            self._text(self.message or "Calibration done.", (area.left, area.top + 40), TEXT)
            return
        action = "recording" if session.state == RECORDING else "press Space to start"
        self._text(f"{step.title} ({step.duration_s:g} s): {action}",
                   (area.left, area.top + 40), TEXT)
        self._text(step.instruction, (area.left, area.top + 70), TEXT, self.big_font)
        bar = pygame.Rect(area.left, area.bottom - 24, area.width, 18)
        pygame.draw.rect(self.surface, DIM, bar, 1)
        filled = bar.copy()
        filled.width = int(bar.width * session.progress)
        pygame.draw.rect(self.surface, STATE_RGB[GOOD], filled)
        if session.state == RECORDING and step.name == "baseline":
            _draw_cross(self.surface, (int(area.width * 0.8), area.top + 85))
        if self.message:
            self._text(self.message, (area.left + area.width // 2, area.top + 40), DIM)

    def _verdict_text(self) -> str:
        if self.result is not None:
            quality = self.result.quality
            text = f"Verdict: signal {quality.verdict}"
            if self.result.alpha is not None:
                outcome = "passed" if self.result.alpha.passed else "failed"
                text += f"; eyes-closed alpha x{self.result.alpha.ratio:.1f} {outcome}"
            return text
        latest = self.session.monitor.latest()
        if latest is None:
            return "Verdict: waiting for signal"
        n_good = sum(c.state == GOOD for c in latest.channels)
        return f"Now: {n_good}/{len(latest.channels)} channels good"

    def _verdict_colour(self) -> tuple[int, int, int]:
        if self.result is not None:
            return STATE_RGB[GOOD] if self.result.quality.verdict == GOOD else STATE_RGB["railed"]
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


def _figure(channel) -> str:
    """The figure behind a channel's state, for its label."""
    if channel.state == "railed":
        return f"{100 * channel.railed_share:.0f}% at rail"
    if channel.state == "line_noise" and channel.line_log_ratio is not None:
        return f"line {channel.line_log_ratio:.2f}"
    if channel.state == "flat":
        return f"std {channel.raw_std_uv:.2f} µV"
    return f"{channel.rms_uv:.0f} µV rms"


def _trace_points(values: np.ndarray, left: int, right: int, centre: float, half: float):
    """Screen points of one trace, one per pixel column at most, clipped to its row."""
    columns = min(values.size, right - left)
    picks = np.linspace(0, values.size - 1, columns).astype(int)
    xs = np.linspace(left, right, columns)
    ys = centre - np.clip(values[picks] / TRACE_SCALE_UV, -1.0, 1.0) * half * 0.9
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


def _draw_cross(surface, centre) -> None:
    x, y = centre
    pygame.draw.line(surface, TEXT, (x - 20, y), (x + 20, y), 3)
    pygame.draw.line(surface, TEXT, (x, y - 20), (x, y + 20), 3)


def run_screen(source_spec: str, spec, out_dir, baseline_s: float, eyes_closed_s: float,
               display: int = 0) -> int:
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
        screen = CalibrationScreen(session, source, out_dir, display)
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
    for path in screen.paths.values():
        print(f"wrote {path}")
    return 0
