"""Sources that fail under a running show: the painting goes on, the source comes back.

Real components throughout: an LSL outlet on loopback that disappears and returns with the same
source_id, BrainFlow's synthetic board released under the reading thread, and its playback
board reaching the end of its file. The live show runs headless in this process; frames.csv
must have no gap longer than three refresh intervals.
"""

from __future__ import annotations

import threading
import time
import uuid

import numpy as np
import pylsl

from installation.app import run_show
from installation.config import ShowOptions
from installation.eeg.sources.base import SourceThread
from installation.eeg.sources.files.recordings import load_recording
from installation.eeg.sources.live.brainflow_source import BrainFlowSource
from installation.eeg.sources.live.lsl_source import LSLSource
from tests.helpers import largest_gap, read_frames
from tests.installation.tiny_bundle import write_tiny_bundle

FPS = 20.0
MAX_GAP_S = 3 / FPS
RECONNECT_S = 5.0


def _headless(source: str, bundle, out, duration: float) -> ShowOptions:
    return ShowOptions(source=source, model=str(bundle), headless=True, frames_out=str(out),
                       frame_every=0, duration=duration, fps=FPS, threads=1)


def _assert_frames_flowed(out) -> list[dict]:
    rows = read_frames(out)
    assert len(rows) > 5 * FPS
    assert largest_gap(rows) <= MAX_GAP_S
    eeg = [float(r["eeg_time"]) for r in rows]
    assert all(np.isfinite(eeg)) and eeg == sorted(eeg)  # one rising clock across the gap
    return rows


class _FlakyOutlet(threading.Thread):
    """Streams a recording in real time over LSL, vanishes for ``gone_s``, returns."""

    def __init__(self, recording, name: str, up_s: float, gone_s: float) -> None:
        super().__init__(daemon=True)
        self.recording, self.name = recording, name
        self.up_s, self.gone_s = up_s, gone_s
        self.ready, self.stop = threading.Event(), threading.Event()
        self.returned_at = None
        self.position = 0

    def _outlet(self) -> pylsl.StreamOutlet:
        info = pylsl.StreamInfo(self.name, "EEG", len(self.recording.channel_names),
                                self.recording.sample_rate, pylsl.cf_float32, self.name)
        info.set_channel_labels(list(self.recording.channel_names))
        info.set_channel_units(["microvolts"] * len(self.recording.channel_names))
        return pylsl.StreamOutlet(info)

    def _stream(self, outlet, seconds: float | None) -> None:
        step, started = 8, time.perf_counter()
        rate, total = self.recording.sample_rate, self.recording.n_samples
        while not self.stop.is_set() and (seconds is None or
                                          time.perf_counter() - started < seconds):
            columns = np.arange(self.position, self.position + step) % total
            outlet.push_chunk(np.ascontiguousarray(self.recording.data[:, columns].T))
            self.position += step
            time.sleep(step / rate)

    def run(self) -> None:
        outlet = self._outlet()
        self.ready.set()
        self._stream(outlet, self.up_s)
        del outlet  # the stream disappears from the network
        if self.stop.wait(self.gone_s):
            return
        outlet = self._outlet()  # same name, same source_id
        self.returned_at = time.perf_counter()
        self._stream(outlet, None)


def test_lsl_outlet_disappears_and_returns(eyes_open_edf, tmp_path):
    recording = load_recording(eyes_open_edf)
    name = f"flaky-{uuid.uuid4().hex[:8]}"
    outlet = _FlakyOutlet(recording, name, up_s=4.0, gone_s=3.0)
    outlet.start()
    assert outlet.ready.wait(10)
    out = tmp_path / "frames"
    try:
        summary = run_show(_headless(f"lsl:{name}", write_tiny_bundle(tmp_path / "tiny"), out,
                                     duration=13.0))
    finally:
        outlet.stop.set()
        outlet.join(10)
    assert outlet.returned_at is not None
    kinds = [e.kind for e in summary.events]
    assert "signal_lost" in kinds
    reconnected = [e for e in summary.events if e.kind == "reconnected"]
    assert reconnected, [(e.kind, e.message) for e in summary.events]
    assert reconnected[0].time - outlet.returned_at < RECONNECT_S
    # "back" only once samples flow again, from the steering worker: never before the reconnect
    back = [e for e in summary.events if e.kind == "signal_back"]
    assert back and back[-1].time >= reconnected[0].time, [(e.kind, e.message)
                                                            for e in summary.events]
    rows = _assert_frames_flowed(out)
    eeg = [float(r["eeg_time"]) for r in rows]
    assert eeg[-1] > 6.0  # samples after the return were painted on the same clock


def test_brainflow_board_released_under_the_reader_reconnects():
    source = BrainFlowSource("synthetic", {})
    source.open()
    chunks, events = [], []
    thread = SourceThread(source, chunks.append, events.append, retry_s=0.1)
    thread.start()
    try:
        time.sleep(1.0)
        source._shim.release_session()  # the board goes away under the reading thread
        released_at = time.perf_counter()
        deadline = released_at + 10
        while time.perf_counter() < deadline and "reconnected" not in [e.kind for e in events]:
            time.sleep(0.05)
        n_before = len(chunks)
        time.sleep(1.0)
    finally:
        thread.stop()
    kinds = [e.kind for e in events]
    assert kinds[:2] == ["error", "reconnected"], [(e.kind, e.message) for e in events]
    assert events[1].time - released_at < RECONNECT_S
    assert len(chunks) > n_before  # streaming again
    stamps = np.concatenate([c.timestamps for c in chunks])
    assert np.all(np.diff(stamps) > 0)  # one clock across the reconnection


def test_playback_board_reaching_its_end_is_reopened_and_the_show_drifts_on(tmp_path):
    from brainflow.data_filter import DataFilter

    recorder = BrainFlowSource("synthetic", {})  # record 2 s of the synthetic board to replay
    recorder.open()
    time.sleep(2.0)
    table = recorder._shim.get_board_data()
    recorder.close()
    path = tmp_path / "board.csv"
    DataFilter.write_file(table, str(path), "w")
    out = tmp_path / "frames"
    spec = f"brainflow:PLAYBACK_FILE_BOARD,file={path},master_board=SYNTHETIC_BOARD"
    summary = run_show(_headless(spec, write_tiny_bundle(tmp_path / "tiny"), out, duration=10.0))
    kinds = [e.kind for e in summary.events]
    assert "signal_lost" in kinds and "signal_back" in kinds, kinds
    rows = _assert_frames_flowed(out)
    assert float(rows[-1]["eeg_time"]) > table.shape[1] / 250.0  # the file played again


def test_a_stream_that_returns_with_other_channels_is_reported_once():
    name = f"changing-{uuid.uuid4().hex[:8]}"

    def outlet(n_channels: int) -> pylsl.StreamOutlet:
        info = pylsl.StreamInfo(name, "EEG", n_channels, 250.0, "float32", f"{name}-src")
        return pylsl.StreamOutlet(info)

    first = outlet(4)
    source = LSLSource(name=name, resolve_timeout=5.0)
    source.open()
    events = []
    thread = SourceThread(source, lambda chunk: None, events.append, stall_s=0.5, retry_s=0.1)
    thread.start()
    try:
        first.push_chunk(np.zeros((25, 4), np.float32))
        time.sleep(0.3)
        del first  # the headset goes away ...
        second = outlet(6)  # ... and another one answers to the same name
        deadline = time.perf_counter() + 15
        while time.perf_counter() < deadline and not any(
                "other channels" in e.message for e in events):
            second.push_chunk(np.zeros((25, 6), np.float32))
            time.sleep(0.1)
        time.sleep(1.0)  # further attempts must not repeat the message
    finally:
        thread.stop()
    changed = [e for e in events if "other channels" in e.message]
    assert len(changed) == 1 and changed[0].kind == "error", [e.message for e in events]
    assert "restart the show" in changed[0].message
