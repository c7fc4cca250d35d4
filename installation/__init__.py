"""The live EEG-to-painting show: sources, signal processing, generator runtime and display."""

__version__ = "0.1.0"
