"""Source specs from the command line: what each form means, and one sentence when wrong."""

from __future__ import annotations

import pytest

from installation.eeg.sources import open_source, parse_source_spec
from installation.eeg.sources.files.file_source import FileSource
from installation.eeg.sources.live.brainflow_source import BrainFlowSource
from installation.eeg.sources.live.lsl_source import LSLSource
from installation.errors import SourceError


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("synthetic", ("brainflow", "SYNTHETIC_BOARD", {})),
        ("brainflow:CYTON_BOARD", ("brainflow", "CYTON_BOARD", {})),
        (
            "brainflow:cyton,serial_port=/dev/ttyUSB0,timeout=5",
            ("brainflow", "cyton", {"serial_port": "/dev/ttyUSB0", "timeout": "5"}),
        ),
        ("lsl:Muse-1234", ("lsl", "Muse-1234", {})),
        ("lsl:type=EEG", ("lsl", None, {"type": "EEG"})),
        ("file:rec.edf", ("file", "rec.edf", {})),
        (
            "file:/data/a,b/rec.csv,board=CYTON_BOARD",
            ("file", "/data/a,b/rec.csv", {"board": "CYTON_BOARD"}),
        ),
    ],
)
def test_parse_source_spec(spec, parsed):
    assert parse_source_spec(spec) == parsed


def test_open_source_makes_the_named_kind(eyes_open_edf):
    assert isinstance(open_source("synthetic"), BrainFlowSource)
    lsl = open_source("lsl:type=EEG")
    assert isinstance(lsl, LSLSource) and lsl.stream_type == "EEG" and lsl.name is None
    file_source = open_source(f"file:{eyes_open_edf},loop=1", speed="max")
    assert isinstance(file_source, FileSource) and file_source.loop and file_source.speed == "max"


@pytest.mark.parametrize("spec", ["muse", "serial:/dev/ttyUSB0", "", "lsl:", "file:"])
def test_bad_specs_list_the_valid_forms(spec):
    with pytest.raises(SourceError) as caught:
        parse_source_spec(spec)
    message = str(caught.value)
    assert "\n" not in message
    assert "lsl:NAME" in message


def test_unknown_file_option():
    with pytest.raises(SourceError, match="valid options are board, loop"):
        parse_source_spec("file:rec.csv,bord=CYTON_BOARD")
