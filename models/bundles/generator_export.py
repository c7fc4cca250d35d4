"""A generator into a bundle: its ONNX graph (uint8 image out), ``generator.json`` and provenance.

The graph takes ``features`` [B, F] and ``noise`` [B, Z] (float32) and returns ``image``
uint8 [B, H, W, 3]: the [-1, 1] -> uint8 conversion happens inside the graph, so the show only
blits. Noise buffers are constants and everything is fp32, opset 17, plain ONNX ops.
"""

from __future__ import annotations

import copy
import os
import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from installation.bundle import (
    INPUT_FEATURES,
    INPUT_NOISE,
    ONNX_NAME,
    OUTPUT_IMAGE,
    BundleSpec,
)
from installation.eeg.feature_spec import FeatureSpec
from installation.errors import ModelError
from models.networks import Generator

OPSET = 17


CONDITIONING = ("features standardised by the training mean/std inside the graph, embedded by a "
                "fully connected layer, RMS-normalised and concatenated with the RMS-normalised "
                "noise vector as the mapping network's input")


class FloatImageGraph(nn.Module):
    """The generator with constant noise: (features, noise) -> float image NCHW in [-1, 1]."""

    def __init__(self, generator: Generator):
        super().__init__()
        self.generator = generator

    def forward(self, features: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Render the float image."""
        return self.generator(features, noise)


class Uint8ImageGraph(FloatImageGraph):
    """The exported graph: (features, noise) -> uint8 image NHWC, ready to display."""

    def forward(self, features: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Render the uint8 NHWC image."""
        img = super().forward(features, noise)
        img = torch.round((img.clamp(-1.0, 1.0) + 1.0) * 127.5)
        return img.to(torch.uint8).permute(0, 2, 3, 1)


def frozen_copy(generator: Generator) -> Generator:
    """A CPU, eval-mode, constant-noise copy of ``generator`` for tracing."""
    g = copy.deepcopy(generator).cpu().eval().requires_grad_(False)
    g.synthesis.set_noise_mode("const")
    g.synthesis.freeze()
    return g


def export_onnx(graph: nn.Module, n_features: int, noise_dim: int, path: str | Path) -> Path:
    """Trace ``graph`` to ONNX at ``path`` with a dynamic batch axis; return the path."""
    path = Path(path)
    example = (torch.zeros(2, n_features), torch.zeros(2, max(noise_dim, 1)))
    output_name = OUTPUT_IMAGE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python-side shape arithmetic
        torch.onnx.export(
            graph, example, str(path), opset_version=OPSET, dynamo=False,
            input_names=[INPUT_FEATURES, INPUT_NOISE], output_names=[output_name],
            dynamic_axes={INPUT_FEATURES: {0: "batch"}, INPUT_NOISE: {0: "batch"},
                          output_name: {0: "batch"}},
            do_constant_folding=True,
        )
    return path


def set_output_shape(path: Path, shape: list) -> None:
    """Write the known output shape into the graph's output description.

    The tracer leaves height and width symbolic; readers of the model should see e.g.
    [batch, 256, 256, 3].
    """
    model = onnx.load(str(path))
    dims = model.graph.output[0].type.tensor_type.shape.dim
    for dim, value in zip(dims, shape, strict=True):
        dim.Clear()
        if isinstance(value, str):
            dim.dim_param = value
        else:
            dim.dim_value = value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def export_generator(generator: Generator, spec: FeatureSpec, out_dir: str | Path,
                     provenance: dict, float_graph: bool = False) -> BundleSpec:
    """Write ``generator.onnx`` and ``generator.json`` for ``generator`` into ``out_dir``.

    Parameters
    ----------
    generator : Generator
        The generator (the EMA copy for a trained model); it is copied, not changed.
    spec : FeatureSpec
        The feature spec the generator was trained on; ``spec.n_features`` must match.
    out_dir : str or Path
        Folder of the bundle, created if needed.
    provenance : dict
        Where the model came from (data, kimg, metrics, command, ``trained``).
    float_graph : bool
        Also write ``generator_float.onnx`` returning the [-1, 1] float image (for tests).

    Returns
    -------
    BundleSpec
        The description written to ``generator.json``.
    """
    if spec.n_features != generator.n_features:
        raise ModelError(f"The generator takes {generator.n_features} features but the feature "
                         f"spec gives {spec.n_features}; export with the spec used in training.")
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"Cannot write the bundle into {out_dir} ({exc.strerror}); pass a "
                         "writable --out folder.") from None
    g = frozen_copy(generator)
    tmp = out_dir / (ONNX_NAME + ".tmp")
    export_onnx(Uint8ImageGraph(g), g.n_features, g.noise_dim, tmp)
    set_output_shape(tmp, ["batch", g.resolution, g.resolution, 3])
    os.replace(tmp, out_dir / ONNX_NAME)
    if float_graph:
        float_path = out_dir / "generator_float.onnx"
        export_onnx(FloatImageGraph(g), g.n_features, g.noise_dim, float_path)
        set_output_shape(float_path, ["batch", 3, g.resolution, g.resolution])
    bundle = BundleSpec(feature_spec=spec, noise_dim=g.noise_dim, resolution=g.resolution,
                        provenance={"conditioning": CONDITIONING, **provenance})
    bundle.save(out_dir)
    return bundle


def people_provenance(config: dict) -> dict:
    """``{"people": [...]}`` for a run trained on several people, else nothing."""
    return {"people": config["people"]} if config.get("people") else {}


def eeg_normalisation(config: dict) -> str:
    """How the run z-scored its EEG, in words."""
    if config.get("people"):
        return "per person: each by their own calibration profile, else their own recordings"
    if config.get("eeg_profile"):
        return "calibration profile " + config["eeg_profile"]
    return "training recordings pooled"


def network_description(g_kwargs: dict) -> dict:
    """A generator's keyword arguments as JSON keeps them (string channel keys)."""
    return {**g_kwargs, "channels": {str(k): v for k, v in g_kwargs["channels"].items()}}


def checkpoint_provenance(ckpt: dict, command: str) -> dict:
    """Provenance for a bundle made from a checkpoint.

    The data, kimg, metrics, the training and export commands, how the EEG was z-scored, the
    generator's architecture (``network``: enough to rebuild it for benchmarks) and, for a
    distilled generator, how it was distilled.
    """
    config = ckpt["config"]
    distillation = {"distillation": config["distillation"]} if "distillation" in config else {}
    return {
        "trained": True,
        "data": {"images": config.get("images"), "image_count": config.get("image_count"),
                 "eeg": config.get("eeg", []), **people_provenance(config)},
        "eeg_normalisation": eeg_normalisation(config),
        "kimg": round(float(ckpt.get("kimg", 0.0)), 3),
        "metrics": dict(ckpt.get("metrics", {})),
        "training_config": {k: config.get(k) for k in ("cfg", "resolution", "batch", "seed")},
        "training_command": config.get("command"),
        "network": network_description(ckpt["G_kwargs"]),
        "lineage": config.get("lineage", []),
        "command": command,
        **distillation,
    }
