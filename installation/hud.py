"""What the operator sees over the painting: rates, latency, source, signal state, errors."""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections import deque

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
with warnings.catch_warnings():  # pygame 2.6 imports pkg_resources, which warns on import
    warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
    import pygame

from installation.sources.base import SourceEvent  # noqa: E402

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
        self.signal = "waiting"
        self.last_error = ""
        self.ended = False
        self.masked_channels: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self.events: list[SourceEvent] = []

    def note(self, event: SourceEvent) -> None:
        """Take an event from the source or steering thread: log it and update the state."""
        level = logging.WARNING if event.kind in ("error", "signal_lost") else logging.INFO
        log.log(level, "%s: %s", event.kind, event.message)
        with self._lock:
            self.events.append(event)
            if event.kind == "error":
                self.last_error = event.message
            elif event.kind == "signal_lost":
                self.signal = "signal lost"
            elif event.kind == "signal_back":
                self.signal = "ok"
            elif event.kind == "ended":
                self.ended = True
                self.signal = "ended"

    def saw_signal(self) -> None:
        """Mark the signal as flowing (first keyframe from real samples)."""
        if self.signal == "waiting":
            self.signal = "ok"

    def took_keyframe(self, keyframe) -> None:
        """Take the state of a keyframe just shown: its masked channels, and the signal flowing.

        A keyframe painted while the signal was lost does not count as signal.
        """
        self.masked_channels = keyframe.masked_channels
        if not keyframe.signal_lost:
            self.saw_signal()


class Hud:
    """Draws lines of text in a translucent box in the top-left corner.

    Parameters
    ----------
    font_size : int
        Pixel height of the default font.
    """

    def __init__(self, font_size: int = 22) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.font = pygame.font.Font(None, font_size)
        self.visible = False

    def toggle(self) -> None:
        """Show or hide."""
        self.visible = not self.visible

    def draw(self, surface: pygame.Surface, lines: list[str]) -> None:
        """Draw ``lines`` onto ``surface`` when visible."""
        if not self.visible or not lines:
            return
        rendered = [self.font.render(line, True, (255, 255, 255)) for line in lines]
        width = max(r.get_width() for r in rendered) + 16
        height = sum(r.get_height() + 2 for r in rendered) + 12
        box = pygame.Surface((width, height), pygame.SRCALPHA)
        box.fill((0, 0, 0, 160))
        surface.blit(box, (8, 8))
        y = 14
        for r in rendered:
            surface.blit(r, (16, y))
            y += r.get_height() + 2


def hud_lines(fps: float, keyframes_per_s: float, latency_ms: float | None,
              status: ShowStatus) -> list[str]:
    """The HUD's text: rates, latency, source and signal, masked channels, last error."""
    latency = "-" if latency_ms is None else f"{latency_ms:.0f} ms"
    lines = [
        f"{fps:5.1f} fps   {keyframes_per_s:4.1f} keyframes/s   latency {latency}",
        f"source: {status.source_description}   signal: {status.signal}",
        f"generator on {status.provider}",
    ]
    if status.masked_channels:
        lines.append("masked: " + ", ".join(status.masked_channels))
    if status.last_error:
        lines.append("error: " + status.last_error[:120])
    return lines
