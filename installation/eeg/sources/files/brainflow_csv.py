"""BrainFlow CSV recordings: tab-separated rows as ``DataFilter.write_file`` writes them.

The file has no header: which rows are EEG depends on the board that recorded it, so the board
is given with the source spec (``file:PATH,board=CYTON_BOARD``), the synthetic board if not.
"""

from __future__ import annotations

from pathlib import Path

from installation.eeg.sources.board_ids import (
    BoardIds,
    BrainFlowError,
    board_layout,
    board_name,
    parse_board,
)
from installation.eeg.sources.files.recording import Recording, build_recording
from installation.eeg.sources.timestamps import board_seconds
from installation.errors import SourceError

DEFAULT_BOARD = BoardIds.SYNTHETIC_BOARD.value


def read_brainflow_csv(path: Path, board: str | int | None = None) -> Recording:
    """Load the EEG rows of a BrainFlow CSV file.

    Parameters
    ----------
    path : Path
        The file.
    board : str or int, optional
        The board that recorded it (name or id); the synthetic board when None.

    Returns
    -------
    Recording
        Timestamps from the board's timestamp row when it rises steadily, else counted.
    """
    from brainflow.data_filter import DataFilter  # lazy: BrainFlow loads its native library

    layout = board_layout(DEFAULT_BOARD if board is None else parse_board(board))
    try:
        table = DataFilter.read_file(str(path))
    except BrainFlowError as exc:
        raise SourceError(
            f"{path.name} is not a readable BrainFlow CSV file ({exc}); copy or record it again."
        ) from None
    if table.ndim != 2 or table.shape[0] != layout.n_rows:
        raise SourceError(
            f"{path.name} has {table.shape[0]} columns but {board_name(layout.board_id)} writes "
            f"{layout.n_rows}; name the board that recorded it, e.g. file:PATH,board=CYTON_BOARD."
        )
    timestamps = None
    if layout.timestamp_row is not None:
        timestamps = board_seconds(table[layout.timestamp_row], layout.sample_rate)
    return build_recording(
        path,
        table[list(layout.eeg_rows)],
        layout.sample_rate,
        layout.channel_names,
        timestamps,
        f"BrainFlow CSV, {board_name(layout.board_id)}",
    )
