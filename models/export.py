"""Export a generator to a model bundle: ``generator.onnx`` + ``generator.json`` + ``generator.pt``.

``python -m models.export CHECKPOINT --out DIR`` exports the EMA generator of a training
checkpoint, with the compact checkpoint (:mod:`models.bundle_checkpoint`) that lets training
continue from the bundle; :func:`export_generator` is also what builds the untrained default
bundle.
The graph takes ``features`` [B, F] and ``noise`` [B, Z] (float32) and returns ``image``
uint8 [B, H, W, 3]: the [-1, 1] -> uint8 conversion happens inside the graph, so the show only
blits. Noise buffers are constants and everything is fp32, opset 17, plain ONNX ops.
"""

from __future__ import annotations

import argparse
import copy
import os
import shlex
import sys
import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from installation.bundle import (
    INPUT_FEATURES,
    INPUT_NOISE,
    JSON_NAME,
    ONNX_NAME,
    OUTPUT_IMAGE,
    BundleSpec,
)
from installation.eeg.feature_spec import FeatureSpec
from installation.errors import ModelError, run_cli
from models.bundle_checkpoint import inherit_upscaler, inherited_credits, save_generator_checkpoint
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


def read_checkpoint(path: str | Path) -> dict:
    """Read any checkpoint of this project (or a run folder's latest); ModelError if unreadable."""
    path = Path(path)
    if path.is_dir():
        from models.snapshots import latest_checkpoint

        path = latest_checkpoint(path)
    if not path.is_file():
        raise ModelError(f"The checkpoint {path} does not exist; pass a .pt file from a run "
                         "folder made by train.py or models.upscale.")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for truncated or foreign files
        raise ModelError(f"The checkpoint {path} cannot be read ({type(exc).__name__}); it may "
                         "be truncated: use an earlier snapshot of the run.") from None
    if not isinstance(ckpt, dict):
        raise ModelError(f"{path} is not a checkpoint of this project; pass a "
                         "network-snapshot-*.pt file from a run folder.")
    return ckpt


def is_upscaler_checkpoint(ckpt: dict) -> bool:
    """True for a checkpoint of ``models.upscale`` (the second stage)."""
    return {"U_ema", "U_kwargs"} <= set(ckpt)


def require_generator(ckpt: dict, path: str | Path) -> dict:
    """``ckpt`` if it is a train.py checkpoint; a ModelError sentence otherwise."""
    if not {"G_ema", "G_kwargs", "config"} <= set(ckpt):
        raise ModelError(f"{path} is not a train.py checkpoint (it lacks the generator); pass a "
                         "network-snapshot-*.pt file from a run folder.")
    return ckpt


def load_checkpoint(path: str | Path) -> dict:
    """Read a train.py checkpoint (or a run folder's latest); raise ModelError if unusable."""
    return require_generator(read_checkpoint(path), path)


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


def generator_from_kwargs(kwargs: dict) -> Generator:
    """A generator built from its keyword arguments as stored in JSON (string channel keys)."""
    kwargs = dict(kwargs)
    kwargs["channels"] = {int(k): int(v) for k, v in kwargs["channels"].items()}
    return Generator(**kwargs)


def generator_from_checkpoint(ckpt: dict) -> Generator:
    """Rebuild the EMA generator stored in a checkpoint."""
    g = generator_from_kwargs(ckpt["G_kwargs"])
    g.load_state_dict(ckpt["G_ema"])
    return g


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


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m models.export``."""
    parser = argparse.ArgumentParser(
        prog="python -m models.export",
        description="Export a training checkpoint's EMA generator as generator.onnx + .json, or "
                    "an upscaler's as upscaler.onnx into an existing bundle.",
    )
    parser.add_argument("checkpoint", help="network-snapshot-*.pt, or a run folder of train.py "
                        "or models.upscale (its latest)")
    parser.add_argument("--out", required=True, help="bundle folder to write (for an upscaler: "
                        "the bundle of its base generator)")
    parser.add_argument("--credit", action="append", default=[], metavar="TEXT",
                        help="a licence or citation the data asks for, kept in generator.json "
                             "(repeat for each)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point (``eeg-painting-export``): user errors become one line and exit code 2."""
    return run_cli(export_checkpoint, argv)


def export_checkpoint(argv: list[str] | None = None) -> int:
    """Export a checkpoint; see ``--help``."""
    args = build_parser().parse_args(argv)
    command = shlex.join(["python", "-m", "models.export",
                          *(argv if argv is not None else sys.argv[1:])])
    ckpt = read_checkpoint(args.checkpoint)
    if is_upscaler_checkpoint(ckpt):
        return export_upscaler_checkpoint(ckpt, args, command)
    require_generator(ckpt, args.checkpoint)
    try:
        generator = generator_from_checkpoint(ckpt)
        spec = FeatureSpec.from_dict(ckpt["config"]["feature_spec"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelError(f"The checkpoint {args.checkpoint} holds a generator this version "
                         f"cannot rebuild ({type(exc).__name__}); export it with the version "
                         "that trained it.") from None
    provenance = checkpoint_provenance(ckpt, command)
    credits = list(args.credit) or inherited_credits(ckpt["config"].get("base_bundle"))
    if credits:
        provenance["credits"] = credits
    export_generator(generator, spec, args.out, provenance)
    checkpoint = save_generator_checkpoint(ckpt, args.out)
    print(f"wrote {Path(args.out) / ONNX_NAME}, {Path(args.out) / JSON_NAME} and {checkpoint}")
    if inherit_upscaler(ckpt["config"].get("base_bundle"), args.out):
        print(f"kept the upscaler of {ckpt['config']['base_bundle']}")
    return 0


def export_upscaler_checkpoint(ckpt: dict, args, command: str) -> int:
    """Add an upscaler checkpoint to the bundle ``args.out``; see ``--help``."""
    from models.upscaler_export import export_upscaler, upscaler_provenance

    if not (Path(args.out) / JSON_NAME).is_file():
        raise ModelError(f"{args.out} holds no generator.json; an upscaler goes into the bundle "
                         "of its base generator, e.g. --out assets/default.")
    provenance = upscaler_provenance(ckpt, command)
    if args.credit:
        provenance["credits"] = list(args.credit)
    spec = export_upscaler(ckpt, args.out, provenance)
    print(f"wrote {Path(args.out) / spec.upscaler.onnx}: {spec.resolution} px -> "
          f"{spec.output_resolution} px, and updated {Path(args.out) / JSON_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
