"""How many seconds of EEG the whole feature pipeline processes per second of compute.

Run: ``.venv/bin/python -m benchmarks.features_bench [PATH]``

A hop costs a few dozen small numpy calls (a 64-channel window is 10,240 samples), so the
figure follows the host's speed at small array operations more than its core count: the same
code measured about 1000x on the hosts of earlier stops and about 500x on one where adding two
arrays of 25 doubles took 0.5 µs. :func:`small_op_ns` prints that yardstick beside the figure,
so that figures from two hosts can be told apart from a change of the code.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import EYES_OPEN_EDF
from installation.eeg.feature_pipeline import FeatureExtractor
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.sources.files.recordings import load_recording

DEFAULT_PATH = EYES_OPEN_EDF
CHUNK_S = 1.0 / 32.0


def features_realtime_factor(path: Path | str = DEFAULT_PATH, repeats: int = 9) -> float:
    """Seconds of EEG per second of compute for :class:`FeatureExtractor`, chunks of 1/32 s.

    Parameters
    ----------
    path : path-like
        A recording (EDF or anything ``load_recording`` reads).
    repeats : int
        Runs over the recording (about 0.15 s each); the fastest counts, the least disturbed
        by other processes: on a shared virtual machine single runs vary by a third.

    Returns
    -------
    float
        The real-time factor (1000 means a second of EEG takes a millisecond).
    """
    recording = load_recording(Path(path))
    rate = recording.info.sample_rate
    # cut ahead of time, so cutting is not timed
    chunks = list(recording.chunks(max(1, int(round(CHUNK_S * rate)))))
    duration = recording.data.shape[1] / rate
    best = np.inf
    for _ in range(repeats):
        extractor = FeatureExtractor(FeatureSpec(), recording.info)
        started = time.perf_counter()
        for chunk in chunks:
            extractor.push(chunk)
        best = min(best, time.perf_counter() - started)
    return duration / best


def small_op_ns(repeats: int = 9, calls: int = 20000) -> float:
    """Nanoseconds one ``a + b`` of two arrays of 25 doubles takes on this host (fastest run).

    The feature vector's length: the yardstick of numpy's per-call cost, which dominates a hop.
    """
    a, b = np.ones(25), np.ones(25)
    best = np.inf
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            a + b  # noqa: B018 - the operation being timed
        best = min(best, time.perf_counter() - started)
    return best / calls * 1e9


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    factor = features_realtime_factor(target)
    print(f"features_realtime_factor {factor:.0f}x real time ({target.name}, chunks of 1/32 s)")
    print(f"  = {1e3 / factor:.2f} ms of compute per second of EEG (target: 1000x or more)")
    print(f"  this host adds two arrays of 25 doubles in {small_op_ns():.0f} ns")
