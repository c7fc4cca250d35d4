"""The control channel's address space: an OSC message in, a :class:`Command` or a refusal out.

Every value is hostile until checked: a switch takes 0 or 1 (an integer, a finite float, an OSC
true/false, or the strings ``0``/``1``/``on``/``off``); anything else is malformed. A trigger
(``/show/calibrate``, ``/show/snapshot``) fires with no argument or a non-zero first one, so a
TouchDesigner button that sends 1 on press and 0 on release fires once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PREFIX = "/show"
TRIGGERS = ("calibrate", "snapshot")
SWITCHES = ("hud", "blackout")
ADDRESSES = tuple(f"{PREFIX}/{name}" for name in TRIGGERS + SWITCHES)
_ON_WORDS = {"1": True, "on": True, "true": True, "0": False, "off": False, "false": False}


@dataclass(frozen=True)
class Command:
    """One thing the show is told: ``name`` (``hud``, ...) and, for a switch, on or off."""

    name: str
    on: bool = True


@dataclass(frozen=True)
class Refusal:
    """Why a message is ignored: ``kind`` (``unknown`` or ``malformed``) and a sentence."""

    kind: str
    address: str
    reason: str


def parse_command(address, args) -> Command | Refusal | None:
    """The command an OSC message asks for.

    Parameters
    ----------
    address : str
        The OSC address, e.g. ``/show/hud``.
    args : sequence
        The message's arguments as python-osc decoded them.

    Returns
    -------
    Command, Refusal or None
        None for a trigger's release (a first argument of 0): nothing to do, nothing wrong.
    """
    if not isinstance(address, str) or address not in ADDRESSES:
        return Refusal("unknown", str(address)[:80], "not an address of the control channel")
    name = address[len(PREFIX) + 1:]
    if name in TRIGGERS:
        return _trigger(name, address, args)
    if len(args) != 1:
        return Refusal("malformed", address, f"takes one argument, 0 or 1, got {len(args)}")
    on = switch_value(args[0])
    if on is None:
        return Refusal("malformed", address, f"takes 0 or 1, got {_shown(args[0])}")
    return Command(name, on)


def _trigger(name: str, address: str, args) -> Command | Refusal | None:
    if not args:
        return Command(name)
    fire = switch_value(args[0])
    if fire is None:
        return Refusal("malformed", address, f"takes no argument or 1, got {_shown(args[0])}")
    return Command(name) if fire else None


def switch_value(value) -> bool | None:
    """``value`` as on/off, or None when it is neither (NaN, 0.5, a blob, a word)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {0: False, 1: True}.get(value)
    if isinstance(value, float):
        return {0.0: False, 1.0: True}.get(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return _ON_WORDS.get(value.strip().lower())
    return None


def _shown(value) -> str:
    """A short, safe rendering of a hostile value for a log line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
