"""``python -m models.export CHECKPOINT --out DIR``: a training checkpoint into a model bundle.

A generator's checkpoint becomes ``generator.onnx`` + ``generator.json`` + ``generator.pt``
(:mod:`models.bundles.generator_export`, with the compact checkpoint of
:mod:`models.bundles.checkpoint` that lets training continue from the bundle); an upscaler's
joins the bundle of its base generator (:mod:`models.upscaler.export`).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from installation.bundle import JSON_NAME, ONNX_NAME
from installation.eeg.feature_spec import FeatureSpec
from installation.errors import ModelError, run_cli
from models.bundles.checkpoint import (
    generator_from_checkpoint,
    inherit_upscaler,
    inherited_credits,
    is_upscaler_checkpoint,
    read_checkpoint,
    require_generator,
    save_generator_checkpoint,
)
from models.bundles.generator_export import checkpoint_provenance, export_generator
from models.upscaler.export import export_upscaler, upscaler_provenance


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
