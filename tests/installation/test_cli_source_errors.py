"""Bad sources end the show's command in one sentence and exit code 2, with no traceback."""

from __future__ import annotations

import uuid

import mne
import numpy as np
import pytest

from tests.helpers import assert_one_line_error
from tests.installation.test_cli import run_show


def ecg_only_fif(path):
    """A real FIF recording whose only channel is an ECG: it has no EEG to play."""
    info = mne.create_info(["ECG"], 250.0, ch_types=["ecg"])
    raw = mne.io.RawArray(np.zeros((1, 2500)), info, verbose="error")
    raw.save(path, verbose="error")
    return path


@pytest.mark.parametrize("make_spec, words", [
    (lambda tmp: f"file:{tmp / 'absent.edf'}", ["does not exist"]),
    (lambda tmp: "telepathy:artist", ["Unknown source", "lsl:NAME"]),
    (lambda tmp: f"file:{tmp / 'notes.docx'}", ["Unsupported recording type", ".edf"]),
    (lambda tmp: f"file:{ecg_only_fif(tmp / 'heart_raw.fif')}", ["EEG"]),
    (lambda tmp: f"lsl:NoSuchStream-{uuid.uuid4().hex[:8]}", ["appeared within"]),
], ids=["missing-file", "unknown-spec", "unsupported-type", "no-eeg", "lsl-never-appears"])
def test_bad_source_ends_in_one_sentence(make_spec, words, tmp_path):
    (tmp_path / "notes.docx").write_text("not a recording")
    result = run_show("--source", make_spec(tmp_path), "--headless", "--duration", "1",
                      "--frames-out", tmp_path / "out")
    assert_one_line_error(result, *words)
