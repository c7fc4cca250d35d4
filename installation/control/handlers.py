"""What each control command does in a show, as a table of callables the show fills.

A handler runs on the display's thread (the channel's :meth:`drain`) and may answer a sentence
for the HUD (a refusal, say); None means done. A handler left None is not available in this
show, and the channel says so in the HUD. :mod:`installation.control.show_control` fills the
table for the window and for the headless loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Trigger = Callable[[], "str | None"]
Switch = Callable[[bool], "str | None"]


@dataclass
class ControlHandlers:
    """The show's answer to each command; None: not available in this show.

    Attributes
    ----------
    snapshot : callable or None
        Saves the painting as a PNG in the snapshots folder.
    hud : callable or None
        Takes True to show the HUD, False to hide it.
    blackout : callable or None
        Takes True to fade to the mat colour, False to fade back to the painting.
    calibrate : callable or None
        Starts an in-show calibration; returns None when it started, else the one-sentence
        reason it was refused (the in-show calibration's ``request``).
    """

    snapshot: Trigger | None = None
    hud: Switch | None = None
    blackout: Switch | None = None
    calibrate: Trigger | None = None

    @staticmethod
    def unavailable(name: str) -> str:
        """The HUD's sentence for a command this show cannot do."""
        if name == "calibrate":
            return ("in-show calibration is not available in this show; stop it and run "
                    "python -m calibration.")
        return f"/show/{name} is not available in this show."
