"""Which scalp region an electrode name belongs to (10-20 / 10-10 names, Muse, old 10-20)."""

from __future__ import annotations

import re

from installation.eeg.channels import clean_channel_name

# Electrode-name prefix (the letters before the number or "z") -> region of FeatureSpec.
_PREFIX_REGIONS: dict[str, str] = {
    "FP": "frontal",
    "AF": "frontal",
    "F": "frontal",
    "FC": "central",
    "C": "central",
    "T": "temporal",  # also the old 10-20 names T3, T4, T5, T6
    "FT": "temporal",
    "TP": "temporal",  # Muse TP9 / TP10
    "CP": "parietal",
    "P": "parietal",
    "PO": "occipital",
    "O": "occipital",
    "I": "occipital",
}
# Letters, then a number or "z" (midline), nothing else: "FC5", "Cz", "TP10", "Iz".
_ELECTRODE = re.compile(r"([A-Z]+?)(\d+|Z)")


def region_of(channel_name: str) -> str | None:
    """Scalp region of an EEG channel, from its electrode name.

    Parameters
    ----------
    channel_name : str
        A 10-20 / 10-10 electrode name (``"FC5"``, ``"Oz"``, ``"T3"``, ``"TP9"``), in any case,
        optionally padded with dots (``"Fc5."``), tagged ``"EEG Fp1"`` or referenced
        (``"O1-A2"``, only the first electrode counts).

    Returns
    -------
    str or None
        ``"frontal"``, ``"central"``, ``"temporal"``, ``"parietal"`` or ``"occipital"``; None for
        names that are not electrode positions (``"EXG Channel 0"``, ``"EEG1"``, ear ``"A1"``).
    """
    # The loaders' cleaning strips dots, "EEG " tags and "-REF"; a bipolar pair keeps its first.
    name = clean_channel_name(channel_name).split("-")[0].strip().upper()
    match = _ELECTRODE.fullmatch(name)
    if match is None:
        return None
    return _PREFIX_REGIONS.get(match.group(1))


def regions_of(channel_names) -> list[str | None]:
    """:func:`region_of` for each name, in order."""
    return [region_of(name) for name in channel_names]
