"""Long runs: hours of show played at --speed max through the real pipeline, memory watched.

A shared recording loops (``FileSource(loop=True)``) hop by hop into the ring buffer; the
:class:`SteeringWorker` runs every hop through the feature pipeline and the real generator (the
default bundle on ONNX Runtime); keyframes are blended into frames at a virtual refresh rate
and handed to a sink that only counts them. The ring is checked against the recording sample by
sample: every sample the worker reads must be the next one of the looped recording, so a lost,
doubled or altered sample is counted.

Every hop is painted, but the generator itself runs only every ``--generate-every`` hops (the
hops between reuse its last image) so that 8 hours of EEG fit in minutes of CPU; everything
else (filters, features, smoothing, drift, blending) runs on every hop and every frame.

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
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from benchmarks import EYES_OPEN_EDF  # noqa: E402
from installation.config import DEFAULT_MODEL  # noqa: E402
from installation.drift import LatentDrift  # noqa: E402
from installation.eeg.feature_pipeline import FeatureExtractor  # noqa: E402
from installation.eeg.sources.file_source import FileSource  # noqa: E402
from installation.generator_runtime import GeneratorRuntime  # noqa: E402
from installation.headless import HeadlessLoop  # noqa: E402
from installation.ring_buffer import RingBuffer  # noqa: E402
from installation.steering import SteeringWorker  # noqa: E402

DEFAULT_RECORDING = EYES_OPEN_EDF
MAX_GROWTH_PCT = 5.0


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


class CheckedRing(RingBuffer):
    """A ring buffer that checks every sample read against the looped recording.

    Parameters
    ----------
    recording : Recording
        What the file source loops.
    capacity_samples : int
        Ring size.
    """

    def __init__(self, recording, capacity_samples: int) -> None:
        super().__init__(recording.info.n_channels, capacity_samples)
        self.recording = recording
        self.expected = 0  # index of the next sample the reader should get
        self.lost = self.doubled = self.altered = 0
        self._last_stamp = -math.inf

    def since(self, seen: int):
        """As :meth:`RingBuffer.since`, counting lost, doubled and altered samples."""
        chunk = super().since(seen)
        if chunk is not None and chunk.n_samples:
            self._check(chunk)
        return chunk

    def _check(self, chunk) -> None:
        first = chunk.end_count - chunk.n_samples
        self.lost += max(0, first - self.expected)
        self.doubled += max(0, self.expected - first)
        columns = np.arange(first, chunk.end_count) % self.recording.n_samples
        wrong = ~np.all(chunk.data == self.recording.data[:, columns], axis=0)
        self.altered += int(wrong.sum())
        stamps = chunk.timestamps
        self.altered += int(stamps[0] <= self._last_stamp) + int(np.sum(np.diff(stamps) <= 0))
        self._last_stamp = float(stamps[-1])
        self.expected = chunk.end_count


class EveryKth:
    """The real generator, run every ``k``-th call; the calls between reuse its last image."""

    def __init__(self, runtime: GeneratorRuntime, k: int) -> None:
        self.runtime, self.k = runtime, max(1, int(k))
        self.calls = self.generated = 0
        self._image = None

    def generate(self, steering, noise=None) -> np.ndarray:
        """The painting for this hop."""
        if self._image is None or self.calls % self.k == 0:
            self._image = self.runtime.generate(steering, noise)
            self.generated += 1
        self.calls += 1
        return self._image


class NullSink:
    """Takes frames as FrameWriter does and keeps only their count and a running checksum."""

    def __init__(self) -> None:
        self.frames = 0
        self.pngs = 0
        self.checksum = 0

    def write(self, time_s, eeg_time, latency_ms, keyframe, image, signal="") -> None:
        """Count one frame (sampling a pixel so the blend cannot be optimised away)."""
        self.frames += 1
        self.checksum = (self.checksum + int(image[0, 0, 0])) % 65521

    def close(self) -> None:
        """Nothing to close."""


def soak(hours: float = 8.0, recording_path: str | Path = DEFAULT_RECORDING,
         model: str | Path = DEFAULT_MODEL, generate_every: int = 48, fps: float = 60.0,
         threads: int = 1, warmup_fraction: float = 0.1, progress=None) -> SoakFigures:
    """Play ``hours`` of EEG through the pipeline at max speed and measure it.

    Parameters
    ----------
    hours : float
        Hours of EEG (show time) to play.
    recording_path : path-like
        The recording to loop.
    model : path-like
        The model bundle.
    generate_every : int
        Run the generator every this many hops (1: every hop).
    fps : float
        Virtual display refresh rate of the blended frames.
    threads : int
        ONNX Runtime threads.
    warmup_fraction : float
        Share of the run after which the warm resident memory is taken (at most 10 minutes
        of EEG).
    progress : callable, optional
        Called with a line of text now and then.

    Returns
    -------
    SoakFigures
    """
    source = FileSource(recording_path, speed="max", loop=True)
    info = source.open()
    runtime = GeneratorRuntime.load(model, "cpu", threads)
    generator = EveryKth(runtime, generate_every)
    extractor = FeatureExtractor(runtime.feature_spec, info)
    ring = CheckedRing(source.recording, 4 * extractor.window)
    eeg_clock = [0.0]
    worker = SteeringWorker(ring, extractor, generator, LatentDrift(runtime.noise_dim, 0, 0.1),
                            clock=lambda: eeg_clock[0])
    sink = NullSink()
    loop = HeadlessLoop(sink)
    end_s, warm_s = hours * 3600.0, min(600.0, warmup_fraction * hours * 3600.0)
    hop_s = extractor.hop / info.sample_rate
    rss_warm, next_frame, hops, report_at = None, None, 0, 0.0
    started = time.perf_counter()
    while eeg_clock[0] < end_s:
        chunk = source.read(extractor.hop)
        ring.push(chunk)
        eeg_clock[0] = float(chunk.timestamps[-1])
        hops += 1
        keyframe = worker.step()
        if keyframe is not None:
            loop.take(keyframe, keyframe.eeg_time)
            if next_frame is None:
                next_frame = math.floor(keyframe.eeg_time * fps) + 1
            while next_frame / fps <= keyframe.eeg_time + hop_s + 1e-9:
                loop.step(next_frame / fps)
                next_frame += 1
        if rss_warm is None and eeg_clock[0] >= warm_s:
            gc.collect()
            rss_warm = resident_mb()
        if progress is not None and eeg_clock[0] >= report_at:
            progress(f"{eeg_clock[0] / 3600:.2f} h of EEG in {time.perf_counter() - started:.0f} "
                     f"s, {resident_mb():.1f} MiB resident")
            report_at += 1800.0
    wall = time.perf_counter() - started
    gc.collect()
    rss_end = resident_mb()
    rss_warm = rss_warm or rss_end
    return SoakFigures(
        recording=Path(recording_path).name, eeg_hours=round(eeg_clock[0] / 3600.0, 4),
        wall_s=round(wall, 1), realtime_factor=round(eeg_clock[0] / wall, 1), hops=hops,
        generate_every=generator.k, generator_calls=generator.generated,
        keyframes=loop.keyframes, frames=sink.frames, rss_warm_mb=round(rss_warm, 1),
        rss_end_mb=round(rss_end, 1),
        rss_growth_pct=round(100.0 * (rss_end - rss_warm) / rss_warm, 2) if rss_warm else 0.0,
        samples=ring.expected, lost=ring.lost, doubled=ring.doubled,
        altered=ring.altered)


def main(argv: list[str] | None = None) -> int:
    """Run a soak and print its figures as one JSON line; exit 1 if it failed."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split(
        "\n")[0])
    p.add_argument("--hours", type=float, default=8.0, help="hours of EEG to play (default 8)")
    p.add_argument("--recording", default=str(DEFAULT_RECORDING), help="recording to loop")
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="model bundle")
    p.add_argument("--generate-every", type=int, default=48,
                   help="run the generator every N hops (default 48: every 3.2 s of EEG)")
    p.add_argument("--fps", type=float, default=60.0, help="virtual refresh rate (default 60)")
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = p.parse_args(argv)
    if not args.hours > 0 or args.generate_every < 1 or not args.fps > 0:
        p.error("--hours and --fps must be positive and --generate-every at least 1")
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    figures = soak(args.hours, args.recording, args.model, args.generate_every, args.fps,
                   args.threads, progress=progress)
    print(json.dumps({**asdict(figures), "passed": figures.passed}))
    return 0 if figures.passed else 1


if __name__ == "__main__":
    sys.exit(main())
