"""Continuing from a model bundle, from the compact checkpoint it carries (``generator.pt``).

- Fast: ``python train.py --resume BUNDLE --adapt mapping --eeg SESSION ...`` re-fits only the
  mapping network (:mod:`models.adaptation.mapping_fit`) to the new recordings and writes a run
  folder with one checkpoint, a grid of paintings and the lineage. The synthesis network, and so
  how the model paints, is not touched: minutes on a CPU.
- Full: ``python train.py --resume BUNDLE --images DIR --eeg ... --outdir runs`` starts a new
  GAN run from the bundle's generator, its EMA and (when the bundle has one) discriminator
  (:func:`continue_config`); a bundle without a discriminator starts a fresh one, unless
  ``--adapt discriminator`` (:mod:`models.adaptation.discriminator_warmup`) warmed one up against it
  first.

Either run exports with ``python -m models.export RUN --out NEW_BUNDLE``; the new bundle keeps
the lineage (which bundles, which recordings, how many kimg) and the base bundle's upscaler.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import torch

from installation.bundle import BundleSpec, resolve_bundle_paths
from installation.eeg.feature_spec import FeatureSpec
from installation.errors import ConfigError
from models.adaptation.mapping_fit import MappingFitSettings, fit_mapping
from models.bundles.checkpoint import (
    bundle_checkpoint,
    generator_from_checkpoint,
)
from models.configs import CONFIGS
from models.training.feature_pool import FeaturePool
from models.training.run_folder import next_run_dir
from models.training.snapshots import checkpoint_name, link_latest, save_atomic, save_grid
from models.training.training_loop import steering_sample

# How firmly an adaptation holds the EEG the bundle already answered to its paintings.
ADAPT_ANCHOR = 10.0

# What an adapted bundle keeps of its base's story: the synthesis network is still that training's.
BASE_PROVENANCE = ("data", "kimg", "metrics", "eeg_normalisation", "training_command", "credits")


def adapted_spec(bundle_dir: str | Path, current_features: bool) -> FeatureSpec:
    """The bundle's feature spec, or this version's default with the bundle's shape.

    ``current_features`` moves an older bundle onto this version's features (e.g. the robust
    region mean); the vector must keep its length, since the mapping's input layer stays.
    """
    bundle_spec = BundleSpec.load(resolve_bundle_paths(bundle_dir)[1]).feature_spec
    if not current_features:
        return bundle_spec
    spec = replace(FeatureSpec(), line_freq=bundle_spec.line_freq)
    if spec.n_features != bundle_spec.n_features:
        raise ConfigError(f"This version's features have {spec.n_features} values but the "
                          f"bundle's mapping takes {bundle_spec.n_features}; adapt without "
                          "--features current.")
    return spec


def lineage_entry(bundle_dir: str | Path, ckpt: dict, adapted: str, **details) -> dict:
    """One step of a bundle's lineage: which bundle, at how many kimg, what was adapted."""
    return {"bundle": str(Path(bundle_dir).resolve()), "kimg": float(ckpt.get("kimg", 0)),
            "adapted": adapted, **details}


def adapt_run_config(bundle_dir: str | Path, ckpt: dict, spec: FeatureSpec, eeg: dict,
                     settings: MappingFitSettings, run_dir: Path, trained: dict) -> dict:
    """The run's configuration: where it came from (lineage) and what it was fitted to.

    ``trained`` is the base bundle's provenance (``BundleSpec.provenance``).
    """
    base = ckpt.get("config", {})
    lineage = [*base.get("lineage", []),
               lineage_entry(bundle_dir, ckpt, "mapping", eeg=eeg, fit=settings.to_dict(),
                             base_provenance={k: trained.get(k) for k in BASE_PROVENANCE})]
    images = base.get("images") or (trained.get("data") or {}).get("images")
    return {**{k: v for k, v in base.items() if k not in ("note",)}, "images": images,
            "command": " ".join(["python train.py", *sys.argv[1:]]),
            "feature_spec": spec.to_dict(), "run_dir": str(run_dir),
            "eeg": eeg.get("eeg", []), "people": eeg.get("people", []),
            "eeg_profile": eeg.get("eeg_profile"), "lineage": lineage,
            "base_bundle": str(Path(bundle_dir).resolve())}


def adapt_bundle(bundle_dir: str | Path, pool: FeaturePool, spec: FeatureSpec, eeg: dict,
                 run_dir: Path, settings: MappingFitSettings | None = None,
                 ckpt: dict | None = None) -> Path:
    """Re-fit the bundle's mapping to ``pool`` and write the run folder; returns its checkpoint.

    Parameters
    ----------
    bundle_dir : path
        A bundle with ``generator.pt``.
    pool : FeaturePool
        The new EEG, z-scored as the show will z-score it.
    spec : FeatureSpec
        The feature spec ``pool`` was made with (the adapted bundle's).
    eeg : dict
        ``eeg``, ``people`` and ``eeg_profile`` entries for the provenance.
    run_dir : Path
        New run folder.
    settings : MappingFitSettings, optional
        Steps, rates and weights (the defaults when None).
    ckpt : dict, optional
        The bundle's checkpoint, when the caller has read it already.
    """
    settings = settings or MappingFitSettings()
    ckpt = ckpt or bundle_checkpoint(bundle_dir)
    generator = generator_from_checkpoint(ckpt).eval()
    print(f"re-fitting the mapping network of {bundle_dir} to {len(pool.all)} hops of EEG "
          f"({settings.steps} steps)", flush=True)
    trained_on = ckpt.get("steering_sample")
    if trained_on is None:
        print("the bundle keeps no sample of its training EEG: the mapping is held to "
              "Gaussian stand-ins of it, which may paint less like the artist", flush=True)
    base_spec = BundleSpec.load(resolve_bundle_paths(bundle_dir)[1])
    same_features = trained_on is not None and spec == base_spec.feature_spec
    settings = anchored(settings, same_features)
    mapping, figures = fit_mapping(generator.mapping, pool, settings, progress_printer(),
                                   trained_on)
    if same_features:
        pool = with_kept_steering(pool, trained_on)
    generator.mapping = mapping
    run_dir.mkdir(parents=True, exist_ok=True)
    config = adapt_run_config(bundle_dir, ckpt, spec, eeg, settings, run_dir,
                              base_spec.provenance)
    state = {"G": generator.state_dict(), "G_ema": generator.state_dict(),
             "G_kwargs": ckpt["G_kwargs"], "config": config, "kimg": float(ckpt.get("kimg", 0)),
             "steering_sample": steering_sample(pool),
             # the base's training figures stay in the lineage: they measured the old mapping
             "metrics": {f"mapping_fit_{k}": v for k, v in figures.items()}}
    for key in ("D", "D_kwargs"):
        if key in ckpt:
            state[key] = ckpt[key]
    (run_dir / "training_options.json").write_text(json.dumps(config, indent=2) + "\n")
    (run_dir / "stats.jsonl").write_text(json.dumps({"tick": 0, **figures}) + "\n")
    save_grid(paintings_of(generator, pool), 8, run_dir / "fakes-000000.png")
    path = run_dir / checkpoint_name(0)
    save_atomic(state, path)
    link_latest(path)
    return path


def anchored(settings: MappingFitSettings, same_features: bool) -> MappingFitSettings:
    """The fit's settings with the anchor on when the bundle's own EEG can be held, else off.

    On the bundle's features, the EEG it was fitted to keeps its paintings (``ADAPT_ANCHOR``,
    unless the settings give a weight) and no moves are probed; on other features that EEG
    cannot be fed to the new mapping, so nothing is anchored.
    """
    if not same_features:
        return replace(settings, anchor_weight=0.0)
    # the probes stand in for wearers a fit never saw; anchored, those keep their paintings
    return replace(settings, anchor_weight=settings.anchor_weight or ADAPT_ANCHOR,
                   probe_share=0.0)


def with_kept_steering(pool: FeaturePool, trained_on: torch.Tensor) -> FeaturePool:
    """``pool`` and, as much as it holds at most, the steering the bundle was fitted to.

    What the adapted checkpoint keeps as its steering sample: the next adaptation then holds
    both the earlier wearers and this one to their paintings, with the new recordings at
    least half of it.
    """
    keep = min(len(trained_on), len(pool.all))
    index = torch.linspace(0, len(trained_on) - 1, keep).round().long()
    kept = trained_on[index].numpy().astype("float32")
    return FeaturePool({**pool.per_file, "kept/steering_sample": kept}, pool.normalisation)


def paintings_of(generator, pool: FeaturePool, count: int = 32) -> torch.Tensor:
    """``count`` paintings for hops spread over the pool, in [-1, 1]."""
    noise = torch.randn(count, generator.noise_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return generator(pool.fixed_windows(count), noise)


def progress_printer(every: int = 250):
    """A ``progress(step, terms)`` that prints a line every ``every`` steps."""
    def progress(step: int, terms: dict) -> None:
        if step % every == 0:
            print(f"step {step}: distribution {terms['distribution']:.4f}, isometry "
                  f"{terms['isometry']:.4f}", flush=True)
    return progress


def continue_config(config: dict, bundle_dir: str | Path) -> dict:
    """A new run's ``config`` turned into the continuation of ``bundle_dir`` (full mode).

    The networks' shapes, the resolution and the feature spec are the bundle's (training only
    continues what fits); schedule, batch and losses stay the chosen configuration's.
    """
    ckpt = bundle_checkpoint(bundle_dir)
    g_kwargs = ckpt["G_kwargs"]
    resolution = int(g_kwargs["resolution"])
    cfg = CONFIGS[config["cfg"]]
    d_kwargs = ckpt.get("D_kwargs") or cfg.network_kwargs(
        resolution, config["batch"], g_kwargs["n_features"])[1]
    spec = BundleSpec.load(resolve_bundle_paths(bundle_dir)[1]).feature_spec
    lineage = [*ckpt.get("config", {}).get("lineage", []),
               lineage_entry(bundle_dir, ckpt, "all",
                             eeg={"eeg": config["eeg"], "people": config["people"]})]
    return {**config, "G_kwargs": g_kwargs, "D_kwargs": d_kwargs, "resolution": resolution,
            "crops": {**config["crops"], "resolution": resolution},
            "feature_spec": spec.to_dict(), "init_bundle": str(Path(bundle_dir).resolve()),
            "base_bundle": str(Path(bundle_dir).resolve()), "lineage": lineage,
            "run_dir": str(next_run_dir(Path(config["outdir"]), config["cfg"], resolution))}


