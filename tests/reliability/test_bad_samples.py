"""Samples no headset should send: NaN, Inf, railed and flat channels; clocks that jump.

No NaN may reach a frame (the steering vector fed to the generator stays finite), the bad
channel is masked and the status says so, and eeg_time keeps rising.
"""

from __future__ import annotations

import uuid

import numpy as np
import pylsl

from installation.app import run_show
from installation.config import ShowOptions
from installation.eeg.feature_pipeline import FeatureExtractor
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.sources.base import Chunk, StreamInfo
from installation.eeg.sources.files.recordings import load_recording
from installation.eeg.sources.files.session_folder import read_keyframe_log
from installation.eeg.sources.live.lsl_source import LSLSource
from installation.outputs.recorder import SessionRecorder
from installation.screen.hud import ShowStatus, hud_lines
from tests.helpers import read_frames
from tests.installation.tiny_bundle import write_tiny_bundle
from tests.source_reading import read_until

RAIL_UV = 187500.02  # the ADS1299's full scale, where OpenBCI boards saturate


def _write_session(folder, data: np.ndarray, stamps: np.ndarray, info: StreamInfo) -> None:
    recorder = SessionRecorder(folder, info, "test")
    for start in range(0, data.shape[1], 40):
        recorder.add_chunk(Chunk(data[:, start:start + 40], stamps[start:start + 40]))
    recorder.close()


def _damaged(recording) -> tuple[np.ndarray, dict[str, str]]:
    """The recording with NaN, Inf, railed and flat stretches on four occipital channels."""
    data = recording.data.copy()
    names = list(recording.channel_names)
    rate = int(recording.sample_rate)
    damage = {"O1": "nan", "Oz": "inf", "O2": "railed", "PO8": "flat"}
    for name, kind in damage.items():
        row = data[names.index(name)]
        span = slice(5 * rate, 15 * rate)
        if kind == "nan":
            row[span] = np.nan
        elif kind == "inf":
            row[5 * rate:15 * rate:7] = np.inf
            row[5 * rate + 3:15 * rate:11] = -np.inf
        elif kind == "railed":
            row[span] = np.where(np.arange(10 * rate) % 50 < 25, RAIL_UV, -RAIL_UV)
        else:
            row[span] = row[5 * rate]
    return data, damage


def _show_over(tmp_path, data, recording, seconds: float):
    """Play ``data`` as a recorded session through the show at full speed, logging keyframes.

    Returns the show's summary and its keyframe log; frames go to ``tmp_path / "frames"``.
    """
    _write_session(tmp_path / "bad", data, recording.timestamps, recording.info)
    options = ShowOptions(source=f"file:{tmp_path / 'bad'}", model=str(
        write_tiny_bundle(tmp_path / "tiny")), headless=True, speed="max", frame_every=0,
        frames_out=str(tmp_path / "frames"), duration=seconds, record=str(tmp_path / "log"))
    summary = run_show(options)
    return summary, read_keyframe_log(tmp_path / "log")


def test_nan_inf_railed_and_flat_channels_are_masked_never_painted(eyes_open_edf, tmp_path):
    recording = load_recording(eyes_open_edf)
    data, damage = _damaged(recording)
    summary, log = _show_over(tmp_path, data, recording, seconds=20.0)
    assert len(log) > 200
    assert all(np.isfinite(entry["steering"]).all() for entry in log)
    assert all(np.isfinite(entry["noise"]).all() for entry in log)
    # the flat channel counts as flat once the step into it has left the filter (~2.5 s)
    during = [set(e["masked"]) for e in log if 9.0 <= e["eeg_time"] <= 14.0]
    assert during and all(set(damage) <= masked for masked in during), during[:3]
    after = [set(e["masked"]) for e in log if e["eeg_time"] >= 17.0]
    assert after and not any(set(damage) & masked for masked in after)  # unmasked when clean
    assert not any(e.kind == "error" for e in summary.events)
    rows = read_frames(tmp_path / "frames")
    assert all(np.isfinite(float(r["eeg_time"])) for r in rows)


def test_all_channels_bad_still_paints(eyes_open_edf, tmp_path):
    recording = load_recording(eyes_open_edf)
    data = recording.data.copy()
    data[:, 2 * 160:6 * 160] = np.nan
    summary, log = _show_over(tmp_path, data, recording, seconds=5.0)
    assert log and all(np.isfinite(entry["steering"]).all() for entry in log)
    assert any(len(e["masked"]) == recording.info.n_channels for e in log)
    status = ShowStatus("bad", "cpu")  # what the HUD shows at the end of the run
    status.masked_channels = summary.masked_channels
    assert set(summary.masked_channels) == set(recording.channel_names)
    assert any(line.startswith("masked: ") and "O1" in line
               for line in hud_lines(60.0, 15.0, 10.0, status))


def test_lsl_timestamps_that_jump_back_leap_and_jitter(eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    rate, n = recording.sample_rate, 12 * int(recording.sample_rate)
    labels = list(recording.channel_names) + ["Counter"]
    name = f"jumpy-{uuid.uuid4().hex[:8]}"
    info = pylsl.StreamInfo(name, "EEG", len(labels), rate, pylsl.cf_float32, name)
    info.set_channel_labels(labels)
    outlet = pylsl.StreamOutlet(info)
    source = LSLSource(name=name, resolve_timeout=5.0, channels=labels)
    source.open()
    rng = np.random.default_rng(0)
    stamps = pylsl.local_clock() + np.arange(n) / rate + rng.normal(0, 0.004, n)  # jitter
    stamps[3 * int(rate):] -= 40.0  # the device clock jumps back 40 s
    stamps[6 * int(rate):] += 600.0  # then leaps ten minutes ahead
    samples = np.vstack([recording.data[:, :n], np.arange(n, dtype=np.float32)]).T
    try:
        for start in range(0, n, 16):
            stop = min(start + 16, n)
            outlet.push_chunk(np.ascontiguousarray(samples[start:stop]),
                              list(stamps[start:stop]))
        chunks = read_until(source, n)
    finally:
        source.close()
        del outlet
    data = np.hstack([c.data for c in chunks])
    np.testing.assert_array_equal(data[-1], np.arange(n))  # none lost, none doubled
    got = np.concatenate([c.timestamps for c in chunks])
    assert np.all(np.diff(got) > 0)  # one rising clock whatever the device did
    eeg_info = StreamInfo(recording.channel_names, rate, "jumpy")
    extractor = FeatureExtractor(FeatureSpec(), eeg_info)
    frames = []
    for chunk in chunks:
        frames += extractor.push(Chunk(chunk.data[:-1], chunk.timestamps, chunk.arrival))
    assert len(frames) >= 150  # features kept flowing through both jumps
    eeg_times = [f.eeg_time for f in frames]
    assert np.all(np.diff(eeg_times) > 0)
    assert all(np.isfinite(f.steering).all() for f in frames)
