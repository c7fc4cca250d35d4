"""How big may the upscaler be? Milliseconds per painting of candidate sizes in ONNX Runtime.

Run: ``.venv/bin/python -m benchmarks.upscaler_sizes [--threads 1] [--frames 20] [--openvino]``

Each candidate (width at the input size, depth, width after each doubling) is exported with
untrained weights exactly as ``models.export`` exports a trained one (the cost does not depend
on the weights) and timed on 128 px paintings, one at a time as the show runs them. The show's
budget on two cores: one core for the generator and the upscaler together, at 8 or more
keyframes a second, while the display takes the other.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

CANDIDATES = ((16, 4, 8), (32, 6, 16), (48, 6, 16), (64, 8, 24))
DEFAULT_SIZE = (32, 6, 16)


def ms_per_painting(onnx_path: Path, size: int, threads: int, frames: int,
                    openvino: bool = False) -> float:
    """Median milliseconds of one ``size`` px painting through the upscaler graph.

    ONNX Runtime's CPU, or OpenVINO's CPU in f32 where ``openvino`` is true.
    """
    if openvino:
        from installation.engine.openvino_session import OpenVinoSession  # lazy: optional

        with tempfile.TemporaryDirectory() as cache:  # compiled afresh, not from a user's cache
            session = OpenVinoSession.open(onnx_path, "CPU", threads, cache_dir=Path(cache))
    else:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(onnx_path), options,
                                       providers=["CPUExecutionProvider"])
    painting = np.random.default_rng(0).integers(0, 256, (1, size, size, 3), dtype=np.uint8)
    session.run(None, {"painting": painting})  # kernels are built on the first run
    times = []
    for _ in range(frames):
        start = time.perf_counter()
        session.run(None, {"painting": painting})
        times.append(time.perf_counter() - start)
    return 1000.0 * float(np.median(times))


def measure(threads: int = 1, frames: int = 20, size: int = 128, openvino: bool = False) -> dict:
    """``{"c32-b6-f16": ms, ...}`` for every candidate (and ``"openvino_c32-b6-f16"`` with
    ``openvino``)."""
    import torch

    from models.upscaler.export import export_upscaler_onnx
    from models.upscaler.network import Upscaler

    torch.manual_seed(0)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for channels, blocks, fine in CANDIDATES:
            name = f"c{channels}-b{blocks}-f{fine}"
            path = export_upscaler_onnx(Upscaler(channels, blocks, 4, fine), size,
                                        Path(tmp) / f"{name}.onnx")
            out[name] = ms_per_painting(path, size, threads, frames)
            if openvino:
                out[f"openvino_{name}"] = ms_per_painting(path, size, threads, frames, True)
    return out


def main() -> None:
    """Print the milliseconds per painting of each candidate, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--openvino", action="store_true", help="OpenVINO's CPU (f32) beside")
    args = parser.parse_args()
    figures = measure(args.threads, args.frames, openvino=args.openvino)
    default = "c{}-b{}-f{}".format(*DEFAULT_SIZE)
    for name, ms in figures.items():
        mark = "  (the shipped size)" if name.endswith(default) else ""
        print(f"{name}: {ms:.1f} ms per 128 -> 512 px painting on {args.threads} thread(s){mark}")
    print(json.dumps({k: round(v, 2) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
