"""A session in which the wearer changed, taken as one person per wearer.

A show that calibrated a new wearer inside it (key C, ``/show/calibrate``) recorded every
profile it used (:func:`~installation.eeg.sources.files.session_timeline.wearer_stretches`).
Training takes each wearer's stretch of such a session as a person of their own, z-scored by
the profile the show used for them, as the show z-scored them: the person given on the command
line keeps the session's first stretch (with their other recordings and profile), and each
later wearer becomes a person named ``SESSION@1``, ``SESSION@2``... A person's stretches are
sample ranges (``"stretches": {session: [first, stop]}`` in the run's configuration), so a
resumed run reads the same samples.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

from installation.eeg.sources.files.recording import Recording
from installation.eeg.sources.files.recordings import load_recording
from installation.eeg.sources.files.session_folder import (
    is_session_folder,
    read_header,
    read_session_eeg,
)
from installation.eeg.sources.files.session_timeline import wearer_stretches
from installation.errors import ConfigError

# A wearer's stretch shorter than this (a calibration that began and ended at once) gives too
# few feature windows to z-score or learn from: it is left out, and the run says so.
MIN_WEARER_S = 5.0


def session_wearers(folder: str | Path) -> list[tuple[int, int, str | None]]:
    """The wearers of a recorded session: ``(first sample, stop sample, profile file)``.

    Parameters
    ----------
    folder : str or Path
        A session folder written by ``--record``.

    Returns
    -------
    list of (int, int, str or None)
        One per wearer, in order; the profile file (absolute) is None where the show had
        none for that wearer, or it is damaged (the stretch's own EEG then z-scores it).
    """
    folder = Path(folder)
    header = read_header(folder)
    stamps = read_session_eeg(folder, len(header["channel_names"])).timestamps
    return [(first, stop, str(folder / stretch.file) if stretch.profile is not None else None)
            for first, stop, stretch in wearer_stretches(folder, stamps)]


def split_wearers(entry: dict, min_s: float = MIN_WEARER_S) -> list[dict]:
    """A person's configuration entry, and one more per later wearer of their sessions.

    Parameters
    ----------
    entry : dict
        ``{"name", "eeg", "profile"}`` as ``train.py`` builds it (absolute paths).
    min_s : float
        Wearer stretches shorter than this are left out (a line on stderr says so).

    Returns
    -------
    list of dict
        ``entry`` first (its sessions restricted to their first wearer through
        ``"stretches"``; dropped when nothing of it is left), then a new entry per later
        wearer. Just ``[entry]`` when no session changed wearer.
    """
    stretches, later = {}, []
    for path in entry["eeg"]:
        wearers = session_wearers(path) if is_session_folder(Path(path)) else []
        if len(wearers) < 2:
            continue
        rate = float(read_header(Path(path))["sample_rate"])
        stretches[path] = list(wearers[0][:2])
        for k, (first, stop, profile) in enumerate(wearers[1:], 1):
            if _long_enough(path, k, first, stop, rate, min_s):
                later.append({"name": f"{Path(path).name}@{k}", "eeg": [path],
                              "profile": profile, "stretches": {path: [first, stop]}})
    if not stretches:
        return [entry]
    first_person = {**entry, "stretches": stretches}
    first_person["eeg"] = [p for p in entry["eeg"] if p not in stretches or _long_enough(
        p, 0, *stretches[p], float(read_header(Path(p))["sample_rate"]), min_s)]
    return ([first_person] if first_person["eeg"] else []) + later


def _long_enough(path: str, k: int, first: int, stop: int, rate: float, min_s: float) -> bool:
    """Whether wearer ``k`` of a session has ``min_s`` of EEG; say so on stderr when not."""
    seconds = (stop - first) / rate
    if seconds >= min_s:
        return True
    print(f"{path}: wearer {k} has {seconds:.1f} s of EEG, less than {min_s:g} s; left out of "
          "training", file=sys.stderr)
    return False


def load_stretch(path: str | Path, stretches: dict | None = None) -> Recording:
    """A recording, or the stretch of a session that ``stretches`` names for it.

    Parameters
    ----------
    path : str or Path
        A recording file or session folder.
    stretches : dict, optional
        ``{session path: [first, stop]}``; a path not in it loads whole.

    Returns
    -------
    Recording
    """
    recording = load_recording(path)
    span = (stretches or {}).get(str(path))
    if span is None:
        return recording
    first, stop = _checked_span(span, recording.n_samples, path)
    return slice_recording(recording, first, stop)


def _checked_span(span, n_samples: int, path) -> tuple[int, int]:
    """A configuration's ``[first, stop]``, checked against the session (hostile until read)."""
    ok = (isinstance(span, (list, tuple)) and len(span) == 2
          and all(isinstance(v, int) and not isinstance(v, bool) for v in span)
          and 0 <= span[0] < span[1] <= n_samples)
    if not ok:
        raise ConfigError(f"The wearer's stretch {span!r} of {path} does not fit its "
                          f"{n_samples} samples; the run's configuration is damaged or the "
                          "session changed: start a new run.")
    return int(span[0]), int(span[1])


def slice_recording(recording: Recording, first: int, stop: int) -> Recording:
    """Samples ``[first, stop)`` of a recording, its timestamps, gaps and annotations moved."""
    stamps = recording.timestamps[first:stop]
    t0 = float(stamps[0]) if len(stamps) else 0.0
    end = float(stamps[-1]) if len(stamps) else 0.0
    return dataclasses.replace(
        recording, data=np.ascontiguousarray(recording.data[:, first:stop]),
        timestamps=stamps - t0,
        description=f"{recording.description}, samples {first}-{stop}",
        annotations=tuple(dataclasses.replace(a, onset_s=a.onset_s - t0)
                          for a in recording.annotations if t0 <= a.onset_s <= end),
        gaps=tuple(g - t0 for g in recording.gaps if t0 < g <= end))
