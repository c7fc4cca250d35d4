"""A recording's own annotations: read from EDF+, kept in its stream info, looked up by time."""

from __future__ import annotations

import math

import numpy as np

from installation.demo import EXCERPT
from installation.eeg.sources.base import Annotation, StreamInfo
from installation.eeg.sources.files.file_source import FileSource
from installation.eeg.sources.files.recording import build_recording


def test_the_newest_annotation_begun_by_an_eeg_time_names_it():
    info = StreamInfo(("O1",), 160.0, "x", (Annotation(2.0, 1.0, "a"), Annotation(5.0, 0.0, "b")))
    assert [info.annotation_at(t) for t in (0.0, 2.0, 4.9, 5.0, 99.0)] == ["", "a", "a", "b", "b"]
    assert info.annotation_at(math.nan) == ""
    looping = StreamInfo(("O1",), 160.0, "x", info.annotations, period_s=10.0)
    assert looping.annotation_at(13.0) == "a" and looping.annotation_at(16.0) == "b"


def test_annotations_outside_the_recording_or_without_words_are_left_out(tmp_path):
    data = np.zeros((1, 1600), dtype=np.float32)  # 10 s at 160 Hz
    given = [Annotation(7.0, 1.0, "late"), Annotation(math.nan, 1.0, "nan"),
             Annotation(-1.0, 1.0, "before"), Annotation(10.0, 1.0, "after"),
             Annotation(1.0, 0.0, "  "), Annotation(1.0, 2.0, "early")]
    recording = build_recording(tmp_path / "x.edf", data, 160.0, ["O1"], None, "EDF", given)
    assert [a.description for a in recording.annotations] == ["early", "late"]
    assert recording.info.annotations == recording.annotations


def test_the_demo_excerpt_plays_with_its_annotations_and_loops_them():
    source = FileSource(EXCERPT, loop=True)
    info = source.open()
    assert [(a.onset_s, a.description) for a in info.annotations] == [
        (0.0, "eyes open"), (21.0, "eyes closed")]
    assert info.period_s is not None and abs(info.period_s - 42.0) < 0.01
    assert info.annotation_at(30.0) == "eyes closed" and info.annotation_at(45.0) == "eyes open"
    source.close()
    assert FileSource(EXCERPT).open().period_s is None  # played once, the timeline never repeats
