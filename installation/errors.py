"""One error type for everything a user can get wrong, and the CLI pieces that report it.

:func:`run_cli` turns the error into one line and exit code 2; :class:`OneLineParser` and
:func:`ranged` make argparse's own complaints that error too, so every command reports bad
options the same way.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


class InstallationError(Exception):
    """A problem the user can fix.

    The message is one sentence that says what is wrong and what to do about it; command-line
    entry points print it on one line and exit with code 2, never with a traceback.
    """


class SourceError(InstallationError):
    """The EEG source cannot be opened or read (bad spec, missing file, no stream, no board)."""


class SourceAbsent(SourceError):
    """The source is not there yet (no stream, a board that is off, a missing file).

    The live show waits for such a source, painting on its own, instead of exiting; every other
    SourceError (an unknown board, a malformed option, a file with no EEG) exits at once.
    """


class ModelError(InstallationError):
    """The model bundle is missing, corrupt, or does not fit the source."""


class ConfigError(InstallationError):
    """A configuration value or command-line option is invalid."""


EXIT_USER_ERROR = 2


def run_cli(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> int:
    """Run a command-line ``main`` and turn user errors into one line and exit code 2.

    Parameters
    ----------
    main : callable
        The command's entry point; takes ``argv`` and returns an exit code or None.
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        The exit code: 0 on success, 2 for a user error, 130 when interrupted.
    """
    stop_on_interrupt()
    try:
        code = main(argv)
    except InstallationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


def stop_on_interrupt() -> None:
    """Make Ctrl-C (SIGINT) stop the command, however it was launched.

    A background job of a shell script inherits SIGINT ignored, and so would every command it
    starts: the show ran on after Ctrl-C or ``kill -INT``, and a calibration could not be
    stopped. Python sets handlers only from the main thread; elsewhere (a command run inside
    another program's thread) the handler is left as it is.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors become a ConfigError sentence (one line and exit 2 by run_cli)."""

    def error(self, message: str):
        """Raise instead of printing the usage."""
        raise ConfigError(f"{message}; see `{self.prog} --help`.")


def ranged(kind, low=None, high=None, low_open=False):
    """An argparse type: ``kind`` within [low, high] (``low`` excluded when ``low_open``)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None
        too_low = low is not None and (value <= low if low_open else value < low)
        if too_low or (high is not None and value > high) or not math.isfinite(value):
            lo = f"> {low}" if low_open else f">= {low}"
            bounds = " and ".join(b for b in (lo if low is not None else "",
                                              f"<= {high}" if high is not None else "") if b)
            raise argparse.ArgumentTypeError(f"{text} is out of range (must be {bounds})")
        return value
    parse.__name__ = kind.__name__
    return parse


def checked_number(value, what: str, low: float, high: float, error=ConfigError,
                   fix: str = "fix it", integer: bool = False, low_open: bool = False):
    """``value`` as a number in [low, high] (``low`` excluded when ``low_open``); else ``error``.

    The one rule for a number read from a file or a config: a real number (not a string, a
    boolean or None), finite, an integer where ``integer`` says so, and in its documented range.

    Parameters
    ----------
    value : object
        As the file gave it.
    what : str
        What it is, with where it came from, for the sentence (``"window_s in generator.json"``).
    low, high : float
        The range.
    error : type
        The InstallationError subclass to raise.
    fix : str
        What to do about it, ending the sentence.
    integer : bool
        Only whole numbers (an integral float such as ``4.0`` is taken as 4).
    low_open : bool
        ``low`` itself is out of range.

    Returns
    -------
    float or int
    """
    # an int is never NaN (and math.isfinite of a 400-digit int would overflow)
    ok = (isinstance(value, int) and not isinstance(value, bool)
          or isinstance(value, float) and math.isfinite(value))
    if ok and integer and isinstance(value, float):
        ok = value.is_integer()
    if ok:
        ok = (value > low if low_open else value >= low) and value <= high
    if not ok:
        kind = "a whole number" if integer else "a number"
        bounds = (f"above {low:g} and at most {high:g}" if low_open
                  else f"from {low:g} to {high:g}")
        raise error(f"{what} must be {kind} {bounds}, got {_shown(value)}; {fix}.")
    return int(value) if integer else float(value)


def _shown(value) -> str:
    """A value for a sentence, cut short when a file holds something enormous."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def require_image_folder(folder: str | Path) -> None:
    """Raise a one-sentence ConfigError unless ``folder`` (given as ``--images``) is a folder."""
    if not Path(folder).is_dir():
        raise ConfigError(f"The image folder {folder} does not exist; pass --images with a folder "
                          "of paintings (JPEG, PNG or WebP).")
