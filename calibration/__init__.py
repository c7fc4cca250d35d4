"""The operator's calibration: signal quality, eyes-closed check, baseline profile, screen."""
