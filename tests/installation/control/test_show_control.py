"""The control channel in a show: a real OSC client steers the window and a live headless show,
and garbage never stops them."""

from __future__ import annotations

import logging
import socket
import threading
import time

import numpy as np
import pygame
import pytest
from pythonosc.udp_client import SimpleUDPClient

from installation.app import run_show
from installation.cli import main as show_cli
from installation.config import ShowOptions, parse_colour
from installation.control.show_control import ShowControl, window_handlers
from installation.engine.generator_runtime import GeneratorRuntime
from installation.screen.display import DisplayLoop
from installation.screen.hud import ShowStatus
from tests.helpers import assert_user_error, largest_gap, read_frames
from tests.installation.control.test_channel import free_udp_port
from tests.installation.screen.test_display import KeyframeSource, VirtualClock, press
from tests.installation.tiny_bundle import write_tiny_bundle

MAT = "#ff00ff"  # a colour no painting of the tiny or default model is made of


@pytest.fixture
def window(tmp_path):
    runtime = GeneratorRuntime.load(write_tiny_bundle(tmp_path / "tiny"), threads=1)
    clock, events, status = VirtualClock(), [], ShowStatus("test source", "cpu")
    control = ShowControl.open(str(free_udp_port()), status,
                               on_event=lambda *event: events.append(event))
    display = DisplayLoop(KeyframeSource(runtime), status, fps=0, window_size=(96, 64),
                          snapshot_dir=tmp_path / "snaps", clock=clock, mat=MAT,
                          on_event=control.on_event)
    display.open()
    yield display, clock, control, events
    display.close()
    control.close()


def frames_until(display, control, clock, done, timeout: float = 5.0) -> None:
    """Step and drain as the show does, 1/60 s of virtual time a frame, until ``done()``."""
    handlers = window_handlers(display, control.calibrate)
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        display.step()
        control.drain(handlers)
        clock.now += 1 / 60
        time.sleep(0.005)
    display.step()


def window_pixels() -> np.ndarray:
    return pygame.surfarray.array3d(pygame.display.get_surface())


def test_osc_commands_steer_the_window_as_its_keys_do(window):
    display, clock, control, events = window
    client = SimpleUDPClient("127.0.0.1", control.channel.port)
    frames_until(display, control, clock, lambda: display.keyframe is not None)
    client.send_message("/show/hud", 1)
    frames_until(display, control, clock, lambda: display.hud.visible)
    assert display.hud.visible
    assert any(line.startswith("control 127.0.0.1") for line in display.overlay_lines(clock()))
    client.send_message("/show/hud", 0)
    client.send_message("/show/blackout", 1)
    frames_until(display, control, clock, lambda: display.blackout.on)
    clock.now += 1.1  # the fade takes a second
    display.step()
    assert not display.hud.visible
    assert (window_pixels() == parse_colour(MAT)).all()  # the whole wall is the mat
    client.send_message("/show/snapshot", [])
    frames_until(display, control, clock, lambda: display.snapshots)
    snapshot = pygame.surfarray.array3d(pygame.image.load(str(display.snapshots[0])))
    assert not (snapshot == parse_colour(MAT)).all(-1).any()  # the painting beneath it
    press(pygame.K_b)  # the key turns it back, as a message would
    display.step()
    clock.now += 1.1
    display.step()
    assert not (window_pixels() == parse_colour(MAT)).all()
    assert [(kind, detail) for kind, _, detail in events] == [("blackout_on", "control"),
                                                             ("blackout_off", "key")]
    assert all(isinstance(eeg_time, float) for _, eeg_time, _ in events)


def test_a_snapshot_that_cannot_be_saved_is_a_hud_line_not_the_end(window, tmp_path):
    display, clock, control, _ = window
    display.snapshot_dir = tmp_path / "a-file"
    display.snapshot_dir.write_text("not a folder")
    client = SimpleUDPClient("127.0.0.1", control.channel.port)
    frames_until(display, control, clock, lambda: display.keyframe is not None)
    client.send_message("/show/snapshot", 1)
    frames_until(display, control, clock, lambda: display.status.last_error)
    assert display.status.last_error.startswith("Snapshot not saved into")
    assert display.step() and display.snapshots == []


def _steer_the_show(port: int, frames_out, log: list) -> None:
    """Once the show paints, send it garbage, a snapshot and a blackout, then lift it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if any(row["keyframe"] == "1" for row in read_frames(frames_out)):
                break
        except (OSError, KeyError):
            pass
        time.sleep(0.05)
    client = SimpleUDPClient("127.0.0.1", port)
    for _ in range(3):  # each kind of trouble logged once, however often it comes
        client._sock.sendto(b"\xff\x00not osc", ("127.0.0.1", port))
        client.send_message("/show/stop", 1)
        client.send_message("/show/blackout", "dim")
    client.send_message("/show/snapshot", [])
    client.send_message("/show/blackout", 1)
    log.append(time.monotonic())
    time.sleep(2.0)
    client.send_message("/show/blackout", 0)
    log.append(time.monotonic())


def test_a_live_headless_show_takes_osc_commands_and_ignores_garbage(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    port, frames_out, sent = free_udp_port(), tmp_path / "frames", []
    sender = threading.Thread(target=_steer_the_show, args=(port, frames_out, sent), daemon=True)
    sender.start()
    summary = run_show(ShowOptions(headless=True, frames_out=str(frames_out), frame_every=6,
                                   duration=7.0, native=True, threads=1, control=str(port),
                                   snapshots=str(tmp_path / "snaps"), mat=MAT))
    sender.join(5)
    rows = read_frames(frames_out)
    assert len(sent) == 2, "the show never painted, or ended before the commands were sent"
    assert float(rows[-1]["time_s"]) > 6.5 and largest_gap(rows) < 0.5  # ran on, never froze
    dark = [is_mat(frames_out / f"frame-{i:06d}.png") for i in range(0, len(rows), 6)]
    assert not dark[0] and not dark[-1]  # the painting before and after
    assert sum(dark) >= 5  # about a second of a dark wall (10 PNGs a second)
    assert len(summary.snapshots) == 1 and not is_mat(summary.snapshots[0])
    assert any(line.endswith("12 received, 3 done, 9 ignored, 0 dropped")
               for line in summary.outputs), summary.outputs
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "installation.control.channel" and r.levelno == logging.WARNING]
    assert len(warnings) == 3 and all("(logged once)" in w for w in warnings)
    events = [r.getMessage() for r in caplog.records if r.getMessage().startswith("blackout_")]
    assert [e.split()[0] for e in events] == ["blackout_on", "blackout_off"]


def is_mat(png) -> bool:
    image = pygame.surfarray.array3d(pygame.image.load(str(png)))
    return bool((image == parse_colour(MAT)).all())


@pytest.mark.parametrize("args, words", [
    (["--control", "host:port"], ["--control", "PORT or HOST:PORT"]),
    (["--control", "9100", "--speed", "max", "--source", "file:x.edf"], ["live show"]),
])
def test_a_bad_control_option_is_one_sentence_and_exit_2(args, words, capsys):
    code = show_cli([*args, "--headless", "--duration", "1"])
    assert_user_error(code, capsys.readouterr().err, *words)


def test_a_taken_control_port_is_one_sentence_and_exit_2(tmp_path, capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        code = show_cli(["--control", str(taken.getsockname()[1]), "--headless", "--duration",
                         "1", "--native", "--threads", "1", "--frames-out", str(tmp_path)])
    assert_user_error(code, capsys.readouterr().err, "cannot listen there")
