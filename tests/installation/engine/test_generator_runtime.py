from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from installation.bundle import BundleSpec
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.sources.base import StreamInfo
from installation.engine.generator_runtime import GeneratorRuntime, choose_providers
from installation.errors import ConfigError, ModelError
from tests.installation.tiny_bundle import write_tiny_bundle

DEFAULT_BUNDLE = Path(__file__).resolve().parents[3] / "assets" / "default"
HIGH_BANDS = FeatureSpec(bands=(("alpha", 8.0, 13.0), ("high_gamma", 60.0, 100.0)))
EDF_LIKE = StreamInfo(("C3", "C4", "O1", "O2"), 160.0, "a 160 Hz recording")


@pytest.fixture
def tiny(tmp_path) -> Path:
    return write_tiny_bundle(tmp_path / "tiny")


def test_generates_an_image_that_follows_steering_and_noise(tiny):
    runtime = GeneratorRuntime.load(tiny, provider="cpu", threads=1)
    steering = np.zeros(25, np.float32)
    noise = np.zeros(8, np.float32)
    base = runtime.generate(steering, noise)
    assert base.shape == (32, 32, 3) and base.dtype == np.uint8
    assert not np.array_equal(runtime.generate(steering + 1, noise), base)
    assert not np.array_equal(runtime.generate(steering, noise + 1), base)
    assert np.array_equal(runtime.generate(steering, noise), base)  # deterministic
    assert runtime.provider_name == "cpu"


def test_auto_prefers_the_best_provider_present():
    providers = choose_providers("auto")
    assert providers[-1] == "CPUExecutionProvider"
    order = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert providers == [p for p in order if p in providers]


def test_an_absent_provider_is_a_config_error():
    if "TensorrtExecutionProvider" in choose_providers("auto"):
        pytest.skip("TensorRT is present on this machine")
    with pytest.raises(ConfigError, match="tensorrt provider is not in this ONNX Runtime"):
        choose_providers("tensorrt")


def test_missing_model_is_one_sentence(tmp_path):
    with pytest.raises(ModelError, match="is missing"):
        GeneratorRuntime.load(tmp_path)


def test_corrupt_onnx_is_one_sentence(tiny):
    (tiny / "generator.onnx").write_bytes(b"this is not a protobuf" * 10)
    with pytest.raises(ModelError, match="cannot be loaded") as info:
        GeneratorRuntime.load(tiny)
    assert "\n" not in str(info.value)


def test_json_that_disagrees_with_the_graph_is_refused(tiny):
    BundleSpec(FeatureSpec(), noise_dim=16, resolution=32).save(tiny)  # the graph takes 8
    with pytest.raises(ModelError, match="input 'noise' of width 16"):
        GeneratorRuntime.load(tiny)
    BundleSpec(FeatureSpec(), noise_dim=8, resolution=64).save(tiny)  # the graph makes 32
    with pytest.raises(ModelError, match="output 'image'"):
        GeneratorRuntime.load(tiny)


def test_check_fits_refuses_bands_above_nyquist(tmp_path):
    runtime = GeneratorRuntime.load(write_tiny_bundle(tmp_path / "high", HIGH_BANDS))
    with pytest.raises(ModelError, match="does not fit the source a 160 Hz recording"):
        runtime.check_fits(EDF_LIKE)
    runtime.check_fits(StreamInfo(EDF_LIKE.channel_names, 250.0, "a 250 Hz headset"))


def test_default_bundle_paints_something():
    if not (DEFAULT_BUNDLE / "generator.onnx").is_file():
        pytest.skip("the default bundle assets/default has not been built")
    runtime = GeneratorRuntime.load(DEFAULT_BUNDLE)
    image = runtime.warm_up(np.ones(runtime.noise_dim, np.float32))
    assert image.ndim == 3 and image.shape[2] == 3
    assert image.std() > 10
