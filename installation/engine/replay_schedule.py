"""A recorded session played again: its profiles and blackouts at the EEG times they came.

A session folder (``--record``) remembers each profile that came into use and each blackout
(:mod:`~installation.eeg.sources.files.session_timeline`). When the show plays such a folder
(``--source file:SESSION``), :class:`ReplaySchedule` hands the steering the profile of each
stretch at the EEG time it began, as the live show did after an in-show calibration, and, in
an offline render, the blackouts to the headless loop at the EEG times the wall faded.

The two clocks: the recorded times count on the live source's clock, while a replayed session
counts from its first sample (:func:`~installation.eeg.sources.files.session_folder.
read_session_folder`); :attr:`ReplaySchedule.offset`, the first recorded timestamp, lies
between them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from installation.eeg.profile import profiled_extractor
from installation.eeg.sources.files.session_folder import (
    is_session_folder,
    read_header,
    session_eeg_span,
)
from installation.eeg.sources.files.session_timeline import (
    ProfileStretch,
    read_profile_timeline,
    read_session_events,
)
from installation.engine.profile_ramp import DEFAULT_RAMP_S
from installation.errors import ConfigError

log = logging.getLogger(__name__)

BLACKOUT_KINDS = {"blackout_on": True, "blackout_off": False}


class Cues:
    """Moments on one clock, oldest first, each handed out once when the clock reaches it.

    Parameters
    ----------
    cues : list of (float, object)
        ``(time, what)``; times made never to fall, so the order given is kept.
    """

    def __init__(self, cues: list[tuple[float, object]]) -> None:
        reached, ordered = -math.inf, []
        for time, what in cues:
            reached = max(reached, time)
            ordered.append((reached, what))
        self._cues = ordered
        self._next = 0

    def __len__(self) -> int:
        return len(self._cues) - self._next

    @property
    def next_time(self) -> float | None:
        """Time of the next cue still to come; None when all were handed out."""
        return self._cues[self._next][0] if self._next < len(self._cues) else None

    def due(self, now: float) -> list[tuple[float, object]]:
        """The cues whose time ``now`` has reached (a nanosecond's slack), oldest first."""
        start = self._next
        while self._next < len(self._cues) and self._cues[self._next][0] <= now + 1e-9:
            self._next += 1
        return self._cues[start:self._next]


@dataclass
class ReplaySchedule:
    """What a replayed session did when: the profile of each stretch, the blackouts.

    Attributes
    ----------
    folder : Path
        The session folder.
    offset : float
        The first recorded timestamp: a recorded EEG time less it is the replay's.
    start : ProfileStretch
        The first stretch (its profile z-scores the replay from its first sample).
    switches : Cues
        Each later :class:`ProfileStretch`, at its start on the replay's clock.
    blackouts : Cues
        ``True`` (fade to the mat) or ``False`` (back) on the replay's clock; a blackout
        logged before any EEG (no EEG time) counts from the first sample (0).
    """

    folder: Path
    offset: float
    start: ProfileStretch
    switches: Cues = field(default_factory=lambda: Cues([]))
    blackouts: Cues = field(default_factory=lambda: Cues([]))

    @classmethod
    def read(cls, folder: str | Path) -> ReplaySchedule:
        """The schedule of a session folder (damaged lines skipped with a warning, never raised).

        Parameters
        ----------
        folder : str or Path
            A folder written by ``--record``.

        Returns
        -------
        ReplaySchedule
        """
        folder = Path(folder)
        span = session_eeg_span(folder, len(read_header(folder)["channel_names"]))
        offset = span[0] if span is not None else 0.0
        first, *later = read_profile_timeline(folder)
        switches = Cues([(stretch.start - offset, stretch) for stretch in later
                         if stretch.start is not None])
        blackouts = Cues([(0.0 if e.eeg_time is None else e.eeg_time - offset,
                           BLACKOUT_KINDS[e.kind])
                          for e in read_session_events(folder) if e.kind in BLACKOUT_KINDS])
        return cls(folder, offset, first, switches, blackouts)

    @classmethod
    def for_source(cls, source) -> ReplaySchedule | None:
        """The schedule of the session folder a file source plays; None for any other source."""
        path = getattr(source, "path", None)
        if not isinstance(path, Path) or not is_session_folder(path.expanduser()):
            return None
        return cls.read(path.expanduser())

    def samples_to_switch(self, last_time: float | None, sample_rate: float) -> int | None:
        """Samples to read so that the last one falls on the next profile's start.

        Parameters
        ----------
        last_time : float or None
            The replay's timestamp of the last sample read; None before the first (which the
            replay stamps 0).
        sample_rate : float
            Nominal samples per second.

        Returns
        -------
        int or None
            At least 1; None when no switch is to come.
        """
        due = self.switches.next_time
        if due is None:
            return None
        last = -1.0 / sample_rate if last_time is None else last_time
        return max(1, round((due - last) * sample_rate))


def start_profile(schedule: ReplaySchedule, given: dict | None) -> dict | None:
    """The profile a replay starts with: ``--profile`` where given (logged), else the session's."""
    if given is not None:
        log.info("profile: --profile is given and z-scores the replay of %s from its start, "
                 "in place of the session's own; the session's later profiles still take "
                 "over at their EEG times (%d to come)", schedule.folder, len(schedule.switches))
        return given
    log.info("profile: the session's own (%s) from its start, %d more at the EEG times they "
             "came into use", schedule.start.file or "a running baseline",
             len(schedule.switches))
    return schedule.start.profile


def switch_to_stretch(worker, spec, info, stretch: ProfileStretch, on_started=None) -> bool:
    """Hand ``worker``'s steering over to a stretch's profile, ramped as after a calibration.

    Parameters
    ----------
    worker : SteeringWorker
        The replay's steering.
    spec : FeatureSpec
        The model's feature spec.
    info : StreamInfo
        The replayed stream.
    stretch : ProfileStretch
        The stretch beginning now.
    on_started : callable, optional
        Called with the EEG time the ramp starts at.

    Returns
    -------
    bool
        False where the stretch's profile file was unusable or does not fit the stream (a
        warning; the profile in use stays).
    """
    if stretch.profile is None and stretch.file is not None:  # unusable: warned on reading
        log.warning("replay: the session's profile %s is unusable; the one in use stays",
                    stretch.file)
        return False
    try:
        extractor = profiled_extractor(spec, info, stretch.profile)
    except ConfigError as exc:
        log.warning("replay: the session's profile %s does not fit (%s); the one in use stays",
                    stretch.file, exc)
        return False
    worker.switch_extractor(extractor, DEFAULT_RAMP_S, on_started)
    return True
