"""Recorded EEG.

One reader per file format, the session folder's format, the source that replays them.
"""
