"""One error type for everything a user can get wrong, and the CLI wrapper that reports it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)


class InstallationError(Exception):
    """A problem the user can fix.

    The message is one sentence that says what is wrong and what to do about it; command-line
    entry points print it on one line and exit with code 2, never with a traceback.
    """


class SourceError(InstallationError):
    """The EEG source cannot be opened or read (bad spec, missing file, no stream, no board)."""


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
    try:
        code = main(argv)
    except InstallationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(code or 0)
