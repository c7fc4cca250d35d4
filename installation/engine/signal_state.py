"""The EEG signal's state as the show tells it: one typed value, moved by events from one owner.

The steering worker owns "lost" and "back" (it sees whether samples flow, on the show's own
clock); the source thread only says it is reconnecting or reconnected, which leaves the state
where it is, so a reconnected headset reads "lost" until its samples actually arrive.
"""

from __future__ import annotations

from installation.eeg.sources.base import EventKind, ValueEnum


class Signal(ValueEnum):
    """Where the EEG signal stands (each compares equal to its string value).

    ``WAITING`` until the first keyframe painted from samples, then ``OK`` or ``LOST``;
    ``ENDED`` once a recording has played out.
    """

    WAITING = "waiting"
    OK = "ok"
    LOST = "lost"
    ENDED = "ended"


_AFTER_EVENT = {
    EventKind.SIGNAL_LOST: Signal.LOST,
    EventKind.SIGNAL_BACK: Signal.OK,
    EventKind.ENDED: Signal.ENDED,
}


def signal_after(current: Signal, kind) -> Signal:
    """The state after an event of ``kind``; events that say nothing of samples keep it.

    Parameters
    ----------
    current : Signal
        The state before.
    kind : EventKind or str
        The event's kind.

    Returns
    -------
    Signal
    """
    if current is Signal.ENDED:
        return current
    return _AFTER_EVENT.get(kind, current)


def signal_after_keyframe(current: Signal, painted_while_lost: bool) -> Signal:
    """The state once a keyframe is shown: the first one painted from samples means ``OK``."""
    if current is Signal.WAITING and not painted_while_lost:
        return Signal.OK
    return current
