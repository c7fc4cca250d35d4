"""quality.json and quality.png from a real recording's quality report."""

from __future__ import annotations

import json

import matplotlib
import matplotlib.image

from calibration.report import quality_document, write_quality_json, write_quality_png
from installation.eeg.baseline.quality import assess_quality
from installation.eeg.sources.files.recordings import load_recording
from tests.conftest import shared_file

OPENBCI_V6 = "eeg/openbci_gui/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"


def _report():
    recording = load_recording(shared_file(OPENBCI_V6))
    data = recording.data[:, : int(20 * recording.sample_rate)]
    return assess_quality(data, recording.sample_rate, recording.channel_names)


def test_quality_json_lists_states_figures_and_thresholds(tmp_path):
    report = _report()
    path = write_quality_json(tmp_path / "quality.json", report, notes=["n"])
    doc = json.loads(path.read_text())
    assert doc == quality_document(report, notes=["n"])
    channel = doc["channels"]["EXG Channel 0"]
    assert set(channel) >= {"state", "rms_uv", "railed_share", "line_log_ratio", "raw_std_uv"}
    # OpenBCI's own sample carries 60 Hz hum 20-75x its EEG power on every channel
    assert doc["line_freq"] == 60.0
    assert all(ch["state"] == "line_noise" for ch in doc["channels"].values())
    assert doc["verdict"] == "bad"
    assert doc["thresholds"]["line_log_ratio"] == -0.3


def test_quality_png_is_drawn_off_screen(tmp_path):
    assert matplotlib.get_backend().lower() == "agg"
    path = write_quality_png(tmp_path / "quality.png", _report())
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 400
    # the line-noise colour (#9467bd) fills the bars
    purple = (abs(image[..., 0] - 0x94 / 255) < 0.02) & (abs(image[..., 2] - 0xBD / 255) < 0.02)
    assert purple.sum() > 500
