from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from installation.config import ShowOptions, resolve_options
from installation.eeg.feature_spec import FeatureSpec
from installation.errors import ConfigError
from tests.helpers import (
    REPO,
    assert_one_line_error,
    ignore_sigint,
    interrupt_when,
    read_frames,
    run_module,
)
from tests.installation.tiny_bundle import write_tiny_bundle

HIGH_BANDS = FeatureSpec(bands=(("alpha", 8.0, 13.0), ("high_gamma", 60.0, 100.0)))


def run_show(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return run_module("installation", *args, timeout=timeout)


def test_max_speed_renders_the_whole_recording(eyes_closed_edf, tmp_path):
    bundle = write_tiny_bundle(tmp_path / "tiny")
    out = tmp_path / "frames"
    result = run_show("--source", f"file:{eyes_closed_edf}", "--model", bundle, "--headless",
                      "--speed", "max", "--frames-out", out, "--frame-every", "600")
    assert result.returncode == 0, result.stderr
    rows = read_frames(out)
    eeg = [float(r["eeg_time"]) for r in rows]
    assert 0.95 <= eeg[0] <= 1.05  # the first full window
    assert 59.0 <= eeg[-1] <= 61.5  # the recording lasts about 61 s
    assert eeg == sorted(eeg)
    assert [int(r["frame"]) for r in rows] == list(range(len(rows)))
    times = [float(r["time_s"]) for r in rows]
    assert len(rows) == pytest.approx(60 * (times[-1] - times[0]) + 1, abs=2)  # 60 fps virtual
    keyframes = sum(int(r["keyframe"]) for r in rows)
    assert keyframes == pytest.approx(len(rows) / 4, rel=0.1)  # 15 hops/s, 60 frames/s
    pngs = sorted(out.glob("frame-*.png"))
    assert len(pngs) == (len(rows) + 599) // 600
    assert "frames.csv" in result.stdout


def test_live_synthetic_board_headless(tmp_path):
    bundle = write_tiny_bundle(tmp_path / "tiny")
    out = tmp_path / "live"
    result = run_show("--source", "synthetic", "--model", bundle, "--headless", "--duration",
                      "3", "--frames-out", out, "--frame-every", "30")
    assert result.returncode == 0, result.stderr
    rows = read_frames(out)
    assert len(rows) > 30
    assert sum(int(r["keyframe"]) for r in rows) >= 5
    assert all(float(r["latency_ms"]) >= 0 for r in rows)
    assert list(out.glob("frame-*.png"))
    assert "BrainFlow" in result.stdout


def test_corrupt_onnx_exits_2_with_one_sentence(tmp_path):
    bundle = write_tiny_bundle(tmp_path / "tiny")
    (bundle / "generator.onnx").write_bytes(b"\x00garbage" * 50)
    assert_one_line_error(run_show("--model", bundle, "--headless", "--duration", "1"),
                              "cannot be loaded")


def test_missing_model_exits_2_with_one_sentence(tmp_path):
    assert_one_line_error(run_show("--model", tmp_path / "nothing", "--headless"),
                              "is missing")


def test_model_that_does_not_fit_the_source(eyes_closed_edf, tmp_path):
    bundle = write_tiny_bundle(tmp_path / "high", HIGH_BANDS)
    result = run_show("--source", f"file:{eyes_closed_edf}", "--model", bundle, "--headless",
                      "--speed", "max", "--frames-out", tmp_path / "out")
    assert_one_line_error(result, "does not fit the source", "Nyquist")


@pytest.mark.parametrize("args, words", [
    (["--duration", "-3", "--headless"], ["duration must be a positive"]),
    (["--frame-every", "-1", "--headless"], ["frame_every"]),
    (["--speed", "max", "--headless"], ["plays recording files only"]),
    (["--record", " "], ["--record needs a folder"]),
])
def test_bad_options_exit_2(args, words):
    assert_one_line_error(run_show(*args), *words)


def test_bad_config_file_exits_2(tmp_path):
    config = tmp_path / "show.toml"
    config.write_text('duration = "long"\n')
    assert_one_line_error(run_show("--config", config), "'duration'", "must be a number")
    config.write_text("durration = 3\n")
    assert_one_line_error(run_show("--config", config), "Unknown key 'durration'")


def test_argparse_rejects_non_numbers_with_exit_2():
    result = run_show("--duration", "soon")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_command_line_wins_over_the_config_file(tmp_path):
    config = tmp_path / "show.toml"
    config.write_text('duration = 5\nfps = 30\nsource = "lsl:type=EEG"\nheadless = true\n')
    options = resolve_options({"duration": 2.0}, str(config))
    assert options == ShowOptions(duration=2.0, fps=30.0, source="lsl:type=EEG", headless=True)


def test_config_types_are_checked(tmp_path):
    config = tmp_path / "show.toml"
    config.write_text("display = 1.5\n")
    with pytest.raises(ConfigError, match="'display' in .* must be an integer"):
        resolve_options({}, str(config))
    config.write_text("fullscreen = 1\n")
    with pytest.raises(ConfigError, match="true or false"):
        resolve_options({}, str(config))


@pytest.mark.parametrize("launcher_ignores_sigint", [False, True])
def test_ctrl_c_shuts_down_cleanly(tmp_path, launcher_ignores_sigint):
    bundle = write_tiny_bundle(tmp_path / "tiny")
    out = tmp_path / "live"
    env = dict(os.environ, SDL_VIDEODRIVER="dummy")
    show = subprocess.Popen([sys.executable, "-m", "installation", "--model", str(bundle),
                             "--headless", "--frames-out", str(out)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ignore_sigint if launcher_ignores_sigint else None)
    stderr = interrupt_when(show, lambda: (out / "frames.csv").is_file()
                            and len(read_frames(out)) > 10)  # once frames are being written
    assert show.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    rows = read_frames(out)
    assert len(rows) > 10 and rows[-1]["keyframe"] in ("0", "1")  # the last row is complete


def write_profile(path: Path, channel_names, sample_rate: float, bad=()) -> Path:
    import json

    import numpy as np

    from installation.eeg.features import FeatureNormaliser
    from installation.eeg.profile import PROFILE_FORMAT

    spec = FeatureSpec()
    powers = np.random.default_rng(0).normal(1.0, 0.2, (20, spec.n_features))
    profile = FeatureNormaliser.profile_from(spec, powers)
    profile.update(format=PROFILE_FORMAT, channel_names=list(channel_names),
                   sample_rate=sample_rate, bad_channels=list(bad))
    path.write_text(json.dumps(profile))
    return path


def test_profile_that_fits_is_used(eyes_closed_edf, tmp_path):
    from installation.eeg.sources.files.recordings import load_recording

    names = load_recording(eyes_closed_edf).channel_names
    profile = write_profile(tmp_path / "profile.json", names, 160.0, bad=names[:2])
    out = tmp_path / "frames"
    result = run_show("--source", f"file:{eyes_closed_edf}", "--model",
                      write_tiny_bundle(tmp_path / "tiny"), "--profile", profile, "--headless",
                      "--speed", "max", "--frames-out", out, "--duration", "3")
    assert result.returncode == 0, result.stderr
    eeg = [float(r["eeg_time"]) for r in read_frames(out)]
    assert 2.9 <= eeg[-1] <= 3.2  # --duration counts EEG seconds at max speed


def test_profile_from_another_headset_is_refused(eyes_closed_edf, tmp_path):
    profile = write_profile(tmp_path / "profile.json", ["Fp1", "Fp2", "O1", "O2"], 160.0)
    result = run_show("--source", f"file:{eyes_closed_edf}", "--profile", profile, "--headless",
                      "--speed", "max", "--frames-out", tmp_path / "out")
    assert_one_line_error(result, "other channels")


def test_missing_profile_is_refused(tmp_path):
    result = run_show("--profile", tmp_path / "nope.json", "--headless", "--duration", "1")
    assert_one_line_error(result, "does not exist")
