"""The control channel as the live show holds it, and the handlers of the window and headless loop.

:class:`ShowControl` holds the channel (when asked for), the calibration hook and where show
events go, with one :meth:`ShowControl.drain` a frame.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from installation.control.channel import ControlChannel
from installation.control.handlers import ControlHandlers, Trigger
from installation.screen.display import DisplayLoop, free_path, snapshot_name
from installation.screen.headless import HeadlessLoop, save_png
from installation.screen.hud import ShowStatus

log = logging.getLogger(__name__)

EventSink = Callable[[str, "float | None", str], None]


def log_event(kind: str, eeg_time: float | None, detail: str) -> None:
    """A show event (``blackout_on``, ...) in the log: the default sink of :class:`ShowControl`."""
    when = "before any EEG" if eeg_time is None else f"at EEG {eeg_time:.2f} s"
    log.info("%s %s (%s)", kind, when, detail)


@dataclass
class ShowControl:
    """What steers the live show from outside its keys.

    Attributes
    ----------
    channel : ControlChannel or None
        The OSC channel (``--control``); None when not asked for.
    calibrate : callable or None
        Starts an in-show calibration (None when the show has none): returns None when started,
        else the one-sentence reason it was refused.
    on_event : callable
        Takes ``(kind, eeg_time or None, detail)`` for each show event the loops make
        (``blackout_on``, ``blackout_off``; detail ``key`` or ``control``), e.g. the session
        recorder's ``add_event``.
    """

    channel: ControlChannel | None = None
    calibrate: Trigger | None = None
    on_event: EventSink = log_event

    @classmethod
    def open(cls, target: str | None, status: ShowStatus, calibrate: Trigger | None = None,
             on_event: EventSink = log_event) -> ShowControl:
        """Listen on ``target`` (``--control``; None: no channel), its lines in the HUD.

        A port that cannot be had is a ConfigError sentence.
        """
        channel = None
        if target:
            channel = ControlChannel(target, status.note).start()
            status.line_sources.append(channel.status_lines)
        return cls(channel, calibrate, on_event)

    def drain(self, handlers: ControlHandlers) -> None:
        """Run the commands that came since the last frame (on the display's thread)."""
        if self.channel is not None:
            self.channel.drain(handlers)

    def summary_lines(self) -> list[str]:
        """What the channel did, for the show's closing message (none without a channel)."""
        return [] if self.channel is None else self.channel.status_lines()[:1]

    def close(self) -> None:
        """Release the port."""
        if self.channel is not None:
            self.channel.close()


def window_handlers(display: DisplayLoop, calibrate: Trigger | None = None) -> ControlHandlers:
    """The gallery window's handlers: as its keys S, H and B do, plus ``calibrate``."""

    def blackout(on: bool) -> None:
        display.set_blackout(on, "control")

    return ControlHandlers(snapshot=display.request_snapshot, hud=display.set_hud,
                           blackout=blackout, calibrate=calibrate)


def headless_handlers(loop: HeadlessLoop, snapshot_dir: str | Path, saved: list[Path],
                      calibrate: Trigger | None = None) -> ControlHandlers:
    """The headless show's handlers: a snapshot is a PNG of the painting, the HUD is absent.

    Parameters
    ----------
    loop : HeadlessLoop
        The loop writing the frames.
    snapshot_dir : str or Path
        Where snapshots go (``--snapshots``).
    saved : list of Path
        Each snapshot's path is appended (the show's summary lists them).
    calibrate : callable, optional
        The in-show calibration's ``request``.
    """

    def snapshot() -> str | None:
        if loop.painting is None:
            return "no painting yet to snapshot."
        folder = Path(snapshot_dir)
        folder.mkdir(parents=True, exist_ok=True)
        eeg_time = None if loop.keyframe is None else loop.keyframe.eeg_time
        path = free_path(folder / snapshot_name(eeg_time))
        save_png(loop.painting, path)
        saved.append(path)
        log.info("snapshot saved to %s", path)
        return None

    def hud(on: bool) -> str:
        return "the headless show draws no HUD; /show/hud has nothing to show or hide."

    def blackout(on: bool) -> None:
        loop.set_blackout(on, "control")

    return ControlHandlers(snapshot=snapshot, hud=hud, blackout=blackout, calibrate=calibrate)
