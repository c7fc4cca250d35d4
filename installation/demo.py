"""``python -m installation.demo``: a real brain closing its eyes, and the painting answering.

By default the show plays the excerpt shipped in ``assets/demo/``: 21 s of a person's rest with
the eyes open, then 21 s of the same person with the eyes closed (PhysioNet EEG Motor
Movement/Imagery, subject 1; see ``assets/demo/CREDITS.md``), calibrated by the default's
profile of that person. The painting moves from dense woodland to open sky, and a caption
from the excerpt's own annotations says which state the painting shows.

With a display it runs fullscreen, the excerpt looping, until Esc or Q (or ``--seconds``);
without one it plays the excerpt once headless into ``./demo-frames`` (``frames.csv``, PNGs and
``strip.png``, frames of both states side by side). ``--source synthetic`` (or any source
spec) paints from another source instead, headless for 20 s.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from installation.cli import configure_logging
from installation.config import ShowOptions, validate
from installation.errors import run_cli
from installation.screen.frame_strip import write_strip

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "demo"
EXCERPT = ASSETS / "s001-eyes-open-closed.edf"
EXCERPT_PROFILE = ASSETS / "profile.json"
DEMO_SOURCE = "excerpt"  # --source's default: the shipped excerpt with its profile
DEMO_FRAMES = "demo-frames"
HEADLESS_SECONDS = 20.0  # headless run of a source that does not end by itself
HEADLESS_FRAME_EVERY = 30
NO_WINDOW_DRIVERS = ("dummy", "offscreen")


def display_available() -> bool:
    """True when SDL can open a real window (an X or Wayland display and no dummy driver)."""
    if os.environ.get("SDL_VIDEODRIVER", "").lower() in NO_WINDOW_DRIVERS:
        return False
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def source_and_profile(source: str, loop: bool) -> tuple[str, str | None]:
    """The source spec and profile of ``--source``: the excerpt comes with its profile."""
    if source != DEMO_SOURCE:
        return source, None
    return f"file:{EXCERPT}{',loop=1' if loop else ''}", str(EXCERPT_PROFILE)


def demo_options(seconds: float | None, windowed: bool, out: str,
                 source: str = DEMO_SOURCE) -> ShowOptions:
    """Options of the demo: a window until Esc or Q, or headless frames.

    A window loops the excerpt and runs until Esc or Q unless ``seconds`` is given; headless
    plays the excerpt once (``seconds`` cuts it short), another source for ``seconds``
    (default 20).
    """
    if display_available():
        spec, profile = source_and_profile(source, loop=True)
        return validate(ShowOptions(source=spec, profile=profile, duration=seconds,
                                    fullscreen=not windowed))
    spec, profile = source_and_profile(source, loop=False)
    if seconds is None and source != DEMO_SOURCE:
        seconds = HEADLESS_SECONDS
    return validate(ShowOptions(source=spec, profile=profile, duration=seconds, headless=True,
                                frames_out=out, frame_every=HEADLESS_FRAME_EVERY))


def demo_main(argv: list[str] | None) -> int:
    """Run the demo and print its figures."""
    from installation.app import run_show  # lazy: the app pulls in pygame and onnxruntime

    parser = argparse.ArgumentParser(prog="python -m installation.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=DEMO_SOURCE,
                        help="'excerpt' (default: the shipped recording, eyes open then "
                             "closed), 'synthetic', or any source spec of the show")
    parser.add_argument("--seconds", type=float, default=None,
                        help="how long; default: until Esc/Q in a window, the excerpt once (or "
                             "20 s of another source) headless")
    parser.add_argument("--windowed", action="store_true", help="a window, not fullscreen")
    parser.add_argument("--out", default=DEMO_FRAMES,
                        help=f"headless frames folder (default ./{DEMO_FRAMES})")
    args = parser.parse_args(argv)
    configure_logging()
    options = demo_options(args.seconds, args.windowed, args.out, args.source)
    if options.headless:
        length = "the excerpt once" if options.duration is None else f"{options.duration:g} s"
        print(f"No display found: rendering {length} headless into {args.out}/")
    summary = run_show(options)
    print(summary.describe())
    print(f"display: {summary.fps:.1f} fps, {summary.keyframes_per_s:.1f} keyframes/s "
          f"({summary.provider})")
    if options.headless:
        strip = write_strip(args.out)
        if strip is not None:
            print(f"strip: {strip} (frames of each state side by side)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Console entry point of the demo."""
    return run_cli(demo_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
