"""``python -m installation``: the live show's command line."""

from __future__ import annotations

import argparse

from installation.config import MODES, PROVIDERS, SPEEDS, resolve_options
from installation.errors import run_cli
from installation.logs import configure_logging as configure

DESCRIPTION = "Live EEG-to-painting show: EEG steers a generator trained on paintings."


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every option defaults to "not given" so a config file can fill it."""
    p = argparse.ArgumentParser(prog="python -m installation", description=DESCRIPTION,
                                argument_default=argparse.SUPPRESS)
    p.add_argument("--source", help="synthetic (default), brainflow:BOARD[,key=value...], "
                   "lsl:NAME, lsl:type=EEG or file:PATH")
    p.add_argument("--model", help="model bundle folder or generator.onnx "
                   "(default: the bundled assets/default)")
    p.add_argument("--profile", help="calibration profile.json to normalise the features")
    screen = p.add_mutually_exclusive_group()
    screen.add_argument("--fullscreen", dest="fullscreen", action="store_true",
                        help="fill the screen")
    screen.add_argument("--windowed", dest="fullscreen", action="store_false",
                        help="show in a window (default)")
    p.add_argument("--display", type=int, help="screen index to open on (default 0)")
    p.add_argument("--headless", action="store_true",
                   help="no window: write frames.csv and PNGs into --frames-out")
    p.add_argument("--frames-out", dest="frames_out", help="folder for headless frames "
                   "(default ./frames)")
    p.add_argument("--frame-every", dest="frame_every", type=int,
                   help="save a PNG every N frames in headless mode (default 60, 0: none)")
    p.add_argument("--duration", type=float, help="seconds to run (EEG seconds at --speed max)")
    p.add_argument("--speed", choices=SPEEDS, help="realtime (default) or max: render a file "
                   "offline, hop by hop")
    p.add_argument("--record", help="folder to record the raw EEG and keyframe log into "
                   "(replay it with --source file:DIR)")
    p.add_argument("--config", help="TOML file whose keys are these options with underscores")
    p.add_argument("--fps", type=float, help="display refresh rate (default 60)")
    p.add_argument("--provider", choices=PROVIDERS, help="runtime of the model (default auto: "
                   "TensorRT, CUDA, OpenVINO on an Intel GPU or a bf16 CPU, then ONNX Runtime's "
                   "CPU)")
    p.add_argument("--threads", type=int, help="ONNX Runtime threads (default: all cores)")
    p.add_argument("--snapshots", help="folder for S-key snapshots (default ./snapshots)")
    p.add_argument("--seed", type=int, help="seed of the latent drift (default 0)")
    p.add_argument("--native", action="store_true", help="show the generator's own size, "
                   "without the bundle's upscaler")
    p.add_argument("--mode", choices=MODES, help="fit (default): the whole painting on a mat; "
                   "fill: cropped to cover the screen")
    p.add_argument("--mat", help="colour of the mat around a fitted painting (default #000000)")
    p.add_argument("--log", help="also log to this file, timestamped, a new file each midnight "
                   "(the last 14 days kept)")
    p.add_argument("--video", help="write the displayed painting into this MP4 as it goes "
                   "(frames the encoder cannot keep up with are dropped, counted in the HUD)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --video file "
                   "(a --record folder is never overwritten)")
    p.add_argument("--osc", help="send each hop's band powers, steering, signal and keyframe "
                   "count as OSC to HOST:PORT (docs/show.md lists the addresses)")
    p.add_argument("--lsl-out", dest="lsl_out", help="an LSL outlet of this name with each "
                   "hop's band powers and steering vector")
    p.add_argument("--sound", action="store_true", help="play a sonification of the band powers")
    p.add_argument("--ndi", help="send the displayed painting as an NDI source of this name "
                   "(needs ndi-python: pip install -e .[ndi])")
    p.add_argument("--control", help="receive OSC commands (/show/calibrate, /show/snapshot, "
                   "/show/hud 0|1, /show/blackout 0|1) on PORT (this computer only) or HOST:PORT "
                   "(docs/show.md)")
    p.add_argument("--calibration-s", dest="calibration_s", type=float,
                   help="seconds of eyes-open baseline an in-show calibration records "
                   "(key C; default 60, at least 3)")
    p.add_argument("--calibration-eyes-closed-s", dest="calibration_eyes_closed_s", type=float,
                   help="seconds of the in-show calibration's eyes-closed step (default 0: none)")
    p.add_argument("--profiles", help="folder each in-show calibration's profile is saved "
                   "into; without --profile the newest there that fits the stream is used")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return p


def configure_logging(verbose: bool = False, log_file: str | None = None) -> None:
    """Log to stderr (and ``log_file``), a timestamp on every line; see installation.logs."""
    configure(verbose, log_file)


def show_main(argv: list[str] | None) -> int:
    """Parse, resolve options, run the show and print what it did."""
    from installation.app import run_show  # the app pulls in pygame and onnxruntime

    given = vars(build_parser().parse_args(argv))
    config_path = given.pop("config", None)
    verbose = given.pop("verbose", False)
    options = resolve_options(given, config_path)
    configure_logging(verbose, options.log)
    summary = run_show(options)
    print(summary.describe())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Console entry point: exit code 0, or 2 with one sentence for a user error."""
    return run_cli(show_main, argv)
