"""Any BrainFlow board as a source: real headsets, the synthetic board, the playback board."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from installation.eeg.sources.base import Chunk, Source, StreamInfo
from installation.eeg.sources.board_ids import (
    RELAY_BOARDS,
    BoardShim,
    BrainFlowError,
    board_layout,
    board_name,
    parse_board,
)
from installation.eeg.sources.live.board_lock import BoardLock
from installation.eeg.sources.live.brainflow_params import input_params
from installation.eeg.sources.timestamps import StreamClock
from installation.errors import SourceAbsent, SourceError

log = logging.getLogger(__name__)


class BrainFlowSource(Source):
    """Streams the EEG rows of a BrainFlow board.

    Parameters
    ----------
    board : str or int
        A BrainFlow board name (``SYNTHETIC_BOARD``, ``cyton``: any case, ``_BOARD`` optional)
        or id. ``PLAYBACK_FILE_BOARD`` replays a BrainFlow CSV file given as ``file`` with the
        board that recorded it as ``master_board``.
    params : dict, optional
        ``BrainFlowInputParams`` fields: ``serial_port``, ``ip_address``, ``ip_port``,
        ``mac_address``, ``serial_number``, ``file``, ``master_board`` (name or id),
        ``timeout``, ``other_info``... Values may be strings, as they come from a source spec.
    board_logger : bool
        Let BrainFlow print its own log to the console (off by default: it floods the terminal).
    owner : str, optional
        Who holds the board while it is open (``"show"``): an advisory lock
        (:mod:`~installation.eeg.sources.live.board_lock`) tells other processes, such as
        ``python -m calibration``. None (the default): no lock.
    spec : str
        The source spec, written in the lock for whoever reads it.
    """

    def __init__(self, board: str | int, params: dict | None = None, board_logger: bool = False,
                 owner: str | None = None, spec: str = ""):
        self.params = dict(params or {})
        self.board_id = parse_board(board)
        self.input_params = input_params(self.params)
        self.board_logger = board_logger
        self._lock = None if owner is None else BoardLock(self.board_id, self.params, owner, spec)
        self._shim: BoardShim | None = None
        self._clock: StreamClock | None = None
        self._layout = None

    @property
    def board_label(self) -> str:
        """The board's BrainFlow name, e.g. ``CYTON_BOARD``."""
        return board_name(self.board_id)

    def open(self) -> StreamInfo:
        """Prepare the session and start streaming; release the board again if that fails."""
        layout = board_layout(self._layout_board())
        if self.board_logger:
            BoardShim.enable_board_logger()
        else:
            BoardShim.disable_board_logger()
        shim = BoardShim(self.board_id, self.input_params)
        if self._lock is not None:
            self._lock.acquire()  # before the board: whoever looks then finds it taken
        try:
            shim.prepare_session()
            shim.start_stream()
        except BrainFlowError as exc:
            _release(shim)
            if self._lock is not None:
                self._lock.release()
            raise SourceAbsent(self._open_failure(exc)) from None
        self._shim, self._layout = shim, layout
        if self._clock is None or self._clock.sample_rate != layout.sample_rate:
            self._clock = StreamClock(layout.sample_rate)  # kept across reconnects
        self.info = StreamInfo(layout.channel_names, layout.sample_rate, self._description())
        return self.info

    def read(self, max_samples: int | None = None) -> Chunk | None:
        """Take the samples the board has buffered since the last call (oldest first).

        Parameters
        ----------
        max_samples : int, optional
            Take at most this many; the rest stay buffered for the next call.

        Returns
        -------
        Chunk or None
            None when the board has nothing new.
        """
        if self._shim is None:
            raise SourceError("The BrainFlow source was read before it was opened; open it first.")
        try:
            table = self._shim.get_board_data(max_samples or None)
        except BrainFlowError as exc:
            raise SourceError(
                f"Reading the {self.board_label} failed ({exc}); check that it is on and in range."
            ) from None
        if table.shape[1] == 0:
            return None
        layout = self._layout
        stamps = table[layout.timestamp_row] if layout.timestamp_row is not None else None
        seconds = self._clock.seconds(stamps, table.shape[1])
        data = table[list(layout.eeg_rows)].astype(np.float32)
        return Chunk(data, seconds)

    def close(self) -> None:
        """Stop streaming and release the session; safe to call twice."""
        shim, self._shim = self._shim, None
        if shim is not None:
            _release(shim)
        if self._lock is not None:
            self._lock.release()

    def _layout_board(self) -> int:
        """The board whose rows and rate apply: a playback board plays its master's layout."""
        if self.board_id not in RELAY_BOARDS:
            return self.board_id
        playback_file = self.params.get("file")
        if playback_file and not Path(playback_file).expanduser().is_file():
            raise SourceAbsent(
                f"The {self.board_label} file {playback_file} does not exist; check file=."
            )
        master = self.input_params.master_board
        if master < 0 and master != -1:  # BrainFlow's "unset" is -100; SYNTHETIC is -1
            raise SourceError(
                f"The {self.board_label} needs the board that recorded the data; add "
                "master_board=NAME, e.g. brainflow:PLAYBACK_FILE_BOARD,file=x.csv,"
                "master_board=SYNTHETIC_BOARD."
            )
        return master

    def _description(self) -> str:
        if self.board_id in RELAY_BOARDS:
            return f"BrainFlow {self.board_label} ({board_name(self._layout.board_id)} layout)"
        return f"BrainFlow {self.board_label}"

    def _open_failure(self, exc: BrainFlowError) -> str:
        where = _connection_hint(self.params)
        if self.params.get("file"):
            advice = "check the file and that master_board names the board that recorded it"
        else:
            advice = (
                "check that the board is on, its dongle or network is connected, and the "
                "parameters (serial_port, ip_address, mac_address) are right"
            )
        return f"Could not open the {self.board_label}{where}: {exc}; {advice}."


def _connection_hint(params: dict) -> str:
    for key in ("serial_port", "ip_address", "mac_address", "serial_number", "file"):
        if params.get(key):
            return f" on {params[key]}"
    return ""


def _release(shim: BoardShim) -> None:
    """Stop and release a board, whatever state it is in (never raises)."""
    try:
        if shim.is_prepared():
            try:
                shim.stop_stream()
            except BrainFlowError:
                pass  # it was not streaming
            shim.release_session()
    except BrainFlowError as exc:
        log.warning("releasing the BrainFlow session failed: %s", exc)
