"""The OpenBCI GUI text reader streams: its memory follows the samples, not the file's text."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from installation.eeg.sources.files.recordings import load_recording
from tests.conftest import shared_file
from tests.helpers import REPO

V6 = "eeg/openbci_gui/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"
TARGET_BYTES = 48 << 20

PEAK_SCRIPT = """
import resource, sys
from installation.eeg.sources.files.recordings import load_recording
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
recording = load_recording(sys.argv[1])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(recording.n_samples, recording.data.nbytes, (after - before) * 1024)
"""


def _long_text(tmp_path):
    """The real v6 file with its rows repeated to about ``TARGET_BYTES`` of text."""
    text = shared_file(V6).read_text()
    lines = text.splitlines(keepends=True)
    head = [line for line in lines[:5] if line.startswith("%") or "Sample Index" in line]
    rows = "".join(lines[len(head):])
    path = tmp_path / "long.txt"
    copies = TARGET_BYTES // len(rows) + 1
    with open(path, "w") as f:
        f.write("".join(head))
        for _ in range(copies):
            f.write(rows)
    return path, copies * (len(lines) - len(head))


def test_a_long_text_costs_memory_by_its_samples(tmp_path):
    path, n_rows = _long_text(tmp_path)
    text_bytes = path.stat().st_size
    # ru_maxrss is a peak: measure it in a fresh interpreter that does nothing else
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(path)], cwd=REPO,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    n_samples, data_bytes, grown = (int(v) for v in out.split())
    assert n_samples == n_rows
    # before: about 10x the text (3.9 GB for 400 MB); now the samples, twice, and a block
    assert grown < 3 * data_bytes + (16 << 20), (grown, data_bytes, text_bytes)
    assert grown < text_bytes / 2


def test_streamed_rows_equal_the_file(tmp_path):
    recording = load_recording(shared_file(V6))
    rows = [line.split(",") for line in shared_file(V6).read_text().splitlines()
            if line and not line.startswith("%") and not line.startswith("Sample Index")]
    expected = np.array([[float(r[i]) for i in range(1, 9)] for r in rows], np.float32).T
    np.testing.assert_array_equal(recording.data, expected)
