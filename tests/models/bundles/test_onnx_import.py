from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from installation.eeg.feature_spec import FeatureSpec
from installation.errors import ModelError, run_cli
from models.bundles.default import generator_kwargs, untrained_generator
from models.bundles.generator_export import export_generator, network_description
from models.bundles.onnx_import import (
    MAX_LEVELS,
    NOT_IN_GRAPH,
    generator_from_onnx,
    import_bundle,
    max_level_difference,
    onnx_session,
    random_inputs,
)
from models.networks import Generator

REPO = Path(__file__).resolve().parents[3]
SEED = 11  # the generator's construction seed, written into the provenance as train.py does


def tiny_generator(static_from: int | None) -> tuple[Generator, dict]:
    """The tiny config's seeded generator with every weight made to matter."""
    kwargs = generator_kwargs("tiny", FeatureSpec())
    if static_from is None:
        g = untrained_generator("tiny", SEED)
    else:
        kwargs["static_from"] = static_from
        torch.manual_seed(SEED)
        g = Generator(**kwargs)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():  # non-trivial noise, biases, textures and feature statistics
        for name, p in g.named_parameters():
            if name.endswith("noise_strength"):
                p.copy_(0.1 + 0.3 * torch.rand([], generator=gen))
            elif name.endswith(("bias", "texture")) and "affine" not in name:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
        n = g.n_features
        g.mapping.set_feature_stats(torch.randn(n, generator=gen),
                                    0.5 + torch.rand(n, generator=gen))
    return g.eval(), kwargs


def export_tiny(g: Generator, kwargs: dict, out: Path) -> Path:
    provenance = {"trained": True, "kimg": 1.5, "metrics": {"swd_mean": 99.0},
                  "training_config": {"cfg": "tiny", "seed": SEED},
                  "network": network_description(kwargs)}
    export_generator(g, FeatureSpec(), out, provenance)
    return out


@pytest.fixture(scope="module", params=[None, 32], ids=["modulated", "static-from-32"])
def bundle(tmp_path_factory, request) -> tuple[Generator, Path]:
    g, kwargs = tiny_generator(request.param)
    return g, export_tiny(g, kwargs, tmp_path_factory.mktemp("bundle"))


def onnx_paints(path: Path, features: np.ndarray, noise: np.ndarray) -> np.ndarray:
    return onnx_session(path).run(None, {"features": features, "noise": noise})[0].astype(int)


def test_import_paints_what_the_graph_paints(bundle):
    _, out = bundle
    assert max_level_difference(generator_from_onnx(out), out / "generator.onnx", 4) <= 1


def test_import_recovers_the_state_dict(bundle):
    g, out = bundle
    original, imported = g.state_dict(), generator_from_onnx(out).state_dict()
    assert set(imported) == set(original)
    for key, value in original.items():
        if key in NOT_IN_GRAPH:
            assert not imported[key].any(), key
        else:
            assert torch.allclose(imported[key], value, rtol=1e-5, atol=1e-7), key


def test_reexported_import_paints_the_same(bundle, tmp_path):
    g, out = bundle
    imported = import_bundle(out)
    export_generator(imported.generator, imported.bundle.feature_spec, tmp_path,
                     imported.bundle.provenance)
    features, noise = random_inputs(g, 4, seed=2)
    first = onnx_paints(out / "generator.onnx", features, noise)
    again = onnx_paints(tmp_path / "generator.onnx", features, noise)
    assert np.abs(first - again).max() <= 1


def test_without_the_seed_noise_is_recovered_as_a_product(bundle, tmp_path):
    g, out = bundle
    shutil.copytree(out, tmp_path, dirs_exist_ok=True)
    doc = json.loads((tmp_path / "generator.json").read_text())
    doc["provenance"]["training_config"]["seed"] = SEED + 1  # another seed's noise maps
    (tmp_path / "generator.json").write_text(json.dumps(doc))
    imported = import_bundle(tmp_path)
    assert any("noise_strength is the folded map's RMS" in note for note in imported.notes)
    original, state = g.state_dict(), imported.generator.state_dict()
    for key in (k for k in original if k.endswith("noise_const")):
        prefix = key[: -len("noise_const")]
        assert torch.allclose(state[key] * state[prefix + "noise_strength"],
                              original[key] * original[prefix + "noise_strength"], atol=1e-6)
        assert state[key].square().mean().sqrt() == pytest.approx(1.0, rel=1e-4)
    assert max_level_difference(imported.generator, tmp_path / "generator.onnx", 2) <= 1


def test_cli_checkpoint_exports_to_the_same_paintings(bundle, tmp_path, capsys):
    from models.bundles.onnx_import import main
    from models.export import main as export_main

    g, out = bundle
    pt = tmp_path / "imported.pt"
    assert run_cli(main, [str(out), "--out", str(pt), "--check", "2"]) == 0
    assert "w_avg" in capsys.readouterr().out
    ckpt = torch.load(pt, map_location="cpu", weights_only=True)
    assert ckpt["G_kwargs"] == import_bundle(out).kwargs
    assert ckpt["kimg"] == 1.5 and ckpt["metrics"] == {"swd_mean": 99.0}
    assert FeatureSpec.from_dict(ckpt["config"]["feature_spec"]) == FeatureSpec()
    assert "note" in ckpt["config"]
    for key in ckpt["G"]:
        assert torch.equal(ckpt["G"][key], ckpt["G_ema"][key])
    assert export_main([str(pt), "--out", str(tmp_path / "again")]) == 0
    features, noise = random_inputs(g, 2, seed=3)
    diff = (onnx_paints(out / "generator.onnx", features, noise)
            - onnx_paints(tmp_path / "again" / "generator.onnx", features, noise))
    assert np.abs(diff).max() <= 1


def test_a_graph_of_another_architecture_is_refused(bundle, tmp_path):
    _, out = bundle
    shutil.copytree(out, tmp_path, dirs_exist_ok=True)
    doc = json.loads((tmp_path / "generator.json").read_text())
    doc["provenance"]["network"]["w_dim"] = 32
    (tmp_path / "generator.json").write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="does not hold the generator"):
        import_bundle(tmp_path)
    del doc["provenance"]["network"]
    (tmp_path / "generator.json").write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="provenance.network"):
        import_bundle(tmp_path)


@pytest.mark.skipif(not (REPO / "assets" / "default" / "generator.onnx").is_file(),
                    reason="no default bundle")
def test_default_bundle_import_paints_what_its_graph_paints():
    bundle = REPO / "assets" / "default"
    generator = generator_from_onnx(bundle)
    assert max_level_difference(generator, bundle / "generator.onnx", 4) <= MAX_LEVELS
