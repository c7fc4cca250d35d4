"""Channel names: clean them to standard 10-20 spelling and tell EEG from everything else.

Files and devices spell the same electrode many ways (``Fc5.`` in PhysioNet EDF, ``EEG Fp1`` in
clinical EDF, ``FP1`` on some amplifiers). The rest of the show matches channels to scalp
regions by name, so every source cleans its names here, once, and drops non-EEG channels.
"""

from __future__ import annotations

import re

# Electrode-name prefixes of the 10-20 / 10-10 systems, in their standard casing.
_PREFIX_CASING = {
    prefix.upper(): prefix
    for prefix in (
        "Fp", "AF", "F", "FC", "FT", "C", "T", "TP", "CP", "P", "PO", "O", "I", "N", "A", "M",
    )
}
_ELECTRODE = re.compile(r"([A-Za-z]{1,2})(\d{1,2}|[zZ])")
_MODALITY_PREFIX = re.compile(r"^EEG[\s_:-]+", re.IGNORECASE)
_REFERENCE_SUFFIX = re.compile(r"[-_](REF|LE|AR|AVG|CAR)$", re.IGNORECASE)

# Words (whole tokens, lower case) that mark a channel as not EEG.
_NON_EEG_TOKENS = re.compile(
    r"(ecg|ekg|eog|heog|veog|emg|trg\d*|trig|trigger|sti\d*|stim|status|aux\d*|acc\d*|"
    r"accel|gyro\d*|ppg|resp|marker|markers|timestamp|time|counter|index|sample|battery|"
    r"analog|digital|other|ref|reference|x|y|z)"
)
# Fragments that mark a channel as not EEG wherever they appear (e.g. ``SampleIndex``).
_NON_EEG_FRAGMENTS = (
    "ecg", "ekg", "eog", "emg", "trigger", "marker", "timestamp", "accel", "gyro",
    "sampleindex", "samplecounter", "packet", "battery", "notused",
)
# Ear and mastoid reference electrodes, alone or as a bipolar pair (``A2-A1``).
_REFERENCE = re.compile(r"(A|M)[12](-(A|M)[12])?")


def _clean_electrode(name: str) -> str:
    """Standard casing for one electrode name (``FC5``, ``Fp1``, ``Oz``), else ``name`` as is."""
    bare = name.strip().strip(".").strip()
    match = _ELECTRODE.fullmatch(bare)
    if match is None or match.group(1).upper() not in _PREFIX_CASING:
        return bare
    prefix, suffix = match.groups()
    return _PREFIX_CASING[prefix.upper()] + ("z" if suffix in "zZ" else suffix)


def clean_channel_name(name: str) -> str:
    """Clean a channel name to standard 10-20 spelling.

    Strips padding dots and blanks, a leading ``EEG`` modality word and a trailing reference
    suffix (``-REF``, ``-LE``), and restores standard casing: ``Fc5.`` becomes ``FC5``,
    ``Cz..`` becomes ``Cz``, ``EEG Fp1`` becomes ``Fp1``. Bipolar names are cleaned on both
    sides (``EEG A2-A1`` becomes ``A2-A1``). Names that are not electrodes (``EXG Channel 0``,
    ``Ch1``, ``ECG ECG``) come back stripped but otherwise unchanged.

    Parameters
    ----------
    name : str
        The channel name as the file or device spells it.

    Returns
    -------
    str
        The cleaned name.
    """
    bare = name.strip().strip(".").strip()
    bare = _MODALITY_PREFIX.sub("", bare)
    bare = _REFERENCE_SUFFIX.sub("", bare)
    if "-" in bare:
        return "-".join(_clean_electrode(part) for part in bare.split("-"))
    return _clean_electrode(bare)


def is_eeg_channel(name: str) -> bool:
    """Tell whether a channel carries EEG, judging by its name.

    Rejects ECG/EKG, EOG, EMG, triggers and stimulus channels (``TRG``, ``TRIGGER``, ``STI``),
    auxiliary inputs (Muse ``AUX_RIGHT``, ``Right AUX``), accelerometer and gyroscope axes,
    markers, timestamps, sample indices and counters, and ear or mastoid reference electrodes
    (``A1``, ``A2``, ``A2-A1``, ``M1``).

    Parameters
    ----------
    name : str
        A channel name, raw or cleaned.

    Returns
    -------
    bool
        True for an EEG channel.
    """
    cleaned = clean_channel_name(name)
    if not cleaned or _REFERENCE.fullmatch(cleaned):
        return False
    lower = cleaned.lower()
    squashed = re.sub(r"[^a-z0-9]", "", lower)
    if any(fragment in squashed for fragment in _NON_EEG_FRAGMENTS):
        return False
    tokens = re.split(r"[^a-z0-9]+", lower)
    return not any(_NON_EEG_TOKENS.fullmatch(token) for token in tokens if token)
