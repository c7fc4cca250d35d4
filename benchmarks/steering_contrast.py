"""Does the brain steer the paintings? Eyes-closed vs eyes-open keyframes, rendered by the show.

Run: ``.venv/bin/python -m benchmarks.steering_contrast [--model DIR] [--profile FILE]``

Both PhysioNet recordings (S001R02 eyes closed, S001R01 eyes open) go through the show itself
(``python -m installation --speed max --record``), with the calibration profile the model was
trained with; every keyframe is rendered again from the steering and noise vectors the show
logged. The figures:

- ``between``: mean RMS distance over all pairs of an eyes-closed and an eyes-open keyframe;
- ``halves``: the same between the first and second halves of one recording (mean of both);
- ``ratio`` = between / halves (the paintings follow the brain when it is well above 1);
- keyframe-to-keyframe steps (median, 99th percentile, largest) against ``between``: a large
  step that the next keyframe undoes would show as flicker.

Distances are on the 0-255 scale, on images average-pooled to at most 128 px.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks import EYES_CLOSED_EDF as EYES_CLOSED
from benchmarks import EYES_OPEN_EDF as EYES_OPEN
from benchmarks import REPO
from installation.config import DEFAULT_MODEL

METRIC_SIZE = 128


def show_keyframes(model: Path, profile: Path | None, recording: Path,
                   folder: Path, native: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Run the show over ``recording`` at full speed; return its (steering, noise) per keyframe.

    ``native`` leaves the upscaler out (``--native``): the figures pool to 128 px anyway, so
    it changes them little and saves most of the time.
    """
    record = folder / recording.stem
    command = [sys.executable, "-m", "installation", "--source", f"file:{recording}",
               "--model", str(model), "--headless", "--speed", "max", "--record", str(record),
               "--frames-out", str(folder / f"{recording.stem}-frames"), "--frame-every", "100000"]
    if profile is not None:
        command += ["--profile", str(profile)]
    if native:
        command.append("--native")
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the show failed on {recording.name}: {done.stderr.strip()}")
    rows = [json.loads(line) for line in (record / "keyframes.jsonl").read_text().splitlines()]
    steering = np.array([row["steering"] for row in rows], dtype=np.float32)
    noise = np.array([row["noise"] for row in rows], dtype=np.float32)
    return steering, noise


def render(model: Path, steering: np.ndarray, noise: np.ndarray,
           native: bool = False) -> np.ndarray:
    """The keyframes again, through the show's runtime, as float32 [N, D] (pooled pixels)."""
    from installation.engine.generator_runtime import GeneratorRuntime

    runtime = GeneratorRuntime.load(model, provider="cpu", native=native)
    return np.stack([pooled(runtime.generate(s, z)) for s, z in zip(steering, noise,
                                                                       strict=True)])


def pooled(image: np.ndarray, size: int = METRIC_SIZE) -> np.ndarray:
    """Average-pool an (H, W, 3) uint8 image to at most ``size`` px and flatten it."""
    factor = max(1, image.shape[0] // size)
    h, w = image.shape[0] // factor, image.shape[1] // factor
    small = image[:h * factor, :w * factor].astype(np.float32)
    return small.reshape(h, factor, w, factor, 3).mean(axis=(1, 3)).ravel()


def squared_rms_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean squared difference of every row of ``a`` with every row of ``b``, (len a, len b)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    squared = (a64 ** 2).sum(1)[:, None] + (b64 ** 2).sum(1)[None, :] - 2 * a64 @ b64.T
    return np.maximum(squared, 0) / a.shape[1]


def mean_pair_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean RMS distance over all pairs (one image from ``a``, one from ``b``)."""
    return float(np.sqrt(squared_rms_distances(a, b)).mean())


def halves_distance(images: np.ndarray) -> float:
    """Mean pair distance between the first and second halves of a recording's keyframes."""
    middle = len(images) // 2
    return mean_pair_distance(images[:middle], images[middle:])


def step_sizes(images: np.ndarray) -> np.ndarray:
    """RMS change from each keyframe to the next."""
    return np.sqrt(((images[1:] - images[:-1]) ** 2).mean(axis=1))


def contrast_figures(closed: np.ndarray, opened: np.ndarray) -> dict:
    """The figures of the module docstring from both recordings' keyframe images."""
    between = mean_pair_distance(closed, opened)
    halves = (halves_distance(closed) + halves_distance(opened)) / 2
    steps = np.concatenate([step_sizes(closed), step_sizes(opened)])
    return {
        "eyes_closed_open_distance": between,
        "half_vs_half_distance": halves,
        "eyes_closed_open_ratio": between / halves,
        "centroid_distance_ratio": centroid_ratio(closed, opened),
        "keyframe_step_median": float(np.median(steps)),
        "keyframe_step_p99": float(np.percentile(steps, 99)),
        "keyframe_step_max": float(steps.max()),
        "keyframes_closed": len(closed), "keyframes_open": len(opened),
    }


def centroid_ratio(closed: np.ndarray, opened: np.ndarray) -> float:
    """Distance between the two sets' mean images over that between each recording's halves."""
    def rms(x, y):
        return float(np.sqrt(((x.mean(0) - y.mean(0)) ** 2).mean()))

    halves = [rms(images[:len(images) // 2], images[len(images) // 2:])
              for images in (closed, opened)]
    return rms(closed, opened) / max(float(np.mean(halves)), 1e-6)


def measure(model: Path = DEFAULT_MODEL, profile: Path | None = None,
            eyes_closed: Path = EYES_CLOSED, eyes_open: Path = EYES_OPEN,
            native: bool = False) -> dict:
    """Render both recordings through the show and return :func:`contrast_figures`."""
    if profile is None and (model / "profile.json").is_file():
        profile = model / "profile.json"
    with tempfile.TemporaryDirectory() as tmp:
        closed = render(model, *show_keyframes(model, profile, eyes_closed, Path(tmp), native),
                        native=native)
        opened = render(model, *show_keyframes(model, profile, eyes_open, Path(tmp), native),
                        native=native)
    return contrast_figures(closed, opened)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--profile", type=Path,
                        help="calibration profile (default: the model's profile.json, if any)")
    parser.add_argument("--eyes-closed", type=Path, default=EYES_CLOSED,
                        help="eyes-closed recording (default: PhysioNet S001R02)")
    parser.add_argument("--eyes-open", type=Path, default=EYES_OPEN,
                        help="eyes-open recording (default: PhysioNet S001R01)")
    parser.add_argument("--native", action="store_true",
                        help="leave the upscaler out (the figures pool to 128 px anyway)")
    args = parser.parse_args()
    figures = measure(args.model, args.profile, args.eyes_closed, args.eyes_open, args.native)
    print(f"eyes closed vs open: {figures['eyes_closed_open_distance']:.1f}; first vs second "
          f"half: {figures['half_vs_half_distance']:.1f}; ratio "
          f"{figures['eyes_closed_open_ratio']:.2f} (target >= 2; mean images: "
          f"{figures['centroid_distance_ratio']:.2f})")
    print(f"keyframe to keyframe: median {figures['keyframe_step_median']:.2f}, p99 "
          f"{figures['keyframe_step_p99']:.2f}, largest {figures['keyframe_step_max']:.2f} "
          f"({figures['keyframes_closed']} + {figures['keyframes_open']} keyframes)")
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v
                      for k, v in figures.items()}))


if __name__ == "__main__":
    main()
