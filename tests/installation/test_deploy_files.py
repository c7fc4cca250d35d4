"""The files that start the show on boot name a command and a venue config that work."""

from __future__ import annotations

import configparser
import shlex

from installation.config import resolve_options
from tests.conftest import REPO

DEPLOY = REPO / "deploy"


def show_command(line: str) -> list[str]:
    """The arguments after ``python -m installation`` in an ExecStart or Exec line."""
    words = shlex.split(line)
    assert words[1:3] == ["-m", "installation"] and words[0].endswith(".venv/bin/python")
    return words[3:]


def test_the_venue_config_is_valid_and_both_starters_use_it():
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.read(DEPLOY / "eeg-painting.service")
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.optionxform = str
    desktop.read(DEPLOY / "eeg-painting.desktop")
    for args in (show_command(unit["Service"]["ExecStart"]),
                 show_command(desktop["Desktop Entry"]["Exec"])):
        assert args[0] == "--config"
        options = resolve_options({}, REPO / args[1])
        assert options.fullscreen and options.source.startswith("lsl:")
        assert options.log == "logs/show.log"
    assert unit["Service"]["RestartPreventExitStatus"] == "2"  # a bad setting is not retried
