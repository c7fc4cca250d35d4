"""What the operator sees over the painting: rates, latency, source, signal state, errors."""

from __future__ import annotations

import logging
import threading
from collections import deque

from installation.eeg.sources.base import EventKind, SourceEvent
from installation.engine.signal_state import Signal, signal_after, signal_after_keyframe
from installation.screen.quiet_pygame import pygame

log = logging.getLogger(__name__)


class RateMeter:
    """Events per second over the last ``span_s`` seconds.

    Parameters
    ----------
    span_s : float
        Length of the sliding window.
    """

    def __init__(self, span_s: float = 2.0) -> None:
        self.span_s = span_s
        self._times: deque[float] = deque()
        self.count = 0

    def tick(self, t: float) -> None:
        """Count one event at time ``t`` (seconds)."""
        self._times.append(t)
        self.count += 1
        self._forget(t)

    def rate(self, t: float) -> float:
        """Events per second in the window ending at ``t``."""
        self._forget(t)
        if len(self._times) < 2:
            return 0.0
        elapsed = max(t, self._times[-1]) - self._times[0]
        return (len(self._times) - 1) / elapsed if elapsed > 0 else 0.0

    def _forget(self, t: float) -> None:
        while self._times and self._times[0] < t - self.span_s:
            self._times.popleft()


class ShowStatus:
    """The show's state as the HUD and the app see it, updated from events of any thread.

    Parameters
    ----------
    source_description : str
        What the source is (from its StreamInfo).
    provider : str
        The generator's execution provider.
    """

    def __init__(self, source_description: str = "", provider: str = "") -> None:
        self.source_description = source_description
        self.provider = provider
        self.signal = Signal.WAITING
        self.last_error = ""
        self.ended = False
        self.masked_channels: tuple[str, ...] = ()
        self.waiting_for = ""  # what the show waits for before its source first connects
        self.waiting_reason = ""  # why the last attempt found nothing
        self.failure = None  # an InstallationError that ends the show (exit 2)
        self._lock = threading.Lock()
        self.events: list[SourceEvent] = []
        self.line_sources: list = []  # callables giving extra HUD lines (outputs' states)
        # callables giving lines shown even while the HUD is hidden (a calibration's countdown)
        self.overlay_sources: list = []
        self.stream = None  # the source's StreamInfo once open: a recording's annotations
        self.caption = ""  # the annotation of the EEG behind the painting shown ("eyes closed")

    def wait_for(self, what: str) -> None:
        """Say the show waits for ``what`` (e.g. "LSL stream Muse") before it can listen."""
        self.waiting_for = what
        self.signal = Signal.WAITING

    def still_waiting(self, reason: str) -> None:
        """Say why the last attempt to open the source found nothing."""
        self.waiting_reason = reason

    def connected(self, description: str) -> None:
        """The source is open: the HUD names it and the waiting lines go."""
        self.source_description = description
        self.waiting_for = self.waiting_reason = ""
        self.note(SourceEvent(EventKind.INFO, f"Connected to {description}."))

    def fail(self, error) -> None:
        """End the show with ``error`` (an InstallationError), shown and logged first."""
        self.note(SourceEvent(EventKind.ERROR, str(error)))
        self.failure = error

    def note(self, event: SourceEvent) -> None:
        """Take an event from the source or steering thread: log it and update the state."""
        warn = event.kind in (EventKind.ERROR, EventKind.SIGNAL_LOST)
        log.log(logging.WARNING if warn else logging.INFO, "%s: %s", event.kind, event.message)
        with self._lock:
            self.events.append(event)
            if event.kind == EventKind.ERROR:
                self.last_error = event.message
            elif event.kind == EventKind.ENDED:
                self.ended = True
            self.signal = signal_after(self.signal, event.kind)

    def took_keyframe(self, keyframe) -> None:
        """Take the state of a keyframe just shown: its masked channels, and the signal flowing.

        A keyframe painted while the signal was lost does not count as signal.
        """
        self.masked_channels = keyframe.masked_channels
        with self._lock:
            self.signal = signal_after_keyframe(self.signal, keyframe.signal_lost)
        if self.stream is not None:
            self._follow_caption(keyframe.eeg_time)

    def _follow_caption(self, eeg_time: float) -> None:
        """Caption the painting with the recording's annotation of its EEG; say when it turns."""
        caption = self.stream.annotation_at(eeg_time)
        if caption != self.caption:
            self.caption = caption
            if caption:
                self.note(SourceEvent(EventKind.INFO, f"The recording says '{caption}' from "
                                                      f"EEG {eeg_time:.1f} s on."))


HUD_FONT_PX_AT_720 = 22  # the font's pixel height on a 720-line screen
HUD_MIN_FONT_PX = 12
HUD_REFRESH_S = 0.25  # the text is re-rendered at most this often (fps figures change every frame)
HUD_TEXT = (255, 255, 255)
HUD_BOX = (0, 0, 0, 160)


def hud_font_px(screen_height: int) -> int:
    """Pixel height of the HUD's font on a screen ``screen_height`` lines tall.

    Proportional to the screen (22 px at 720 lines, 33 at 1080, 66 at 2160), so the HUD reads
    the same from across the room on any screen, and never below a legible minimum.
    """
    return max(HUD_MIN_FONT_PX, int(round(HUD_FONT_PX_AT_720 * screen_height / 720)))


class Hud:
    """Lines of text in a translucent box in the top-left corner, sized to the screen.

    :meth:`render` gives the box as a small surface and re-renders it only when the text
    changed, at most every ``refresh_s`` seconds, so the HUD costs little per frame whichever
    path draws it (a blit, or a texture).

    Parameters
    ----------
    font_size : int
        Pixel height of the default font (see :meth:`fit_screen` to follow the screen).
    refresh_s : float
        Shortest time between two renderings of changed text.
    """

    def __init__(self, font_size: int = HUD_FONT_PX_AT_720,
                 refresh_s: float = HUD_REFRESH_S) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.refresh_s = float(refresh_s)
        self.visible = False
        self.font_size = 0
        self.font: pygame.font.Font | None = None
        self._set_font_size(font_size)

    def _set_font_size(self, font_size: int) -> None:
        self.font_size = int(font_size)
        self.font = pygame.font.Font(None, self.font_size)
        self._lines: list[str] | None = None  # what the cached surface says
        self._surface: pygame.Surface | None = None
        self._rendered_at = float("-inf")

    @property
    def margin(self) -> int:
        """Distance of the box from the screen's corner, in pixels (grows with the font)."""
        return max(4, self.font_size * 8 // 22)

    def fit_screen(self, screen_height: int) -> None:
        """Size the font for a screen ``screen_height`` lines tall (see :func:`hud_font_px`)."""
        font_size = hud_font_px(screen_height)
        if font_size != self.font_size:
            self._set_font_size(font_size)

    def toggle(self) -> None:
        """Show or hide."""
        self.visible = not self.visible

    def render(self, lines: list[str], now: float, force: bool = False) -> pygame.Surface | None:
        """The box with ``lines`` as a surface with alpha, or None when hidden or empty.

        Parameters
        ----------
        lines : list of str
            The text, one entry a line.
        now : float
            Seconds (any clock): changed text is re-rendered only ``refresh_s`` after the last
            rendering, so the surface returned is the same object in between.
        force : bool
            Render even when hidden (while the show waits for its source, the operator must
            see what it waits for).
        """
        if not (self.visible or force) or not lines:
            return None
        stale = self._lines != lines and now - self._rendered_at >= self.refresh_s
        if self._surface is None or stale:
            self._surface = self._box(lines)
            self._lines = list(lines)
            self._rendered_at = now
        return self._surface

    def _box(self, lines: list[str]) -> pygame.Surface:
        rendered = [self.font.render(line, True, HUD_TEXT) for line in lines]
        pad, gap = self.margin, max(1, self.font_size // 11)
        width = max(r.get_width() for r in rendered) + 2 * pad
        height = sum(r.get_height() + gap for r in rendered) + pad + pad // 2
        box = pygame.Surface((width, height), pygame.SRCALPHA)
        box.fill(HUD_BOX)
        y = pad * 3 // 4
        for r in rendered:
            box.blit(r, (pad, y))
            y += r.get_height() + gap
        return box


def hud_lines(fps: float, keyframes_per_s: float, latency_ms: float | None,
              status: ShowStatus) -> list[str]:
    """The HUD's text: rates, latency, source and signal, masked channels, last error."""
    latency = "-" if latency_ms is None else f"{latency_ms:.0f} ms"
    lines = [
        f"{fps:5.1f} fps   {keyframes_per_s:4.1f} keyframes/s   latency {latency}",
        f"source: {status.source_description}   signal: {status.signal}",
        f"generator on {status.provider}",
    ]
    if status.waiting_for:
        lines[1] = f"waiting for {status.waiting_for}   signal: {status.signal}"
        if status.waiting_reason:
            lines.insert(2, "last try: " + status.waiting_reason[:120])
    if status.caption:
        lines.insert(1, f"recording: {status.caption}")
    if status.masked_channels:
        lines.append("masked: " + ", ".join(status.masked_channels))
    for source in status.line_sources:
        lines.extend(source())
    lines.extend(overlay_lines(status))
    if status.last_error:
        lines.append("error: " + status.last_error[:120])
    return lines


def overlay_lines(status: ShowStatus) -> list[str]:
    """The lines shown whether or not the HUD is (an in-show calibration's countdown)."""
    return [line for source in status.overlay_sources for line in source()]
