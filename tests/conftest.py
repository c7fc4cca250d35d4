"""Shared test fixtures: where the shared recordings and paintings are, skipping when absent."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
# Board locks of this test run apart from any show running on the machine (and its other runs).
os.environ.setdefault("EEG_PAINTING_LOCK_DIR", tempfile.mkdtemp(prefix="eeg-painting-locks-"))

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("EEG_PAINTING_SHARED_DATA", REPO.parent / "shared" / "data"))
EEG_DIR = SHARED_DATA / "eeg"
PAINTINGS_DIR = SHARED_DATA / "paintings" / "john_constable"


def shared_file(relative: str) -> Path:
    """Path of a file under ../shared/data, skipping the test with a reason when it is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"shared data file {path} is absent (tests read real data from ../shared/data)")
    return path


@pytest.fixture
def eyes_open_edf() -> Path:
    return shared_file("eeg/physionet_eegmmidb/S001R01.edf")


@pytest.fixture
def eyes_closed_edf() -> Path:
    return shared_file("eeg/physionet_eegmmidb/S001R02.edf")


@pytest.fixture
def paintings_dir() -> Path:
    if not PAINTINGS_DIR.is_dir():
        pytest.skip(f"shared paintings {PAINTINGS_DIR} are absent")
    return PAINTINGS_DIR
