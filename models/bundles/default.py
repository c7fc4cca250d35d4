"""Build an untrained bundle from a seeded generator: a placeholder for tests and benchmarks.

``python -m models.bundles.default --out DIR [--seed 2026] [--cfg 256]``

The show's default model (``assets/default``) is a trained one (docs/default-model.md); this makes a
stand-in of any configuration without training, e.g. to time a size no trained model has yet.

An untrained StyleGAN adds one RGB image per resolution; their sum saturates to a few flat
colours. Scaling each ToRGB layer down (a little less at the coarse resolutions, which carry the
large shapes) keeps the untrained output varied and colourful, so the show visibly moves with
the EEG before a model of the artist's paintings exists.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from installation.eeg.feature_spec import FeatureSpec
from installation.errors import run_cli
from models.bundles.checkpoint import save_generator_checkpoint
from models.bundles.generator_export import export_generator, network_description
from models.configs import CONFIGS
from models.networks import Generator, ToRGB

DEFAULT_SEED = 2026


def untrained_generator(cfg_name: str = "256", seed: int = DEFAULT_SEED,
                        spec: FeatureSpec | None = None) -> Generator:
    """A seeded, untrained generator of configuration ``cfg_name`` with toned-down colours."""
    torch.manual_seed(seed)
    g = Generator(**generator_kwargs(cfg_name, spec or FeatureSpec()))
    tone_down_rgb(g)
    centre_colours(g.eval())
    return g


def generator_kwargs(cfg_name: str, spec: FeatureSpec) -> dict:
    """The generator's keyword arguments of configuration ``cfg_name`` at its own resolution."""
    cfg = CONFIGS[cfg_name]
    return cfg.network_kwargs(cfg.resolution, cfg.batch, spec.n_features)[0]


@torch.no_grad()
def tone_down_rgb(generator: Generator, coarse_gain: float = 0.5, fine_gain: float = 0.35) -> None:
    """Scale the ToRGB weights from ``coarse_gain`` (4x4) to ``fine_gain`` (full size)."""
    torgbs = [m for m in generator.synthesis.modules() if isinstance(m, ToRGB)]
    for i, torgb in enumerate(torgbs):
        t = i / max(len(torgbs) - 1, 1)
        torgb.conv.weight.mul_(coarse_gain * (1 - t) + fine_gain * t)
        torgb.conv.affine.bias.zero_()  # colours follow w instead of one fixed random tint


@torch.no_grad()
def centre_colours(generator: Generator, samples: int = 32) -> None:
    """Shift the output's mean colour to grey, so the colours vary around it, not one tint."""
    gen = torch.Generator().manual_seed(0)
    features = torch.randn(samples, generator.n_features, generator=gen)
    noise = torch.randn(samples, generator.noise_dim, generator=gen)
    mean = generator(features, noise).mean(dim=(0, 2, 3))
    last = [m for m in generator.synthesis.modules() if isinstance(m, ToRGB)][-1]
    last.bias.sub_(mean)


def build_untrained_bundle(out_dir: str | Path, seed: int = DEFAULT_SEED,
                           cfg_name: str = "256") -> Path:
    """Write an untrained bundle (with its compact checkpoint) into ``out_dir``; return it."""
    spec = FeatureSpec()
    g = untrained_generator(cfg_name, seed, spec)
    provenance = {
        "trained": False,
        "note": "untrained, seeded generator: a placeholder until a model of the artist's "
                "paintings is trained with train.py and exported with models.export",
        "seed": seed,
        "cfg": cfg_name,
        "command": f"python -m models.bundles.default --seed {seed} --cfg {cfg_name}",
        "network": network_description(generator_kwargs(cfg_name, spec)),
    }
    export_generator(g, spec, out_dir, provenance)
    kwargs = generator_kwargs(cfg_name, spec)
    save_generator_checkpoint({"G": g.state_dict(), "G_ema": g.state_dict(), "G_kwargs": kwargs,
                               "config": {"feature_spec": spec.to_dict(), "cfg": cfg_name},
                               "kimg": 0.0, "metrics": {}}, out_dir)
    return Path(out_dir)


def main(argv: list[str] | None = None) -> int:
    """Build an untrained bundle; see ``--help``."""
    parser = argparse.ArgumentParser(prog="python -m models.bundles.default",
                                     description="Build an untrained (placeholder) model bundle.")
    parser.add_argument("--out", required=True, help="bundle folder to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="seed (default: %(default)s)")
    parser.add_argument("--cfg", choices=sorted(CONFIGS), default="256",
                        help="network configuration (default: %(default)s)")
    args = parser.parse_args(argv)
    out = build_untrained_bundle(args.out, args.seed, args.cfg)
    print(f"wrote an untrained bundle to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
