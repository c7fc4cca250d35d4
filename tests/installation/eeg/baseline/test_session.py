"""The guided steps as a step object, fed with chunks of real recordings."""

from __future__ import annotations

import numpy as np
import pytest

from installation.eeg.baseline.session import (
    BASELINE,
    DONE,
    EYES_CLOSED,
    RECORDING,
    WAITING,
    CalibrationSession,
    default_steps,
)
from installation.eeg.feature_pipeline import expected_frame_count
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.sources.base import Chunk
from installation.eeg.sources.files.recordings import load_recording
from installation.errors import ConfigError
from tests.installation.eeg.baseline.sessions import run_until_done


def test_steps_run_back_to_back_with_progress(eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    session = CalibrationSession(recording.info, steps=default_steps(8, 4), auto_advance=True)
    assert (session.state, session.current_step.name) == (RECORDING, BASELINE)
    seen = []
    for chunk in recording.chunks(50):  # 50 samples do not divide the 8 s (1280 samples)
        session.push(chunk)
        seen.append((session.step_index, session.progress, session.overall_progress))
        if session.state == DONE:
            break
    assert session.state == DONE
    overall = [s[2] for s in seen]
    assert all(0.0 <= p <= 1.0 for _, p, _ in seen)
    assert overall == sorted(overall) and overall[-1] == 1.0
    # the chunk that crossed the end of the baseline was split: exactly 12 s were used
    assert session.recorded_samples == 12 * 160
    assert session.monitor.samples_received == 1950  # the rest of that chunk is still shown


def test_operator_starts_each_step(eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    session = CalibrationSession(recording.info, steps=default_steps(4, 4))
    chunks = recording.chunks(40)
    for _ in range(8):
        session.push(next(chunks))
    assert session.state == WAITING and session.progress == 0.0  # nothing recorded yet
    assert session.start_step()
    assert not session.start_step()  # already recording
    while session.state == RECORDING:
        session.push(next(chunks))
    assert (session.state, session.current_step.name) == (WAITING, EYES_CLOSED)
    session.start_step()
    while session.state != DONE:
        session.push(next(chunks))
    result = session.finish()
    assert result.alpha is not None and result.notes == []
    # quality covers the recorded steps only: 8 s, not the 2 s of waiting before them
    assert result.quality.duration_s == pytest.approx(8.0, abs=0.5)


def test_ending_a_step_early_is_noted(eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    session = CalibrationSession(recording.info, steps=default_steps(60, 30), auto_advance=True)
    for chunk in recording.chunks(160):
        session.push(chunk)
        if session.monitor.samples_received >= 10 * 160:
            break
    session.advance()  # the operator pressed Space: baseline ends at 10 s
    result = session.finish()
    assert "baseline step recorded 10.0 s of the 60 s planned" in result.notes[0]
    assert result.alpha is None
    assert any("eyes-closed check was skipped" in note for note in result.notes)
    assert result.profile["n_frames"] == expected_frame_count(10 * 160, session.spec, 160.0)


def test_too_short_baseline_is_refused(eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    session = CalibrationSession(recording.info, steps=default_steps(60, 0), auto_advance=True)
    session.push(next(recording.chunks(int(1.5 * 160))))
    with pytest.raises(ConfigError):
        session.finish()


@pytest.mark.parametrize("baseline, closed", [(0, 30), (-1, 30), (60, -5), (np.nan, 30)])
def test_bad_durations_are_refused(baseline, closed):
    with pytest.raises(ConfigError, match="duration"):
        default_steps(baseline, closed)


def test_zero_eyes_closed_duration_leaves_the_step_out():
    steps = default_steps(60, 0)
    assert [s.name for s in steps] == [BASELINE]
    assert steps[0].instruction == "Eyes open, look at the cross"
    assert default_steps()[1].instruction == "Close your eyes"


def test_when_every_channel_is_bad_the_profile_leaves_none_out(eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    loud = recording.data * 40.0  # hundreds of µV RMS on every channel: all noisy
    session = CalibrationSession(recording.info, steps=default_steps(8, 0), auto_advance=True)
    step = 160
    result = run_until_done(session, (
        Chunk(loud[:, start:start + step], recording.timestamps[start:start + step])
        for start in range(0, loud.shape[1], step)))
    assert all(c.state != "good" for c in result.quality.channels)
    # the profile agrees with the baseline statistics, which kept every channel
    assert result.profile["bad_channels"] == []
    assert any("Every channel is railed, flat or noisy" in note for note in result.notes)


def test_a_fixed_line_frequency_is_used_for_quality_and_features(eyes_open_edf):
    recording = load_recording(eyes_open_edf)
    spec = FeatureSpec(line_freq=60.0)
    session = CalibrationSession(recording.info, spec, steps=default_steps(6, 0),
                                 auto_advance=True)
    result = run_until_done(session, recording.chunks(160))
    assert result.quality.line_freq == 60.0
    assert result.profile["line_freq"] == 60.0
    assert result.profile["feature_spec"]["line_freq"] == 60.0


def test_a_repeated_step_replaces_what_it_recorded(eyes_open_edf):
    from installation.eeg.sources import open_source

    source = open_source(f"file:{eyes_open_edf}", speed="max", chunk_s=0.25)
    session = CalibrationSession(source.open(), steps=default_steps(4, 4))

    def record_step() -> None:
        assert session.start_step()
        while session.state == RECORDING:
            session.push(source.read(40))

    assert not session.repeat_step()  # nothing recorded yet
    record_step()
    assert session.repeat_step() and session.current_step.name == BASELINE
    record_step()  # the baseline again; the eyes-closed step is still to come
    assert session.state == WAITING and session.current_step.name == EYES_CLOSED
    record_step()
    assert session.state == DONE and session.recorded_samples == 8 * 160
    assert session.repeat_step() and session.current_step.name == EYES_CLOSED
    session.start_step()
    for _ in range(8):  # two seconds, then the operator ends it early
        session.push(source.read(40))
    session.advance()
    assert session.state == DONE and session.recorded_samples == 4 * 160 + 2 * 160
    assert session.notes == ["The eyes-closed step recorded 2.0 s of the 4 s planned."]
    result = session.finish()
    assert result.notes == session.notes and result.alpha is not None
    source.close()
