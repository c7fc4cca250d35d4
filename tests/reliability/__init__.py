"""Reliability: crash-safe recording, faults survived, bad input, long runs."""
