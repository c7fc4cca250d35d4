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

from installation.bundle import JSON_NAME, UPSCALER_NAME, BundleSpec
from models.snapshots import save_atomic

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

