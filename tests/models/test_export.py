from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from installation.bundle import BundleSpec
from installation.eeg.feature_spec import FeatureSpec
from models.bundles.default import build_untrained_bundle, untrained_generator
from models.bundles.generator_export import export_generator, frozen_copy
from models.networks import Generator

CHANNELS = {4: 32, 8: 32, 16: 16, 32: 8}


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module", params=[None, 16], ids=["modulated", "static-from-16"])
def exported(tmp_path_factory, request):
    torch.manual_seed(1)
    g = Generator(25, 16, 32, CHANNELS, w_dim=32, mapping_layers=2, static_from=request.param)
    with torch.no_grad():  # non-trivial noise, biases and textures, so all of them must export
        for name, p in g.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.3)
            elif name.endswith(("bias", "texture")) and "affine" not in name:
                p.normal_(0.0, 0.1)
    out = tmp_path_factory.mktemp("bundle")
    export_generator(g, FeatureSpec(), out, {"trained": False}, float_graph=True)
    return g, out


def test_float_graph_matches_torch(exported):
    g, out = exported
    rng = np.random.default_rng(0)
    features = rng.standard_normal((8, 25)).astype(np.float32)
    noise = rng.standard_normal((8, 16)).astype(np.float32)
    onnx_img = session(out / "generator_float.onnx").run(
        None, {"features": features, "noise": noise})[0]
    g = copy.deepcopy(g).eval()  # not frozen: freezing must not change the painting
    g.synthesis.set_noise_mode("const")
    with torch.no_grad():
        torch_img = g(torch.from_numpy(features), torch.from_numpy(noise)).numpy()
    assert onnx_img.shape == (8, 3, 32, 32)
    assert np.abs(onnx_img - torch_img).max() < 1e-3


def test_uint8_graph_has_dynamic_batch_and_nhwc_output(exported):
    _, out = exported
    sess = session(out / "generator.onnx")
    (output,) = sess.get_outputs()
    assert (output.name, output.shape, output.type) == ("image", ["batch", 32, 32, 3],
                                                        "tensor(uint8)")
    for batch in (1, 3):
        img = sess.run(None, {"features": np.zeros((batch, 25), np.float32),
                              "noise": np.ones((batch, 16), np.float32)})[0]
        assert img.dtype == np.uint8 and img.shape == (batch, 32, 32, 3)


def test_graph_is_plain_fp32_opset17_without_random_ops(exported):
    _, out = exported
    model = onnx.load(str(out / "generator.onnx"))
    ops = {node.op_type for node in model.graph.node}
    assert not ops & {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike"}
    assert all(imp.version == 17 for imp in model.opset_import if imp.domain in ("", "ai.onnx"))
    assert all(init.data_type == onnx.TensorProto.FLOAT for init in model.graph.initializer
               if init.data_type in (onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE,
                                     onnx.TensorProto.FLOAT))


def test_json_describes_the_graph(exported):
    _, out = exported
    spec = BundleSpec.load(out / "generator.json")
    assert (spec.noise_dim, spec.resolution) == (16, 32)
    assert spec.feature_spec == FeatureSpec()
    assert "conditioning" in spec.provenance


def test_export_refuses_a_spec_of_another_length(tmp_path):
    from installation.errors import ModelError

    g = Generator(10, 8, 8, {4: 8}, w_dim=8, mapping_layers=1)
    with pytest.raises(ModelError, match="features"):
        export_generator(g, FeatureSpec(), tmp_path, {})


@pytest.fixture(scope="module")
def untrained_bundle(tmp_path_factory) -> Path:
    return build_untrained_bundle(tmp_path_factory.mktemp("untrained"), cfg_name="128")


def test_untrained_bundle_is_small_and_moves_with_the_features(untrained_bundle):
    onnx_path = untrained_bundle / "generator.onnx"
    spec = BundleSpec.load(untrained_bundle / "generator.json")
    assert spec.provenance["trained"] is False
    assert onnx_path.stat().st_size < 20 * 1024**2
    rng = np.random.default_rng(3)
    features = rng.standard_normal((2, spec.feature_spec.n_features)).astype(np.float32)
    noise = np.repeat(rng.standard_normal((1, spec.noise_dim)).astype(np.float32), 2, axis=0)
    img = session(onnx_path).run(None, {"features": features, "noise": noise})[0]
    assert img.shape == (2, spec.resolution, spec.resolution, 3)
    assert img.reshape(2, -1, 3).std(axis=1).mean() > 20  # varied, not flat grey
    assert np.abs(img[0].astype(int) - img[1]).mean() > 5  # the EEG visibly moves it


def test_untrained_bundle_is_the_seeded_generator(untrained_bundle):
    spec = BundleSpec.load(untrained_bundle / "generator.json")
    g = frozen_copy(untrained_generator(spec.provenance["cfg"], spec.provenance["seed"]))
    features = torch.randn(1, spec.feature_spec.n_features)
    noise = torch.randn(1, spec.noise_dim)
    with torch.no_grad():
        ref = ((g(features, noise).clamp(-1, 1) + 1) * 127.5).round().permute(0, 2, 3, 1)
    img = session(untrained_bundle / "generator.onnx").run(
        None, {"features": features.numpy(), "noise": noise.numpy()})[0]
    assert np.abs(img.astype(float) - ref.numpy()).max() <= 1


@pytest.mark.parametrize("content", [None, b"garbage, not a checkpoint", "foreign"])
def test_export_cli_refuses_bad_checkpoints_in_one_sentence(tmp_path, capsys, content):
    from installation.errors import run_cli
    from models.export import main

    path = tmp_path / "network-snapshot-000001.pt"
    if content == "foreign":
        torch.save({"weights": torch.zeros(3)}, path)
    elif content is not None:
        path.write_bytes(content)
    code = run_cli(main, [str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and len(err.splitlines()) == 1
    assert not (tmp_path / "out" / "generator.onnx").exists()


def test_frozen_copy_paints_what_the_generator_paints():
    g = untrained_generator("tiny", 5).eval()
    g.synthesis.set_noise_mode("const")
    features, noise = torch.randn(3, g.n_features), torch.randn(3, g.noise_dim)
    with torch.no_grad():
        assert torch.allclose(frozen_copy(g)(features, noise), g(features, noise), atol=1e-5)
