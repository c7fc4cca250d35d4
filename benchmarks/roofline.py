"""The machine's float32 matrix-multiply throughput: the roofline a conv generator is held to.

Run: ``.venv/bin/python -m benchmarks.roofline``
"""

from __future__ import annotations

import time

import numpy as np


def matmul_gflops(sizes: tuple[int, ...] = (1024, 2048), repeats: int = 20) -> float:
    """The machine's float32 matrix-multiply throughput: the best kernel at its best size.

    NumPy's BLAS and ONNX Runtime's own MatMul kernels both compete; whichever is faster sets
    the roofline, so the generator is not measured against a slow library.

    Parameters
    ----------
    sizes : tuple of int
        Sides of the square matrices tried.
    repeats : int
        Products timed per size and library; the fastest counts.

    Returns
    -------
    float
        Billions of floating-point operations per second (2·n³ per product).
    """
    return max(
        max(numpy_matmul_gflops(n, repeats), onnxruntime_matmul_gflops(n, repeats)) for n in sizes
    )


def numpy_matmul_gflops(size: int = 1024, repeats: int = 10) -> float:
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


def onnxruntime_matmul_gflops(size: int = 1024, repeats: int = 10) -> float:
    """Best float32 GFLOP/s of a square matrix product through ONNX Runtime (CPU provider)."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [size, size]) for n in "ab"]
    output = helper.make_tensor_value_info("c", TensorProto.FLOAT, [size, size])
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "mm", inputs,
                              [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = min(model.ir_version, onnx.IR_VERSION)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {n: rng.standard_normal((size, size), dtype=np.float32) for n in "ab"}
    session.run(None, feeds)
    best = np.inf
    for _ in range(repeats):
        started = time.perf_counter()
        session.run(None, feeds)
        best = min(best, time.perf_counter() - started)
    return 2.0 * size**3 / best / 1e9


def generator_gflop_per_frame(spec) -> float:
    """Floating-point work of one frame of the default generator, counted by torch.

    Counts the matrix products and convolutions (2 FLOP per multiply-add) of a generator of the
    bundle's architecture, uint8 conversion included.

    Parameters
    ----------
    spec : BundleSpec
        The bundle's description; its provenance holds the architecture (``network``).

    Returns
    -------
    float
        GFLOP per frame at batch 1.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from benchmarks.generator_bench import generator_like
    from models.bundles.generator_export import Uint8ImageGraph, frozen_copy

    graph = Uint8ImageGraph(frozen_copy(generator_like(spec)))
    features = torch.randn(1, spec.feature_spec.n_features)
    noise = torch.randn(1, spec.noise_dim)
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        graph(features, noise)
    return counter.get_total_flops() / 1e9


if __name__ == "__main__":
    for n in (1024, 2048):
        print(f"{n}x{n} float32: numpy {numpy_matmul_gflops(n):.1f} GFLOP/s, "
              f"onnxruntime {onnxruntime_matmul_gflops(n):.1f} GFLOP/s")
    print(f"matmul_gflops {matmul_gflops():.1f} GFLOP/s (the best of them)")
