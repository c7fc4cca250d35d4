"""The files that start the show on boot name a command and a venue config that work."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

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


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str
    unit.read(DEPLOY / name)
    return unit


def _all_values(name: str, key: str) -> list[str]:
    """Every value of ``key`` in a unit file (systemd adds up repeated keys; configparser not)."""
    prefix = f"{key}="
    return [line[len(prefix):] for line in (DEPLOY / name).read_text().splitlines()
            if line.startswith(prefix)]


def test_the_unit_restarts_a_crash_but_gives_up_after_a_burst_and_says_so():
    unit = _unit("eeg-painting.service")
    assert unit["Service"]["Restart"] == "on-failure"
    burst = int(unit["Unit"]["StartLimitBurst"])
    interval = int(unit["Unit"]["StartLimitIntervalSec"])
    # a crash loop (RestartSec apart) reaches the burst well within the interval
    assert 2 <= burst and burst * (int(unit["Service"]["RestartSec"]) + 1) < interval
    gave_up = unit["Unit"]["OnFailure"]
    assert (DEPLOY / gave_up).is_file() and _unit(gave_up)["Service"]["Type"] == "oneshot"


def test_the_gave_up_unit_writes_an_error_to_the_journal_and_the_show_log(tmp_path):
    command = _unit("eeg-painting-gave-up.service")["Service"]["ExecStart"]
    command = command.replace("$$", "$").replace("%%", "%")  # systemd's escapes undone
    env = {"PATH": os.environ["PATH"], "MONITOR_SERVICE_RESULT": "start-limit-hit",
           "MONITOR_EXIT_STATUS": "1"}
    result = subprocess.run(shlex.split(command), cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=10)
    assert result.returncode == 0
    assert result.stderr.startswith("<3>the show failed (start-limit-hit, exit 1)")  # err level
    line = (tmp_path / "logs" / "show.log").read_text()
    assert " E deploy: the show failed" in line and "systemctl --user reset-failed" in line


def test_the_unit_is_hardened_but_keeps_what_the_show_needs():
    service = _unit("eeg-painting.service")["Service"]
    for key in ("NoNewPrivileges", "PrivateUsers", "ProtectKernelTunables",
                "ProtectKernelModules", "ProtectControlGroups", "RestrictNamespaces",
                "RestrictSUIDSGID", "LockPersonality"):
        assert service[key] == "yes", key
    assert service["ProtectSystem"] in ("full", "strict") and service["ProtectHome"] == "read-only"
    # what would break the show stays out: the dongle and /dev/dri, the X socket in /tmp, the
    # network for LSL and NDI, a JIT
    for key in ("PrivateDevices", "PrivateTmp", "PrivateNetwork", "IPAddressDeny",
                "MemoryDenyWriteExecute", "ProcSubset", "DevicePolicy"):
        assert key not in service, key
    assert {"AF_UNIX", "AF_INET", "AF_INET6"} <= set(service["RestrictAddressFamilies"].split())
    writable = [w.lstrip("-") for v in _all_values("eeg-painting.service", "ReadWritePaths")
                for w in v.split()]
    options = resolve_options({}, DEPLOY / "venue.toml")
    for path in (options.log, options.record, options.snapshots, options.profiles):
        inside = f"%h/eeg-painting/{path}"
        assert any(inside == w or inside.startswith(w + "/") for w in writable), path
    made = " ".join(_all_values("eeg-painting.service", "ExecStartPre"))
    assert made.startswith("+") and all(w in made for w in writable if "eeg-painting" in w)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_units_exposure_score_stays_ok():
    result = subprocess.run(["systemd-analyze", "security", "--offline=true",
                             str(DEPLOY / "eeg-painting.service")], capture_output=True,
                            text=True, timeout=60)
    score = float(result.stdout.rsplit("exposure level for eeg-painting.service:", 1)[1].split()[0])
    assert score <= 5.0  # 9.6 (UNSAFE) before the hardening


def test_the_venue_records_every_show_into_a_folder_a_restart_cannot_meet(tmp_path):
    from datetime import datetime

    from installation.outputs.recorder import record_folder_for_show

    template = resolve_options({}, DEPLOY / "venue.toml").record
    assert "{date}" in template and "{time}" in template
    when = datetime(2026, 11, 30, 21, 4, 5)
    first = record_folder_for_show(str(tmp_path / template), when)
    Path(first).mkdir(parents=True)
    (Path(first) / "eeg.bin").write_bytes(b"")  # the crashed show's session
    second = record_folder_for_show(str(tmp_path / template), when)  # restarted that second
    assert second == first + "-2"
