"""Adapting a trained bundle.

The mapping's re-fit to new EEG, and distillation into a faster generator.
"""
