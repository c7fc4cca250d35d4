"""Every shared recording loads as EEG in microvolts with clean names; bad files say why."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from installation.eeg.sources.files.recordings import load_recording
from installation.errors import SourceError
from tests.conftest import shared_file

MUSE = ("TP9", "AF7", "AF8", "TP10")
MUSE_DIR = "eeg/xdf/muselsl2/"
# path, channels, rate, samples, names that must be there, names that must not
SHARED_RECORDINGS = [
    ("eeg/physionet_eegmmidb/S001R01.edf", 64, 160.0, 9760, ("FC5", "Cz", "Oz", "Iz", "Fp1"), ()),
    ("eeg/physionet_eegmmidb/S001R02.edf", 64, 160.0, 9760, ("FC5", "Oz"), ()),
    (
        "eeg/physionet_eegmat/Subject00_1.edf", 19, 500.0, 91000, ("Fp1", "T3", "O1", "Pz"),
        ("A2-A1", "ECG ECG", "ECG"),
    ),
    (
        "eeg/openbci_gui/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt", 8, 250.0, 22490,
        tuple(f"EXG Channel {i}" for i in range(8)), ("Accel Channel 0", "Sample Index"),
    ),
    (
        "eeg/openbci_gui/OpenBCI_2016-02-13_Jordan_focus.txt", 8, 250.0, 30646,
        tuple(f"Ch{i}" for i in range(1, 9)), (),
    ),
    ("eeg/xdf/bci-essentials/switch_example.xdf", 16, 256.0, 34320, ("F3", "FCz", "Cz", "Pz"), ()),
    (
        MUSE_DIR + "sub-P001_ses-S001_task-Default_run-001_eeg.xdf", 4, 256.0, 2820, MUSE,
        ("AUX_RIGHT",),
    ),
    (
        MUSE_DIR + "sub-P001_ses-S001_task-Default_run-001_eeg__2023-09-22_version.xdf", 4, 256.0,
        6408, MUSE, ("Right AUX",),
    ),
    (MUSE_DIR + "sub-P002_ses-S001_task-Default_run-001_eeg.xdf", 4, 256.0, 4356, MUSE, ()),
    (MUSE_DIR + "sub-P003_ses-S001_task-Default_run-001_eeg.xdf", 4, 256.0, 2687, MUSE, ()),
    (MUSE_DIR + "sub-P023_ses-S001_task-Default_run-001_eeg.xdf", 4, 256.0, 1668, MUSE, ()),
    (MUSE_DIR + "sub-P031_ses-S001_task-Default_run-001_eeg.xdf", 4, 256.0, 1284, MUSE, ()),
]


@pytest.mark.parametrize(
    ("relative", "n_channels", "rate", "n_samples", "present", "absent"),
    SHARED_RECORDINGS,
    ids=[row[0].rsplit("/", 1)[-1][:24] for row in SHARED_RECORDINGS],
)
def test_shared_recording_loads(relative, n_channels, rate, n_samples, present, absent):
    recording = load_recording(shared_file(relative))
    assert recording.data.dtype == np.float32
    assert recording.data.shape == (n_channels, n_samples)
    assert recording.sample_rate == rate
    assert len(recording.channel_names) == n_channels
    assert set(present) <= set(recording.channel_names)
    assert not set(absent) & set(recording.channel_names)
    stamps = recording.timestamps
    assert stamps.dtype == np.float64 and stamps.shape == (n_samples,)
    assert stamps[0] == 0.0 and np.all(np.diff(stamps) >= 0)
    assert stamps[-1] == pytest.approx((n_samples - 1) / rate, rel=0.02)
    assert recording.info.n_channels == n_channels and recording.info.sample_rate == rate


@pytest.mark.parametrize(
    "relative",
    [
        "eeg/physionet_eegmmidb/S001R01.edf",
        "eeg/physionet_eegmat/Subject00_1.edf",
        "eeg/xdf/bci-essentials/switch_example.xdf",
        MUSE_DIR + "sub-P002_ses-S001_task-Default_run-001_eeg.xdf",
    ],
)
def test_eeg_is_in_microvolts(relative):
    recording = load_recording(shared_file(relative))
    typical_std = float(np.median(recording.data.std(axis=1)))
    assert 3.0 < typical_std < 500.0  # tens of µV, not 1e-5 (volts) nor 1e4 (nanovolts)


def test_openbci_dc_offsets_stay(tmp_path):
    recording = load_recording(
        shared_file("eeg/openbci_gui/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt")
    )
    assert np.abs(recording.data[0].mean()) > 10_000  # tens of mV: the filter removes them
    assert recording.data[0, 0] == pytest.approx(61379.36)


def test_openbci_text_is_recognised_by_content(tmp_path):
    source = shared_file("eeg/openbci_gui/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt")
    lines = source.read_text().splitlines()[:60]
    renamed = tmp_path / "session.csv"  # .csv would mean BrainFlow by extension alone
    renamed.write_text("\n".join(lines) + "\n217, 58567.6")  # and a line cut short
    recording = load_recording(renamed)
    assert recording.data.shape == (8, 55)
    assert recording.data[7, 0] == pytest.approx(1740.11)


def test_chunks_cover_the_recording(eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    chunks = list(recording.chunks(100))
    assert [chunk.n_samples for chunk in chunks[:-1]] == [100] * (len(chunks) - 1)
    np.testing.assert_array_equal(np.hstack([c.data for c in chunks]), recording.data)
    stamps = np.concatenate([c.timestamps for c in chunks])
    np.testing.assert_array_equal(stamps, recording.timestamps)


def test_brainflow_csv_loads_with_the_board_layout(tmp_path):
    from brainflow.data_filter import DataFilter

    table = _synthetic_table(500)
    path = tmp_path / "synthetic.csv"
    DataFilter.write_file(table, str(path), "w")
    recording = load_recording(path)
    assert recording.info.channel_names[:3] == ("Fz", "C3", "Cz")
    assert recording.sample_rate == 250.0
    np.testing.assert_allclose(recording.data, table[1:17], atol=1e-4)
    np.testing.assert_allclose(recording.timestamps, table[30] - table[30, 0], atol=1e-5)


def test_brainflow_csv_with_the_wrong_board_says_so(tmp_path):
    from brainflow.data_filter import DataFilter

    path = tmp_path / "synthetic.csv"
    DataFilter.write_file(_synthetic_table(50), str(path), "w")
    with pytest.raises(SourceError, match="name the board"):
        load_recording(path, board="CYTON_BOARD")


def _synthetic_table(n_samples: int) -> np.ndarray:
    """A table laid out as the synthetic board's: 32 rows, EEG in 1..16, time in row 30."""
    rng = np.random.default_rng(0)
    table = np.round(rng.normal(0, 20, size=(32, n_samples)), 3)
    table[30] = 1.7e9 + np.arange(n_samples) / 250.0
    return table


# --- what goes wrong, in one sentence ---


def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        load_recording(tmp_path / "absent.edf")


def test_unsupported_file_type_lists_the_supported_ones(tmp_path):
    path = tmp_path / "painting.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(SourceError, match=r"Unsupported .*\.edf.*\.xdf"):
        load_recording(path)


def test_text_that_is_no_recording(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("0-30s prep\n30-85s focus on a banana\n")
    with pytest.raises(SourceError, match="neither an OpenBCI GUI recording nor a BrainFlow"):
        load_recording(notes)


def test_recording_without_samples(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("%OpenBCI Raw EEG Data\n%Sample Rate = 250.0 Hz\n")
    with pytest.raises(SourceError, match="no samples"):
        load_recording(path)


def test_fif_with_only_ecg_has_no_eeg(tmp_path):
    import mne

    info = mne.create_info(["ECG"], 250.0, ["ecg"])
    raw = mne.io.RawArray(np.zeros((1, 500)), info, verbose="error")
    path = tmp_path / "heart_raw.fif"
    raw.save(path, verbose="error")
    with pytest.raises(SourceError, match="no EEG channels"):
        load_recording(path)


@pytest.mark.parametrize(("n_bytes", "message"), [(600_000, "truncated"), (100, "not a readable")])
def test_truncated_edf_is_corrupt(tmp_path, eyes_open_edf, n_bytes, message):
    damaged = tmp_path / "damaged.edf"
    damaged.write_bytes(eyes_open_edf.read_bytes()[:n_bytes])
    with pytest.raises(SourceError, match=message) as caught:
        load_recording(damaged)
    assert str(caught.value).count(";") == 1 and "\n" not in str(caught.value)


def test_corrupt_xdf(tmp_path):
    damaged = tmp_path / "damaged.xdf"
    damaged.write_bytes(b"XDF:" + bytes(range(256)) * 4)
    with pytest.raises(SourceError, match="no readable XDF stream"):
        load_recording(damaged)


def test_xdf_without_an_eeg_stream_with_samples(tmp_path):
    """Markers with samples and an EEG stream that recorded nothing: no EEG to play."""
    path = tmp_path / "markers_only.xdf"
    path.write_bytes(
        b"XDF:"
        + _xdf_chunk(1, b"<?xml version='1.0'?><info><version>1.0</version></info>")
        + _xdf_stream_header(1, "Markers", "Markers", "string", 1, 0)
        + _xdf_stream_header(2, "amp", "EEG", "float32", 4, 250)
        + _xdf_marker_samples(1, ["start", "stop"])
    )
    with pytest.raises(SourceError, match=r"no EEG stream with samples .*amp \(EEG, 0 samples\)"):
        load_recording(path)


def _xdf_chunk(tag: int, payload: bytes) -> bytes:
    """One XDF chunk: 4-byte length (counting the tag), 2-byte tag, content."""
    body = struct.pack("<H", tag) + payload
    return b"\x04" + struct.pack("<I", len(body)) + body


def _xdf_stream_header(stream_id: int, name: str, kind: str, fmt: str, n: int, rate: float):
    xml = (
        f"<?xml version='1.0'?><info><name>{name}</name><type>{kind}</type>"
        f"<channel_count>{n}</channel_count><nominal_srate>{rate}</nominal_srate>"
        f"<channel_format>{fmt}</channel_format></info>"
    )
    return _xdf_chunk(2, struct.pack("<I", stream_id) + xml.encode())


def _xdf_marker_samples(stream_id: int, texts: list[str]) -> bytes:
    payload = struct.pack("<I", stream_id) + b"\x04" + struct.pack("<I", len(texts))
    for i, text in enumerate(texts):
        payload += b"\x08" + struct.pack("<d", 1.0 + i) + b"\x01" + bytes([len(text)])
        payload += text.encode()
    return _xdf_chunk(3, payload)
