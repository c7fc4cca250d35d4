"""OpenVINO as the model chain's runtime: real OpenVINO on the CPU against real ONNX Runtime."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from installation.bundle import BundleSpec, UpscalerSpec
from installation.config import resolve_options
from installation.eeg.feature_spec import FeatureSpec
from installation.engine.generator_runtime import GeneratorRuntime
from installation.engine.provider_choice import (
    bf16_flags,
    choose_runtime,
    cpu_flags,
    openvino_devices,
)
from installation.errors import ConfigError, ModelError
from tests.helpers import assert_one_line_error, run_module
from tests.installation.tiny_bundle import write_tiny_bundle

pytest.importorskip("openvino", reason="OpenVINO is not installed (pip install openvino)")

DEFAULT_BUNDLE = Path(__file__).resolve().parents[3] / "assets" / "default"
# Largest difference from ONNX Runtime's painting, in levels of 255: f32 on both sides differs
# only in the order of additions (benchmarks.runtime_compare measures 256 inputs).
F32_TOLERANCE = 3


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path, monkeypatch) -> Path:
    """OpenVINO's compiled models go to a folder of the test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "eeg-painting" / "openvino"


def _default_bundle() -> Path:
    if not (DEFAULT_BUNDLE / "upscaler.onnx").is_file():
        pytest.skip("the default bundle assets/default has not been built")
    return DEFAULT_BUNDLE


def _paintings(runtime: GeneratorRuntime, count: int = 6) -> np.ndarray:
    """Paintings of fixed, seeded steering vectors and noise."""
    rng = np.random.default_rng(7)
    n = runtime.feature_spec.n_features
    return np.stack([runtime.generate(rng.normal(0, 1, n).astype(np.float32),
                                      rng.normal(0, 1, runtime.noise_dim).astype(np.float32))
                     for _ in range(count)])


def test_openvino_cpu_paints_the_default_bundle_as_onnx_runtime_does():
    bundle = _default_bundle()
    reference = GeneratorRuntime.load(bundle, provider="cpu", threads=1)
    runtime = GeneratorRuntime.load(bundle, provider="openvino-cpu", threads=1)
    assert runtime.provider_name == "openvino-cpu"
    assert "OpenVINO CPU" in runtime.provider_line
    theirs, ours = _paintings(reference), _paintings(runtime)
    assert ours.shape == theirs.shape == (6, 512, 512, 3) and ours.dtype == np.uint8
    assert ours.std() > 10 and not np.array_equal(ours[0], ours[1])  # real, varied paintings
    difference = np.abs(ours.astype(np.int16) - theirs.astype(np.int16))
    assert difference.max() <= F32_TOLERANCE
    assert difference.mean() < 0.05  # almost every pixel equal, not merely close


def test_compiled_models_are_cached_for_the_next_start(tmp_path, cache_in_tmp):
    bundle = write_tiny_bundle(tmp_path / "tiny")
    first = GeneratorRuntime.load(bundle, provider="openvino-cpu")
    cached = sorted(p.name for p in cache_in_tmp.iterdir())
    assert cached  # the compiled graph was written
    second = GeneratorRuntime.load(bundle, provider="openvino-cpu")
    assert sorted(p.name for p in cache_in_tmp.iterdir()) == cached  # read, not compiled anew
    steering, noise = np.full(25, 0.5, np.float32), np.ones(8, np.float32)
    assert np.array_equal(first.generate(steering, noise), second.generate(steering, noise))


def test_an_unwritable_cache_still_paints(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    runtime = GeneratorRuntime.load(write_tiny_bundle(tmp_path / "tiny"), provider="openvino-cpu")
    assert runtime.warm_up().shape == (32, 32, 3)


def test_json_that_disagrees_with_the_graph_is_refused_under_openvino(tmp_path):
    tiny = write_tiny_bundle(tmp_path / "tiny")
    BundleSpec(FeatureSpec(), noise_dim=16, resolution=32).save(tiny)  # the graph takes 8
    with pytest.raises(ModelError, match="input 'noise' of width 16"):
        GeneratorRuntime.load(tiny, provider="openvino-cpu")
    BundleSpec(FeatureSpec(), noise_dim=8, resolution=64).save(tiny)  # the graph makes 32
    with pytest.raises(ModelError, match="output 'image'"):
        GeneratorRuntime.load(tiny, provider="openvino-cpu")


def test_an_upscaler_of_the_wrong_size_is_refused_under_openvino(tmp_path):
    tiny = write_tiny_bundle(tmp_path / "tiny")  # paints 32 px
    shutil.copy(_default_bundle() / "upscaler.onnx", tiny / "upscaler.onnx")  # takes 128 px
    BundleSpec(FeatureSpec(), 8, 32, upscaler=UpscalerSpec(4, 32)).save(tiny)
    with pytest.raises(ModelError, match="does not take uint8 32 px paintings to 128 px"):
        GeneratorRuntime.load(tiny, provider="openvino-cpu")
    assert GeneratorRuntime.load(tiny, provider="openvino-cpu", native=True).resolution == 32


def test_a_corrupt_graph_is_one_sentence_under_openvino(tmp_path):
    tiny = write_tiny_bundle(tmp_path / "tiny")
    (tiny / "generator.onnx").write_bytes(b"this is not a protobuf" * 10)
    with pytest.raises(ModelError, match="cannot be loaded") as info:
        GeneratorRuntime.load(tiny, provider="openvino-cpu")
    assert "\n" not in str(info.value)


def test_auto_takes_openvino_on_the_cpu_only_with_bf16():
    choice = choose_runtime("auto")
    if choice.name in ("tensorrt", "cuda", "openvino-gpu"):
        pytest.skip(f"this machine has a GPU ({choice.name})")
    expected = "openvino-cpu-bf16" if bf16_flags() else "cpu"
    assert choice.name == expected and choice.reason
    assert choice.bf16 == bool(bf16_flags())


def test_forcing_an_absent_openvino_gpu_exits_2_with_one_sentence(tmp_path):
    if any(d.startswith("GPU") for d in openvino_devices()):
        pytest.skip("OpenVINO sees a GPU here")
    result = run_module("installation", "--provider", "openvino-gpu", "--headless",
                        "--duration", "1", "--frames-out", str(tmp_path / "out"), timeout=120)
    assert_one_line_error(result, "OpenVINO sees no GPU", "intel-opencl-icd")


def test_forcing_bf16_on_a_cpu_without_it_is_refused():
    if bf16_flags():
        pytest.skip("this CPU has bf16")
    with pytest.raises(ConfigError, match="no bf16 instructions"):
        choose_runtime("openvino-cpu-bf16")


def test_without_openvino_a_forced_openvino_is_refused_and_auto_says_why(monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)  # Python's own "not installed"
    with pytest.raises(ConfigError, match="needs OpenVINO, which is not installed"):
        choose_runtime("openvino-cpu")
    choice = choose_runtime("auto")
    if choice.name == "cpu":
        assert "OpenVINO is not installed" in choice.reason


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f amx_bf16 amx_tile\n")
    flags = cpu_flags(cpuinfo)
    assert {"avx2", "avx512f", "amx_bf16"} <= flags and bf16_flags(flags) == ("amx_bf16",)
    assert cpu_flags(tmp_path / "absent") == frozenset()


def test_the_config_takes_every_documented_provider_and_refuses_others(tmp_path):
    config = tmp_path / "show.toml"
    for name in ("openvino-cpu", "openvino-cpu-bf16", "openvino-gpu", "cpu", "auto"):
        config.write_text(f'provider = "{name}"\n')
        assert resolve_options({}, str(config)).provider == name
    config.write_text('provider = "openvino"\n')
    with pytest.raises(ConfigError, match="Unknown provider 'openvino'; use auto, tensorrt"):
        resolve_options({}, str(config))
