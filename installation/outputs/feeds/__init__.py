"""Outbound feeds of the show to other software: OSC and an LSL outlet, hop by hop.

Nothing here listens or waits: :class:`~installation.outputs.feeds.hub.FeedHub` takes each hop's
:class:`~installation.outputs.feeds.hop.HopReport` from the steering thread without blocking and
sends it from a thread of its own; a feed that fails is logged once and shown in the HUD.
"""

from installation.outputs.feeds.hop import HopReport, hop_report
from installation.outputs.feeds.hub import FeedHub

__all__ = ["FeedHub", "HopReport", "hop_report"]
