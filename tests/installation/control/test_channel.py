"""The control channel on a real UDP port: commands arrive, run on the draining thread only, and
nothing a sender does (garbage, floods, unknown addresses, failing handlers) stops it."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from installation.control import ControlChannel, ControlHandlers, parse_control_target
from installation.errors import ConfigError


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Calls:
    """Handlers that remember what they were asked, and on which thread."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.threads: set[str] = set()

    def handlers(self, **overrides) -> ControlHandlers:
        table = dict(snapshot=lambda: self._take("snapshot"),
                     hud=lambda on: self._take("hud", on),
                     blackout=lambda on: self._take("blackout", on),
                     calibrate=lambda: self._take("calibrate"))
        table.update(overrides)
        return ControlHandlers(**table)

    def _take(self, *call):
        self.calls.append(call)
        self.threads.add(threading.current_thread().name)


@pytest.fixture
def channel():
    notes = []
    channel = ControlChannel(str(free_udp_port()), notes.append).start()
    channel.notes = notes
    yield channel
    channel.close()


def drain_until(channel, handlers, count: int, timeout: float = 5.0) -> None:
    """Drain as a display would, once a frame, until ``count`` commands ran."""
    deadline = time.monotonic() + timeout
    while channel.done < count and time.monotonic() < deadline:
        channel.drain(handlers)
        time.sleep(1 / 60)


def test_a_bare_port_listens_on_localhost_and_bad_targets_are_one_sentence():
    assert parse_control_target("9100") == ("127.0.0.1", 9100)
    assert parse_control_target("0.0.0.0:9100") == ("0.0.0.0", 9100)
    for bad in ("", "0", "70000", "host:port", ":9100"):
        with pytest.raises(ConfigError, match=r"^--control .* is not PORT or HOST:PORT"):
            parse_control_target(bad)


def test_a_taken_port_is_one_sentence(channel):
    with pytest.raises(ConfigError, match="cannot listen there"):
        ControlChannel(str(channel.port))


def test_commands_run_on_the_draining_thread_in_the_order_they_came(channel):
    client, calls = SimpleUDPClient("127.0.0.1", channel.port), Calls()
    client.send_message("/show/hud", 1)
    drain_until(channel, calls.handlers(), 1)
    client.send_message("/show/blackout", 1)
    client.send_message("/show/snapshot", [])
    drain_until(channel, calls.handlers(), 3)
    client.send_message("/show/calibrate", 1.0)
    client.send_message("/show/calibrate", 0.0)  # the button's release does nothing
    drain_until(channel, calls.handlers(), 4)
    assert calls.calls == [("hud", True), ("blackout", True), ("snapshot",), ("calibrate",)]
    assert calls.threads == {threading.current_thread().name}
    assert channel.counts() == {"received": 5, "done": 4, "ignored": 0, "dropped": 0}


def test_a_bundle_is_taken_message_by_message(channel):
    bundle = OscBundleBuilder(IMMEDIATELY)
    for address, value in (("/show/hud", 1), ("/show/blackout", 1)):
        message = OscMessageBuilder(address)
        message.add_arg(value)
        bundle.add_content(message.build())
    client, calls = SimpleUDPClient("127.0.0.1", channel.port), Calls()
    client.send(bundle.build())
    drain_until(channel, calls.handlers(), 2)
    assert sorted(calls.calls) == [("blackout", True), ("hud", True)]


def test_garbage_and_unknown_addresses_are_ignored_and_logged_once(channel, caplog):
    caplog.set_level(logging.WARNING, logger="installation.control.channel")
    client, calls = SimpleUDPClient("127.0.0.1", channel.port), Calls()
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(3):
        raw.sendto(b"\x00garbage\xff" * 7, ("127.0.0.1", channel.port))
        raw.sendto(b"/show/hud\x00\x00\x00,i\x00\x00", ("127.0.0.1", channel.port))  # no int
        client.send_message("/show/quit", 1)
        client.send_message("/show/blackout", float("nan"))
    raw.close()
    client.send_message("/show/hud", 1)  # still listening after all that
    drain_until(channel, calls.handlers(), 1)
    assert calls.calls == [("hud", True)]
    assert channel.ignored == 12
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 3, warnings  # undecodable datagrams, /show/quit, NaN: once each
    assert any("/show/quit" in w for w in warnings)
    assert all("(logged once)" in w for w in warnings)


def test_a_flood_of_one_command_runs_once_a_frame(channel):
    client, calls = SimpleUDPClient("127.0.0.1", channel.port), Calls()
    for i in range(100):
        client.send_message("/show/snapshot", [])
        client.send_message("/show/hud", 1 - i % 2)  # ends on 0
    deadline = time.monotonic() + 5
    while channel.received < 200 and time.monotonic() < deadline:
        time.sleep(0.02)
    channel.drain(calls.handlers())
    assert channel.received == 200 and channel.dropped == 0
    assert sorted(calls.calls) == [("hud", False), ("snapshot",)]  # the last hud state won


def test_a_full_queue_drops_and_counts_the_newest():
    channel = ControlChannel(str(free_udp_port()), capacity=10).start()
    try:
        client = SimpleUDPClient("127.0.0.1", channel.port)
        for _ in range(40):
            client.send_message("/show/snapshot", [])
        deadline = time.monotonic() + 5
        while channel.received < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert channel.drain(Calls().handlers()) == 10 and channel.dropped == 30
    finally:
        channel.close()


def test_a_failing_handler_becomes_a_note_and_the_next_command_runs(channel):
    client, calls = SimpleUDPClient("127.0.0.1", channel.port), Calls()

    def broken() -> None:
        raise OSError("disk full")

    client.send_message("/show/snapshot", [])
    deadline = time.monotonic() + 5
    while channel.received < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    channel.drain(calls.handlers(snapshot=broken))
    client.send_message("/show/hud", 1)
    drain_until(channel, calls.handlers(), 1)
    assert calls.calls == [("hud", True)]
    assert [n.kind for n in channel.notes] == ["error"]
    assert "/show/snapshot failed: disk full" in channel.notes[0].message
    assert any("failed: disk full" in line for line in channel.status_lines())


def test_a_command_the_show_cannot_do_says_so_in_the_hud(channel):
    client = SimpleUDPClient("127.0.0.1", channel.port)
    client.send_message("/show/calibrate", [])
    client.send_message("/show/hud", 1)
    drain_until(channel, Calls().handlers(calibrate=None), 1)
    lines = channel.status_lines()
    assert lines[0] == (f"control 127.0.0.1:{channel.port}: 2 received, 1 done, 0 ignored, "
                        "0 dropped")
    assert any("in-show calibration is not available" in line for line in lines)


def test_a_refusal_answered_by_a_handler_is_shown(channel):
    client = SimpleUDPClient("127.0.0.1", channel.port)
    client.send_message("/show/calibrate", [])
    refused = Calls().handlers(calibrate=lambda: "the signal is lost; wait for it.")
    drain_until(channel, refused, 1)
    assert "control: the signal is lost; wait for it." in channel.status_lines()
