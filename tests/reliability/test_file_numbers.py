"""Numbers read from files that a one-line error alone does not cover (issue #30).

An upscaler whose graph states no sizes is run to see what it makes; a recording whose every
channel is NaN is refused, and a stretch of one tells the show the signal is lost; a keyframe
log with one absurd EEG time renders no longer than the session lasted. Real recordings, real
ONNX Runtime.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from installation.app import run_show
from installation.bundle import BundleSpec, UpscalerSpec
from installation.config import ShowOptions
from installation.eeg.sources.base import Chunk
from installation.eeg.sources.files.recordings import load_recording
from installation.eeg.sources.files.session_folder import read_session_folder
from installation.eeg.sources.files.session_format import (
    EEG_FILE,
    HEADER_FILE,
    KEYFRAME_FILE,
    encode_chunk,
    session_header,
)
from installation.engine.generator_runtime import GeneratorRuntime
from installation.errors import ModelError, SourceError, checked_number
from installation.render import keyframe_times, read_session_log, render_session
from tests.conftest import shared_file
from tests.helpers import read_frames
from tests.installation.tiny_bundle import write_tiny_bundle

EDF = "eeg/physionet_eegmmidb/S001R01.edf"
SIZE = 32


def symbolic_upscaler(path, tiles: int) -> None:
    """An upscaler graph whose sizes are symbolic: it tiles the painting ``tiles`` times."""
    repeats = numpy_helper.from_array(np.array([1, tiles, tiles, 1], np.int64), "repeats")
    graph = helper.make_graph(
        [helper.make_node("Tile", ["painting", "repeats"], ["image"])], "tiling",
        [helper.make_tensor_value_info("painting", TensorProto.UINT8, ["b", "h", "w", 3])],
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["b", "H", "W", 3])],
        [repeats])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


@pytest.mark.parametrize("tiles", [1, 2])
def test_an_upscaler_is_held_to_the_size_it_really_makes(tmp_path, tiles):
    folder = write_tiny_bundle(tmp_path / "bundle", size=SIZE)
    spec = BundleSpec.load(folder / "generator.json")
    spec.upscaler = UpscalerSpec(scale=2, input_resolution=SIZE)
    spec.save(folder)
    symbolic_upscaler(folder / "upscaler.onnx", tiles)
    if tiles == 1:  # says 64 px, paints 32: refused (it passed the shape check before)
        with pytest.raises(ModelError, match="64 px"):
            GeneratorRuntime.load(folder, "cpu", 1)
    else:
        runtime = GeneratorRuntime.load(folder, "cpu", 1)
        assert runtime.warm_up(np.zeros(8, np.float32)).shape == (2 * SIZE, 2 * SIZE, 3)


def nan_session(folder, nan_until_s: float, seconds: float = 10.0):
    """A session folder of the EDF's first ``seconds``, NaN on every channel until the time."""
    recording = load_recording(shared_file(EDF))
    n = int(seconds * recording.sample_rate)
    data = recording.data[:, :n].copy()
    stamps = recording.timestamps[:n]
    data[:, stamps < nan_until_s] = np.nan
    folder.mkdir()
    (folder / HEADER_FILE).write_text(json.dumps(session_header(recording.info, "test", 0.0)))
    (folder / EEG_FILE).write_bytes(encode_chunk(Chunk(data, stamps)))
    return folder


def test_a_recording_of_nan_only_is_refused_in_one_sentence(tmp_path):
    with pytest.raises(SourceError, match="no finite EEG sample"):
        read_session_folder(nan_session(tmp_path / "nan", 1e9))


def test_a_stretch_of_nan_on_every_channel_reads_lost_then_ok(tmp_path):
    folder = nan_session(tmp_path / "half", 5.0)
    frames = tmp_path / "frames"
    run_show(ShowOptions(source=f"file:{folder}", headless=True, speed="max", frame_every=0,
                         frames_out=str(frames), threads=1, native=True))
    rows = read_frames(frames)
    signal = [r["signal"] for r in rows]
    assert "lost" in signal and signal[-1] == "ok"  # it said "ok" throughout before
    back = signal.index("ok", signal.index("lost"))
    assert float(rows[back]["eeg_time"]) >= 5.0  # ok again only once the samples are real
    assert "ok" not in signal[:signal.index("lost")] or float(rows[0]["eeg_time"]) < 1.0


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Three seconds of the EDF played offline with --record."""
    root = tmp_path_factory.mktemp("rec")
    run_show(ShowOptions(source=f"file:{shared_file(EDF)}", headless=True, speed="max",
                         frame_every=0, frames_out=str(root / "frames"), duration=3.0,
                         record=str(root / "rec"), threads=1, native=True))
    return root / "rec"


def edited_log(recorded, folder, line: int, **values):
    shutil.copytree(recorded, folder)
    lines = (folder / KEYFRAME_FILE).read_text().splitlines()
    entry = json.loads(lines[line])
    entry.update(values)
    lines[line] = json.dumps(entry)
    (folder / KEYFRAME_FILE).write_text("\n".join(lines) + "\n")
    return folder


def test_one_absurd_eeg_time_plans_no_longer_video(recorded, tmp_path):
    whole = read_session_log(recorded).times[-1]
    for value in (1e10, -1e10, 1e11):  # ten billion frames were planned before
        log = read_session_log(edited_log(recorded, tmp_path / str(value), 10, eeg_time=value))
        assert log.times[-1] <= whole + 0.5, value
        assert log.frame_count(60) < 60 * (whole + 2)


def test_a_damaged_clock_cannot_stretch_a_lost_stretch(recorded, tmp_path):
    whole = read_session_log(recorded).times[-1]
    folder = edited_log(recorded, tmp_path / "clock", 10, eeg_time=0.0, show_s=1e9)
    assert read_session_log(folder).times[-1] <= whole + 0.5


def test_a_session_that_crashed_before_its_first_record_still_renders(recorded, tmp_path):
    folder = tmp_path / "crashed"
    shutil.copytree(recorded, folder)
    (folder / EEG_FILE).write_bytes(b"")
    figures = render_session(folder, tmp_path / "crashed.mp4", size=(64, 64), fps=10,
                             native=True, provider="cpu", threads=1, progress=False)
    assert figures["frames"] > 10 and (tmp_path / "crashed.mp4").stat().st_size > 0


def test_times_standing_still_or_stepping_back_take_the_show_clock():
    entries = [{"eeg_time": 1.0, "show_s": 1.0}, {"eeg_time": 1.0, "show_s": 2.0},
               {"eeg_time": 0.5, "show_s": 2.5}, {"eeg_time": 1.5, "show_s": 3.0}]
    np.testing.assert_allclose(keyframe_times(entries, (0.0, 2.0)), [0.0, 1.0, 1.5, 2.0])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**400, True, "1", None, [1]])
def test_checked_number_refuses_what_is_no_finite_number(value):
    with pytest.raises(SourceError, match="must be a number"):
        checked_number(value, "x", 0, 10, SourceError)


def test_checked_number_keeps_numbers_in_range():
    assert checked_number(4.0, "x", 1, 10, integer=True) == 4
    assert checked_number(10, "x", 0, 10, low_open=True) == 10.0
