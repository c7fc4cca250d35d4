"""The operator's calibration: signal quality, eyes-closed check, baseline profile, screen."""

# The installation package's set-up quiets pygame's banner and pkg_resources notices.
import installation  # noqa: F401
