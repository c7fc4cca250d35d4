"""A generator put together from two: one checkpoint's weights with some parts from another.

Run: ``.venv/bin/python -m models.transplant CHECKPOINT --from SOURCE --take PREFIX [--take ...]
--out FILE``

Which part of a drifted snapshot made its paintings worse? Put the earlier network's part back
and measure: the result is a checkpoint like any snapshot, so ``python -m models.export FILE
--out BUNDLE`` and ``python -m benchmarks.painting_quality --model BUNDLE`` take it. ``PREFIX``
names parameters of the generator's EMA as its state dict does (``mapping.``,
``synthesis.blocks.3.``, ``synthesis.blocks.2.torgb.``); every weight under it comes from
``SOURCE`` (a snapshot, a run folder or a bundle), the rest from ``CHECKPOINT``. The file records
what was taken, from where, under ``transplanted`` in its configuration.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from installation.errors import ModelError, OneLineParser, run_cli
from models.bundles.checkpoint import bundle_checkpoint, is_bundle_dir, load_checkpoint


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = OneLineParser(prog="python -m models.transplant",
                           description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", help="network-snapshot-*.pt or a run folder: the weights "
                                           "kept")
    parser.add_argument("--from", dest="source", required=True, metavar="SOURCE",
                        help="snapshot, run folder or bundle whose weights are taken")
    parser.add_argument("--take", action="append", required=True, metavar="PREFIX",
                        help="parameter name prefix of the generator to take from SOURCE; repeat")
    parser.add_argument("--out", required=True, metavar="FILE", help="checkpoint to write")
    return parser


def source_checkpoint(path: str) -> dict:
    """A snapshot's or run folder's checkpoint, or the compact one a bundle carries."""
    if is_bundle_dir(path):
        return bundle_checkpoint(path)
    return load_checkpoint(path)


def transplanted(kept: dict, source: dict, prefixes: list[str]) -> dict:
    """``kept`` with every EMA generator weight under ``prefixes`` taken from ``source``.

    Raises
    ------
    ModelError
        When the two generators differ in shape, or a prefix names no weight.
    """
    if kept["G_kwargs"] != source["G_kwargs"]:
        raise ModelError("The two generators are built differently (their G_kwargs differ), so "
                         "their parts do not fit each other.")
    taken = {}
    for prefix in prefixes:
        names = [name for name in kept["G_ema"] if name.startswith(prefix)]
        if not names:
            raise ModelError(f"--take {prefix} names no weight of the generator; prefixes look "
                             "like mapping. or synthesis.blocks.3.")
        taken.update({name: source["G_ema"][name] for name in names})
    out = {**kept, "G_ema": {**kept["G_ema"], **taken}}
    if "G" in kept:  # a resumed run starts from G: it gets the same parts
        out["G"] = {**kept["G"], **{k: v for k, v in taken.items() if k in kept["G"]}}
    return out


def transplant(argv: list[str] | None = None) -> int:
    """Write the put-together checkpoint and say what it took."""
    args = build_parser().parse_args(argv)
    result = transplanted(load_checkpoint(args.checkpoint), source_checkpoint(args.source),
                          args.take)
    result["config"] = {**result["config"], "transplanted": {
        "from": str(Path(args.source).resolve()), "take": args.take}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    torch.save(result, args.out)
    print(f"wrote {args.out}: {args.checkpoint} with {', '.join(args.take)} from {args.source}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: bad input is one sentence and exit code 2."""
    return run_cli(transplant, argv)


if __name__ == "__main__":
    raise SystemExit(main())
