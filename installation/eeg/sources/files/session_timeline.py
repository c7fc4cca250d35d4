"""A session folder's profiles in use and its moments (blackouts, calibrations), read back.

The recorder (:class:`~installation.outputs.recorder.SessionRecorder`) logs each profile that
came into use in ``profiles.jsonl`` and each moment of the show in ``events.jsonl``
(:mod:`~installation.eeg.sources.files.session_format`). This module turns them into

- the **profile timeline** (:func:`read_profile_timeline`): which profile z-scored the features
  over which stretch of EEG time, so that a replay, a re-render and ``train.py`` use the right
  one for each stretch (:func:`profile_at`);
- the **events** (:func:`read_session_events`);
- the **wearers** (:func:`wearer_stretches`): the stretches of samples, one per person, where
  each in-show calibration begins a new wearer.

Every line is hostile until checked: a torn, damaged or absurd line is skipped with a warning
(one per file), a profile file that is missing or no usable profile leaves its stretch without
a profile, and nothing here raises for a damaged log. A session of an older version (only
``profile.json``) reads as one stretch with that profile.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from installation.eeg.profile import validate_profile
from installation.eeg.sources.files.session_format import (
    EVENTS_FILE,
    PROFILES_INDEX_FILE,
    SESSION_PROFILE_FILE,
)
from installation.errors import ConfigError

log = logging.getLogger(__name__)

MAX_TIME_S = 1e12  # any clock's seconds; a larger one is damage
MAX_LINE_CHARS = 10_000  # a line of these logs holds a few short fields
MAX_PROFILE_BYTES = 1 << 20  # a profile is a few kB; a bigger file is not read
MAX_TEXT = 500  # characters of a reason or detail kept
# What a line's "file" may name: the start profile or one the recorder numbered; nothing that
# could reach outside the session folder.
PROFILE_FILE_PATTERN = re.compile(r"(profile\.json|profiles/\d{3,9}\.json)")
CALIBRATION_STARTED = "calibration_started"


@dataclass(frozen=True, eq=False)
class ProfileStretch:
    """One profile in use over a stretch of the session's EEG time.

    Attributes
    ----------
    start : float or None
        EEG time (the source's seconds) from which it was in use; None: from the first sample.
    end : float or None
        EEG time at which the next one took over; None: to the end of the session.
    profile : dict or None
        The validated profile; None for the running baseline (no profile), or where its file
        is missing or damaged (a warning says which).
    reason : str
        ``"start"``, ``"calibration"``, ...
    file : str or None
        Its file, relative to the session folder.
    """

    start: float | None
    end: float | None
    profile: dict | None
    reason: str
    file: str | None = None

    def holds(self, eeg_time: float) -> bool:
        """Whether ``eeg_time`` falls in this stretch (start included, end excluded)."""
        return ((self.start is None or eeg_time >= self.start)
                and (self.end is None or eeg_time < self.end))


@dataclass(frozen=True)
class ShowEvent:
    """One line of ``events.jsonl``.

    Attributes
    ----------
    kind : str
        ``blackout_on``, ``blackout_off``, ``calibration_started``, ``calibration_done``,
        ``calibration_refused``, ...
    eeg_time : float or None
        EEG time of the moment; None when no EEG had come.
    show_s : float or None
        Seconds since the recording began (the show's clock), where logged and sane.
    wall_time : float or None
        Unix time of the moment, where logged and sane.
    detail : str
        The verdict of a calibration, the reason of a refusal...
    """

    kind: str
    eeg_time: float | None
    show_s: float | None
    wall_time: float | None
    detail: str = ""


def read_profile_timeline(folder: str | Path) -> list[ProfileStretch]:
    """Which profile was in use over which stretch of the session, oldest first.

    Parameters
    ----------
    folder : str or Path
        A session folder written by ``--record``.

    Returns
    -------
    list of ProfileStretch
        Never empty: the first starts at None (the first sample), the last ends at None, each
        ends where the next starts. A session without any profile is one stretch with None.
        A start earlier than the one before (a damaged line, a clock that stepped back) is
        moved up to it, so the stretches stay in order.
    """
    folder = Path(folder)
    lines = _read_jsonl(folder / PROFILES_INDEX_FILE)
    if lines is None or not lines:  # an older session, or a show that never had a profile
        start = _legacy_profile(folder)
        return [ProfileStretch(None, None, start, "start",
                               SESSION_PROFILE_FILE if start is not None else None)]
    entries = [entry for entry in map(_index_entry, lines) if entry is not None]
    _warn_skipped(folder / PROFILES_INDEX_FILE, len(lines) - len(entries))
    if not entries or entries[0][0] is not None:  # the start's line is missing or torn
        start = SESSION_PROFILE_FILE if (folder / SESSION_PROFILE_FILE).exists() else None
        entries.insert(0, (None, "start", start))
    starts = _ordered_starts([start for start, _, _ in entries])
    ends = [*starts[1:], None]
    return [ProfileStretch(start, end, _profile_file(folder, name), reason, name)
            for start, end, (_, reason, name) in zip(starts, ends, entries, strict=True)]


def profile_at(timeline: list[ProfileStretch], eeg_time: float) -> dict | None:
    """The profile in use at ``eeg_time`` (None: the running baseline, or no timeline).

    Parameters
    ----------
    timeline : list of ProfileStretch
        From :func:`read_profile_timeline`.
    eeg_time : float
        The source's seconds, as in the keyframe log.

    Returns
    -------
    dict or None
    """
    for stretch in reversed(timeline):  # starts are in order: the newest one reached
        if stretch.start is None or eeg_time >= stretch.start:
            return stretch.profile
    return timeline[0].profile if timeline else None  # before the first start, or NaN


def read_session_events(folder: str | Path) -> list[ShowEvent]:
    """The show's moments a session logged (``events.jsonl``), in the order they came.

    Parameters
    ----------
    folder : str or Path
        A session folder; one of an older version (no ``events.jsonl``) has none.

    Returns
    -------
    list of ShowEvent
        Lines that are torn, damaged or hold absurd numbers are skipped (one warning).
    """
    path = Path(folder) / EVENTS_FILE
    lines = _read_jsonl(path) or []
    events = [event for event in map(_event, lines) if event is not None]
    _warn_skipped(path, len(lines) - len(events))
    return events


def wearer_stretches(folder: str | Path, timestamps: np.ndarray
                     ) -> list[tuple[int, int, ProfileStretch]]:
    """The session's samples split into one stretch per wearer: ``(first, stop, stretch)``.

    Each profile that came into use by an in-show calibration begins a new wearer. The
    calibration's own baseline (from its ``calibration_started`` event) was recorded from the
    new wearer while the old profile was still in use, so their stretch begins there; without
    that event, at the profile's start.

    Parameters
    ----------
    folder : str or Path
        The session folder.
    timestamps : ndarray, shape (n_samples,)
        The EEG's timestamps as recorded (the source's seconds, as ``eeg_time`` counts them;
        :func:`~installation.eeg.sources.files.session_folder.read_session_eeg`).

    Returns
    -------
    list of (int, int, ProfileStretch)
        Sample ranges ``[first, stop)`` that cover the samples in order, each with the profile
        stretch that z-scored it; one element for a session of one wearer. Ranges may be empty.
    """
    timeline = read_profile_timeline(folder)
    calibrations = [e.eeg_time for e in read_session_events(folder)
                    if e.kind == CALIBRATION_STARTED and e.eeg_time is not None]
    bounds = [_wearer_start(timeline, k, calibrations) for k in range(1, len(timeline))]
    firsts = np.maximum.accumulate(
        [0, *(_first_sample_at(timestamps, t) for t in _ordered_starts(bounds))])
    stops = [*firsts[1:], len(timestamps)]
    return [(int(a), int(b), stretch)
            for a, b, stretch in zip(firsts, stops, timeline, strict=True)]


def _wearer_start(timeline: list[ProfileStretch], k: int, calibrations: list[float]
                  ) -> float | None:
    """Where stretch ``k``'s wearer began: the last calibration start before it, else its own."""
    start = timeline[k].start
    previous = timeline[k - 1].start
    if timeline[k].reason != "calibration" or start is None:
        return start
    before = [t for t in calibrations
              if t <= start and (previous is None or t >= previous)]
    return max(before) if before else start


def _first_sample_at(timestamps: np.ndarray, eeg_time: float | None) -> int:
    """Index of the first sample at or after ``eeg_time`` (the end when none is; 0 for None)."""
    if eeg_time is None:
        return 0
    at = np.flatnonzero(np.asarray(timestamps) >= eeg_time)  # NaN stamps never match
    return int(at[0]) if len(at) else len(timestamps)


def _ordered_starts(starts: list[float | None]) -> list[float | None]:
    """Starts made never to fall (None, the first sample, stays first)."""
    ordered, reached = [], -math.inf
    for start in starts:
        if start is None:
            ordered.append(None if reached == -math.inf else reached)
            continue
        reached = max(reached, start)
        ordered.append(reached)
    return ordered


def _read_jsonl(path: Path) -> list | None:
    """The parsed lines of a ``.jsonl`` log (None when it is absent), torn lines as None."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cannot read %s (%s); taken as empty", path, exc.strerror)
        return []
    parsed = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            parsed.append(json.loads(line) if len(line) <= MAX_LINE_CHARS else None)
        except (json.JSONDecodeError, RecursionError):  # a torn line, or absurdly nested
            parsed.append(None)
    return parsed


def _warn_skipped(path: Path, skipped: int) -> None:
    if skipped:
        log.warning("%s: skipped %d torn or damaged line(s)", path, skipped)


def _seconds(value, allow_none: bool = True):
    """A checked time: a finite number within +-MAX_TIME_S, None where allowed; else raise."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("not a number")
    if not (math.isfinite(value) and abs(value) <= MAX_TIME_S):
        raise ValueError("out of range")
    return float(value)


def _index_entry(line) -> tuple[float | None, str, str | None] | None:
    """``(start, reason, file)`` of a ``profiles.jsonl`` line; None for a damaged one."""
    if not isinstance(line, dict):
        return None
    try:
        start = _seconds(line.get("eeg_time"))
    except ValueError:
        return None
    reason, name = line.get("reason", ""), line.get("file")
    if not isinstance(reason, str) or (name is not None and not (
            isinstance(name, str) and PROFILE_FILE_PATTERN.fullmatch(name))):
        return None
    return start, reason[:MAX_TEXT], name


def _event(line) -> ShowEvent | None:
    """A checked ``events.jsonl`` line; None for a damaged one."""
    if not isinstance(line, dict) or not isinstance(line.get("kind"), str):
        return None
    try:
        times = [_seconds(line.get(key)) for key in ("eeg_time", "show_s", "wall_time")]
    except ValueError:
        return None
    detail = line.get("detail", "")
    return ShowEvent(line["kind"][:MAX_TEXT], *times,
                     detail[:MAX_TEXT] if isinstance(detail, str) else "")


def _profile_file(folder: Path, name: str | None) -> dict | None:
    """The profile a line names, validated; None (with a warning) when unusable."""
    if name is None:
        return None
    path = folder / name
    try:
        if path.stat().st_size > MAX_PROFILE_BYTES:
            raise ValueError(f"larger than {MAX_PROFILE_BYTES} bytes")
        profile = json.loads(path.read_text())
        validate_profile(profile, str(path))
    except (OSError, UnicodeDecodeError, ValueError, TypeError, AttributeError, RecursionError,
            ConfigError) as exc:
        log.warning("the session's profile %s is unusable (%s); its stretch is read without a "
                    "profile", path, exc)
        return None
    return profile


def _legacy_profile(folder: Path) -> dict | None:
    """``profile.json`` of a session without ``profiles.jsonl`` (or one that had none)."""
    if not (folder / SESSION_PROFILE_FILE).exists():
        return None
    return _profile_file(folder, SESSION_PROFILE_FILE)
