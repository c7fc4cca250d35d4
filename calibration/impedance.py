"""Electrode impedance where the board can measure it: which boards, which commands, the formula.

Only OpenBCI boards measure impedance through BrainFlow, each its own way:

================================  =====================================================
Cyton, Cyton Daisy (USB or WiFi)  lead-off current per channel: ``config_board("z" + CH +
                                  "01Z")`` drives 6 nA at 31.2 Hz into the N input of
                                  channel CH (``1``-``8``; Daisy ``Q W E R T Y U I`` for
                                  9-16), ``"z" + CH + "00Z"`` stops it; the impedance then
                                  follows from the channel's signal, see :func:`impedance_kohm`
                                  (OpenBCI Cyton SDK "Leadoff Impedance Commands"; OpenBCI
                                  GUI ``W_CytonImpedance``, ``DataProcessing``)
Ganglion (BLED112, WiFi, native)  ``config_board("z")`` starts impedance mode and ``"Z"``
                                  stops it; BrainFlow then fills the board's resistance
                                  rows (``BoardShim.get_resistance_channels``) in ohms
every other board                 no impedance measurement through BrainFlow
================================  =====================================================

Impedance mode replaces the EEG with the test signal, so it is a separate check before the
calibration steps, never during them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

from installation.errors import ConfigError
from installation.sources.board_ids import board_name, parse_board

LEAD_OFF_CURRENT_A = 6e-9  # ADS1299 lead-off drive the Cyton firmware selects (OpenBCI GUI)
LEAD_OFF_FREQ_HZ = 31.25  # its AC lead-off frequency (fs / 8 at 250 Hz)
SERIES_RESISTOR_OHM = 2200.0  # the Cyton's 2.2 kΩ input protection resistor (OpenBCI GUI)
GOOD_BELOW_KOHM = 750.0  # OpenBCI GUI: green below 750 kΩ
OK_BELOW_KOHM = 2500.0  # OpenBCI GUI: yellow below 2500 kΩ, red above
_DAISY_CHANNELS = "QWERTYUI"


@dataclass(frozen=True)
class ImpedanceSupport:
    """How a board measures impedance.

    Attributes
    ----------
    board : str
        BrainFlow board name.
    method : str
        ``"lead_off"`` (Cyton: compute from the signal) or ``"resistance_channels"``
        (Ganglion: BrainFlow reports ohms).
    start : str
        What to send to start it (a template with ``{channel}`` for lead-off).
    stop : str
        What to send to stop it.
    """

    board: str
    method: str
    start: str
    stop: str


_CYTON = ("lead_off", "z{channel}01Z", "z{channel}00Z")
_GANGLION = ("resistance_channels", "z", "Z")
SUPPORTED_BOARDS: dict[str, tuple[str, str, str]] = {
    "CYTON_BOARD": _CYTON,
    "CYTON_DAISY_BOARD": _CYTON,
    "CYTON_WIFI_BOARD": _CYTON,
    "CYTON_DAISY_WIFI_BOARD": _CYTON,
    "GANGLION_BOARD": _GANGLION,
    "GANGLION_WIFI_BOARD": _GANGLION,
    "GANGLION_NATIVE_BOARD": _GANGLION,
}


def impedance_support(board: str | int) -> ImpedanceSupport | None:
    """How the board measures impedance through BrainFlow, or None when it cannot.

    Parameters
    ----------
    board : str or int
        A BrainFlow board name (any case, ``_BOARD`` optional) or id.
    """
    name = board_name(parse_board(board))
    entry = SUPPORTED_BOARDS.get(name)
    return None if entry is None else ImpedanceSupport(name, *entry)


def cyton_lead_off_command(channel: int, on: bool = True) -> str:
    """The Cyton command that starts (or stops) the lead-off current on channel ``channel``.

    Parameters
    ----------
    channel : int
        1-16 (9-16 are the Daisy's).
    on : bool
        Start (True) or stop the test current on the channel's N input.
    """
    if not 1 <= channel <= 16:
        raise ConfigError(f"Cyton channels are numbered 1-16, not {channel}.")
    code = str(channel) if channel <= 8 else _DAISY_CHANNELS[channel - 9]
    return f"z{code}0{1 if on else 0}Z"


def impedance_kohm(data_uv, sample_rate: float | None = None) -> np.ndarray:
    """Electrode impedance from a channel in lead-off mode (OpenBCI GUI formula).

    ``impedance = sqrt(2) * std(µV) * 1e-6 / 6 nA - 2.2 kΩ``: the lead-off current is a
    31.25 Hz square-ish wave whose amplitude over the electrode gives its impedance.

    Parameters
    ----------
    data_uv : ndarray, shape (n_channels, n_samples) or (n_samples,)
        The signal in µV, a second or more, while the board is in impedance mode.
    sample_rate : float, optional
        When given, only 27-36 Hz around the lead-off tone is kept first, so a DC offset
        or drift does not count as impedance.

    Returns
    -------
    ndarray
        Impedance in kΩ per channel (0 when the formula goes negative).
    """
    data = np.atleast_2d(np.asarray(data_uv, dtype=np.float64))
    if sample_rate is not None:
        sos = signal.butter(4, (27.0, 36.0), btype="bandpass", output="sos", fs=sample_rate)
        data = signal.sosfiltfilt(sos, data, axis=1)
    std_v = data.std(axis=1) * 1e-6
    ohm = math.sqrt(2.0) * std_v / LEAD_OFF_CURRENT_A - SERIES_RESISTOR_OHM
    return np.maximum(ohm, 0.0) / 1000.0


def impedance_rating(kohm: float) -> str:
    """``good`` (< 750 kΩ), ``ok`` (< 2500 kΩ) or ``bad``: the OpenBCI GUI's colours."""
    if kohm < GOOD_BELOW_KOHM:
        return "good"
    return "ok" if kohm < OK_BELOW_KOHM else "bad"
