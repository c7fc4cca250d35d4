"""``python -m calibration`` headless on real recordings and BrainFlow's synthetic board."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import pytest

from calibration.cli import main
from installation.eeg.features import FeatureNormaliser
from installation.eeg.profile import check_profile_fits, load_profile
from installation.eeg.sources.files.recordings import load_recording
from tests.conftest import REPO, shared_file
from tests.helpers import catches_sigint, ignore_sigint, interrupt_when

JORDAN = "eeg/openbci_gui/OpenBCI_2016-02-13_Jordan_focus.txt"


def _outputs(out):
    quality = json.loads((out / "quality.json").read_text())
    profile = load_profile(out / "profile.json")
    return quality, profile


def test_jordan_recording_flags_its_railed_channels(tmp_path, capsys):
    path = shared_file(JORDAN)
    assert main(["--source", f"file:{path}", "--headless", "--out", str(tmp_path)]) == 0
    quality, profile = _outputs(tmp_path)
    states = {name: ch["state"] for name, ch in quality["channels"].items()}
    # Channels 3-6 and 8 sit at ±187500 µV for the first ~13 s (channel 4 peaks at 186,816 µV,
    # 99.6% of the rail), then read exactly 0; channel 7 reads 0 throughout.
    assert {n for n, s in states.items() if s == "railed"} == {"Ch3", "Ch4", "Ch5", "Ch6", "Ch8"}
    assert states["Ch7"] == "flat"
    assert quality["verdict"] == "bad"
    assert quality["line_freq"] == 60.0  # a US recording
    assert quality["channels"]["Ch3"]["railed_share"] > 0.1
    assert quality["thresholds"]["rail_uv"] == 187500.0
    assert set(profile["bad_channels"]) == {"Ch3", "Ch4", "Ch5", "Ch6", "Ch7", "Ch8"}
    assert "Ch3: railed" in capsys.readouterr().out
    image = matplotlib.image.imread(tmp_path / "quality.png")
    assert image.shape[0] > 400 and image.shape[1] > 400


def test_short_recording_is_split_between_the_steps(tmp_path, capsys, eyes_open_edf):
    argv = ["--source", f"file:{eyes_open_edf}", "--headless", "--out", str(tmp_path)]
    assert main(argv) == 0  # 61 s for 60 + 30 s planned
    quality, profile = _outputs(tmp_path)
    assert "first 40.7 s are the baseline" in quality["notes"][0]
    assert "note: The recording holds 61.00 s" in capsys.readouterr().out
    assert profile["baseline_s"] == pytest.approx(40.7, abs=0.2)
    assert profile["eyes_closed"]["passed"] is False  # it was eyes open all along


def test_synthetic_board_comes_out_good(tmp_path):
    argv = ["--source", "synthetic", "--headless", "--duration", "4",
            "--eyes-closed-duration", "0", "--out", str(tmp_path)]
    assert main(argv) == 0
    quality, profile = _outputs(tmp_path)
    assert quality["verdict"] == "good"
    # The synthetic board's channel k is a sine at 5k Hz: channel 10 (F7) is a pure 50 Hz and
    # channel 12 (F1) a pure 60 Hz tone, so whichever mains frequency is detected, that one
    # channel legitimately reads as line noise. Every other channel is good.
    hum = {50.0: "F7", 60.0: "F1"}[quality["line_freq"]]
    assert set(quality["bad_channels"]) <= {hum}
    assert len(quality["channels"]) == 16
    assert profile["bad_channels"] == []
    FeatureNormaliser.from_profile(profile)
    assert profile["eyes_closed"] is None


def test_profile_fits_the_recording_it_was_made_from(tmp_path, eyes_closed_edf):
    argv = ["--source", f"file:{eyes_closed_edf}", "--headless", "--duration", "10",
            "--eyes-closed-duration", "0", "--out", str(tmp_path)]
    assert main(argv) == 0
    _, profile = _outputs(tmp_path)
    assert check_profile_fits(profile, load_recording(eyes_closed_edf).info) == tuple(
        profile["bad_channels"])


@pytest.mark.parametrize("argv, message", [
    (["--source", "file:/no/such/file.edf", "--headless"], "does not exist"),
    (["--source", "synthetic", "--headless", "--duration", "soon"], "not a number of seconds"),
    (["--source", "synthetic", "--headless", "--duration", "-4"], "0 or more seconds"),
    (["--source", "synthetic", "--headless", "--duration", "1"], "at least 3 s"),
    (["--source", "nonsense", "--headless"], "Unknown source"),
    (["--headless"], "required"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_module_entry_point_exits_2_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "calibration", "--source", "file:missing.edf", "--headless",
         "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: Recording missing.edf does not exist")
    assert "Traceback" not in result.stderr


def test_window_on_a_missing_display_is_refused(tmp_path, capsys, eyes_open_edf):
    argv = ["--source", f"file:{eyes_open_edf}", "--display", "7", "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--display 7 does not exist" in err


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux's /proc")
def test_ctrl_c_stops_a_calibration_launched_with_sigint_ignored(tmp_path):
    # A background job of a shell script inherits SIGINT ignored; Ctrl-C must still stop it.
    calibration = subprocess.Popen(
        [sys.executable, "-m", "calibration", "--source", "synthetic", "--headless",
         "--duration", "600", "--eyes-closed-duration", "0", "--out", str(tmp_path / "out")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=ignore_sigint)
    stderr = interrupt_when(calibration, lambda: catches_sigint(calibration.pid))
    assert calibration.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
