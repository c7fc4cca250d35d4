"""Which boards measure impedance through BrainFlow, their commands, and the OpenBCI formula."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.impedance import (
    cyton_lead_off_command,
    impedance_kohm,
    impedance_rating,
    impedance_support,
)
from installation.errors import ConfigError


@pytest.mark.parametrize("board, method", [
    ("cyton", "lead_off"),
    ("CYTON_DAISY_BOARD", "lead_off"),
    ("ganglion", "resistance_channels"),
    ("synthetic", None),
    ("muse_2", None),
])
def test_support_by_board(board, method):
    support = impedance_support(board)
    assert (support and support.method) == method


def test_cyton_commands():
    assert cyton_lead_off_command(1) == "z101Z"  # test current into channel 1's N input
    assert cyton_lead_off_command(1, on=False) == "z100Z"
    assert cyton_lead_off_command(9) == "zQ01Z"  # the Daisy's first channel
    with pytest.raises(ConfigError):
        cyton_lead_off_command(17)


def test_formula_recovers_a_known_impedance():
    rate = 250.0
    t = np.arange(int(4 * rate)) / rate
    # 6 nA through 10 kΩ + the 2.2 kΩ series resistor: 73.2 µV amplitude at 31.25 Hz
    tone = 73.2 * np.sin(2 * np.pi * 31.25 * t)
    assert impedance_kohm(tone)[0] == pytest.approx(10.0, abs=0.05)
    offset = tone + 40_000.0 + 500.0 * t  # DC offset and drift: filtered away with the rate
    assert impedance_kohm(offset, rate)[0] == pytest.approx(10.0, abs=0.5)
    assert impedance_kohm(np.zeros(100))[0] == 0.0


def test_ratings_follow_the_openbci_gui():
    assert [impedance_rating(k) for k in (10, 749, 750, 2499, 2500)] == [
        "good", "good", "ok", "ok", "bad"]
