"""BrainFlow boards by name or id, and what each one delivers (EEG rows, rate, names)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from installation.eeg.channels import clean_channel_name
from installation.errors import SourceError

with warnings.catch_warnings():
    # BrainFlow locates its native library through the deprecated pkg_resources, imported
    # lazily on first use; importing it here, quietly, keeps that warning out of the show.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
    try:
        import pkg_resources  # noqa: F401
    except ImportError:  # newer setuptools: BrainFlow finds its library another way
        pass
    from brainflow.board_shim import BoardIds, BoardShim, BrainFlowError, BrainFlowInputParams  # noqa: F401 (shared)

# Boards that replay or relay another board: their layout is that of ``master_board``.
RELAY_BOARDS = (BoardIds.PLAYBACK_FILE_BOARD.value, BoardIds.STREAMING_BOARD.value)


def parse_board(board: str | int) -> int:
    """Turn a BrainFlow board name or id into the board id.

    Parameters
    ----------
    board : str or int
        ``SYNTHETIC_BOARD``, ``synthetic``, ``Cyton_Board``, ``"-1"`` or ``-1``: names are
        case-insensitive and ``_BOARD`` may be left out.

    Returns
    -------
    int
        The BrainFlow board id.

    Raises
    ------
    SourceError
        When no BrainFlow board has that name or id.
    """
    text = str(board).strip()
    try:
        board_id = int(text)
    except ValueError:
        name = text.upper().replace("-", "_").replace(" ", "_")
        for candidate in (name, f"{name}_BOARD"):
            if candidate in BoardIds.__members__:
                return BoardIds[candidate].value
        raise SourceError(
            f"Unknown BrainFlow board '{board}'; use a BrainFlow board name such as "
            "SYNTHETIC_BOARD, CYTON_BOARD or GANGLION_BOARD, or its numeric id."
        ) from None
    if board_id not in {member.value for member in BoardIds}:
        raise SourceError(
            f"Unknown BrainFlow board id {board_id}; use a BrainFlow board name such as "
            "SYNTHETIC_BOARD or a valid numeric id."
        )
    return board_id


def board_name(board_id: int) -> str:
    """The BrainFlow enum name of a board id, e.g. ``SYNTHETIC_BOARD``."""
    return BoardIds(board_id).name


@dataclass(frozen=True)
class BoardLayout:
    """Where a board puts its EEG in the rows BrainFlow returns.

    Attributes
    ----------
    board_id : int
        The board whose layout this is (the master board of a playback or streaming board).
    eeg_rows : tuple of int
        Rows holding EEG in microvolts.
    timestamp_row : int or None
        Row of Unix timestamps in seconds, if the board has one.
    n_rows : int
        Rows in the data BrainFlow returns.
    sample_rate : float
        Samples per second.
    channel_names : tuple of str
        EEG channel names, ``EEG1``.. when the board does not name them.
    """

    board_id: int
    eeg_rows: tuple[int, ...]
    timestamp_row: int | None
    n_rows: int
    sample_rate: float
    channel_names: tuple[str, ...]


def board_layout(board_id: int) -> BoardLayout:
    """Describe the EEG rows, rate and channel names of a board.

    Parameters
    ----------
    board_id : int
        A BrainFlow board id (not a playback or streaming board: pass its master board).

    Returns
    -------
    BoardLayout
    """
    try:
        eeg_rows = tuple(BoardShim.get_eeg_channels(board_id))
        n_rows = BoardShim.get_num_rows(board_id)
        sample_rate = float(BoardShim.get_sampling_rate(board_id))
    except BrainFlowError as exc:
        raise SourceError(
            f"BrainFlow board {board_name(board_id)} has no EEG channels ({exc}); "
            "choose an EEG board."
        ) from None
    return BoardLayout(
        board_id=board_id,
        eeg_rows=eeg_rows,
        timestamp_row=_optional_row(BoardShim.get_timestamp_channel, board_id),
        n_rows=n_rows,
        sample_rate=sample_rate,
        channel_names=_eeg_names(board_id, len(eeg_rows)),
    )


def _optional_row(getter, board_id: int) -> int | None:
    """A row index BrainFlow may not define for this board (it raises then)."""
    try:
        return int(getter(board_id))
    except BrainFlowError:
        return None


def _eeg_names(board_id: int, n_channels: int) -> tuple[str, ...]:
    """The board's EEG names when BrainFlow knows them and they fit, else ``EEG1``.."""
    try:
        names = tuple(BoardShim.get_eeg_names(board_id))
    except BrainFlowError:
        names = ()
    if len(names) != n_channels:
        return tuple(f"EEG{i + 1}" for i in range(n_channels))
    return tuple(clean_channel_name(name) for name in names)
