"""Adapting a trained bundle.

The mapping's re-fit to new EEG, a discriminator warmed against a bundle's paintings, and
distillation into a faster generator.
"""
