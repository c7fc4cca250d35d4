"""BrainFlow boards as sources: the synthetic board and the playback-file board, for real."""

from __future__ import annotations

import time

import numpy as np
import pytest

from installation.eeg.sources import open_source
from installation.eeg.sources.live.brainflow_source import BrainFlowSource
from installation.errors import SourceError


def _collect(source, seconds: float, min_samples: int):
    """Read for about ``seconds`` (longer if the board is slow) and stack what came."""
    chunks = []
    started = time.perf_counter()
    while True:
        chunk = source.read()
        if chunk is not None:
            chunks.append(chunk)
        count = sum(c.n_samples for c in chunks)
        elapsed = time.perf_counter() - started
        if (elapsed >= seconds and count >= min_samples) or elapsed > 10 * seconds:
            break
        time.sleep(0.02)
    return np.hstack([c.data for c in chunks]), np.concatenate([c.timestamps for c in chunks])


def test_synthetic_board_streams_16_channels_at_250_hz():
    source = open_source("synthetic")
    info = source.open()
    try:
        data, stamps = _collect(source, 2.5, min_samples=500)
    finally:
        source.close()
    assert info.n_channels == 16 and info.sample_rate == 250.0
    assert info.channel_names[:3] == ("Fz", "C3", "Cz")
    assert data.dtype == np.float32 and data.shape[0] == 16
    assert stamps[0] == 0.0 and np.all(np.diff(stamps) > 0)
    # Nominal rate: the stamps span about as long as the samples last.
    assert stamps[-1] == pytest.approx(data.shape[1] / 250.0, rel=0.2)
    spectrum = np.abs(np.fft.rfft(data[1] - data[1].mean()))
    frequencies = np.fft.rfftfreq(data.shape[1], 1 / 250.0)
    assert frequencies[np.argmax(spectrum)] == pytest.approx(10.0, abs=0.6)


def test_close_releases_the_board_so_it_opens_again():
    for _ in range(2):
        source = BrainFlowSource("synthetic", {})
        source.open()
        source.close()
        source.close()  # twice is fine
    with pytest.raises(SourceError, match="open"):
        source.read()


def test_playback_board_replays_a_brainflow_file(tmp_path):
    from brainflow.data_filter import DataFilter

    n_samples = 500
    table = np.zeros((32, n_samples))
    table[1:17] = np.arange(16)[:, None] * 1000.0 + np.arange(n_samples)[None, :]
    table[30] = 1.7e9 + np.arange(n_samples) / 250.0
    path = tmp_path / "recorded.csv"
    DataFilter.write_file(table, str(path), "w")
    source = open_source(
        f"brainflow:PLAYBACK_FILE_BOARD,file={path},master_board=SYNTHETIC_BOARD"
    )
    info = source.open()
    try:
        data, stamps = _collect(source, 0.6, min_samples=100)
    finally:
        source.close()
    assert info.n_channels == 16 and info.sample_rate == 250.0
    first = int(data[0, 0])  # the board may start a few samples in
    n = min(data.shape[1], n_samples - first)
    np.testing.assert_array_equal(data[:, :n], table[1:17, first:first + n])
    assert np.all(np.diff(stamps) > 0)


@pytest.mark.parametrize("board", ["SYNTHETIC_BOARD", "synthetic", "Synthetic_Board", -1, "-1"])
def test_board_names_and_ids(board):
    assert BrainFlowSource(board, {}).board_id == -1


def test_unknown_parameter_names_the_valid_keys():
    with pytest.raises(SourceError, match="serail_port.*valid keys are .*serial_port"):
        open_source("brainflow:CYTON_BOARD,serail_port=/dev/ttyUSB0")


def test_unknown_board():
    with pytest.raises(SourceError, match="Unknown BrainFlow board 'TOASTER'"):
        BrainFlowSource("TOASTER", {})


def test_a_board_that_is_not_there_says_where_it_looked(tmp_path):
    port = str(tmp_path / "ttyUSB9")
    source = BrainFlowSource("cyton", {"serial_port": port})
    with pytest.raises(SourceError, match=f"Could not open the CYTON_BOARD on {port}") as caught:
        source.open()
    assert "\n" not in str(caught.value)
    source.close()


def test_playback_without_master_board(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("0\t1\n")
    with pytest.raises(SourceError, match="master_board"):
        BrainFlowSource("PLAYBACK_FILE_BOARD", {"file": str(path)}).open()
