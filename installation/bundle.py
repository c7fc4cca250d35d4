"""The model bundle's description (``generator.json``).

Written by ``models.export`` and read by the show, it makes the bundle self-describing: the
feature spec the generator was trained on, the ONNX graph's inputs and outputs, the resolution,
and where the model came from.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from installation.eeg.feature_spec import FeatureSpec
from installation.errors import ConfigError, ModelError, checked_number

BUNDLE_FORMAT = "eeg-painting-bundle/1"
ONNX_NAME = "generator.onnx"
JSON_NAME = "generator.json"
UPSCALER_NAME = "upscaler.onnx"

# The ONNX graph's interface. Inputs: the steering vector (float32 [batch, n_features]) and a
# latent noise vector (float32 [batch, noise_dim]); output: an image ready to show
# (uint8 [batch, height, width, 3]), the conversion done inside the graph.
INPUT_FEATURES = "features"
INPUT_NOISE = "noise"
OUTPUT_IMAGE = "image"
# The upscaler's interface: the generator's painting in (uint8 [batch, r, r, 3]), the same
# painting ``scale`` times larger out (uint8 [batch, scale*r, scale*r, 3]).
INPUT_PAINTING = "painting"
# The documented ranges of generator.json's numbers (docs/show.md).
MAX_NOISE_DIM = 4096
MIN_RESOLUTION, MAX_RESOLUTION = 4, 8192
MAX_SCALE = 16
_FIX = "export the model again with `python -m models.export`"


@dataclass
class UpscalerSpec:
    """The second stage of a bundle's chain, as ``generator.json`` describes it.

    Attributes
    ----------
    scale : int
        Output side over input side.
    input_resolution : int
        Side of the painting it takes (the generator's resolution).
    provenance : dict
        Training data, kimg, metrics and commands.
    onnx : str
        File name of its graph inside the bundle.
    """

    scale: int
    input_resolution: int
    provenance: dict = field(default_factory=dict)
    onnx: str = UPSCALER_NAME

    @property
    def output_resolution(self) -> int:
        """Side of the painting it makes."""
        return self.scale * self.input_resolution

    def to_json(self) -> dict:
        """The ``upscaler`` entry of the JSON document."""
        r, out = self.input_resolution, self.output_resolution
        return {
            "onnx": self.onnx,
            "scale": self.scale,
            "inputs": {INPUT_PAINTING: {"dtype": "uint8", "shape": ["batch", r, r, 3],
                                        "layout": "NHWC"}},
            "outputs": {OUTPUT_IMAGE: {"dtype": "uint8", "shape": ["batch", out, out, 3],
                                       "layout": "NHWC"}},
            "input_resolution": r,
            "output_resolution": out,
            "provenance": self.provenance,
        }

    @classmethod
    def from_json(cls, doc: dict) -> UpscalerSpec:
        """Inverse of :meth:`to_json`; KeyError, TypeError or ValueError when garbled.

        The scale must be a whole number from 1 to 16 and the output side at most 8192 px
        (a ModelError sentence otherwise); the graph's file name is checked by
        :meth:`BundleSpec.load`, which knows the bundle's folder.
        """
        spec = cls(scale=checked_number(doc["scale"], "The upscaler's scale", 1, MAX_SCALE,
                                        ModelError, _FIX, integer=True),
                   input_resolution=_resolution(doc["input_resolution"], "input_resolution"),
                   provenance=dict(doc.get("provenance", {})),
                   onnx=str(doc.get("onnx", UPSCALER_NAME)))
        _resolution(spec.output_resolution, "output_resolution")
        return spec


@dataclass
class BundleSpec:
    """Contents of ``generator.json``.

    Attributes
    ----------
    feature_spec : FeatureSpec
        How the features fed to the graph are computed.
    noise_dim : int
        Length of the noise input (0 when the graph takes none).
    resolution : int
        Output image height and width in pixels.
    provenance : dict
        Training data, kimg, metric values, the command that made it, whether it is trained.
    upscaler : UpscalerSpec or None
        The second stage, when the bundle has one (``upscaler.onnx``).
    """

    feature_spec: FeatureSpec
    noise_dim: int
    resolution: int
    provenance: dict = field(default_factory=dict)
    upscaler: UpscalerSpec | None = None

    @property
    def output_resolution(self) -> int:
        """Side of the painting the whole chain makes."""
        return self.resolution if self.upscaler is None else self.upscaler.output_resolution

    @property
    def chain(self) -> list[str]:
        """The graphs a painting passes through, in order."""
        return [ONNX_NAME] + ([self.upscaler.onnx] if self.upscaler is not None else [])

    def to_json(self) -> dict:
        """The JSON document."""
        n = self.feature_spec.n_features
        doc = {
            "format": BUNDLE_FORMAT,
            "onnx": ONNX_NAME,
            "feature_spec": self.feature_spec.to_dict(),
            "inputs": {
                INPUT_FEATURES: {"dtype": "float32", "shape": ["batch", n]},
                INPUT_NOISE: {"dtype": "float32", "shape": ["batch", self.noise_dim]},
            },
            "outputs": {
                OUTPUT_IMAGE: {
                    "dtype": "uint8",
                    "shape": ["batch", self.resolution, self.resolution, 3],
                    "layout": "NHWC",
                }
            },
            "resolution": self.resolution,
            "noise_dim": self.noise_dim,
            "provenance": self.provenance,
            "chain": self.chain,
            "output_resolution": self.output_resolution,
        }
        if self.upscaler is not None:
            doc["upscaler"] = self.upscaler.to_json()
        return doc

    def save(self, directory: str | Path) -> Path:
        """Write ``generator.json`` into ``directory`` and return its path."""
        path = Path(directory) / JSON_NAME
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> BundleSpec:
        """Read ``generator.json``; raise ModelError with one sentence if it is unusable."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text())
        except FileNotFoundError:
            raise ModelError(f"The model description {path} is missing; export the model again "
                             "with `python -m models.export`.") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"The model description {path} is not valid JSON ({exc}); export "
                             "the model again.") from None
        if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT:
            raise ModelError(f"{path} is not an {BUNDLE_FORMAT} model description; export the "
                             "model with this version of `python -m models.export`.")
        try:
            spec = cls(
                feature_spec=FeatureSpec.from_dict(doc["feature_spec"]),
                noise_dim=checked_number(doc["noise_dim"], "The noise_dim", 0, MAX_NOISE_DIM,
                                         ModelError, _FIX, integer=True),
                resolution=_resolution(doc["resolution"], "resolution"),
                provenance=dict(doc.get("provenance", {})),
                upscaler=(UpscalerSpec.from_json(doc["upscaler"]) if doc.get("upscaler")
                          else None),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"The model description {path} lacks or garbles {exc}; export the "
                             "model again.") from None
        except (ConfigError, ModelError) as exc:  # a number out of its range: say which file
            raise ModelError(f"The model description {path} is unusable: "
                             f"{str(exc)[0].lower()}{str(exc)[1:]}") from None
        if spec.upscaler is not None:
            inside_folder(path.parent, spec.upscaler.onnx)
        return spec


def _resolution(value, name: str) -> int:
    """A side in pixels read from generator.json: a whole number from 4 to 8192."""
    return checked_number(value, f"The {name}", MIN_RESOLUTION, MAX_RESOLUTION, ModelError,
                          _FIX, integer=True)


def inside_folder(folder: Path, name: str) -> Path:
    """``folder / name``, refused (ModelError) when the name leads out of the bundle's folder.

    A bundle is one folder: a ``generator.json`` naming ``../elsewhere.onnx`` or an absolute
    path would load a graph nobody exported with it.
    """
    # judged by the name alone: a link the owner placed in the folder stays theirs to make
    parts = Path(os.path.normpath(name)).parts if name else ()
    if not parts or Path(name).is_absolute() or parts[0] in (os.curdir, os.pardir):
        raise ModelError(f"generator.json in {folder} names the graph {name!r}, which is not a "
                         "file inside the bundle's folder; export the model again.")
    return Path(folder) / name


def resolve_bundle_paths(path: str | Path) -> tuple[Path, Path]:
    """Return (onnx_path, json_path) for a bundle folder or its ``generator.onnx`` path."""
    p = Path(path)
    if p.is_dir():
        return p / ONNX_NAME, p / JSON_NAME
    if p.suffix == ".onnx":
        return p, p.with_name(JSON_NAME)
    if p.suffix == ".json":
        return p.with_name(ONNX_NAME), p
    raise ModelError(f"The model {p} is neither a bundle folder nor a generator.onnx file; "
                     "pass --model assets/default or a folder made by `python -m models.export`.")
