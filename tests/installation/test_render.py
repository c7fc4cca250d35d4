"""installation.render: a recorded show re-rendered into an MP4, each keyframe exactly as shown."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

from installation.app import run_show
from installation.config import DEFAULT_MODEL, ShowOptions
from installation.eeg.sources.files.session_format import KEYFRAME_FILE
from installation.engine.generator_runtime import GeneratorRuntime
from installation.engine.provider_choice import openvino_devices
from installation.render import (
    keyframe_image,
    keyframe_times,
    main,
    read_session_log,
    render_frames,
    render_session,
)
from installation.screen.frame_canvas import FrameCanvas
from tests.helpers import RememberingRuntime, assert_user_error

FPS = 30
SIZE = (192, 128)  # a wide frame: the 128 px painting fitted on a mat


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


@pytest.fixture(scope="module")
def runtime():
    return GeneratorRuntime.load(DEFAULT_MODEL, "cpu", 1, native=True)


@pytest.fixture(scope="module")
def live_session(runtime, tmp_path_factory):
    """Three seconds of a real-time headless show on a real recording, recorded."""
    from tests.conftest import shared_file

    edf = shared_file("eeg/physionet_eegmmidb/S001R02.edf")
    folder = tmp_path_factory.mktemp("show")
    remembering = RememberingRuntime(runtime)
    run_show(ShowOptions(source=f"file:{edf}", headless=True, frames_out=str(folder / "frames"),
                         frame_every=0, duration=3.0, record=str(folder / "rec"), native=True),
             runtime=remembering)
    # The show paints the drift while it opens the source; the session (and its log) starts
    # once the source is open, so the logged keyframes are the last ones painted.
    logged = len(read_session_log(folder / "rec").entries)
    assert len(remembering.images) >= logged
    return folder / "rec", remembering.images[len(remembering.images) - logged:]


def test_every_keyframe_renders_again_as_it_was_shown(live_session, runtime):
    folder, live_images = live_session
    log = read_session_log(folder)
    assert len(log.entries) == len(live_images) > 10
    for entry, shown in zip(log.entries, live_images, strict=True):
        again = keyframe_image(runtime, entry)
        assert psnr(again, shown) >= 40
        np.testing.assert_array_equal(again, shown)  # in fact bit for bit


def test_a_replay_of_the_session_paints_the_live_noise(live_session, tmp_path):
    folder, _ = live_session
    run_show(ShowOptions(source=f"file:{folder}", headless=True, speed="max", frame_every=0,
                         frames_out=str(tmp_path / "frames"), record=str(tmp_path / "again"),
                         native=True, threads=1))
    replayed = {round(e["eeg_time"], 4): e for e in read_session_log(tmp_path / "again").entries}
    live = read_session_log(folder).entries
    pairs = [(e, replayed[round(e["eeg_time"], 4)]) for e in live
             if round(e["eeg_time"], 4) in replayed]
    assert len(pairs) > 0.9 * len(live)  # live skips a hop now and then; the replay paints all
    for shown, again in pairs:
        np.testing.assert_array_equal(again["steering"], shown["steering"])
        np.testing.assert_allclose(again["noise"], shown["noise"], atol=1e-5)


def test_the_mp4_decodes_with_its_frames_and_keyframes(live_session, runtime, tmp_path):
    folder, live_images = live_session
    out = tmp_path / "show.mp4"
    figures = render_session(folder, out, DEFAULT_MODEL, SIZE, FPS, native=True,
                             provider="cpu", threads=1, progress=False)
    log = read_session_log(folder)
    with av.open(str(out)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == figures["frames"] == log.frame_count(FPS)
    assert decoded[0].shape == (SIZE[1], SIZE[0], 3)
    canvas = FrameCanvas(SIZE)
    expected = list(render_frames(runtime, log, FPS, canvas))
    # the first frame shows the first keyframe; the last, the last one faded in completely
    np.testing.assert_array_equal(expected[0], canvas.compose(live_images[0]))
    np.testing.assert_array_equal(expected[-1], canvas.compose(live_images[-1]))
    # H.264 at CRF 18 in yuv420p (chroma at half resolution) keeps these textured paintings at
    # about 34-37 dB; a wrong or shifted frame is under 25
    assert psnr(decoded[0], expected[0]) >= 30 and psnr(decoded[-1], expected[-1]) >= 30
    assert min(psnr(d, e) for d, e in zip(decoded, expected, strict=True)) >= 30
    assert psnr(decoded[0], decoded[-1]) < 30  # the show moved: the check above can fail


def test_the_timeline_follows_eeg_time_and_the_clock_while_it_stands_still():
    entries = [{"eeg_time": 1.0, "show_s": 1.2}, {"eeg_time": 1.5, "show_s": 1.8},
               {"eeg_time": 1.5, "show_s": 2.8}, {"eeg_time": 2.0, "show_s": 3.0}]
    np.testing.assert_allclose(keyframe_times(entries), [0.0, 0.5, 1.5, 2.0])


def test_sound_goes_into_the_mp4(live_session, tmp_path):
    folder, _ = live_session
    out = tmp_path / "sound.mp4"
    render_session(folder, out, DEFAULT_MODEL, (64, 64), 15, native=True, sound=True,
                   provider="cpu", threads=1, progress=False)
    with av.open(str(out)) as container:
        sound = np.concatenate([f.to_ndarray().ravel() for f in container.decode(audio=0)])
    with av.open(str(out)) as container:
        video_s = float(container.streams.video[0].frames) / 15
    assert abs(len(sound) / 44100 - video_s) < 0.2
    assert np.sqrt(np.mean(sound ** 2)) > 0.01  # not silence


@pytest.mark.parametrize("case", ["unwritable_out", "no_keyframe_log", "not_a_session",
                                  "odd_size"])
def test_bad_input_is_one_sentence_and_exit_2(case, live_session, tmp_path, capsys):
    folder, _ = live_session
    out = str(tmp_path / "x.mp4")
    if case == "unwritable_out":
        argv = [str(folder), "--out", str(tmp_path / "missing" / "x.mp4")]
    elif case == "no_keyframe_log":
        empty = tmp_path / "empty"
        empty.mkdir()
        (empty / "session.json").write_text((folder / "session.json").read_text())
        argv = [str(empty), "--out", out]
    elif case == "not_a_session":
        argv = [str(tmp_path), "--out", out]
    else:
        argv = [str(folder), "--out", out, "--size", "641x360"]
    assert_user_error(main(argv), capsys.readouterr().err)
    assert not (tmp_path / "x.mp4").exists()
    assert json.loads((folder / KEYFRAME_FILE).read_text().splitlines()[0])  # nothing lost


def test_openvino_renders_the_session_as_onnx_runtime_does(live_session, runtime, tmp_path):
    pytest.importorskip("openvino", reason="OpenVINO is not installed (pip install openvino)")
    folder, _ = live_session
    figures = render_session(folder, tmp_path / "ov.mp4", DEFAULT_MODEL, SIZE, FPS, native=True,
                             provider="openvino-cpu", threads=1, progress=False)
    assert figures["provider"].startswith("openvino-cpu")
    openvino = GeneratorRuntime.load(DEFAULT_MODEL, "openvino-cpu", 1, native=True)
    log, canvas = read_session_log(folder), FrameCanvas(SIZE)
    ours = np.stack(list(render_frames(openvino, log, FPS, canvas)))
    theirs = np.stack(list(render_frames(runtime, log, FPS, canvas)))
    assert ours.shape == theirs.shape and ours.std() > 10
    assert np.abs(ours.astype(np.int16) - theirs).max() <= 3  # f32 both: a level or two apart


def test_render_refuses_an_absent_provider_with_one_sentence(live_session, tmp_path, capsys):
    if any(d.startswith("GPU") for d in openvino_devices()):
        pytest.skip("OpenVINO sees a GPU here")
    folder, _ = live_session
    code = main([str(folder), "--out", str(tmp_path / "x.mp4"), "--provider", "openvino-gpu"])
    assert_user_error(code, capsys.readouterr().err, "OpenVINO")
