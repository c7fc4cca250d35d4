"""The show's log: a timestamp on every line, to the terminal and optionally a rotated file.

A gallery runs for days; ``--log FILE`` keeps them readable afterwards: the file starts afresh
at midnight and the last ``KEEP_DAYS`` days stay beside it (``show.log.2026-11-30``...).
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from installation.errors import ConfigError

LINE_FORMAT = "%(asctime)s.%(msecs)03d %(levelname).1s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
KEEP_DAYS = 14


def timestamped_formatter() -> logging.Formatter:
    """The one line format of every log line: local date and time to the millisecond first."""
    return logging.Formatter(LINE_FORMAT, DATE_FORMAT)


def configure_logging(verbose: bool = False, log_file: str | Path | None = None) -> None:
    """Log to stderr and, with ``log_file``, to a file rotated at midnight.

    Parameters
    ----------
    verbose : bool
        Debug messages too.
    log_file : str or Path, optional
        The file to append to; its folder is created. ``KEEP_DAYS`` older days are kept.

    Raises
    ------
    ConfigError
        When the file cannot be written.
    """
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):  # configuring twice (the demo, tests) must not double
        if getattr(handler, "_installation_log", False):
            root.removeHandler(handler)
            handler.close()
    handlers = [logging.StreamHandler()]
    if log_file is not None:
        handlers.append(_rotating_file(Path(log_file)))
    for handler in handlers:
        handler.setFormatter(timestamped_formatter())
        handler._installation_log = True
        root.addHandler(handler)


def _rotating_file(path: Path) -> logging.Handler:
    try:
        path.expanduser().parent.mkdir(parents=True, exist_ok=True)
        return logging.handlers.TimedRotatingFileHandler(
            path.expanduser(), when="midnight", backupCount=KEEP_DAYS, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot write the log file {path} ({exc.strerror}); pass a "
                          "writable --log path.") from None
