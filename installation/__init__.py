"""The live EEG-to-painting show; its EEG side (sources, filters, features) is ``eeg``.

Importing it changes no process-wide state: the modules that import pygame quiet its banner and
its ``pkg_resources`` notice where they import it.
"""

__version__ = "0.1.0"
