"""pygame, imported without its start-up banner or its ``pkg_resources`` deprecation notice.

The one place that imports pygame: the show's screen and sound and the calibration screen take
it from here, so the operator's terminal shows what the project says, not what pygame 2.6 says
on import.
"""

import os
import warnings

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
with warnings.catch_warnings():  # pygame 2.6 imports pkg_resources, which warns on import
    warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
    import pygame

__all__ = ["pygame"]
