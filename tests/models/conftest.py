from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)  # two threads stall badly when the cores are shared

EEG_OPEN = "eeg/physionet_eegmmidb/S001R01.edf"
EEG_CLOSED = "eeg/physionet_eegmmidb/S001R02.edf"


@pytest.fixture
def few_paintings(tmp_path: Path, paintings_dir: Path) -> Path:
    """A folder linking a handful of the shared paintings (links, not copies)."""
    folder = tmp_path / "paintings"
    folder.mkdir()
    for path in sorted(paintings_dir.glob("*.jpg"))[:4]:
        os.symlink(path, folder / path.name)
    return folder
