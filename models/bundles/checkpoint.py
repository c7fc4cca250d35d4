"""The compact checkpoint a bundle carries beside its ONNX graph, and what a new bundle inherits.

``generator.pt`` holds the generator, its EMA and (when training had one) the discriminator,
with their arguments, the run's configuration, kimg, metrics and a sample of the steering it
was trained on, but no optimiser state: enough to continue training, adapt the mapping
(``train.py --resume BUNDLE --adapt mapping``) or distil, on any machine, at about half the
size of a training snapshot.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from installation.bundle import JSON_NAME, UPSCALER_NAME, BundleSpec
from installation.errors import ModelError
from models.networks import Generator
from models.training.snapshots import latest_checkpoint, save_atomic

GENERATOR_CHECKPOINT = "generator.pt"
UPSCALER_CHECKPOINT = "upscaler.pt"
KEPT = ("G", "G_ema", "D", "G_kwargs", "D_kwargs", "config", "kimg", "metrics",
        "steering_sample")


def compact_generator_state(ckpt: dict) -> dict:
    """The parts of a train.py checkpoint a bundle keeps (no optimiser or augmentation state)."""
    return {key: ckpt[key] for key in KEPT if key in ckpt}


def save_generator_checkpoint(ckpt: dict, bundle_dir: str | Path) -> Path:
    """Write ``generator.pt`` into the bundle (atomically) and return its path."""
    path = Path(bundle_dir) / GENERATOR_CHECKPOINT
    save_atomic(compact_generator_state(ckpt), path)
    return path


def inherited_credits(base_bundle: str | Path | None) -> list[str]:
    """The credits (licences, citations) of the bundle a checkpoint was adapted from.

    An adapted bundle paints from the same paintings as its base, so what their licence asks
    for still applies; an empty list when there is no base or it names none.
    """
    path = Path(base_bundle) / JSON_NAME if base_bundle else None
    if path is None or not path.is_file():
        return []
    try:
        credits = json.loads(path.read_text()).get("provenance", {}).get("credits", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [str(credit) for credit in credits] if isinstance(credits, list) else []


def inherit_upscaler(base_bundle: str | Path | None, bundle_dir: str | Path) -> bool:
    """Give a freshly exported bundle the upscaler of the bundle it was adapted from.

    Only when the base has one that takes this generator's size and the new bundle has none;
    the mapping network's adaptation leaves the paintings, and so the upscaler's input, as
    they were. Returns True when it was copied.
    """
    if not base_bundle or not (Path(base_bundle) / JSON_NAME).is_file():
        return False
    base, new = Path(base_bundle), Path(bundle_dir)
    base_spec, new_spec = BundleSpec.load(base / JSON_NAME), BundleSpec.load(new / JSON_NAME)
    upscaler = base_spec.upscaler
    if (upscaler is None or new_spec.upscaler is not None
            or upscaler.input_resolution != new_spec.resolution):
        return False
    shutil.copyfile(base / upscaler.onnx, new / UPSCALER_NAME)
    if (base / UPSCALER_CHECKPOINT).is_file():
        shutil.copyfile(base / UPSCALER_CHECKPOINT, new / UPSCALER_CHECKPOINT)
    new_spec.upscaler = upscaler
    new_spec.save(new)
    return True


def read_checkpoint(path: str | Path) -> dict:
    """Read any checkpoint of this project (or a run folder's latest); ModelError if unreadable."""
    path = Path(path)
    if path.is_dir():
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


def is_bundle_dir(path: str | Path) -> bool:
    """Whether ``path`` is a model bundle (it holds ``generator.json``), not a run or snapshot."""
    return (Path(path) / JSON_NAME).is_file()


def bundle_checkpoint(bundle_dir: str | Path) -> dict:
    """The compact checkpoint a bundle carries; one sentence when it has none.

    Raises
    ------
    ModelError
        When the bundle holds no ``generator.pt`` or an unreadable one.
    """
    path = Path(bundle_dir) / GENERATOR_CHECKPOINT
    if not path.is_file():
        raise ModelError(f"The bundle {bundle_dir} carries no {GENERATOR_CHECKPOINT} (its compact "
                         "checkpoint), so it cannot be continued; export it again with "
                         "`python -m models.export RUN --out BUNDLE`, or continue its run folder.")
    ckpt = read_checkpoint(path)
    if not {"G_ema", "G_kwargs"} <= set(ckpt):
        raise ModelError(f"{path} holds no generator; export the bundle again.")
    return ckpt


def load_bundle_weights(trainer, bundle_dir: str | Path) -> bool:
    """Start ``trainer`` from the bundle's networks; True when it had a discriminator too."""
    ckpt = bundle_checkpoint(bundle_dir)
    trainer.G.load_state_dict(ckpt.get("G", ckpt["G_ema"]))
    trainer.G_ema.load_state_dict(ckpt["G_ema"])
    if "D" in ckpt:
        trainer.D.load_state_dict(ckpt["D"])
    return "D" in ckpt
