"""The control channel's address space: every value hostile until checked."""

from __future__ import annotations

import pytest

from installation.control import ADDRESSES, Command, Refusal, merged, parse_command


def test_the_four_addresses():
    assert set(ADDRESSES) == {"/show/calibrate", "/show/snapshot", "/show/hud", "/show/blackout"}


@pytest.mark.parametrize("value, on", [(1, True), (0, False), (1.0, True), (0.0, False),
                                       (True, True), (False, False), ("on", True), (" OFF ", False),
                                       ("1", True)])
def test_a_switch_takes_0_or_1_in_the_forms_tools_send(value, on):
    assert parse_command("/show/blackout", [value]) == Command("blackout", on)


@pytest.mark.parametrize("args", [[], [1, 0], [float("nan")], [float("inf")], [1e308], [2],
                                  [0.5], ["maybe"], [b"\x00\x01"], [None], [[1]]])
def test_a_switch_with_anything_else_is_malformed(args):
    refusal = parse_command("/show/hud", args)
    assert isinstance(refusal, Refusal) and refusal.kind == "malformed"
    assert refusal.address == "/show/hud" and len(refusal.reason) < 80


def test_a_trigger_fires_bare_or_on_a_press_and_not_on_its_release():
    assert parse_command("/show/snapshot", []) == Command("snapshot")
    assert parse_command("/show/calibrate", [1.0]) == Command("calibrate")
    assert parse_command("/show/calibrate", [0]) is None  # a button's release
    assert parse_command("/show/snapshot", [float("nan")]).kind == "malformed"


@pytest.mark.parametrize("address", ["/show/quit", "/show/HUD", "/eeg/time", "", "/show/hud/x"])
def test_other_addresses_are_unknown(address):
    assert parse_command(address, [1]).kind == "unknown"


def test_repeats_within_a_frame_run_once_at_their_last_state():
    commands = [Command("hud", True), Command("snapshot"), Command("hud", False),
                Command("snapshot"), Command("blackout", True)]
    assert merged(commands) == [Command("hud", False), Command("snapshot"),
                                Command("blackout", True)]
