"""The second stage, the upscaler.

Its network, data, trainer, loop, lattice penalty and export.
"""
