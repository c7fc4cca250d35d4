"""Benchmarks that print figures (``make bench``, ``make soak``); nothing here asserts speed."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The real recordings and paintings beside the checkout, as the tests find them.
SHARED_DATA = Path(os.environ.get("EEG_PAINTING_SHARED_DATA", REPO.parent / "shared" / "data"))
PHYSIONET = SHARED_DATA / "eeg" / "physionet_eegmmidb"  # eyes-open R01, eyes-closed R02 rest
EYES_OPEN_EDF = PHYSIONET / "S001R01.edf"
EYES_CLOSED_EDF = PHYSIONET / "S001R02.edf"
PAINTINGS = SHARED_DATA / "paintings" / "john_constable"
