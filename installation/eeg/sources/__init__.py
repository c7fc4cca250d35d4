"""EEG sources: headsets through BrainFlow, LSL streams and recording files, all one interface.

A source spec on the command line names one of them:

- ``synthetic``: BrainFlow's synthetic board (``brainflow:SYNTHETIC_BOARD``);
- ``brainflow:BOARD[,key=value...]``: a BrainFlow board by name or id, with
  ``BrainFlowInputParams`` fields, e.g. ``brainflow:CYTON_BOARD,serial_port=/dev/ttyUSB0``;
- ``lsl:NAME`` or ``lsl:type=EEG``: an LSL stream by name or type;
- ``file:PATH[,board=BOARD]``: a recording (EDF, BDF, FIF, XDF, OpenBCI GUI text, BrainFlow
  CSV; ``board`` names the board that wrote a BrainFlow CSV file).
"""

from __future__ import annotations

from installation.eeg.sources.base import (
    Chunk,
    EndOfStream,
    EventKind,
    Source,
    SourceEvent,
    StreamInfo,
)
from installation.errors import SourceError

VALID_FORMS = (
    "synthetic, brainflow:BOARD[,key=value...], lsl:NAME, lsl:type=EEG, file:PATH[,board=BOARD]"
)
_FILE_OPTIONS = ("board", "loop")
_LSL_OPTIONS = ("name", "type")

__all__ = [
    "Chunk",
    "EndOfStream",
    "EventKind",
    "Source",
    "SourceEvent",
    "StreamInfo",
    "VALID_FORMS",
    "open_source",
    "parse_source_spec",
    "refuse_board_held_by_show",
]


def parse_source_spec(spec: str) -> tuple[str, str | None, dict[str, str]]:
    """Split a source spec into its kind, target and options.

    Parameters
    ----------
    spec : str
        E.g. ``synthetic``, ``brainflow:CYTON_BOARD,serial_port=/dev/ttyUSB0``, ``lsl:Muse``,
        ``lsl:type=EEG``, ``file:rec.csv,board=SYNTHETIC_BOARD``.

    Returns
    -------
    kind : {"brainflow", "lsl", "file"}
    target : str or None
        The board, the stream name (None when only options select it) or the file path.
    options : dict of str to str
        The ``key=value`` parts.

    Raises
    ------
    SourceError
        For an unknown kind or a malformed spec, listing the valid forms.
    """
    text = spec.strip()
    if text.lower() == "synthetic":
        return "brainflow", "SYNTHETIC_BOARD", {}
    kind, sep, rest = text.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in ("brainflow", "lsl", "file"):
        raise SourceError(f"Unknown source '{spec}'; use one of: {VALID_FORMS}.")
    target, options = _split_options(spec, rest, keep_commas_in_target=(kind == "file"))
    if kind == "lsl":
        return _lsl_parts(spec, target, options)
    if not target:
        what = "a board name" if kind == "brainflow" else "a path"
        raise SourceError(f"Source '{spec}' lacks {what}; use one of: {VALID_FORMS}.")
    if kind == "file":
        _check_options(spec, options, _FILE_OPTIONS)
    return kind, target, options


def _split_options(spec: str, rest: str, keep_commas_in_target: bool) -> tuple[str, dict]:
    """``TARGET,key=value,...`` into the target and a dict; a path may itself hold commas."""
    parts = rest.split(",")
    first_option = len(parts)
    for index in range(len(parts) - 1, 0, -1):  # options are the trailing key=value parts
        if "=" not in parts[index]:
            break
        first_option = index
    if not keep_commas_in_target:
        first_option = 1
    target = ",".join(parts[:first_option]).strip()
    options = {}
    for part in parts[first_option:]:
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise SourceError(f"Source option '{part}' in '{spec}' is not key=value; fix it.")
        options[key.strip()] = value.strip()
    if "=" in target and not keep_commas_in_target:  # lsl:type=EEG has options only
        key, _, value = target.partition("=")
        options = {key.strip(): value.strip(), **options}
        target = ""
    return target, options


def _lsl_parts(spec: str, target: str, options: dict) -> tuple[str, str | None, dict]:
    _check_options(spec, options, _LSL_OPTIONS)
    name = target or options.pop("name", None)
    if not name and "type" not in options:
        raise SourceError(f"Source '{spec}' names no LSL stream; use lsl:NAME or lsl:type=EEG.")
    return "lsl", name, options


def _check_options(spec: str, options: dict, valid: tuple[str, ...]) -> None:
    unknown = [key for key in options if key not in valid]
    if unknown:
        raise SourceError(
            f"Unknown option {', '.join(unknown)} in source '{spec}'; valid options are "
            f"{', '.join(valid)}."
        )


def open_source(
    spec: str,
    speed: str = "realtime",
    chunk_s: float = 1 / 32,
    resolve_timeout: float = 5.0,
    loop: bool = False,
    board_owner: str | None = None,
) -> Source:
    """Make the source a spec names (not yet opened: call ``open()`` or use ``with``).

    Parameters
    ----------
    spec : str
        A source spec, see :func:`parse_source_spec`.
    speed : {"realtime", "max"}
        Playback speed of a file source.
    chunk_s : float
        Seconds per chunk of a file source.
    resolve_timeout : float
        Seconds to wait for an LSL stream.
    loop : bool
        Replay a file from the start when it ends (also ``file:PATH,loop=1``).
    board_owner : str, optional
        Who holds a BrainFlow board while it is open (``"show"``): an advisory lock says so to
        other processes (:func:`refuse_board_held_by_show`). None: no lock.

    Returns
    -------
    Source
    """
    kind, target, options = parse_source_spec(spec)
    if kind == "brainflow":
        # each kind's library loads when a source of that kind opens, not with this package:
        # a campaign leg imports the feature code on a GPU machine without them
        from installation.eeg.sources.live.brainflow_source import BrainFlowSource

        return BrainFlowSource(target, options, owner=board_owner, spec=spec)
    if kind == "lsl":
        from installation.eeg.sources.live.lsl_source import LSLSource  # pylsl, on opening

        return LSLSource(target, options.get("type"), resolve_timeout=resolve_timeout)

    from installation.eeg.sources.files.file_source import FileSource  # MNE, pyxdf: likewise

    loop = loop or options.get("loop", "0").lower() in ("1", "true", "yes")
    return FileSource(target, speed=speed, chunk_s=chunk_s, board=options.get("board"), loop=loop)


def refuse_board_held_by_show(spec: str) -> None:
    """One sentence (SourceError) when ``spec`` names a BrainFlow board the show holds open.

    The calibration command asks this before it opens its source: a board opens in one process
    only, and the show can calibrate on its own source (key C, ``/show/calibrate``). Specs of
    LSL streams and files always pass: any number of readers share them.

    Parameters
    ----------
    spec : str
        A source spec, see :func:`parse_source_spec`.
    """
    kind, target, options = parse_source_spec(spec)
    if kind == "brainflow":
        from installation.eeg.sources.board_ids import parse_board  # BrainFlow: see open_source
        from installation.eeg.sources.live.board_lock import refuse_if_show_holds  # likewise

        refuse_if_show_holds(parse_board(target), options, spec)
