"""The show's log: a timestamp on every line; ``--log FILE`` rotated so days can be read back."""

from __future__ import annotations

import logging
import logging.handlers
import re
import uuid
from datetime import datetime

from installation.logs import configure_logging
from tests.installation.test_cli import run_show
from tests.installation.tiny_bundle import write_tiny_bundle

STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [DIWE] ")


def test_every_line_is_timestamped_and_the_file_rotates(tmp_path):
    path = tmp_path / "logs" / "show.log"
    configure_logging(log_file=path)
    try:
        logging.getLogger("installation.test").info("first\nsecond line of one message")
        file_handler = next(h for h in logging.getLogger().handlers
                            if isinstance(h, logging.handlers.TimedRotatingFileHandler))
        file_handler.doRollover()  # what midnight does
        logging.getLogger("installation.test").warning("after midnight")
    finally:
        configure_logging()  # back to the terminal alone
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and STAMP.match(lines[0]) and "after midnight" in lines[0]
    kept = [p for p in path.parent.iterdir() if p.name != "show.log"]
    assert len(kept) == 1 and kept[0].name.startswith("show.log.")
    old = kept[0].read_text().splitlines()
    assert STAMP.match(old[0]) and old[0].endswith("first")
    stamp = datetime.strptime(old[0][:19], "%Y-%m-%d %H:%M:%S")
    assert abs((datetime.now() - stamp).total_seconds()) < 60


def test_log_option_and_config_key_write_the_show_log(tmp_path):
    bundle = write_tiny_bundle(tmp_path / "tiny")
    config = tmp_path / "venue.toml"
    config.write_text(f'log = "{tmp_path / "venue.log"}"\n')
    name = f"absent-{uuid.uuid4().hex[:8]}"
    for extra, log_path in ((["--log", tmp_path / "cli.log"], tmp_path / "cli.log"),
                            (["--config", config], tmp_path / "venue.log")):
        result = run_show("--source", f"lsl:{name}", "--model", bundle, "--headless",
                          "--duration", "1", "--frames-out", tmp_path / "out", *extra)
        assert result.returncode == 2  # the stream never came in the second it ran
        lines = log_path.read_text().splitlines()
        assert lines and all(STAMP.match(line) for line in lines)
        assert any(f"No LSL stream named {name}" in line for line in lines)
        ours = [line for line in result.stderr.splitlines() if " installation." in line]
        assert ours and all(STAMP.match(line) for line in ours)  # the terminal's too
