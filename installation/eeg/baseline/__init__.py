"""The calibration's rules: signal quality, the eyes-closed check, the baseline profile.

One implementation that the calibration command (``calibration/``) and the show's in-show
calibration (:mod:`installation.engine.in_show_calibration`) both drive, so a wearer
calibrated inside the running show gets exactly the profile ``python -m calibration`` would
write from the same samples.

Modules
-------
quality
    Per-channel quality over sliding windows (railed, flat, noisy, line noise) and its limits.
montage_outliers
    Channels far louder or quieter than the rest of the montage.
alpha_check
    The eyes-closed check (occipital alpha must rise).
profile_builder
    The profile from the baseline's features and the quality report; which channels to leave
    out; writing ``profile.json``.
session
    The guided steps (baseline, eyes closed) as a step object fed chunk by chunk.
verdicts
    The figures in words: each channel's state with its limit, the verdict, what to fix.
"""

from installation.eeg.baseline.profile_builder import build_profile, save_profile
from installation.eeg.baseline.quality import QualityMonitor, QualityReport, QualityThresholds
from installation.eeg.baseline.session import (
    CalibrationResult,
    CalibrationSession,
    CalibrationStep,
    default_steps,
)

__all__ = [
    "CalibrationResult",
    "CalibrationSession",
    "CalibrationStep",
    "QualityMonitor",
    "QualityReport",
    "QualityThresholds",
    "build_profile",
    "default_steps",
    "save_profile",
]
