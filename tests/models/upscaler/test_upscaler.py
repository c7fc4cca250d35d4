"""The second-stage painter: network, export, bundles with and without it, training end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from installation.engine.generator_runtime import GeneratorRuntime
from models.training.dataset import CropSettings, draw_crop_boxes
from models.upscaler.data import aligned_windows, downscale
from models.upscaler.export import export_upscaler, export_upscaler_onnx
from models.upscaler.network import Upscaler
from models.upscaler.trainer import UpscaleTrainer
from tests.helpers import assert_one_line_error, run_module
from tests.installation.tiny_bundle import write_tiny_bundle


def checkerboard_energy(image: torch.Tensor, scale: int) -> float:
    """Spread of the mean of each sub-pixel phase: 0 when no phase differs from the others."""
    phases = torch.stack([image[..., i::scale, j::scale].mean()
                          for i in range(scale) for j in range(scale)])
    return float(phases.std())


def test_upscaler_paints_no_lattice_whatever_its_weights():
    torch.manual_seed(0)
    upscaler = Upscaler(channels=16, blocks=2, scale=4, fine_channels=8)
    flat = torch.full((1, 3, 32, 32), 0.3)
    with torch.no_grad():
        assert checkerboard_energy(upscaler(flat)[..., 32:-32, 32:-32], 4) < 1e-6
        # Resize-convolutions give every output pixel the same kernels, so even weights a
        # GAN might push anywhere cannot paint a periodic pattern on a flat painting.
        for conv in upscaler.modules():
            if isinstance(conv, torch.nn.Conv2d):
                conv.weight.normal_(0, 0.3)
                conv.bias.normal_(0, 0.3)
        out = upscaler(flat)[..., 32:-32, 32:-32]
    assert out.std() > 1e-3  # the weights do paint something
    assert checkerboard_energy(out, 4) < 1e-5


def test_upscaler_keeps_the_painting_it_enlarges():
    torch.manual_seed(0)
    low = F.interpolate(torch.rand(2, 3, 4, 4) * 2 - 1, size=16, mode="bicubic")
    with torch.no_grad():
        out = Upscaler(channels=16, blocks=2, scale=4, fine_channels=8)(low)
    assert out.shape == (2, 3, 64, 64)
    assert float((downscale(out, 4) - low).abs().mean()) < 0.05


def test_upscaler_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match="painting batch"):
        Upscaler(channels=4, blocks=0)(torch.zeros(1, 4, 8, 8))
    with pytest.raises(ValueError, match="power of two"):
        Upscaler(scale=3)


def test_real_crops_never_enlarge_the_painting():
    settings = CropSettings(resolution=512, crops_per_image=200, min_fraction=0.5, seed=1,
                            min_side=512)
    boxes = draw_crop_boxes([(700, 600), (512, 900)], settings)
    assert boxes[:, 3].min() >= 512
    unfloored = draw_crop_boxes([(700, 600)], CropSettings(512, 200, 0.5, seed=1))
    assert unfloored[:, 3].min() < 512


def test_windows_stay_aligned():
    gen = torch.Generator().manual_seed(0)
    high = torch.rand(3, 3, 64, 64)
    low = downscale(high, 4)
    hi, lo = aligned_windows(high, low, 32, 4, gen)
    assert hi.shape == (3, 3, 32, 32) and lo.shape == (3, 3, 8, 8)
    again = F.interpolate(hi, size=(8, 8), mode="bicubic", antialias=True, align_corners=False)
    interior = (again - lo)[..., 2:-2, 2:-2].abs().max()
    assert float(interior) < 0.05


def test_training_steps_lower_reconstruction_error():
    torch.manual_seed(0)
    trainer = UpscaleTrainer(TINY, {"channels": [8, 16]},
                             {"lr": 2e-3, "adv_weight": 0.05, "consistency_weight": 1.0,
                              "warmup_kimg": 0.0, "ema_kimg": 0.01})
    yy, xx = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    high = torch.sin(xx / 1.5 + yy / 2.5).expand(4, 3, 64, 64).contiguous() * 0.8
    low = downscale(high, 4)
    first = trainer.step(high, low, low[:2])["loss_rec"]
    for _ in range(60):
        last = trainer.step(high, low, low[:2])["loss_rec"]
    assert last < 0.8 * first
    assert trainer.kimg == pytest.approx(61 * 6 / 1000)


TINY = {"channels": 8, "blocks": 1, "scale": 4, "fine_channels": 4}


def _tiny_state(seed: int = 0) -> dict:
    torch.manual_seed(seed)
    trainer = UpscaleTrainer(TINY, {"channels": [8]},
                             {"lr": 1e-3, "adv_weight": 0.05, "consistency_weight": 1.0,
                              "warmup_kimg": 0.0, "ema_kimg": 0.01})
    with torch.no_grad():  # a trained-looking upscaler: its detail is no longer small
        trainer.U_ema.tail.weight.normal_(0, 0.2)
    return trainer.state_dict(optimisers=False)


def test_exported_upscaler_equals_torch(tmp_path: Path):
    state = _tiny_state()
    upscaler = Upscaler(**TINY)
    upscaler.load_state_dict(state["U_ema"])
    path = export_upscaler_onnx(upscaler, 16, tmp_path / "upscaler.onnx")
    painting = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (onnx_out,) = session.run(["image"], {"painting": painting})
    x = torch.from_numpy(painting).permute(0, 3, 1, 2).float() / 127.5 - 1
    with torch.no_grad():
        expected = ((upscaler(x).clamp(-1, 1) + 1) * 127.5).round().permute(0, 2, 3, 1)
    assert onnx_out.shape == (2, 64, 64, 3) and onnx_out.dtype == np.uint8
    assert np.abs(onnx_out.astype(int) - expected.numpy().astype(int)).max() <= 1
    assert onnx_out.std() > 10  # not a blank picture


def _bundle_with_upscaler(tmp_path: Path) -> Path:
    bundle = write_tiny_bundle(tmp_path / "bundle", size=16)
    export_upscaler(_tiny_state(), bundle, {"trained": False, "note": "test"})
    return bundle


def test_bundle_with_upscaler_paints_four_times_larger(tmp_path: Path):
    bundle = _bundle_with_upscaler(tmp_path)
    doc = json.loads((bundle / "generator.json").read_text())
    assert doc["chain"] == ["generator.onnx", "upscaler.onnx"]
    assert doc["output_resolution"] == 64 and doc["upscaler"]["input_resolution"] == 16
    assert (bundle / "upscaler.pt").is_file()
    kept = torch.load(bundle / "upscaler.pt", weights_only=True)
    assert {"U", "U_ema", "D"} <= set(kept) and "opt_U" not in kept
    chained = GeneratorRuntime.load(bundle, "cpu", 1)
    native = GeneratorRuntime.load(bundle, "cpu", 1, native=True)
    steering = np.linspace(-1, 1, chained.feature_spec.n_features, dtype=np.float32)
    big, small = chained.generate(steering), native.generate(steering)
    assert big.shape == (64, 64, 3) and chained.resolution == 64
    assert small.shape == (16, 16, 3) and native.resolution == 16
    assert np.abs(big[::4, ::4].astype(int) - small.astype(int)).mean() < 40


def test_bundle_without_upscaler_still_plays(tmp_path: Path):
    bundle = write_tiny_bundle(tmp_path / "plain", size=16)
    runtime = GeneratorRuntime.load(bundle, "cpu", 1)
    assert runtime.resolution == 16
    assert runtime.generate(np.zeros(runtime.feature_spec.n_features)).shape == (16, 16, 3)


def test_damaged_upscaler_is_one_sentence(tmp_path: Path):
    bundle = _bundle_with_upscaler(tmp_path)
    (bundle / "upscaler.onnx").write_bytes(b"not an onnx file")
    result = run_module("installation", "--model", bundle, "--headless", "--frames-out",
                        tmp_path / "frames", "--duration", "1")
    assert_one_line_error(result, "upscaler.onnx", "cannot be loaded")
    native = run_module("installation", "--model", bundle, "--headless", "--frames-out",
                        tmp_path / "frames", "--duration", "1", "--native")
    assert native.returncode == 0, native.stderr[-2000:]


def test_missing_upscaler_is_one_sentence(tmp_path: Path):
    bundle = _bundle_with_upscaler(tmp_path)
    (bundle / "upscaler.onnx").unlink()
    result = run_module("installation", "--model", bundle, "--headless", "--frames-out",
                        tmp_path / "frames", "--duration", "1")
    assert_one_line_error(result, "upscaler.onnx", "missing", "--native")


def test_train_a_tiny_upscaler_end_to_end(tmp_path: Path, few_paintings: Path):
    base = write_tiny_bundle(tmp_path / "bundle", size=32)
    result = run_module("models.upscale", "--images", few_paintings, "--base", base,
                        "--outdir", tmp_path / "runs", "--cfg", "tiny", "--kimg", "0.01",
                        "--metric-images", "4", "--crops-per-image", "4", "--snap", "1",
                        timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = (tmp_path / "runs").iterdir()
    assert (run / "fakes-000001.png").is_file() and (run / "timelapse.gif").is_file()
    stats = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert stats[-1]["upscaled_swd_fine"] > 0 and stats[-1]["lanczos_swd_fine"] > 0
    resumed = run_module("models.upscale", "--resume", run, "--kimg", "0.02", timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    stats = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert [s["tick"] for s in stats] == [1, 2] and stats[-1]["kimg"] >= 0.02
    exported = run_module("models.export", run, "--out", base)
    assert exported.returncode == 0, exported.stderr[-3000:]
    runtime = GeneratorRuntime.load(base, "cpu", 1)
    assert runtime.generate(np.zeros(runtime.feature_spec.n_features)).shape == (128, 128, 3)
    # Fine-tuning starts a new run from the bundle's compact checkpoint.
    tuned = run_module("models.upscale", "--images", few_paintings, "--base", base,
                       "--outdir", tmp_path / "runs", "--cfg", "tiny", "--kimg", "0.01",
                       "--metric-images", "4", "--crops-per-image", "4", "--init", base,
                       timeout=300)
    assert tuned.returncode == 0, tuned.stderr[-3000:]
    options = json.loads(next((tmp_path / "runs").glob("00001-*/training_options.json"))
                         .read_text())
    assert options["init"] == str(base.resolve()) and options["init_kimg"] >= 0.02


def test_upscale_command_bad_input_is_one_sentence(tmp_path: Path, few_paintings: Path):
    assert_one_line_error(run_module("models.upscale", "--outdir", tmp_path), "--images")
    assert_one_line_error(run_module("models.upscale", "--images", tmp_path / "nope",
                                     "--outdir", tmp_path), "does not exist")
    assert_one_line_error(run_module("models.upscale", "--resume", tmp_path / "nope"),
                          "does not exist")
    assert_one_line_error(run_module("models.upscale", "--images", few_paintings, "--outdir",
                                     tmp_path, "--base", write_tiny_bundle(tmp_path / "b"),
                                     "--patch", "30"), "multiple of the scale")
    bundle = write_tiny_bundle(tmp_path / "plain")
    assert_one_line_error(run_module("models.export", bundle / "generator.json", "--out",
                                     bundle), "checkpoint")
    compact = _bundle_with_upscaler(tmp_path) / "upscaler.pt"
    assert_one_line_error(run_module("models.upscale", "--resume", compact), "no run")


def _smooth_picture(size: int = 128, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(2, 3, size // 8, size // 8, generator=gen) * 2 - 1
    return F.interpolate(coarse, size=size, mode="bicubic", align_corners=False).clamp(-1, 1)


def _planted_lattice(picture: torch.Tensor, amplitude: float = 0.05) -> torch.Tensor:
    dots = torch.zeros(4, 4)
    dots[1, 2] = 1.0
    tiled = dots.repeat(picture.shape[-2] // 4, picture.shape[-1] // 4)
    return picture + amplitude * tiled


def test_lattice_figure_sees_a_planted_lattice(paintings_dir: Path):
    from models.upscaler.data import real_crops
    from models.upscaler.lattice import lattice_figure

    crops = real_crops(paintings_dir, 128, crops_per_image=1, seed=0)
    reals = crops.batch(range(8)).float() / 127.5 - 1
    assert lattice_figure(reals, 4) < 5
    assert lattice_figure(_planted_lattice(reals), 4) > 20


def test_lattice_amplitude_is_in_levels_and_blind_to_rounding(paintings_dir: Path):
    from models.upscaler.lattice import lattice_amplitude

    reals = real_crops_for_lattice(paintings_dir)
    assert lattice_amplitude(reals, 4) < 0.2
    # a dot of 0.01 (1.3 levels) at one of the 16 sub-pixel positions: 1.3 / 4 levels of spread
    assert 0.25 < lattice_amplitude(_planted_lattice(reals, 0.01), 4) < 0.4
    smooth = torch.nn.functional.interpolate(reals[..., ::4, ::4], scale_factor=4,
                                             mode="bilinear", align_corners=False)
    rounded = torch.round((smooth + 1) * 127.5) / 127.5 - 1
    assert lattice_amplitude(rounded, 4) < 0.1  # rounding a smooth enlargement is no lattice


def real_crops_for_lattice(paintings_dir: Path) -> torch.Tensor:
    from models.upscaler.data import real_crops

    crops = real_crops(paintings_dir, 256, crops_per_image=1, seed=0)
    return crops.batch(range(8)).float() / 127.5 - 1


def test_lattice_penalty_removes_a_lattice():
    from models.upscaler.lattice import lattice_figure, lattice_penalty

    clean = _smooth_picture()
    assert float(lattice_penalty(clean, 4)) < 0.5
    picture = _planted_lattice(clean).requires_grad_(True)
    before = lattice_figure(picture.detach(), 4)
    optimiser = torch.optim.Adam([picture], lr=0.01)
    for _ in range(30):
        optimiser.zero_grad()
        lattice_penalty(picture, 4).backward()
        optimiser.step()
    assert lattice_figure(picture.detach(), 4) < before / 5


def test_discriminator_sees_a_random_phase():
    from models.upscaler.trainer import random_phase

    torch.manual_seed(0)
    picture = torch.arange(16.0).reshape(1, 1, 4, 4).repeat(1, 3, 4, 4)
    starts = {float(random_phase(picture, 4)[0, 0, 0, 0]) for _ in range(40)}
    assert random_phase(picture, 4).shape == (1, 3, 12, 12)
    assert len(starts) > 4  # several phases of the 4-pixel grid
