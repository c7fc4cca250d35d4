"""EDF, BDF and FIF recordings, read through MNE (which returns volts)."""

from __future__ import annotations

import warnings
from pathlib import Path

from installation.eeg.channels import is_eeg_channel
from installation.eeg.sources.base import Annotation
from installation.eeg.sources.files.recording import Recording, build_recording
from installation.errors import InstallationError, SourceError

VOLTS_TO_MICROVOLTS = 1e6
# MNE warns, then reads on, when an EDF/BDF file is shorter than its header says.
_TRUNCATION_WARNING = "does not match the file size"


def read_mne_file(path: Path, fmt: str) -> Recording:
    """Load the EEG channels of an EDF, BDF or FIF file.

    Parameters
    ----------
    path : Path
        The file.
    fmt : {"edf", "bdf", "fif"}
        Its format.

    Returns
    -------
    Recording
        EEG channels only (by MNE channel type and by name: ECG, EOG, references and
        triggers are dropped), in microvolts.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            raw = _open_raw(path, fmt)
            picks = _eeg_picks(raw)
            data = raw.get_data(picks=picks) if picks else None
        except InstallationError:
            raise
        except Exception as exc:  # MNE raises many types for a damaged file
            raise SourceError(
                f"{path.name} is not a readable {fmt.upper()} file ({exc}); "
                "copy or export it again."
            ) from None
    if any(_TRUNCATION_WARNING in str(warning.message) for warning in caught):
        raise SourceError(
            f"{path.name} is truncated: the file holds fewer samples than its header states; "
            "copy or export it again."
        )
    if data is None:
        raise SourceError(
            f"{path.name} has no EEG channels (found {', '.join(raw.ch_names)}); "
            "choose a recording with EEG in it."
        )
    names = [raw.ch_names[index] for index in picks]
    return build_recording(
        path, data * VOLTS_TO_MICROVOLTS, raw.info["sfreq"], names, raw.times, fmt.upper(),
        file_annotations(raw),
    )


def file_annotations(raw) -> list[Annotation]:
    """The file's annotations, their onsets counted from its first sample."""
    annotations = raw.annotations
    return [Annotation(float(onset) - raw.first_time, float(duration), str(description))
            for onset, duration, description in zip(annotations.onset, annotations.duration,
                                                     annotations.description, strict=True)]


def _eeg_picks(raw) -> list[int]:
    """Channels MNE types as EEG whose names are EEG too (EDF types every channel EEG)."""
    kinds = raw.get_channel_types()
    return [i for i, name in enumerate(raw.ch_names) if kinds[i] == "eeg" and is_eeg_channel(name)]


def _open_raw(path: Path, fmt: str):
    import mne  # lazy: MNE takes seconds to import, and only EDF, BDF and FIF need it

    if fmt == "edf":
        return mne.io.read_raw_edf(path, preload=False, verbose="warning")
    if fmt == "bdf":
        return mne.io.read_raw_bdf(path, preload=False, verbose="warning")
    return mne.io.read_raw_fif(path, preload=False, verbose="warning")
