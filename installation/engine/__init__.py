"""The show's engine.

EEG into steering, keyframes painted and blended, the signal's state, the wait for a source.
"""
