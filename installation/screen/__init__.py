"""The screen.

The window or fullscreen display, its presentation (fit, fill), the HUD, the headless stand-in.
"""
