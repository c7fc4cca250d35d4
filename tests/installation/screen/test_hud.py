from __future__ import annotations

from types import SimpleNamespace

import pygame
import pytest

from installation.eeg.sources.base import Annotation, EventKind, SourceEvent, StreamInfo
from installation.engine.signal_state import Signal
from installation.screen.hud import Hud, RateMeter, ShowStatus, hud_lines


def test_rate_meter_counts_events_per_second_over_its_span():
    meter = RateMeter(span_s=2.0)
    for i in range(121):
        meter.tick(i / 60)
    assert meter.rate(2.0) == pytest.approx(60, rel=0.02)
    assert meter.rate(10.0) == 0.0  # all forgotten
    assert meter.count == 121


def test_status_follows_events():
    status = ShowStatus("BrainFlow synthetic board", "cpu")
    assert status.signal == "waiting"
    status.took_keyframe(SimpleNamespace(masked_channels=(), signal_lost=False))
    assert status.signal is Signal.OK
    status.note(SourceEvent("signal_lost", "No EEG samples for over a second."))
    assert status.signal == "lost"
    status.note(SourceEvent("error", "Steering failed: boom"))
    status.note(SourceEvent("signal_back", "back"))
    assert status.signal == "ok" and status.last_error == "Steering failed: boom"
    status.note(SourceEvent("ended", "The recording has ended."))
    assert status.ended


def test_hud_lines_say_what_the_operator_needs():
    status = ShowStatus("LSL stream Muse", "cuda")
    status.signal = Signal.LOST
    status.masked_channels = ("T7", "T8")
    status.last_error = "EEG source failed: device unplugged"
    text = "\n".join(hud_lines(59.8, 14.9, 83.2, status))
    for expected in ("59.8 fps", "14.9 keyframes/s", "latency 83 ms", "LSL stream Muse",
                     "signal: lost", "cuda", "masked: T7, T8", "device unplugged"):
        assert expected in text


def test_hud_draws_only_when_visible():
    pygame.display.init()
    try:
        surface = pygame.Surface((320, 120))
        hud = Hud()
        assert hud.render(["hello"], 0.0) is None
        assert not pygame.surfarray.array3d(surface).any()
        hud.toggle()
        surface.blit(hud.render(["hello"], 0.0), (hud.margin, hud.margin))
        assert pygame.surfarray.array3d(surface).any()
    finally:
        pygame.display.quit()


def test_a_reconnect_reads_lost_until_samples_flow():
    """The source thread reconnecting used to set "ok" before any sample came; now only the
    steering worker, which sees the samples, says the signal is back."""
    status = ShowStatus("LSL stream Muse", "cpu")
    status.took_keyframe(SimpleNamespace(masked_channels=(), signal_lost=False))
    status.note(SourceEvent(EventKind.SIGNAL_LOST, "No EEG samples for over 1 s."))
    status.note(SourceEvent(EventKind.RECONNECTING, "No samples for 2.5 s; reconnecting."))
    status.note(SourceEvent(EventKind.RECONNECTED, "Reconnected to LSL stream Muse."))
    assert status.signal is Signal.LOST
    assert "signal: lost" in hud_lines(60.0, 15.0, None, status)[1]
    status.took_keyframe(SimpleNamespace(masked_channels=(), signal_lost=True))  # drift only
    assert status.signal is Signal.LOST
    status.note(SourceEvent(EventKind.SIGNAL_BACK, "The EEG signal is back."))
    assert status.signal is Signal.OK
    status.note(SourceEvent(EventKind.ENDED, "The recording has ended."))
    status.note(SourceEvent(EventKind.SIGNAL_BACK, "late"))
    assert status.signal is Signal.ENDED and status.ended


def test_a_recordings_annotations_caption_the_painting_and_the_log():
    status = ShowStatus("demo.edf", "cpu")
    status.stream = StreamInfo(("O1",), 160.0, "demo.edf",
                               (Annotation(0.0, 21.0, "eyes open"),
                                Annotation(21.0, 21.0, "eyes closed")))
    for eeg_time in (3.0, 10.0, 22.5, 30.0):
        status.took_keyframe(SimpleNamespace(masked_channels=(), signal_lost=False,
                                             eeg_time=eeg_time))
    assert status.caption == "eyes closed"
    said = [e.message for e in status.events if "recording says" in e.message]
    assert said == ["The recording says 'eyes open' from EEG 3.0 s on.",
                    "The recording says 'eyes closed' from EEG 22.5 s on."]
    assert hud_lines(60.0, 15.0, 80.0, status)[1] == "recording: eyes closed"
    status.stream = StreamInfo(("O1",), 160.0, "live")
    status.took_keyframe(SimpleNamespace(masked_channels=(), signal_lost=False, eeg_time=40.0))
    assert status.caption == ""
    assert not any(line.startswith("recording:") for line in hud_lines(60, 15, 80, status))
