"""installation.export: a recorded session out to FIF, EDF and BIDS, read back by MNE."""

from __future__ import annotations

import json
import subprocess
import sys

import mne
import numpy as np
import pytest

from installation.app import run_show
from installation.config import DEFAULT_MODEL, ShowOptions
from installation.eeg.sources.base import Chunk, StreamInfo
from installation.eeg.sources.files.session_folder import read_keyframe_log, read_session_eeg
from installation.eeg.sources.files.session_format import (
    EEG_FILE,
    HEADER_FILE,
    KEYFRAME_FILE,
    encode_chunk,
    session_header,
)
from installation.engine.generator_runtime import GeneratorRuntime
from installation.export import GAP_LABEL, KEYFRAME_LABEL, lay_out, main
from tests.conftest import REPO, shared_file
from tests.helpers import assert_user_error


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """A few seconds of S001's eyes-open rest through the show, recorded."""
    edf = shared_file("eeg/physionet_eegmmidb/S001R01.edf")
    folder = tmp_path_factory.mktemp("show")
    runtime = GeneratorRuntime.load(DEFAULT_MODEL, "cpu", 1, native=True)
    run_show(ShowOptions(source=f"file:{edf}", headless=True, frames_out=str(folder / "frames"),
                         frame_every=0, duration=4.0, record=str(folder / "rec"), native=True),
             runtime=runtime)
    return folder / "rec"


def keyframe_times(folder) -> np.ndarray:
    return np.array([entry["eeg_time"] for entry in read_keyframe_log(folder)])


def annotated(raw, label: str) -> np.ndarray:
    return np.array([a["onset"] for a in raw.annotations if a["description"] == label])


def exported(session, out, read) -> tuple:
    """Export ``session`` to ``out``; (MNE's reading of it, the session header, its EEG)."""
    assert main([str(session), "--out", str(out)]) == 0
    raw = read(out, preload=True, verbose="error")
    header = json.loads((session / HEADER_FILE).read_text())
    eeg = read_session_eeg(session, len(header["channel_names"]))
    assert raw.ch_names == header["channel_names"] and raw.info["sfreq"] == header["sample_rate"]
    return raw, header, eeg


def test_fif_holds_the_samples_names_rate_date_and_keyframes(session, tmp_path):
    raw, header, eeg = exported(session, tmp_path / "show.fif", mne.io.read_raw_fif)
    assert set(raw.get_channel_types()) == {"eeg"}
    np.testing.assert_allclose(raw.get_data() * 1e6, eeg.data, rtol=1e-6, atol=1e-4)  # float32
    assert raw.info["meas_date"].timestamp() == pytest.approx(header["started_unix"], abs=1e-3)
    times = keyframe_times(session)
    assert len(times) > 10
    np.testing.assert_allclose(annotated(raw, KEYFRAME_LABEL), times, atol=1e-6)
    assert len(annotated(raw, GAP_LABEL)) == 0  # a file plays without gaps


def test_edf_holds_the_samples_to_its_16_bit_steps(session, tmp_path):
    raw, _, eeg = exported(session, tmp_path / "show.edf", mne.io.read_raw_edf)
    n = eeg.data.shape[1]
    back = raw.get_data()[:, :n] * 1e6
    assert 0 <= raw.n_times - n < raw.info["sfreq"]  # EDF pads its last one-second data record
    steps = np.ptp(eeg.data, axis=1, keepdims=True) / (2 ** 16 - 1)  # channelwise scaling
    assert np.all(np.abs(back - eeg.data) <= steps + 1e-3)
    np.testing.assert_allclose(annotated(raw, KEYFRAME_LABEL), keyframe_times(session),
                               atol=1e-3)


def test_the_bids_entry_reads_back_with_mne_bids(session, tmp_path):
    mne_bids = pytest.importorskip("mne_bids")
    root = tmp_path / "bids"
    assert main([str(session), "--bids", str(root), "--subject", "01", "--session", "a"]) == 0
    path = mne_bids.BIDSPath(subject="01", session="a", task="performance", datatype="eeg",
                             root=root)
    raw = mne_bids.read_raw_bids(path, verbose="error")
    assert raw.ch_names == json.loads((session / HEADER_FILE).read_text())["channel_names"]
    assert (annotated(raw, KEYFRAME_LABEL).size == keyframe_times(session).size)
    events = path.copy().update(suffix="events", extension=".tsv").fpath.read_text()
    assert events.count(KEYFRAME_LABEL) == keyframe_times(session).size
    derivative = (root / "derivatives" / "eeg-painting" / "sub-01" / "ses-a" / "eeg"
                  / "sub-01_ses-a_task-performance_keyframes.jsonl")
    assert derivative.read_text() == (session / KEYFRAME_FILE).read_text()
    described = json.loads((root / "dataset_description.json").read_text())
    assert described["GeneratedBy"][0]["Name"] == "eeg-painting"


def gapped_session(folder, rate: float = 100.0):
    """A session whose source went quiet for 2.5 s between two seconds of signal."""
    folder.mkdir()
    info = StreamInfo(("O1", "O2"), rate, "test")
    (folder / HEADER_FILE).write_text(json.dumps(session_header(info, "test", 1.7e9)))
    rng = np.random.default_rng(0)
    with open(folder / EEG_FILE, "wb") as f:
        for start in (0.0, 3.5):
            stamps = start + np.arange(100) / rate
            f.write(encode_chunk(Chunk(rng.normal(0, 20, (2, 100)).astype(np.float32), stamps)))
    (folder / KEYFRAME_FILE).write_text(json.dumps({"eeg_time": 3.9}) + "\n")
    return folder


def test_a_gap_stays_a_gap_marked_bad_never_glued(tmp_path):
    folder = gapped_session(tmp_path / "rec")
    out = tmp_path / "gap.fif"
    assert main([str(folder), "--out", str(out)]) == 0
    raw = mne.io.read_raw_fif(out, preload=True, verbose="error")
    assert raw.n_times == 450  # 1 s, 2.5 s of nothing, 1 s: the second stretch at its true time
    gaps = [a for a in raw.annotations if a["description"] == GAP_LABEL]
    assert len(gaps) == 1
    assert gaps[0]["onset"] == pytest.approx(1.0) and gaps[0]["duration"] == pytest.approx(2.5)
    assert np.all(raw.get_data()[:, 100:350] == 0) and np.any(raw.get_data()[:, 350:] != 0)
    np.testing.assert_allclose(annotated(raw, KEYFRAME_LABEL), [3.9], atol=1e-6)


def test_a_damaged_record_the_reader_skipped_is_a_gap_too(tmp_path):
    folder = tmp_path / "rec"
    folder.mkdir()
    rate = 100.0
    (folder / HEADER_FILE).write_text(json.dumps(session_header(
        StreamInfo(("O1",), rate, "test"), "test", 1.7e9)))
    records = [encode_chunk(Chunk(np.full((1, 10), i + 1, np.float32), (i * 10 + np.arange(10))
                                  / rate)) for i in range(3)]
    damaged = bytearray(records[1])
    damaged[-5] ^= 0xFF  # the middle record's checksum fails
    (folder / EEG_FILE).write_bytes(records[0] + bytes(damaged) + records[2])
    out = tmp_path / "damaged.fif"
    assert main([str(folder), "--out", str(out)]) == 0
    raw = mne.io.read_raw_fif(out, preload=True, verbose="error")
    np.testing.assert_allclose(raw.get_data()[0] * 1e6, [1] * 10 + [0] * 10 + [3] * 10,
                               atol=1e-5)
    gaps = [(a["onset"], a["duration"]) for a in raw.annotations if a["description"] == GAP_LABEL]
    assert gaps == [(pytest.approx(0.1), pytest.approx(0.1))]


def test_jittered_timestamps_stay_side_by_side():
    rate = 250.0
    stamps = np.arange(500) / rate + np.random.default_rng(1).normal(0, 0.0005, 500)
    timeline = lay_out(np.ones((1, 500), np.float32), stamps, rate)
    assert timeline.gaps == [] and timeline.data.shape == (1, 500)


def run_export(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "installation.export", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_bad_requests_get_one_sentence_and_exit_2(tmp_path):
    folder = gapped_session(tmp_path / "rec")
    assert_user_error(*_result(run_export(str(tmp_path), "--out", str(tmp_path / "x.fif"))),
                      "not a session folder")
    assert_user_error(*_result(run_export(str(folder), "--out", str(tmp_path / "x.mp4"))),
                      ".fif")
    existing = tmp_path / "taken.edf"
    existing.write_bytes(b"a performance")
    assert_user_error(*_result(run_export(str(folder), "--out", str(existing))), "--overwrite")
    assert existing.read_bytes() == b"a performance"
    assert_user_error(*_result(run_export(str(folder), "--bids", str(tmp_path / "b"))),
                      "--subject")
    assert_user_error(*_result(run_export(str(folder))), "--out")
    assert run_export(str(folder), "--out", str(existing), "--overwrite").returncode == 0


def _result(done: subprocess.CompletedProcess) -> tuple[int, str]:
    return done.returncode, done.stderr
