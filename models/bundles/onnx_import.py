"""Rebuild a torch generator from a model bundle (``generator.onnx`` + ``generator.json``).

``python -m models.bundles.onnx_import BUNDLE --out FILE.pt`` writes a compact checkpoint that
``python -m models.export`` accepts, for a bundle whose training checkpoint is lost.

The architecture comes from ``generator.json`` (``provenance.network``); the weights come from
the graph's constants, found by the module scope the exporter gives every node (e.g.
``/generator/synthesis/blocks.1/conv0/conv/Conv``). What :func:`models.export.frozen_copy` and
constant folding did to them is undone here:

* equalised learning rate: Gemm and Conv weights hold ``weight * weight_gain`` (for the mapping
  layers ``weight_gain`` includes the lr multiplier) and Gemm biases ``bias * lr_mul``;
* :meth:`SynthesisNetwork.freeze` moved each layer's activation gain into the styles (or static
  weights) of the layers reading it; the gains are found by freezing a probe copy, so this
  follows whatever rule ``freeze`` applies, and checked against the frozen demodulation sums;
* constant noise: each layer's ``noise_strength * noise_const`` was folded into one map. The
  factors are separated by rebuilding the untrained generator from the seed in the provenance
  (``noise_const`` is a buffer drawn at construction and never trained) and checking that the
  folded map is a multiple of it; where it is not, the strength is set to the map's RMS (the
  map alone is then known only up to that factor and its sign);
* the feature standardisation buffers, the 4x4 constant, biases and textures are stored as-is.

``mapping.w_avg`` (the running mean of ``w``, used only for truncation) is not in the graph and
stays at zeros.
"""

from __future__ import annotations

import argparse
import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper

from installation.bundle import INPUT_FEATURES, INPUT_NOISE, BundleSpec, resolve_bundle_paths
from installation.errors import ModelError, run_cli
from models.bundles.generator_export import Uint8ImageGraph
from models.networks import (
    EqualLinear,
    Generator,
    MappingNetwork,
    ModulatedConv2d,
    StaticLayer,
    StaticToRGB,
    SynthesisBlock,
    SynthesisLayer,
    ToRGB,
)
from models.training.snapshots import save_atomic

NOT_IN_GRAPH = ("mapping.w_avg",)  # the graph never truncates, so it holds no trace of w_avg
GAIN_RTOL = 1e-3  # frozen demodulation sums against the ones implied by the recovered weights
NOISE_RTOL = 1e-4  # folded noise map against a multiple of the seeded one (float32 rounding)
MAX_LEVELS = 2  # the largest uint8 difference to the graph an import may paint
DEFAULT_SEED = 0  # train.py's default, for bundles whose provenance names no seed


@dataclass
class ImportedGenerator:
    """A generator rebuilt from a bundle, and what the rebuild could not recover exactly.

    Attributes
    ----------
    generator : Generator
        The rebuilt generator, in eval mode with constant noise (as the graph paints).
    kwargs : dict
        Its constructor arguments (integer channel keys, as train.py stores them).
    bundle : BundleSpec
        The bundle's description.
    onnx_path : Path
        The graph the weights came from.
    notes : list of str
        One sentence per thing recovered only approximately or not at all.
    """

    generator: Generator
    kwargs: dict
    bundle: BundleSpec
    onnx_path: Path
    notes: list[str] = field(default_factory=list)


class GraphConstants:
    """An ONNX graph's constant tensors and its nodes grouped by the module that traced them."""

    def __init__(self, model: onnx.ModelProto, path: Path):
        self.path = path
        self.values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        self.scopes: dict[str, list[onnx.NodeProto]] = {}
        for node in model.graph.node:  # topologically sorted, so aliases resolve in one pass
            if node.op_type == "Constant" and node.attribute[0].name == "value":
                self.values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
            elif node.op_type == "Identity" and node.input[0] in self.values:
                # the exporter keeps one copy of equal initializers and aliases the others
                self.values[node.output[0]] = self.values[node.input[0]]
            self.scopes.setdefault(module_scope(node.name), []).append(node)

    def nodes(self, scope: str, op_type: str) -> list[onnx.NodeProto]:
        """The nodes of type ``op_type`` traced directly inside module ``scope``."""
        return [n for n in self.scopes.get(scope, []) if n.op_type == op_type]

    def node(self, scope: str, op_type: str) -> onnx.NodeProto:
        """The one node of type ``op_type`` in ``scope``; ModelError if there is not exactly one."""
        found = self.nodes(scope, op_type)
        if len(found) != 1:
            raise self.mismatch(f"{len(found)} {op_type} nodes in {scope or 'the top level'}")
        return found[0]

    def tensor(self, name: str) -> torch.Tensor:
        """The constant ``name`` as a float64 tensor (exact for the float32 it holds)."""
        if name not in self.values:
            raise self.mismatch(f"{name} is computed, not a constant")
        return torch.from_numpy(np.array(self.values[name], dtype=np.float64))

    def constant_inputs(self, scope: str, op_type: str) -> list[torch.Tensor]:
        """The constant inputs of the ``op_type`` nodes in ``scope``, in graph order."""
        return [self.tensor(name) for node in self.nodes(scope, op_type)
                for name in node.input if name in self.values]

    def mismatch(self, what: str) -> ModelError:
        """The error for a graph that does not have the architecture of its generator.json."""
        return ModelError(f"{self.path} does not hold the generator its generator.json describes "
                          f"({what}); only graphs written by models.export can be imported.")


def module_scope(node_name: str) -> str:
    """``/generator/synthesis/blocks.0/conv1/Add_1`` -> ``synthesis.blocks.0.conv1``."""
    parts = node_name.split("/")
    if len(parts) < 3 or parts[0] or parts[1] != "generator":
        return ""
    return ".".join(parts[2:-1])


def load_graph(path: Path) -> GraphConstants:
    """Read ``generator.onnx``; ModelError if it is missing or unreadable."""
    if not path.is_file():
        raise ModelError(f"The graph {path} does not exist; pass a bundle folder made by "
                         "models.export, e.g. assets/default.")
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf raises several types for damaged files
        raise ModelError(f"The graph {path} cannot be read ({type(exc).__name__}); export the "
                         "bundle again or restore the file.") from None
    return GraphConstants(model, path)


def bundle_kwargs(bundle: BundleSpec, json_path: Path) -> dict:
    """The generator's constructor arguments from ``provenance.network`` (int channel keys)."""
    network = bundle.provenance.get("network")
    if not isinstance(network, dict) or "channels" not in network:
        raise ModelError(f"{json_path} does not describe the generator's architecture "
                         "(provenance.network); only bundles written by models.export can be "
                         "imported.")
    return {**network, "channels": {int(k): int(v) for k, v in network["channels"].items()}}


def provenance_seed(provenance: dict) -> int:
    """The seed the generator was constructed with: train.py's or models.bundles.default's."""
    training = provenance.get("training_config") or {}
    seed = training.get("seed", provenance.get("seed"))
    return DEFAULT_SEED if seed is None else int(seed)


def seeded_generator(kwargs: dict, seed: int) -> Generator:
    """The untrained generator as train.py builds it right after seeding the global RNG.

    Its ``noise_const`` buffers are the trained model's (they are drawn here and never trained).
    The global RNG state is restored afterwards.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Generator(**kwargs)


def absorbed_gains(generator: Generator) -> dict[str, float]:
    """The factor ``freeze`` multiplies into each reader's input weights, by module name.

    Freezes a copy whose style biases and static weights are ones and reads them back, so the
    import follows the rule of :meth:`SynthesisNetwork.freeze` itself.
    """
    probe = copy.deepcopy(generator).requires_grad_(False)
    readers = (ModulatedConv2d, StaticLayer, StaticToRGB)
    with torch.no_grad():
        for module in probe.modules():
            if isinstance(module, ModulatedConv2d):
                module.affine.bias.fill_(1.0)
            elif isinstance(module, readers):
                module.weight.fill_(1.0)
    probe.synthesis.freeze()
    gains = {}
    for name, module in probe.named_modules():
        if isinstance(module, ModulatedConv2d):
            gains[name] = float(module.affine.bias[0])
        elif isinstance(module, readers):
            gains[name] = float(module.weight.flatten()[0])
    return gains


def linear_weights(graph: GraphConstants, scope: str, layer: EqualLinear,
                   gain: float = 1.0) -> dict[str, torch.Tensor]:
    """Weight and bias of an :class:`EqualLinear` from its Gemm (``gain``: absorbed input gain)."""
    node = graph.node(scope, "Gemm")
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0 or attrs.get("transA", 0):
        raise graph.mismatch(f"the Gemm of {scope} scales or transposes its input")
    weight, bias = graph.tensor(node.input[1]), graph.tensor(node.input[2])
    if not attrs.get("transB", 0):
        weight = weight.t()
    return {"weight": weight / (layer.weight_gain * gain), "bias": bias / (layer.lr_mul * gain)}


def conv_weight(graph: GraphConstants, scope: str, weight_gain: float) -> torch.Tensor:
    """A convolution's stored weight: the Conv's weight over its run-time gain."""
    return graph.tensor(graph.node(scope, "Conv").input[1]) / weight_gain


def modulated_weights(graph: GraphConstants, scope: str, conv: ModulatedConv2d,
                      gain: float) -> dict[str, torch.Tensor]:
    """Affine and convolution weights of a :class:`ModulatedConv2d` (see :func:`check_gain`)."""
    affine = linear_weights(graph, f"{scope}.affine", conv.affine, gain)
    weights = {f"affine.{k}": v for k, v in affine.items()}
    weights["weight"] = conv_weight(graph, scope, conv.weight_gain)
    if conv.demodulate:
        check_gain(graph, scope, weights["weight"] * conv.weight_gain, gain)
    return weights


def check_gain(graph: GraphConstants, scope: str, weight: torch.Tensor, gain: float) -> None:
    """Check the frozen demodulation sums equal those of ``weight`` with ``gain`` absorbed.

    They are divided by ``gain²`` when the styles take the gain over, so this confirms the gain
    the recovered styles were divided by.
    """
    frozen = graph.tensor(graph.node(scope, "MatMul").input[1])
    expected = weight.square().sum(dim=(2, 3)).t() / gain**2
    if frozen.shape != expected.shape or not torch.allclose(frozen, expected, rtol=GAIN_RTOL,
                                                            atol=GAIN_RTOL * expected.abs().max()):
        raise graph.mismatch(f"the demodulation of {scope} does not fit an absorbed gain of "
                             f"{gain:.4g}")


def added_constants(graph: GraphConstants, scope: str) -> dict[tuple[int, ...], torch.Tensor]:
    """The constants a module's Add nodes add, by shape (noise [1, 1, R, R], bias [1, C, 1, 1])."""
    return {tuple(t.shape): t for t in graph.constant_inputs(scope, "Add")}


def pick(constants: dict, shape: tuple[int, ...], graph: GraphConstants,
         what: str) -> torch.Tensor:
    """The constant of ``shape`` among ``constants``; ModelError if absent."""
    if shape not in constants:
        raise graph.mismatch(f"no {list(shape)} constant for {what}")
    return constants[shape]


def layer_weights(graph: GraphConstants, scope: str, layer: SynthesisLayer,
                  gain: float) -> dict[str, torch.Tensor]:
    """A :class:`SynthesisLayer`'s weights; ``noise`` is the folded strength x constant map."""
    conv = modulated_weights(graph, f"{scope}.conv", layer.conv, gain)
    weights = {f"conv.{k}": v for k, v in conv.items()}
    added = added_constants(graph, scope)
    r, c = layer.resolution, layer.bias.shape[0]
    weights["noise"] = pick(added, (1, 1, r, r), graph, f"the noise of {scope}")
    weights["bias"] = pick(added, (1, c, 1, 1), graph, f"the bias of {scope}").flatten()
    return weights


def torgb_weights(graph: GraphConstants, scope: str, torgb: ToRGB,
                  gain: float) -> dict[str, torch.Tensor]:
    """A :class:`ToRGB`'s weights."""
    conv = modulated_weights(graph, f"{scope}.conv", torgb.conv, gain)
    bias = pick(added_constants(graph, scope), (1, 3, 1, 1), graph, f"the bias of {scope}")
    return {**{f"conv.{k}": v for k, v in conv.items()}, "bias": bias.flatten()}


def static_weights(graph: GraphConstants, scope: str, layer: StaticLayer | StaticToRGB,
                   gain: float) -> dict[str, torch.Tensor]:
    """A :class:`StaticLayer`'s or :class:`StaticToRGB`'s weights (``noise`` folded, as above)."""
    node = graph.node(scope, "Conv")
    weights = {"weight": graph.tensor(node.input[1]) / (layer.weight_gain * gain),
               "bias": graph.tensor(node.input[2])}
    added = added_constants(graph, scope)
    if isinstance(layer, StaticToRGB):
        weights["texture"] = pick(added, tuple(layer.texture.shape), graph,
                                  f"the texture of {scope}")
    elif layer.up:
        weights["noise"] = pick(added, tuple(layer.noise_const.shape), graph,
                                f"the noise of {scope}")
    return weights


def mapping_weights(graph: GraphConstants, mapping: MappingNetwork) -> dict[str, torch.Tensor]:
    """The feature standardisation: the Sub and Div applied to the features."""
    sub = graph.node("mapping", "Sub")
    divs = [n for n in graph.nodes("mapping", "Div") if n.input[0] == sub.output[0]]
    if len(divs) != 1:
        raise graph.mismatch("no division of the centred features")
    return {"feature_mean": graph.tensor(sub.input[1]),
            "feature_std": graph.tensor(divs[0].input[1])}


def module_weights(graph: GraphConstants, name: str, module: torch.nn.Module,
                   gains: dict[str, float]) -> dict[str, torch.Tensor]:
    """The weights of ``module`` held directly by it (not by its children), keyed by name."""
    if isinstance(module, MappingNetwork):
        return mapping_weights(graph, module)
    if isinstance(module, EqualLinear) and name.startswith("mapping."):
        return linear_weights(graph, name, module)
    if isinstance(module, SynthesisLayer):
        return layer_weights(graph, name, module, gains[f"{name}.conv"])
    if isinstance(module, ToRGB):
        return torgb_weights(graph, name, module, gains[f"{name}.conv"])
    if isinstance(module, StaticLayer | StaticToRGB):
        return static_weights(graph, name, module, gains[name])
    if isinstance(module, SynthesisBlock) and module.conv0 is None:
        return {"const": graph.tensor(graph.node(name, "Expand").input[0]).squeeze(0)}
    return {}  # containers, or children read by their parent (affine, conv)


def split_noise(product: torch.Tensor, seeded: torch.Tensor) -> tuple[float, torch.Tensor, bool]:
    """``noise_strength`` and ``noise_const`` whose product is the folded map ``product``.

    Returns the seeded map with its least-squares strength when the map is that multiple of it
    (``True``: recovered exactly); else the product's RMS and the product over it (``False``).
    """
    seeded = seeded.double()
    strength = float((product * seeded).sum() / seeded.square().sum())
    if (product - strength * seeded).abs().max() <= NOISE_RTOL * product.abs().max():
        return strength, seeded, True
    rms = float(product.square().mean().sqrt())
    return rms, product / rms, False


@torch.no_grad()
def load_weights(generator: Generator, weights: dict[str, torch.Tensor],
                 graph: GraphConstants) -> list[str]:
    """Copy ``weights`` into ``generator``, splitting folded noise maps; return the inexact ones."""
    state, weights = generator.state_dict(), dict(weights)
    estimated = []
    for key, value in list(weights.items()):
        if key.endswith(".noise"):
            prefix = key[: -len("noise")]
            strength, const, exact = split_noise(value, state[prefix + "noise_const"])
            weights[prefix + "noise_strength"] = torch.tensor(strength)
            weights[prefix + "noise_const"] = const
            del weights[key]
            if not exact:
                estimated.append(prefix[:-1])
    missing = set(state) - set(weights) - set(NOT_IN_GRAPH)
    if missing:
        raise graph.mismatch(f"nothing found for {', '.join(sorted(missing))}")
    for key, value in weights.items():
        if key not in state or value.shape != state[key].shape:
            raise graph.mismatch(f"{key} of shape {list(value.shape)} does not fit")
        state[key].copy_(value.to(state[key].dtype))
    return estimated


def import_bundle(bundle_dir: str | Path) -> ImportedGenerator:
    """Rebuild a bundle's generator with the weights recovered from its graph.

    Parameters
    ----------
    bundle_dir : str or Path
        A bundle folder (or its ``generator.onnx``) written by ``models.export``.

    Returns
    -------
    ImportedGenerator
        The generator, its constructor arguments and notes on what is only approximate.

    Raises
    ------
    ModelError
        When the bundle is unreadable, does not describe its architecture, or the graph does not
        hold that architecture.
    """
    onnx_path, json_path = resolve_bundle_paths(bundle_dir)
    bundle = BundleSpec.load(json_path)
    kwargs = bundle_kwargs(bundle, json_path)
    graph = load_graph(onnx_path)
    seed = provenance_seed(bundle.provenance)
    try:
        generator = seeded_generator(kwargs, seed)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{json_path} describes a generator this version cannot build "
                         f"({exc}); import it with the version that exported it.") from None
    gains = absorbed_gains(generator)
    weights = {}
    for name, module in generator.named_modules():
        for key, value in module_weights(graph, name, module, gains).items():
            weights[f"{name}.{key}" if name else key] = value
    estimated = load_weights(generator, weights, graph)
    generator.eval().requires_grad_(False)
    generator.synthesis.set_noise_mode("const")
    return ImportedGenerator(generator, kwargs, bundle, onnx_path,
                             import_notes(estimated, seed))


def import_notes(estimated: list[str], seed: int) -> list[str]:
    """The sentences on what the import could not recover exactly."""
    notes = ["mapping.w_avg (the running mean of w, used only for truncation_psi != 1) is not in "
             "the graph and was left at zeros."]
    if estimated:
        notes.append(f"The noise maps of {', '.join(estimated)} are not multiples of those drawn "
                     f"from seed {seed}: their noise_strength is the folded map's RMS and "
                     "noise_const the map over it (the painting is exact; the strength of "
                     "random noise is only approximate and its sign unknown).")
    return notes


def generator_from_onnx(bundle_dir: str | Path) -> Generator:
    """The generator of a bundle, rebuilt from its ONNX graph (see :func:`import_bundle`).

    Parameters
    ----------
    bundle_dir : str or Path
        A bundle folder written by ``models.export``.

    Returns
    -------
    Generator
        In eval mode with constant noise: it paints what the graph paints.
    """
    return import_bundle(bundle_dir).generator


def render_uint8(generator: Generator, features: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """What the exported graph would paint: uint8 NHWC, eval mode, constant noise."""
    g = copy.deepcopy(generator).cpu().eval()
    g.synthesis.set_noise_mode("const")
    with torch.no_grad():
        return Uint8ImageGraph(g)(torch.from_numpy(features), torch.from_numpy(noise)).numpy()


def random_inputs(generator: Generator, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features around the training statistics and standard normal noise, float32."""
    rng = np.random.default_rng(seed)
    mean = generator.mapping.feature_mean.numpy()
    std = generator.mapping.feature_std.numpy()
    features = mean + std * rng.standard_normal((count, generator.n_features))
    noise = rng.standard_normal((count, max(generator.noise_dim, 1)))
    return features.astype(np.float32), noise.astype(np.float32)


def onnx_session(path: Path, threads: int = 1) -> ort.InferenceSession:
    """A CPU ONNX Runtime session on ``path``."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def max_level_difference(generator: Generator, onnx_path: str | Path, count: int = 4,
                         seed: int = 0) -> int:
    """Largest uint8 difference between ``generator`` and the graph on random inputs.

    Parameters
    ----------
    generator : Generator
        The torch generator (rendered in eval mode with constant noise).
    onnx_path : str or Path
        A ``generator.onnx``.
    count, seed : int
        How many random (features, noise) pairs, and their seed.

    Returns
    -------
    int
        The maximum absolute difference in 0-255 levels over all pixels and channels.
    """
    features, noise = random_inputs(generator, count, seed)
    expected = onnx_session(Path(onnx_path)).run(
        None, {INPUT_FEATURES: features, INPUT_NOISE: noise})[0]
    painted = render_uint8(generator, features, noise)
    return int(np.abs(painted.astype(np.int16) - expected.astype(np.int16)).max())


def checkpoint_dict(imported: ImportedGenerator) -> dict:
    """The compact checkpoint ``models.export`` reads (generator only, not resumable)."""
    state = {k: v.detach().clone() for k, v in imported.generator.state_dict().items()}
    provenance = imported.bundle.provenance
    note = (f"rebuilt by models.bundles.onnx_import from {imported.onnx_path}: weights recovered "
            "from the graph; no discriminator or optimiser state, so it exports but cannot resume "
            "training. " + " ".join(imported.notes))
    return {
        "G": state,
        "G_ema": state,
        "G_kwargs": imported.kwargs,
        "config": {"feature_spec": imported.bundle.feature_spec.to_dict(), "note": note},
        "kimg": float(provenance.get("kimg", 0.0)),
        "metrics": dict(provenance.get("metrics", {})),
    }


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m models.bundles.onnx_import``."""
    parser = argparse.ArgumentParser(
        prog="python -m models.bundles.onnx_import",
        description="Rebuild a bundle's generator from generator.onnx and write a checkpoint "
                    "that models.export accepts.",
    )
    parser.add_argument("bundle", help="bundle folder written by models.export, e.g. "
                                       "assets/default")
    parser.add_argument("--out", required=True, help="checkpoint file to write (.pt)")
    parser.add_argument("--check", type=int, default=4, metavar="N",
                        help="random inputs on which the import must paint what the graph "
                             "paints (default: %(default)s)")
    return parser


def import_checkpoint(argv: list[str] | None = None) -> int:
    """Import a bundle and write its checkpoint; see ``--help``."""
    args = build_parser().parse_args(argv)
    imported = import_bundle(args.bundle)
    if args.check > 0:
        diff = max_level_difference(imported.generator, imported.onnx_path, args.check)
        if diff > MAX_LEVELS:
            raise ModelError(f"The rebuilt generator paints up to {diff} levels away from "
                             f"{imported.onnx_path}; the graph was not exported from this "
                             "version's generator, so no checkpoint was written.")
        print(f"the rebuilt generator paints within {diff} of 255 levels of the graph "
              f"on {args.check} random inputs")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_atomic(checkpoint_dict(imported), out)
    for note in imported.notes:
        print(f"note: {note}")
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors become one line and exit code 2."""
    return run_cli(import_checkpoint, argv)


if __name__ == "__main__":
    sys.exit(main())
