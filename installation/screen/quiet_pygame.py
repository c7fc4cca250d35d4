"""pygame, imported without its start-up banner or its ``pkg_resources`` deprecation notice.

The operator's terminal shows what calibration says, not what pygame 2.6 says on import.
"""

import os
import warnings

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
with warnings.catch_warnings():  # pygame 2.6 imports pkg_resources, which warns on import
    warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
    import pygame

__all__ = ["pygame"]
