"""The machine's float32 matrix-multiply throughput: the roofline a conv generator is held to.

Run: ``.venv/bin/python -m benchmarks.roofline``
"""

from __future__ import annotations

import time

import numpy as np


def matmul_gflops(size: int = 1024, repeats: int = 10) -> float:
    """Best float32 GFLOP/s of a square matrix product through NumPy's BLAS.

    Parameters
    ----------
    size : int
        Side of the square matrices.
    repeats : int
        Products timed; the fastest counts (least disturbed by other processes).

    Returns
    -------
    float
        Billions of floating-point operations per second (2·n³ per product).
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b  # warm the BLAS threads and caches
    best = np.inf
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - started)
    return 2.0 * size**3 / best / 1e9


def generator_gflop_per_frame(spec) -> float:
    """Floating-point work of one frame of the default generator, counted by torch.

    Counts the matrix products and convolutions (2 FLOP per multiply-add) of the seeded
    generator the default bundle was exported from, uint8 conversion included.

    Parameters
    ----------
    spec : BundleSpec
        The bundle's description; its provenance names the config and seed.

    Returns
    -------
    float
        GFLOP per frame at batch 1.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from models.default_bundle import untrained_generator
    from models.export import Uint8ImageGraph, frozen_copy

    prov = spec.provenance
    graph = Uint8ImageGraph(frozen_copy(untrained_generator(prov["cfg"], prov["seed"])))
    features = torch.randn(1, spec.feature_spec.n_features)
    noise = torch.randn(1, spec.noise_dim)
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        graph(features, noise)
    return counter.get_total_flops() / 1e9


if __name__ == "__main__":
    print(f"matmul_gflops {matmul_gflops():.1f} GFLOP/s (float32, 1024x1024)")
