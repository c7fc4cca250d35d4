"""A tiny but real model bundle: an ONNX graph built with onnx.helper and its generator.json.

The image is a fixed pattern pushed around by the steering vector and the noise through two
random projections and a tanh, so it changes with both inputs; ONNX Runtime runs it in
microseconds, which keeps display tests fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from installation.bundle import INPUT_FEATURES, INPUT_NOISE, OUTPUT_IMAGE, BundleSpec
from installation.eeg.feature_spec import FeatureSpec


def tiny_graph(n_features: int, noise_dim: int, size: int, seed: int = 0) -> onnx.ModelProto:
    """ONNX model: image = uint8(128 + 100 tanh(f @ Wf + z @ Wz + pattern))."""
    rng = np.random.default_rng(seed)
    pixels = size * size * 3
    yy, xx = np.mgrid[0:size, 0:size] / size
    pattern = np.stack([np.sin(6 * xx), np.cos(5 * yy), np.sin(4 * (xx + yy))], axis=-1)
    initializers = [
        numpy_helper.from_array(rng.normal(0, 0.3, (n_features, pixels)).astype(np.float32), "wf"),
        numpy_helper.from_array(rng.normal(0, 0.3, (noise_dim, pixels)).astype(np.float32), "wz"),
        numpy_helper.from_array(pattern.reshape(1, pixels).astype(np.float32), "pattern"),
        numpy_helper.from_array(np.array([100.0], np.float32), "gain"),
        numpy_helper.from_array(np.array([128.0], np.float32), "offset"),
        numpy_helper.from_array(np.array([0.0], np.float32), "lo"),
        numpy_helper.from_array(np.array([255.0], np.float32), "hi"),
        numpy_helper.from_array(np.array([-1, size, size, 3], np.int64), "shape"),
    ]
    nodes = [
        helper.make_node("MatMul", [INPUT_FEATURES, "wf"], ["from_features"]),
        helper.make_node("MatMul", [INPUT_NOISE, "wz"], ["from_noise"]),
        helper.make_node("Add", ["from_features", "from_noise"], ["mixed"]),
        helper.make_node("Add", ["mixed", "pattern"], ["shifted"]),
        helper.make_node("Tanh", ["shifted"], ["squashed"]),
        helper.make_node("Mul", ["squashed", "gain"], ["scaled"]),
        helper.make_node("Add", ["scaled", "offset"], ["centred"]),
        helper.make_node("Clip", ["centred", "lo", "hi"], ["clipped"]),
        helper.make_node("Cast", ["clipped"], ["flat"], to=TensorProto.UINT8),
        helper.make_node("Reshape", ["flat", "shape"], [OUTPUT_IMAGE]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_generator",
        [
            helper.make_tensor_value_info(INPUT_FEATURES, TensorProto.FLOAT, ["batch", n_features]),
            helper.make_tensor_value_info(INPUT_NOISE, TensorProto.FLOAT, ["batch", noise_dim]),
        ],
        [helper.make_tensor_value_info(OUTPUT_IMAGE, TensorProto.UINT8,
                                       ["batch", size, size, 3])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_tiny_bundle(directory: str | Path, spec: FeatureSpec | None = None,
                      noise_dim: int = 8, size: int = 32) -> Path:
    """Write generator.onnx and generator.json into ``directory`` and return it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    spec = spec or FeatureSpec()
    onnx.save(tiny_graph(spec.n_features, noise_dim, size), str(directory / "generator.onnx"))
    BundleSpec(spec, noise_dim, size, {"trained": False, "note": "tiny test graph"}).save(directory)
    return directory
