"""Driving a calibration session over recorded chunks in tests."""

from __future__ import annotations

from installation.eeg.baseline.session import DONE, CalibrationResult, CalibrationSession


def run_until_done(session: CalibrationSession, chunks) -> CalibrationResult:
    """Push ``chunks`` until the session's steps are done, then finish it."""
    for chunk in chunks:
        session.push(chunk)
        if session.state == DONE:
            break
    return session.finish()
