"""Everything that leaves the show.

The session recorder, video, NDI, sound, and the feeds for other software (OSC, LSL).
"""
