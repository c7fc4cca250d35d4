"""``python -m installation.demo --seconds N``: the show on BrainFlow's synthetic board.

Fullscreen with the bundled model when a display is available; otherwise it renders headless
for N seconds into ``./demo-frames`` and says where the frames went and how fast it ran.
"""

from __future__ import annotations

import argparse
import os

from installation.cli import configure_logging
from installation.config import ShowOptions, validate
from installation.errors import run_cli

DEMO_FRAMES = "demo-frames"
HEADLESS_SECONDS = 20.0
NO_WINDOW_DRIVERS = ("dummy", "offscreen")


def display_available() -> bool:
    """True when SDL can open a real window (an X or Wayland display and no dummy driver)."""
    if os.environ.get("SDL_VIDEODRIVER", "").lower() in NO_WINDOW_DRIVERS:
        return False
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def demo_options(seconds: float | None, windowed: bool, out: str) -> ShowOptions:
    """Options of the demo: synthetic board, bundled model, a window or headless frames.

    A window runs until Esc or Q unless ``seconds`` is given; headless runs last
    ``seconds`` (default 20).
    """
    if display_available():
        return validate(ShowOptions(duration=seconds, fullscreen=not windowed))
    seconds = HEADLESS_SECONDS if seconds is None else seconds
    return validate(ShowOptions(duration=seconds, headless=True, frames_out=out, frame_every=60))


def demo_main(argv: list[str] | None) -> int:
    """Run the demo and print its figures."""
    from installation.app import run_show  # pulls in pygame and onnxruntime

    parser = argparse.ArgumentParser(prog="python -m installation.demo", description=__doc__)
    parser.add_argument("--seconds", type=float, default=None,
                        help="how long; default: until Esc/Q in a window, 20 s headless")
    parser.add_argument("--windowed", action="store_true", help="a window, not fullscreen")
    parser.add_argument("--out", default=DEMO_FRAMES,
                        help=f"headless frames folder (default ./{DEMO_FRAMES})")
    args = parser.parse_args(argv)
    configure_logging()
    options = demo_options(args.seconds, args.windowed, args.out)
    if options.headless:
        print(f"No display found: rendering {options.duration:g} s headless into {args.out}/")
    summary = run_show(options)
    print(summary.describe())
    print(f"display: {summary.fps:.1f} fps, {summary.keyframes_per_s:.1f} keyframes/s "
          f"({summary.provider})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Console entry point of the demo."""
    return run_cli(demo_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
