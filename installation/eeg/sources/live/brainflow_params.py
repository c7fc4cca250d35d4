"""``key=value`` options of a BrainFlow source spec, checked and turned into input params."""

from __future__ import annotations

from installation.eeg.sources.board_ids import BrainFlowInputParams, parse_board
from installation.errors import SourceError


def input_params(params: dict) -> BrainFlowInputParams:
    """Build ``BrainFlowInputParams`` from a dict of field names and values.

    Parameters
    ----------
    params : dict
        Field names of ``BrainFlowInputParams`` (``serial_port``, ``ip_address``, ``ip_port``,
        ``mac_address``, ``serial_number``, ``file``, ``master_board``, ``timeout``,
        ``other_info``...) and values, strings or already typed. ``master_board`` may be a
        board name.

    Returns
    -------
    BrainFlowInputParams

    Raises
    ------
    SourceError
        For a key BrainFlow does not know (naming the valid ones) or a value of the wrong type.
    """
    result = BrainFlowInputParams()
    fields = vars(result)
    for key, value in params.items():
        if key not in fields:
            raise SourceError(
                f"Unknown BrainFlow parameter '{key}'; valid keys are {', '.join(sorted(fields))}."
            )
        setattr(result, key, _typed(key, value, fields[key]))
    return result


def _typed(key: str, value, default):
    """``value`` converted to the type of the field's default (int fields take ints)."""
    if key == "master_board":
        return parse_board(value)
    if isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SourceError(
                f"BrainFlow parameter {key} must be a whole number, not '{value}'."
            ) from None
    return str(value)
