"""The wearer changes while the show runs: calibrated inside the show, or the old profile kept?

Run: ``.venv/bin/python -m benchmarks.wearer_change [--model DIR] [--calibration-s S]``

A real LSL outlet on loopback plays S001's eyes-open rest, then S026's (the headset passes to
another person). The show, live and headless, starts with S001's profile (made by the
calibration command's own code), records the session and listens for control messages; once
S026 streams, ``/show/calibrate`` goes to it over OSC, as a gallery's TouchDesigner or Max patch
would send it. Printed:

- S026's eyes closed vs open contrast through the show (:mod:`benchmarks.people_contrast`'s
  centroid and all-pairs ratios, 128 px) with the profile the in-show calibration made, against
  S001's profile kept;
- the largest step of the painting (pooled pixels, keyframe to keyframe, from the recorded
  keyframe log painted again) in the 10 s from the swap, over the median keyframe step of S026
  painted through S001's profile before it, beside the largest step of an ordinary stretch as
  long (the median over stretches) before the swap and after it, through S026's own profile.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from benchmarks import PHYSIONET
from benchmarks.people_contrast import person_figures
from benchmarks.steering_contrast import render
from installation.config import DEFAULT_MODEL

FIRST_S = 20.0  # seconds of S001 before the headset passes to S026
CUE_AFTER_S = 4.0  # the operator waits a moment for the new wearer to settle
AFTER_SWAP_S = 40.0  # the longest ramp (MAX_RAMP_S), and ordinary stretches after it
SWAP_SPAN_S = 10.0  # the stretch after the swap whose largest step is told


class SwitchingOutlet(threading.Thread):
    """A real LSL outlet: the first recording in real time for ``switch_s``, then the second.

    Each recording loops; both must have the same channels and rate (one headset, two people).
    """

    def __init__(self, first, second, name: str, switch_s: float) -> None:
        super().__init__(daemon=True)
        self.first, self.second, self.name, self.switch_s = first, second, name, switch_s
        self.ready, self.stop = threading.Event(), threading.Event()

    def run(self) -> None:
        import pylsl  # lazy: liblsl loads only where an outlet plays

        rec = self.first
        info = pylsl.StreamInfo(self.name, "EEG", len(rec.channel_names), rec.sample_rate,
                                pylsl.cf_float32, self.name)
        info.set_channel_labels(list(rec.channel_names))
        info.set_channel_units(["microvolts"] * len(rec.channel_names))
        outlet = pylsl.StreamOutlet(info)
        self.ready.set()
        step, started, position = 8, time.perf_counter(), 0
        while not self.stop.is_set():
            rec = self.first if time.perf_counter() - started < self.switch_s else self.second
            columns = np.arange(position, position + step) % rec.n_samples
            outlet.push_chunk(np.ascontiguousarray(rec.data[:, columns].T.astype(np.float32)))
            position += step
            time.sleep(step / rec.sample_rate)


def first_wearers_profile(model: Path, out: Path) -> Path:
    """S001's profile from their eyes-open rest, by the calibration command's code."""
    from calibration.cli import run_headless  # lazy: only this benchmark calibrates
    from installation.eeg.baseline.profile_builder import save_profile  # lazy: as above
    from installation.engine.generator_runtime import GeneratorRuntime  # lazy: as above

    spec = GeneratorRuntime.load(model, provider="cpu", native=True).feature_spec
    result = run_headless(f"file:{PHYSIONET / 'S001R01.edf'}", spec, 55.0, 0.0, is_file=True)
    return save_profile(result.profile, out)


def live_swap(model: Path, start_profile: Path, calibration_s: float, folder: Path) -> Path:
    """Run the live show through the wearer change; return its session folder."""
    from pythonosc.udp_client import SimpleUDPClient  # lazy: only this benchmark sends cues

    from installation.app import run_show  # lazy: as above
    from installation.config import ShowOptions  # lazy: as above
    from installation.eeg.sources.files.recordings import load_recording  # lazy: as above

    first = load_recording(PHYSIONET / "S001R01.edf")
    second = load_recording(PHYSIONET / "S026R01.edf")
    name = f"wearer-change-{uuid.uuid4().hex[:8]}"
    outlet = SwitchingOutlet(first, second, name, FIRST_S)
    outlet.start()
    outlet.ready.wait(10)
    port = _free_udp_port()
    session = folder / "session"
    duration = FIRST_S + CUE_AFTER_S + calibration_s + AFTER_SWAP_S
    options = ShowOptions(source=f"lsl:{name}", model=str(model), profile=str(start_profile),
                          headless=True, frames_out=str(folder / "frames"), frame_every=0,
                          duration=duration, calibration_s=calibration_s,
                          record=str(session), control=str(port), threads=1)
    cue = threading.Timer(FIRST_S + CUE_AFTER_S, lambda: SimpleUDPClient(
        "127.0.0.1", port).send_message("/show/calibrate", 1))
    cue.start()
    try:
        run_show(options)
    finally:
        cue.cancel()
        outlet.stop.set()
        outlet.join(10)
    return session


def swap_step_figures(model: Path, session: Path, span_s: float) -> dict:
    """Largest painting step from the swap for ``span_s``, against ordinary stretches as long.

    Two kinds of ordinary stretch: S026 painted through S001's profile before the swap (from the
    headset passing on), and through their own profile after the span. A wearer's own profile
    moves the painting more (that is the contrast it buys), so the span is held to both.
    """
    from installation.eeg.sources.files.session_timeline import (  # lazy: as above
        read_profile_timeline,
    )

    timeline = read_profile_timeline(session)
    if len(timeline) < 2:
        raise RuntimeError("the in-show calibration did not swap the profile; see the log")
    swap = timeline[-1].start
    rows = [json.loads(line) for line in (session / "keyframes.jsonl").read_text().splitlines()]
    times = np.array([row["eeg_time"] for row in rows])
    pictures = render(model, np.array([row["steering"] for row in rows], dtype=np.float32),
                      np.array([row["noise"] for row in rows], dtype=np.float32), native=True)
    steps = np.sqrt(np.mean(np.diff(pictures, axis=0) ** 2, axis=1))
    step_times = times[1:]
    before = steps[(step_times > FIRST_S + 1.0) & (step_times < swap)]
    during = steps[(step_times >= swap) & (step_times <= swap + span_s)]
    after = steps[step_times > swap + span_s]
    median = float(np.median(before))
    figures = {"swap_eeg_s": round(float(swap), 2), "median_step": round(median, 3),
               "largest_step_in_swap": round(float(during.max()), 3),
               "largest_over_median": round(float(during.max()) / median, 2),
               "keyframes": len(rows), "span_s": span_s}
    for name, stretch in (("before", before), ("after", after)):
        figures[f"{name}_median_over_median"] = round(float(np.median(stretch)) / median, 2)
        figures[f"{name}_window_max_over_median"] = round(
            _median_window_max(stretch, during.size) / median, 2)
    return figures


def _median_window_max(steps: np.ndarray, window: int) -> float:
    """The largest step of a stretch of ``window`` steps, the median over every such stretch."""
    window = max(1, min(window, steps.size))
    return float(np.median([steps[i:i + window].max()
                            for i in range(steps.size - window + 1)]))


def _free_udp_port() -> int:
    import socket  # lazy: only the live run needs a port

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--calibration-s", type=float, default=40.0,
                        help="the in-show calibration's baseline (default 40 s)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = first_wearers_profile(args.model, folder / "s001.json")
        session = live_swap(args.model, start, args.calibration_s, folder)
        swapped = folder / "s026-in-show.json"
        timeline_profile = sorted((session / "profiles").glob("*.json"))[-1]
        swapped.write_bytes(timeline_profile.read_bytes())
        steps = swap_step_figures(args.model, session, SWAP_SPAN_S)
        kept = person_figures(args.model, "S026", start)
        calibrated = person_figures(args.model, "S026", swapped)
    print(f"S026 eyes closed vs open (centroid ratio, all pairs): in-show calibration "
          f"{calibrated['centroid']:.2f}, {calibrated['all_pairs']:.2f}; S001's profile kept "
          f"{kept['centroid']:.2f}, {kept['all_pairs']:.2f}")
    print(f"the swap at EEG {steps['swap_eeg_s']} s: largest painting step in the "
          f"{steps['span_s']:g} s from it {steps['largest_over_median']}x the median keyframe "
          f"step of S026 through S001's profile; the largest step of an ordinary stretch as "
          f"long: {steps['before_window_max_over_median']}x before the swap (S001's profile), "
          f"{steps['after_window_max_over_median']}x after it (S026's own; its median step "
          f"{steps['after_median_over_median']}x); {steps['keyframes']} keyframes")
    print(json.dumps({"in_show": calibrated, "kept": kept, "swap": steps}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
