"""Put a trained upscaler into a model bundle: ``upscaler.onnx``, ``upscaler.pt`` and the JSON.

The graph takes the generator's painting (``painting``, uint8 [B, r, r, 3]) and returns the
painting ``scale`` times larger (``image``, uint8 NHWC): the conversions happen inside the graph,
as in ``generator.onnx``, so the show chains the two sessions without touching the pixels.
``upscaler.pt`` is the compact checkpoint (upscaler, its EMA and the discriminator, no optimiser
state) from which training can continue on any machine (``models.upscale --resume BUNDLE``).
"""

from __future__ import annotations

import copy
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from installation.bundle import (
    INPUT_PAINTING,
    JSON_NAME,
    OUTPUT_IMAGE,
    UPSCALER_NAME,
    BundleSpec,
    UpscalerSpec,
)
from installation.errors import ModelError
from models.bundles.generator_export import OPSET, set_output_shape
from models.upscaler.network import Upscaler, upscaler_from_kwargs

CHECKPOINT_NAME = "upscaler.pt"


class Uint8UpscalerGraph(nn.Module):
    """uint8 NHWC painting -> uint8 NHWC painting ``scale`` times larger."""

    def __init__(self, upscaler: Upscaler):
        super().__init__()
        self.upscaler = upscaler

    def forward(self, painting: torch.Tensor) -> torch.Tensor:
        """Upscale a batch of uint8 paintings."""
        x = painting.permute(0, 3, 1, 2).float() / 127.5 - 1.0
        img = torch.round((self.upscaler(x).clamp(-1.0, 1.0) + 1.0) * 127.5)
        return img.to(torch.uint8).permute(0, 2, 3, 1)


def export_upscaler_onnx(upscaler: Upscaler, input_resolution: int, path: Path) -> Path:
    """Trace ``upscaler`` for ``input_resolution`` px paintings to ONNX at ``path``."""
    graph = Uint8UpscalerGraph(copy.deepcopy(upscaler).cpu().eval().requires_grad_(False))
    example = torch.zeros(2, input_resolution, input_resolution, 3, dtype=torch.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python-side shape arithmetic
        torch.onnx.export(graph, (example,), str(path), opset_version=OPSET, dynamo=False,
                          input_names=[INPUT_PAINTING], output_names=[OUTPUT_IMAGE],
                          dynamic_axes={INPUT_PAINTING: {0: "batch"}, OUTPUT_IMAGE: {0: "batch"}},
                          do_constant_folding=True)
    out = input_resolution * upscaler.scale
    set_output_shape(path, ["batch", out, out, 3])
    return path


def compact_state(state: dict) -> dict:
    """The weights a bundle keeps: upscaler, EMA, discriminator, their arguments, kimg, metrics."""
    keep = ("U", "U_ema", "D", "U_kwargs", "D_kwargs", "kimg", "metrics")
    return {k: state[k] for k in keep if k in state}


def export_upscaler(state: dict, bundle_dir: str | Path, provenance: dict) -> BundleSpec:
    """Add an upscaler checkpoint's EMA upscaler to the bundle in ``bundle_dir``.

    Parameters
    ----------
    state : dict
        An upscaler checkpoint (``U_ema``, ``U_kwargs``; ``U`` and ``D`` kept when present).
    bundle_dir : str or Path
        A bundle folder that already holds the base generator and its ``generator.json``.
    provenance : dict
        Where the upscaler came from (data, kimg, metrics, commands).

    Returns
    -------
    BundleSpec
        The updated description, also written to ``generator.json``.
    """
    bundle_dir = Path(bundle_dir)
    spec = BundleSpec.load(bundle_dir / JSON_NAME)
    try:
        upscaler = upscaler_from_kwargs(state["U_kwargs"])
        upscaler.load_state_dict(state["U_ema"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelError(f"The upscaler checkpoint holds weights this version cannot rebuild "
                         f"({type(exc).__name__}); export it with the version that trained "
                         "it.") from None
    tmp = bundle_dir / (UPSCALER_NAME + ".tmp")
    export_upscaler_onnx(upscaler, spec.resolution, tmp)
    os.replace(tmp, bundle_dir / UPSCALER_NAME)
    torch.save(compact_state(state), bundle_dir / CHECKPOINT_NAME)
    spec.upscaler = UpscalerSpec(scale=upscaler.scale, input_resolution=spec.resolution,
                                 provenance=provenance)
    spec.save(bundle_dir)
    return spec


def upscaler_provenance(state: dict, command: str) -> dict:
    """Provenance of an upscaler checkpoint: data, kimg, metrics, architecture and commands."""
    config = state.get("config", {})
    return {
        "trained": True,
        "data": {"images": config.get("images"), "base": config.get("base"),
                 "real_crops": f"{config.get('crops_per_image')} per painting at "
                               f"{config.get('resolution')} px, their "
                               f"{config.get('input_resolution')} px downscales as inputs"},
        "kimg": round(float(state.get("kimg", 0.0)), 3),
        "initialised_from": ({"weights": config["init"],
                              "kimg": round(float(config.get("init_kimg", 0.0)), 3)}
                             if config.get("init") else None),
        "metrics": dict(state.get("metrics", {})),
        "network": {**state["U_kwargs"], "discriminator": state.get("D_kwargs")},
        "losses": config.get("train"),
        "training_command": config.get("command"),
        "command": command,
    }
