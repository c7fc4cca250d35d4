"""Long runs: hours of show played through the live show's own threads, memory watched.

A shared recording loops, faster than real time (``--speedup``), through the same
:func:`~installation.app.run_show` a gallery runs: its source thread fills the ring buffer, its
steering worker runs every hop through the feature pipeline and the real generator (the default
bundle on ONNX Runtime), and its display loop blends the keyframes in a pygame window (SDL's
dummy driver) at the refresh rate. The show records the session as ``--record`` does; the
recorded EEG is then checked against the loop sample by sample, and the steering worker says
how many samples it skipped for falling a whole ring behind, so a lost, doubled or altered
sample is counted.

The generator itself runs only every ``--generate-every`` paintings (the paintings between
reuse its last image) so that 8 hours of EEG fit in far less time; everything else (filters,
features, smoothing, drift, blending, recording) runs on every hop and every frame.

Prints one JSON line: hours of EEG played, wall time, hops, generator calls, keyframes,
frames, resident memory after warm-up and at the end with the growth in percent, and lost,
doubled and altered samples. Exit code 1 when memory grew 5 % or more or any sample was lost,
doubled or altered.

Run: ``SDL_VIDEODRIVER=dummy .venv/bin/python -m benchmarks.soak [--hours 8]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from benchmarks import EYES_OPEN_EDF  # noqa: E402
from installation.app import run_show  # noqa: E402
from installation.config import DEFAULT_MODEL, ShowOptions, validate  # noqa: E402
from installation.eeg.sources.base import EndOfStream, Source  # noqa: E402
from installation.eeg.sources.files.file_source import FileSource  # noqa: E402
from installation.eeg.sources.files.session_format import EEG_FILE, RecordReader  # noqa: E402
from installation.engine.generator_runtime import GeneratorRuntime  # noqa: E402

DEFAULT_RECORDING = EYES_OPEN_EDF
MAX_GROWTH_PCT = 5.0
DEFAULT_SPEEDUP = 20.0  # EEG seconds per wall second: hours in minutes, the ring never overrun


@dataclass
class SoakFigures:
    """What a soak run measured (one JSON line)."""

    recording: str
    eeg_hours: float
    wall_s: float
    realtime_factor: float
    hops: int
    generate_every: int
    generator_calls: int
    keyframes: int
    frames: int
    rss_warm_mb: float
    rss_end_mb: float
    rss_growth_pct: float
    samples: int
    lost: int
    doubled: int
    altered: int

    @property
    def passed(self) -> bool:
        """Memory grew less than 5 % and every sample arrived once, unaltered."""
        return (self.rss_growth_pct < MAX_GROWTH_PCT
                and self.lost == self.doubled == self.altered == 0)


def resident_mb() -> float:
    """Resident memory of this process in MiB (from /proc; 0 where there is none)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class PacedLoop(Source):
    """A recording looped ``speedup`` times faster than real time, ending after ``eeg_s``.

    Behind the :class:`Source` interface like a headset: ``read`` returns the samples whose
    time has come (None before), so the show's source thread polls it as it polls a board.

    Parameters
    ----------
    path : path-like
        The recording.
    eeg_s : float
        Seconds of EEG to play; then :class:`EndOfStream` (the show ends as at a file's end).
    speedup : float
        EEG seconds per wall-clock second.
    """

    finite = True  # it ends rather than going quiet: the show stops, it does not reconnect

    def __init__(self, path, eeg_s: float, speedup: float) -> None:
        self.loop = FileSource(path, speed="max", loop=True)
        self.eeg_s, self.speedup = float(eeg_s), float(speedup)
        self.recording = None
        self.delivered = 0
        self._end = 0
        self._started = 0.0

    def open(self):
        """Load the recording and start the clock."""
        self.info = self.loop.open()
        self.recording = self.loop.recording
        self._end = int(round(self.eeg_s * self.info.sample_rate))
        self._started = time.perf_counter()
        return self.info

    def read(self, max_samples: int | None = None):
        """The samples due by now (at most one second of EEG), None when none is due."""
        if self.delivered >= self._end:
            raise EndOfStream
        elapsed_eeg = (time.perf_counter() - self._started) * self.speedup
        due = min(int(elapsed_eeg * self.info.sample_rate), self._end) - self.delivered
        due = min(due, int(self.info.sample_rate), max_samples or due)
        if due <= 0:
            return None
        self.delivered += due
        return self.loop.read(due)

    def close(self) -> None:
        """Nothing held open between reads (the show closes it once, at the end)."""

    @property
    def eeg_played_s(self) -> float:
        """EEG seconds handed to the show so far."""
        return self.delivered / self.info.sample_rate if self.info else 0.0


class EveryKth:
    """The real generator, run every ``k``-th painting; those between reuse its last image."""

    def __init__(self, runtime: GeneratorRuntime, k: int) -> None:
        self.runtime, self.k = runtime, max(1, int(k))
        self.calls = self.generated = 0
        self._image = None

    def __getattr__(self, name):
        return getattr(self.runtime, name)  # the rest of the runtime's face, for the show

    def generate(self, steering, noise=None) -> np.ndarray:
        """The painting for this hop."""
        if self._image is None or self.calls % self.k == 0:
            self._image = self.runtime.generate(steering, noise)
            self.generated += 1
        self.calls += 1
        return self._image


class MemoryWatch(threading.Thread):
    """Takes the resident memory once ``warm_s`` of EEG has played; reports progress."""

    def __init__(self, source: PacedLoop, warm_s: float, progress=None) -> None:
        super().__init__(name="soak-memory", daemon=True)
        self.source, self.warm_s, self.progress = source, warm_s, progress
        self.rss_warm: float | None = None
        self.stopped = threading.Event()

    def run(self) -> None:
        """Check every half second until stopped."""
        started, report_at = time.perf_counter(), 0.0
        while not self.stopped.wait(0.5):
            played = self.source.eeg_played_s if self.source.recording is not None else 0.0
            if self.rss_warm is None and played >= self.warm_s:
                gc.collect()
                self.rss_warm = resident_mb()
            if self.progress is not None and played >= report_at:
                self.progress(f"{played / 3600:.2f} h of EEG in "
                              f"{time.perf_counter() - started:.0f} s, "
                              f"{resident_mb():.1f} MiB resident")
                report_at += 1800.0


def recorded_against_loop(folder: Path, recording) -> dict:
    """Compare a recorded session's EEG with the looped recording, record by record.

    Returns
    -------
    dict
        ``samples`` recorded, ``altered`` (samples or timestamps that differ from the loop's
        sample at their place), ``torn`` (bytes of a cut or corrupt last record).
    """
    total = recording.n_samples
    period = float(recording.timestamps[-1]) + 1.0 / recording.sample_rate
    samples = altered = 0
    with open(folder / EEG_FILE, "rb") as stream:
        reader = RecordReader(stream, recording.data.shape[0])
        for stamps, data, _ in reader:
            loops, columns = np.divmod(np.arange(samples, samples + data.shape[1]), total)
            expected = recording.timestamps[columns] + loops * period
            altered += int(np.sum(~np.all(data == recording.data[:, columns], axis=0)
                                  | (stamps != expected)))
            samples += data.shape[1]
    return {"samples": samples, "altered": altered, "torn": reader.torn_bytes}


def soak(hours: float = 8.0, recording_path: str | Path = DEFAULT_RECORDING,
         model: str | Path = DEFAULT_MODEL, generate_every: int = 48, fps: float = 60.0,
         threads: int = 1, warmup_fraction: float = 0.1, progress=None,
         speedup: float = DEFAULT_SPEEDUP) -> SoakFigures:
    """Play ``hours`` of EEG through the live show's threads and measure it.

    Parameters
    ----------
    hours : float
        Hours of EEG (show time) to play.
    recording_path : path-like
        The recording to loop.
    model : path-like
        The model bundle.
    generate_every : int
        Run the generator every this many paintings (1: every one).
    fps : float
        The display loop's refresh rate.
    threads : int
        ONNX Runtime threads.
    warmup_fraction : float
        Share of the run after which the warm resident memory is taken (at most 10 minutes
        of EEG).
    progress : callable, optional
        Called with a line of text now and then.
    speedup : float
        EEG seconds played per wall-clock second.

    Returns
    -------
    SoakFigures
    """
    source = PacedLoop(recording_path, hours * 3600.0, speedup)
    generator = EveryKth(GeneratorRuntime.load(model, "cpu", threads), generate_every)
    watch = MemoryWatch(source, min(600.0, warmup_fraction * hours * 3600.0), progress)
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        session = Path(scratch) / "session"
        options = validate(ShowOptions(source=f"file:{recording_path}", model=str(model),
                                       fps=fps, record=str(session), threads=threads,
                                       snapshots=str(Path(scratch) / "snapshots")))
        watch.start()
        started = time.perf_counter()
        try:
            summary = run_show(options, generator, source)
        finally:
            watch.stopped.set()
            watch.join()
        wall = time.perf_counter() - started
        gc.collect()
        rss_end = resident_mb()
        recorded = recorded_against_loop(session, source.recording)
    rss_warm = watch.rss_warm or rss_end
    # every sample the source gave is recorded once, and the steering read it without a skip
    lost = max(0, source.delivered - recorded["samples"]) + summary.samples_skipped
    return SoakFigures(
        recording=Path(recording_path).name, eeg_hours=round(source.eeg_played_s / 3600.0, 4),
        wall_s=round(wall, 1), realtime_factor=round(source.eeg_played_s / wall, 1),
        hops=summary.hops, generate_every=generator.k, generator_calls=generator.generated,
        keyframes=generator.calls, frames=summary.frames, rss_warm_mb=round(rss_warm, 1),
        rss_end_mb=round(rss_end, 1),
        rss_growth_pct=round(100.0 * (rss_end - rss_warm) / rss_warm, 2) if rss_warm else 0.0,
        samples=recorded["samples"], lost=lost,
        doubled=max(0, recorded["samples"] - source.delivered),
        altered=recorded["altered"] + int(recorded["torn"] > 0))


def main(argv: list[str] | None = None) -> int:
    """Run a soak and print its figures as one JSON line; exit 1 if it failed."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split(
        "\n")[0])
    p.add_argument("--hours", type=float, default=8.0, help="hours of EEG to play (default 8)")
    p.add_argument("--recording", default=str(DEFAULT_RECORDING), help="recording to loop")
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="model bundle")
    p.add_argument("--generate-every", type=int, default=48,
                   help="run the generator every N paintings (default 48)")
    p.add_argument("--fps", type=float, default=60.0, help="display refresh rate (default 60)")
    p.add_argument("--speedup", type=float, default=DEFAULT_SPEEDUP,
                   help=f"EEG seconds per wall second (default {DEFAULT_SPEEDUP:g})")
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = p.parse_args(argv)
    if not args.hours > 0 or args.generate_every < 1 or not args.fps > 0 or not args.speedup > 0:
        p.error("--hours, --fps and --speedup must be positive and --generate-every at least 1")
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    figures = soak(args.hours, args.recording, args.model, args.generate_every, args.fps,
                   args.threads, progress=progress, speedup=args.speedup)
    print(json.dumps({**asdict(figures), "passed": figures.passed}))
    return 0 if figures.passed else 1


if __name__ == "__main__":
    sys.exit(main())
