"""The calibration command beside a running show: a held BrainFlow board, a shared LSL stream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import numpy as np
import pylsl
import pytest

from installation.eeg.sources import open_source, refuse_board_held_by_show
from installation.eeg.sources.board_ids import parse_board
from installation.eeg.sources.files.recordings import load_recording
from installation.eeg.sources.live.board_lock import (
    BoardLock,
    board_holder,
    lock_path,
    read_holder,
)
from installation.errors import SourceError
from tests.helpers import REPO, assert_one_line_error, run_module, show_env
from tests.installation.tiny_bundle import write_tiny_bundle
from tests.source_reading import read_until

SYNTHETIC = parse_board("synthetic")
CALIBRATE = ("calibration", "--source", "synthetic", "--headless", "--duration", "3")


def test_the_show_holds_the_board_and_the_calibration_command_says_so(tmp_path):
    source = open_source("synthetic", board_owner="show")  # the show's own code path
    source.open()
    try:
        assert board_holder(SYNTHETIC)["pid"] == os.getpid()
        result = run_module(*CALIBRATE, "--out", tmp_path / "cal", timeout=60)
        assert_one_line_error(result, "owns the headset", f"pid {os.getpid()}",
                              "press C", "/show/calibrate")
        assert not (tmp_path / "cal").exists()  # refused before anything was written
        with pytest.raises(SourceError, match="the show"):  # any spelling of the same board
            refuse_board_held_by_show("brainflow:SYNTHETIC_BOARD")
        refuse_board_held_by_show("brainflow:SYNTHETIC_BOARD,serial_port=/dev/other")
    finally:
        source.close()
    assert board_holder(SYNTHETIC) is None  # closing the board lets the lock go
    refuse_board_held_by_show("synthetic")


def test_a_source_opened_without_an_owner_takes_no_lock():
    source = open_source("synthetic")  # as the calibration command opens it
    source.open()
    try:
        assert board_holder(SYNTHETIC) is None
    finally:
        source.close()


def test_the_lock_goes_with_the_process_however_it_ends(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from installation.eeg.sources.live.board_lock "
         "import BoardLock; lock = BoardLock(-1, {}, 'show', 'synthetic'); "
         "print(lock.acquire(), flush=True); time.sleep(60)"],
        cwd=REPO, env=show_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        assert board_holder(SYNTHETIC) == {"pid": holder.pid, "owner": "show",
                                           "source": "synthetic"}
        assert not BoardLock(SYNTHETIC, {}, "show").acquire()  # a second show goes on without
    finally:
        holder.kill()
        holder.wait(30)
    assert board_holder(SYNTHETIC) is None  # kill -9: the kernel dropped it; the file stays
    assert lock_path(SYNTHETIC).exists()
    again = BoardLock(SYNTHETIC, {}, "show")
    assert again.acquire()
    again.release()


@pytest.mark.parametrize("written", [b"", b"\xff\xfe", b"[1]", json.dumps(
    {"pid": 1e308, "owner": ["x"], "source": 7}).encode(), json.dumps({"pid": True}).encode(),
    b"{" * 5000])
def test_what_a_lock_file_says_is_checked(tmp_path, written):
    path = tmp_path / "x.lock"
    path.write_bytes(written)
    assert read_holder(path) == {}


def test_the_live_show_takes_the_lock_while_it_paints(tmp_path):
    show = subprocess.Popen(
        [sys.executable, "-m", "installation", "--source", "synthetic", "--model",
         str(write_tiny_bundle(tmp_path / "tiny")), "--headless", "--frames-out",
         str(tmp_path / "frames"), "--frame-every", "0", "--duration", "30", "--fps", "10"],
        cwd=REPO, env=show_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.perf_counter() + 60
        while board_holder(SYNTHETIC) is None and time.perf_counter() < deadline:
            time.sleep(0.1)
        assert board_holder(SYNTHETIC) == {"pid": show.pid, "owner": "show",
                                           "source": "synthetic"}
        result = run_module(*CALIBRATE, "--out", tmp_path / "cal", timeout=60)
        assert_one_line_error(result, "owns the headset", f"pid {show.pid}")
    finally:
        show.kill()
        show.wait(30)


def test_the_show_and_the_calibration_read_one_lsl_stream_at_once(eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    n = int(3 * recording.sample_rate)
    labels = list(recording.channel_names)
    name = f"test-shared-{uuid.uuid4().hex[:8]}"
    info = pylsl.StreamInfo(name, "EEG", len(labels), recording.sample_rate,
                            pylsl.cf_float32, name)
    info.set_channel_labels(labels)
    outlet = pylsl.StreamOutlet(info)
    spec = f"lsl:{name}"
    refuse_board_held_by_show(spec)  # a stream is never held
    show = open_source(spec, resolve_timeout=5.0, board_owner="show")
    calibration = open_source(spec, resolve_timeout=5.0)
    show.open()
    calibration.open()
    try:
        samples = recording.data[:, :n].T
        for start in range(0, n, 32):
            outlet.push_chunk(np.ascontiguousarray(samples[start:start + 32]))
        got = [np.hstack([c.data for c in read_until(source, n)]) for source in
               (show, calibration)]
    finally:
        show.close()
        calibration.close()
        del outlet
    for data in got:  # each inlet has every sample, once, in order
        np.testing.assert_array_equal(data, recording.data[:, :n])
