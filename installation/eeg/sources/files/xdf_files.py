"""XDF recordings (LabRecorder): the EEG stream among markers, accelerometers and the like."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from installation.eeg.sources.files.recording import Recording, build_recording
from installation.eeg.sources.units import microvolt_scale
from installation.errors import SourceError

log = logging.getLogger(__name__)


def read_xdf_file(path: Path) -> Recording:
    """Load the EEG stream of an XDF file.

    Picks the stream whose type is EEG (any case) and that holds samples; when several do,
    the one with the most samples. Channel labels and units come from the stream header when
    present; timestamps are the stream's own, shifted to start at 0.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    Recording
    """
    import pyxdf  # lazy: only XDF files need it

    try:
        with _pyxdf_complaints_counted(path):
            streams, _ = pyxdf.load_xdf(str(path))
    except Exception as exc:  # pyxdf raises many types for a damaged file
        raise SourceError(
            f"{path.name} is not a readable XDF file ({exc}); copy or record it again."
        ) from None
    stream = _eeg_stream(path, streams)
    info = stream["info"]
    samples = np.asarray(stream["time_series"], dtype=np.float64).T
    labels, scales, kinds = _channel_header(info, samples.shape[0])
    keep = [i for i, kind in enumerate(kinds) if kind in ("", "eeg")]
    data = samples[keep] * np.asarray([scales[i] for i in keep])[:, None]
    return build_recording(
        path,
        data,
        _sample_rate(info),
        [labels[i] for i in keep],
        np.asarray(stream["time_stamps"], dtype=np.float64),
        f"XDF stream {_first(info, 'name') or 'EEG'}",
    )


def _first(info: dict, key: str, default: str = "") -> str:
    """One header value (pyxdf keeps each in a one-element list), or ``default``."""
    value = info.get(key) or [default]
    return str(value[0]) if value[0] is not None else default


def _eeg_stream(path: Path, streams: list[dict]) -> dict:
    if not streams:
        raise SourceError(
            f"{path.name} holds no readable XDF stream, so it may be damaged; copy or record "
            "it again."
        )
    numeric = [
        stream
        for stream in streams
        if _first(stream["info"], "type").strip().lower() == "eeg"
        and _first(stream["info"], "channel_format") != "string"
        and len(stream["time_stamps"]) > 0
    ]
    if not numeric:
        found = ", ".join(
            f"{_first(s['info'], 'name')} ({_first(s['info'], 'type')}, "
            f"{len(s['time_stamps'])} samples)"
            for s in streams
        )
        raise SourceError(
            f"{path.name} has no EEG stream with samples (found {found}); "
            "record the headset's EEG stream with LabRecorder."
        )
    return max(numeric, key=lambda stream: len(stream["time_stamps"]))


def _channel_header(info: dict, n_channels: int) -> tuple[list[str], list[float], list[str]]:
    """Labels, µV scale factors and lower-case types, from the header or defaults."""
    labels = [f"Ch{i + 1}" for i in range(n_channels)]
    scales = [1.0] * n_channels
    kinds = [""] * n_channels
    try:
        channels = info["desc"][0]["channels"][0]["channel"]
    except (KeyError, IndexError, TypeError):
        return labels, scales, kinds
    if len(channels) != n_channels:
        log.warning("XDF header lists %d channels for %d columns", len(channels), n_channels)
        return labels, scales, kinds
    for i, channel in enumerate(channels):
        labels[i] = _first(channel, "label") or labels[i]
        scales[i] = microvolt_scale(_first(channel, "unit"))
        kinds[i] = _first(channel, "type").strip().lower()
    return labels, scales, kinds


def _sample_rate(info: dict) -> float:
    nominal = float(_first(info, "nominal_srate", "0") or 0)
    if nominal > 0:
        return nominal
    return float(info.get("effective_srate") or 0.0)


class _Counter(logging.Filter):
    """Swallows pyxdf's log records (tracebacks included), counting the warnings and errors."""

    def __init__(self) -> None:
        super().__init__()
        self.problems = 0

    def filter(self, record: logging.LogRecord) -> bool:
        self.problems += record.levelno >= logging.WARNING
        return False


@contextmanager
def _pyxdf_complaints_counted(path: Path):
    """Keep pyxdf's per-chunk complaints and logged tracebacks off the terminal.

    A damaged file then reads as one warning and one error sentence, not a page of tracebacks.
    """
    pyxdf_log = logging.getLogger("pyxdf.pyxdf")  # filters apply to the logger records hit
    counter = _Counter()
    pyxdf_log.addFilter(counter)
    try:
        yield
    finally:
        pyxdf_log.removeFilter(counter)
        if counter.problems:
            log.warning("%s: pyxdf reported %d damaged chunk(s) and skipped them",
                        path.name, counter.problems)
