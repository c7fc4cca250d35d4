"""The live EEG-to-painting show: sources, signal processing, generator runtime and display."""

import os
import warnings

__version__ = "0.1.0"

# pygame 2.6 and BrainFlow 5.23 still import pkg_resources (kept by setuptools<81); its
# deprecation notice is not for the gallery operator's terminal.
warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame's banner on every start
