"""--video writes the displayed painting without slowing the show; --sound plays or stays silent."""

from __future__ import annotations

import time

import av
import numpy as np
import pytest
from PIL import Image

from installation.app import run_show
from installation.bundle import BundleSpec
from installation.cli import main as show_cli
from installation.config import DEFAULT_MODEL, ShowOptions
from installation.eeg.feature_pipeline import feature_frames
from installation.eeg.sources.recordings import load_recording
from installation.sound_player import SoundPlayer
from installation.video_writer import LiveVideoWriter
from tests.helpers import assert_user_error


@pytest.fixture(scope="module")
def spec():
    return BundleSpec.load(DEFAULT_MODEL / "generator.json").feature_spec


def _decoded(path):
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_a_live_show_writes_its_painting_into_an_mp4(eyes_closed_edf, tmp_path):
    out = tmp_path / "show.mp4"
    summary = run_show(ShowOptions(source=f"file:{eyes_closed_edf}", headless=True,
                                   frames_out=str(tmp_path / "frames"), frame_every=1,
                                   duration=2.5, native=True, threads=1, video=str(out)))
    frames = _decoded(out)
    assert len(frames) > 0.8 * summary.frames and frames[0].shape == (128, 128, 3)
    assert any("video:" in line for line in summary.outputs)
    first_png = np.asarray(Image.open(tmp_path / "frames" / "frame-000000.png").convert("RGB"))
    mse = np.mean((frames[0].astype(float) - first_png) ** 2)
    assert 10 * np.log10(255 ** 2 / mse) >= 30  # the video's first frame is the show's first


def test_a_writer_that_falls_behind_drops_and_counts_never_waits(tmp_path):
    writer = LiveVideoWriter(tmp_path / "fast.mp4", 60, queue_frames=2)
    frame = np.random.default_rng(0).integers(0, 255, (512, 512, 3), np.uint8)
    started = time.perf_counter()
    for _ in range(200):
        writer.offer(frame)
    offered_s = time.perf_counter() - started
    writer.close()
    assert writer.dropped > 0 and writer.written + writer.dropped == writer.offered == 200
    assert offered_s < 0.5  # 200 offers of 512 px frames never waited for the encoder
    assert len(_decoded(tmp_path / "fast.mp4")) == writer.written


def test_an_unwritable_video_is_one_sentence_and_exit_2(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "show.mp4"
    code = show_cli(["--headless", "--duration", "1", "--native", "--frames-out",
                     str(tmp_path / "f"), "--video", str(target)])
    assert_user_error(code, capsys.readouterr().err, "--video")


def test_sound_plays_the_band_powers_on_a_dummy_device(spec, eyes_closed_edf, monkeypatch):
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    frames = feature_frames(load_recording(eyes_closed_edf), spec)[:30]
    player, events = SoundPlayer(spec), []
    player.on_event = events.append
    for frame in frames:
        player.set_band_powers(frame.band_powers)  # returns at once, from any thread
        time.sleep(spec.hop_s / 2)
    player.close()
    assert not player.silent and player.blocks_played >= 5 and not events


def test_no_audio_device_means_silence_not_failure(spec, monkeypatch):
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-audio-driver")
    events = []
    player = SoundPlayer(spec, events.append)
    player.set_band_powers(np.zeros(spec.n_features))
    player.close()
    assert player.silent and player.blocks_played == 0
    assert [e.kind for e in events] == ["sound"] and "silent" in player.status_line()


def test_date_and_time_in_record_and_video_give_each_show_its_own_files(eyes_closed_edf,
                                                                         tmp_path):
    from datetime import datetime

    from installation.recorder import expand_start_time

    assert expand_start_time("s/{date}-{time}", datetime(2026, 11, 30, 21, 4, 5)) == (
        "s/2026-11-30-210405")
    summary = run_show(ShowOptions(source=f"file:{eyes_closed_edf}", headless=True,
                                   speed="max", frames_out=str(tmp_path / "frames"),
                                   frame_every=0, duration=1.5, native=True, threads=1,
                                   record=str(tmp_path / "{date}-{time}"),
                                   video=str(tmp_path / "{date}-{time}.mp4")))
    folder = summary.recorded_to
    assert folder.is_dir() and "{" not in folder.name and folder.name[:4].isdigit()
    videos = list(tmp_path.glob("*.mp4"))
    assert [v.stem for v in videos] == [folder.name]
    assert len(_decoded(videos[0])) == summary.frames  # at --speed max no frame is dropped


def test_the_hud_shows_what_the_outputs_drop(tmp_path):
    from installation.hud import ShowStatus, hud_lines
    from installation.show_outputs import ShowOutputs

    writer = LiveVideoWriter(tmp_path / "hud.mp4", 60, queue_frames=1)
    outputs, status = ShowOutputs(video=writer), ShowStatus("test", "cpu")
    status.line_sources.append(outputs.status_lines)
    frame = np.zeros((64, 64, 3), np.uint8)
    for _ in range(50):
        outputs.offer_frame(frame)
    outputs.close()
    line = [ln for ln in hud_lines(60.0, 10.0, 50.0, status) if ln.startswith("video:")]
    assert line == [f"video: {writer.written} frames, {writer.dropped} dropped"]
    assert writer.written + writer.dropped == 50
