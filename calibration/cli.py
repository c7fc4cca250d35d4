"""``python -m calibration``: check the headset, record a baseline, write the profile.

Writes ``DIR/profile.json``, ``DIR/quality.json`` and ``DIR/quality.png``. With ``--headless``
the guided steps run back to back without a window; a file source then plays at full speed.
"""

from __future__ import annotations

import argparse
import math
import time

from calibration.report import ensure_out_dir, print_verdict, write_calibration
from installation.bundle import BundleSpec, resolve_bundle_paths
from installation.eeg.baseline.session import (
    DEFAULT_BASELINE_S,
    DEFAULT_EYES_CLOSED_S,
    DONE,
    CalibrationSession,
    default_steps,
)
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.sources import (
    EndOfStream,
    open_source,
    parse_source_spec,
    refuse_board_held_by_show,
)
from installation.errors import ConfigError, SourceError, run_cli

READ_BLOCK_S = 0.25  # seconds read per call from a file at full speed
POLL_S = 0.02  # sleep between reads of a live source that had nothing
NO_DATA_TIMEOUT_S = 5.0  # the OpenBCI GUI also gives up on a board after 5 s without data


class _OneLineParser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one-sentence ConfigErrors (exit 2, one line)."""

    def error(self, message: str):
        raise ConfigError(f"{message[0].upper()}{message[1:]}; see --help.")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a duration of 0 or more seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = _OneLineParser(prog="python -m calibration", description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="synthetic, brainflow:BOARD, lsl:NAME, "
                        "lsl:type=EEG or file:PATH")
    parser.add_argument("--out", required=True, help="folder for profile.json and quality.*")
    parser.add_argument("--headless", action="store_true", help="run the steps without a window")
    parser.add_argument("--duration", type=_seconds, default=DEFAULT_BASELINE_S,
                        help="seconds of eyes-open baseline (default %(default)g)")
    parser.add_argument("--eyes-closed-duration", type=_seconds, default=DEFAULT_EYES_CLOSED_S,
                        help="seconds of eyes closed; 0 skips the check (default %(default)g)")
    parser.add_argument("--display", type=int, default=0, help="display index for the screen")
    parser.add_argument("--fullscreen", action="store_true",
                        help="open the screen fullscreen (F toggles it)")
    parser.add_argument("--model", help="model bundle whose feature spec the profile uses "
                        "(default: the show's default spec)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors end in one line and exit code 2."""
    return run_cli(_main, argv)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    refuse_board_held_by_show(args.source)  # the show's board: calibrate inside the show
    if args.duration < 3:
        raise ConfigError(f"--duration {args.duration:g} is too short; the baseline needs at "
                          "least 3 s (a quality window).")
    default_steps(args.duration, args.eyes_closed_duration)  # checks the durations
    spec = _feature_spec(args.model)
    out_dir = ensure_out_dir(args.out)
    is_file = parse_source_spec(args.source)[0] == "file"
    if args.headless:
        result = run_headless(args.source, spec, args.duration, args.eyes_closed_duration,
                              is_file)
        paths = write_calibration(out_dir, result)
        _print_summary(result, paths)
        return 0
    from calibration.screen import run_screen  # pygame only when a window is wanted

    return run_screen(args.source, spec, out_dir, args.duration, args.eyes_closed_duration,
                      args.display, args.fullscreen)


def _feature_spec(model: str | None) -> FeatureSpec:
    if model is None:
        return FeatureSpec()

    return BundleSpec.load(resolve_bundle_paths(model)[1]).feature_spec


def run_headless(source_spec: str, spec: FeatureSpec, baseline_s: float, eyes_closed_s: float,
                 is_file: bool):
    """Run both steps back to back from a source and return the CalibrationResult.

    A file plays at full speed; a file shorter than both steps is split in the same
    proportions (first part baseline, rest eyes closed) and the result says so.
    """
    source = open_source(source_spec, speed="max" if is_file else "realtime")
    info = source.open()
    try:
        notes: list[str] = []
        available = _recording_seconds(source)
        if available is not None and available < baseline_s + eyes_closed_s:
            baseline_s, eyes_closed_s = _split(available, baseline_s, eyes_closed_s, notes)
        steps = default_steps(baseline_s, eyes_closed_s)
        session = CalibrationSession(info, spec, steps, source=source_spec, auto_advance=True)
        _feed(source, session, int(READ_BLOCK_S * info.sample_rate))
    finally:
        source.close()
    result = session.finish()
    result.notes[:0] = notes
    return result


def _recording_seconds(source) -> float | None:
    recording = getattr(source, "recording", None)
    if recording is None:
        return None
    return recording.n_samples / recording.sample_rate


def _split(available: float, baseline_s: float, eyes_closed_s: float, notes: list[str]):
    """Share a short recording between the steps in their planned proportions."""
    baseline = available * baseline_s / (baseline_s + eyes_closed_s)
    closed = available - baseline
    notes.append(f"The recording holds {available:.2f} s, less than the "
                 f"{baseline_s + eyes_closed_s:g} s planned: its first {baseline:.1f} s are the "
                 f"baseline and the remaining {closed:.1f} s the eyes-closed step.")
    return baseline, closed


def _feed(source, session: CalibrationSession, block: int) -> None:
    """Read the source into the session until every step is recorded or the source ends."""
    last_data = time.monotonic()
    while session.state != DONE:
        try:
            chunk = source.read(block)
        except EndOfStream:
            return
        if chunk is None or chunk.n_samples == 0:
            if time.monotonic() - last_data > NO_DATA_TIMEOUT_S:
                raise SourceError(f"No EEG arrived for {NO_DATA_TIMEOUT_S:g} s; check that the "
                                  "headset is on and streaming, then calibrate again.")
            time.sleep(POLL_S)
            continue
        last_data = time.monotonic()
        session.push(chunk)


def _print_summary(result, paths) -> None:
    print_verdict(result, paths)
