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
from installation.eeg.sources.files.recordings import load_recording
from installation.outputs.sound_player import SoundPlayer
from installation.outputs.video_writer import MAX_GAP_S, LiveVideoWriter
from tests.helpers import assert_user_error


@pytest.fixture(scope="module")
def spec():
    return BundleSpec.load(DEFAULT_MODEL / "generator.json").feature_spec


def _decoded(path):
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def _grey(i: int, size: int = 64) -> np.ndarray:
    """Frame ``i``: a flat grey of its own (for i < 36), 6 levels from the next."""
    return np.full((size, size, 3), 20 + 6 * (i % 36), np.uint8)


def _indices(frames) -> list[int]:
    """Which ``_grey`` frame each decoded frame is (H.264 keeps a flat grey within a level)."""
    return [round((float(f.mean()) - 20) / 6) for f in frames]


def _offer_at(writer, times) -> None:
    """Offer ``_grey(i)`` shown at ``times[i]``, then finish the video."""
    for i, t in enumerate(times):
        writer.offer(_grey(i), at=t)
    writer.close()


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
    assert writer.dropped > 0 and writer.offered == 200
    # every frame is dropped, or taken and then written (copies counted apart) or skipped
    taken = writer.written - writer.repeated + writer.skipped
    assert taken + writer.dropped == writer.offered
    assert offered_s < 0.5  # 200 offers of 512 px frames never waited for the encoder
    assert len(_decoded(tmp_path / "fast.mp4")) == writer.written


def test_a_display_slower_than_the_video_rate_is_repeated_to_the_show_s_length(tmp_path):
    writer = LiveVideoWriter(tmp_path / "slow.mp4", 60, queue_frames=64)
    times = [1000.0 + i / 20 for i in range(30)]  # a loop holding 20 frames a second
    _offer_at(writer, times)
    frames = _decoded(tmp_path / "slow.mp4")
    show_s = times[-1] - times[0] + 1 / 60
    assert abs(len(frames) / 60 - show_s) <= 1 / 60  # not 30 frames: 0.5 s of a 1.45 s show
    assert len(frames) == writer.written and writer.repeated == len(frames) - 30
    assert sorted(set(_indices(frames))) == list(range(30))  # every frame shown, in order
    assert _indices(frames) == sorted(_indices(frames))
    assert f"{writer.repeated} repeated" in writer.status_line()


def test_a_display_faster_than_the_video_rate_is_thinned_to_the_show_s_length(tmp_path):
    writer = LiveVideoWriter(tmp_path / "fast.mp4", 30, queue_frames=256)
    times = [5.0 + i / 90 for i in range(91)]  # a second at 90 frames a second
    _offer_at(writer, times)
    frames = _decoded(tmp_path / "fast.mp4")
    assert len(frames) == writer.written == 31  # one in three: 1 s at 30 fps, and the first
    assert writer.skipped == 91 - 31 and writer.repeated == 0
    # video frame k (at k/30 s) is the first frame shown within half a video frame of it
    assert _indices(frames) == [0] + [(3 * k - 1) % 36 for k in range(1, 31)]


def test_frames_dropped_for_the_encoder_leave_the_video_as_long_as_the_show(tmp_path):
    writer = LiveVideoWriter(tmp_path / "drops.mp4", 60, queue_frames=2)
    times = [i / 60 for i in range(200)]  # on time, but faster than 512 px frames encode
    started = time.perf_counter()
    for i, t in enumerate(times):
        writer.offer(_grey(i, 512), at=t)
    offered_s = time.perf_counter() - started
    writer.close()
    frames = _decoded(tmp_path / "drops.mp4")
    assert writer.dropped > 0 and offered_s < 0.5  # dropped, never waited for
    assert len(frames) == writer.written == 200  # the gaps and the dropped end filled in
    assert writer.repeated >= writer.dropped - writer.skipped


def test_offline_each_frame_offered_is_one_video_frame_whatever_the_wall_clock(tmp_path):
    writer = LiveVideoWriter(tmp_path / "offline.mp4", 60, blocking=True)
    for i in range(12):
        writer.offer(_grey(i))
        if i % 4 == 0:
            time.sleep(0.1)  # rendering at --speed max takes what it takes: 6 frames of 60 fps
    writer.close()
    frames = _decoded(tmp_path / "offline.mp4")
    assert _indices(frames) == list(range(12))  # none repeated, none skipped
    assert writer.written == 12 and writer.repeated == writer.skipped == writer.dropped == 0


def test_a_huge_gap_is_filled_for_at_most_max_gap_s_and_the_clock_goes_on(tmp_path):
    fps = 10
    writer = LiveVideoWriter(tmp_path / "slept.mp4", fps, queue_frames=16)
    # the machine slept an hour after the first frame; then the display went on at 10 fps
    _offer_at(writer, [0.0, 3600.0, 3600.0 + 1 / fps, 3600.0 + 2 / fps])
    frames = _decoded(tmp_path / "slept.mp4")
    capped = round(MAX_GAP_S * fps)
    assert len(frames) == writer.written == 1 + capped + 2  # not 36,003 frames
    assert _indices(frames) == [0] + [1] * capped + [2, 3]
    assert writer.timeline.cut_s == pytest.approx(3600.0 - MAX_GAP_S)


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

    from installation.outputs.recorder import expand_start_time

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
    from installation.outputs.show_outputs import ShowOutputs
    from installation.screen.hud import ShowStatus, hud_lines

    writer = LiveVideoWriter(tmp_path / "hud.mp4", 60, queue_frames=1)
    outputs, status = ShowOutputs(video=writer), ShowStatus("test", "cpu")
    status.line_sources.append(outputs.status_lines)
    frame = np.zeros((64, 64, 3), np.uint8)
    for _ in range(50):
        outputs.offer_frame(frame)
    outputs.close()
    line = [ln for ln in hud_lines(60.0, 10.0, 50.0, status) if ln.startswith("video:")]
    assert line == [f"video: {writer.written} frames, {writer.dropped} dropped, "
                    f"{writer.repeated} repeated"]
    assert writer.written - writer.repeated + writer.skipped + writer.dropped == 50
