"""The control channel (``--control``): OSC in from the gallery's tools.

Commands run on the display's thread; docs/show.md lists the address space.

The live show holds it through :class:`installation.control.show_control.ShowControl` (kept out
of this face: it needs the screen, and the config needs only the light modules below).
"""

from installation.control.channel import ControlChannel, merged, parse_control_target
from installation.control.handlers import ControlHandlers
from installation.control.messages import ADDRESSES, Command, Refusal, parse_command

__all__ = ["ADDRESSES", "Command", "ControlChannel", "ControlHandlers", "Refusal", "merged",
           "parse_command", "parse_control_target"]
