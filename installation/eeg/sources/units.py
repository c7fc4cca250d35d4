"""Unit strings as streams and files spell them, turned into a factor to microvolts."""

from __future__ import annotations

_TO_MICROVOLTS = {
    "v": 1e6, "volt": 1e6, "volts": 1e6,
    "mv": 1e3, "millivolt": 1e3, "millivolts": 1e3,
    "nv": 1e-3, "nanovolt": 1e-3, "nanovolts": 1e-3,
}


def microvolt_scale(unit: str | None) -> float:
    """Factor that turns values in ``unit`` into microvolts.

    Parameters
    ----------
    unit : str or None
        ``"microvolts"``, ``"uV"``, ``"µV"``, ``"V"``, ``"volts"``, ``"mV"``... Unknown,
        empty or missing units are taken to be microvolts, the EEG convention.

    Returns
    -------
    float
        1e6 for volts, 1e3 for millivolts, 1 for microvolts.
    """
    if not unit:
        return 1.0
    return _TO_MICROVOLTS.get(unit.strip().lower(), 1.0)
