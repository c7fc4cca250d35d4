"""OpenBCI GUI text recordings: the old 12-column layout and the v6 "Raw EXG" layout.

Both start with ``%`` header lines (the sample rate among them). The v6 layout then has a line
of column names (``Sample Index, EXG Channel 0, ...``); the old one goes straight to rows of
``index, 8 EEG channels, 3 accelerometer axes``. Values are microvolts already, with the DC
offsets of the ADS1299 (tens of mV) left in: the band-pass filter removes them. Rows with the
wrong number of fields or unparseable numbers (a recording cut off mid-line) are skipped.

The file is read line by line and parsed a block of rows at a time, so memory follows the
samples kept (float32), not the length of the file's text.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from installation.eeg.sources.files.recording import Recording, build_recording, is_number
from installation.errors import SourceError, checked_number

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_RATE = 250.0  # Cyton, the board nearly every OpenBCI GUI file comes from
_RATE_LINE = re.compile(r"sample rate\s*=\s*([\d.]+)", re.IGNORECASE)
_CHANNELS_LINE = re.compile(r"number of channels\s*=\s*(\d+)", re.IGNORECASE)
_EEG_COLUMN = re.compile(r"(EXG|EEG) Channel \d+", re.IGNORECASE)
_OLD_LAYOUT_EXTRA_COLUMNS = 4  # sample index + 3 accelerometer axes
_SNIFF_ROWS = 200  # rows read ahead to tell the layout (and the old layout's field count)
_BLOCK_ROWS = 4096  # rows parsed at once: a few MB of split text, whatever the file's size
_MAX_HEADER_LINES = 1000  # '%' lines kept; a real header has a handful


def read_openbci_text(path: Path) -> Recording:
    """Load the EEG channels of an OpenBCI GUI text recording.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    Recording
        Channels named as in the file (``EXG Channel 0``..) or ``Ch1``.. for the old layout.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            return _read_lines(path, stream)
    except OSError as exc:
        raise SourceError(f"Cannot read {path}: {exc.strerror}; check its permissions.") from None


def _read_lines(path: Path, stream: Iterable[str]) -> Recording:
    """The recording from the file's lines, read once, front to back."""
    header: list[str] = []
    lines = _body_lines(stream, header)
    body = list(itertools.islice(lines, _SNIFF_ROWS))
    if not body:
        raise SourceError(f"{path.name} holds no samples; choose a recording with EEG data in it.")
    sample_rate = _header_value(header, _RATE_LINE, float)
    if sample_rate is None:
        log.warning("%s states no sample rate; assuming %g Hz", path.name, DEFAULT_SAMPLE_RATE)
        sample_rate = DEFAULT_SAMPLE_RATE
    if not is_number(body[0].split(",")[0]):
        columns, names = _v6_columns(path, body[0])
        body = body[1:]
        n_fields = len(body[0].split(",")) if body else len(columns)
    else:
        n_fields = _common_field_count(body)
        n_eeg = _header_value(header, _CHANNELS_LINE, int)
        if n_eeg is None:
            n_eeg = n_fields - _OLD_LAYOUT_EXTRA_COLUMNS
        # the channels are the columns after the sample index: no more than the rows hold
        checked_number(n_eeg, f"The number of channels of {path.name}", 1, max(n_fields - 1, 1),
                       SourceError, "fix its header or choose another recording")
        columns = list(range(1, 1 + n_eeg))
        names = [f"Ch{i + 1}" for i in range(n_eeg)]
    data = _parse_rows(path, itertools.chain(body, lines), n_fields, columns)
    return build_recording(path, data, sample_rate, names, None, "OpenBCI GUI text")


def _body_lines(stream: Iterable[str], header: list[str]) -> Iterator[str]:
    """The non-empty data lines; ``%`` lines go to ``header`` (the first few) as they pass."""
    for line in stream:
        line = line.rstrip("\r\n")
        if line.startswith("%"):
            if len(header) < _MAX_HEADER_LINES:
                header.append(line)
        elif line.strip():
            yield line


def _header_value(header: list[str], pattern: re.Pattern, kind):
    """The value of the first ``%`` line matching ``pattern``, or None."""
    for line in header:
        match = pattern.search(line)
        if match:
            try:
                return kind(match.group(1))
            except ValueError:  # "Sample Rate = 2.5.0": a damaged header
                raise SourceError(f"The header line {line.strip()!r} does not hold a number; "
                                  "fix or delete that line of the recording.") from None
    return None


def _v6_columns(path: Path, line: str) -> tuple[list[int], list[str]]:
    """Indices and names of the EEG columns named in a v6 column-name line."""
    names = [name.strip() for name in line.split(",")]
    columns = [i for i, name in enumerate(names) if _EEG_COLUMN.fullmatch(name)]
    if not columns:
        raise SourceError(
            f"{path.name} has no 'EXG Channel' columns; play the raw EXG file the OpenBCI GUI "
            "recorded."
        )
    return columns, [names[i] for i in columns]


def _common_field_count(body: list[str]) -> int:
    """The number of fields most of the first rows have (the old layout has no header)."""
    counts = [len(line.split(",")) for line in body[:200]]
    return max(set(counts), key=counts.count) if counts else 0


def _parse_rows(path: Path, lines: Iterable[str], n_fields: int, columns: list[int]
                ) -> np.ndarray:
    """The EEG columns of the well-formed rows, float32, shape (n_columns, n_rows)."""
    blocks, n_lines = [], 0
    lines = iter(lines)
    while batch := list(itertools.islice(lines, _BLOCK_ROWS)):
        n_lines += len(batch)
        blocks.append(_parse_block(batch, n_fields, columns))
    values = (np.concatenate(blocks) if blocks
              else np.zeros((0, len(columns)), dtype=np.float32))
    skipped = n_lines - len(values)
    if skipped:
        log.info("%s: skipped %d malformed rows", path.name, skipped)
    return values.T


def _parse_block(lines: list[str], n_fields: int, columns: list[int]) -> np.ndarray:
    """Float32 ``(n_rows, n_columns)`` of a block's well-formed rows (the others dropped)."""
    rows = [fields for fields in (line.split(",") for line in lines) if len(fields) == n_fields]
    picked = [[fields[i] for i in columns] for fields in rows]
    try:
        values = np.array(picked, dtype=np.float64)
    except ValueError:  # a damaged row: convert row by row and drop the ones that fail
        values = np.array(
            [row for row in (_row_values(fields) for fields in picked) if row is not None],
            dtype=np.float64,
        )
    return values.reshape(-1, len(columns)).astype(np.float32)


def _row_values(fields: list[str]) -> list[float] | None:
    try:
        return [float(field) for field in fields]
    except ValueError:
        return None

