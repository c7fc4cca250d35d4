"""A short soak through the live show's own threads: no memory growth, no sample lost."""

from __future__ import annotations

import json

from benchmarks.soak import main, soak
from tests.conftest import shared_file
from tests.installation.tiny_bundle import write_tiny_bundle


def test_minutes_of_show_through_its_threads_hold_memory_and_every_sample(tmp_path):
    recording = shared_file("eeg/physionet_eegmmidb/S001R01.edf")
    figures = soak(hours=2 / 60, recording_path=recording, generate_every=16,
                   warmup_fraction=0.25, speedup=12.0)
    assert figures.eeg_hours >= 2 / 60 - 1e-3
    assert figures.samples >= 2 * 60 * 160  # the recording (61 s) looped twice, all recorded
    assert figures.lost == figures.doubled == figures.altered == 0
    assert figures.rss_growth_pct < 5.0
    assert figures.hops >= 0.9 * 2 * 60 * 15  # the worker kept up with every hop
    assert figures.frames >= 0.5 * figures.wall_s * 60  # the window drew at its refresh rate
    assert figures.generator_calls >= figures.keyframes // 16


def test_soak_command_prints_one_json_line(tmp_path, capsys):
    recording = shared_file("eeg/physionet_eegmmidb/S001R02.edf")
    code = main(["--hours", "0.005", "--recording", str(recording), "--model",
                 str(write_tiny_bundle(tmp_path / "tiny")), "--generate-every", "1", "--quiet",
                 "--speedup", "6"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and len(out) == 1
    figures = json.loads(out[0])
    assert figures["passed"] and figures["generator_calls"] == figures["keyframes"]
