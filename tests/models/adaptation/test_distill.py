"""Distilling a generator into static fine blocks (``python -m models.adaptation.distill``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from installation.bundle import BundleSpec
from installation.engine.generator_runtime import GeneratorRuntime
from installation.errors import run_cli
from models.adaptation.distill import (
    Distiller,
    student_from_teacher,
    student_kwargs,
    widen,
)
from models.adaptation.distill import main as distill_main
from models.bundles.checkpoint import load_checkpoint
from models.export import main as export_main
from models.networks import Generator, StaticLayer
from models.training.cli import main as train_main
from models.training.feature_pool import FeaturePool
from tests.conftest import shared_file
from tests.models.conftest import EEG_CLOSED, EEG_OPEN
from tests.models.training.test_training import TINY

TEACHER = dict(n_features=6, noise_dim=8, resolution=32, channels={4: 32, 8: 16, 16: 8, 32: 8},
               w_dim=16, mapping_layers=1)


def teacher_without_fine_styles(static_from: int) -> Generator:
    """A teacher whose layers from ``static_from`` have constant styles, noise only in conv0."""
    torch.manual_seed(3)
    g = Generator(**TEACHER).eval()
    with torch.no_grad():
        for block in g.synthesis.blocks:
            if block.resolution < static_from:
                continue
            for layer in (block.conv0, block.conv1, block.torgb):
                layer.conv.affine.weight.zero_()
                layer.conv.affine.bias.uniform_(0.5, 1.5)
            for layer in (block.conv0, block.conv1):
                layer.bias.normal_()
            block.conv0.noise_strength.fill_(0.3)  # the student keeps the upsampling layer's
            block.conv1.noise_strength.zero_()
    g.synthesis.set_noise_mode("const")
    return g


def test_widening_by_duplication_keeps_the_function():
    torch.manual_seed(0)
    first, second = torch.randn(4, 3, 3, 3), torch.randn(2, 4, 3, 3)
    bias = torch.randn(4)
    index = torch.tensor([0, 1, 2, 3, 1, 1, 3])
    wide_first, wide_bias = widen(first, bias, None, index)
    wide_second, _ = widen(second, None, index, None)
    x = torch.randn(1, 3, 8, 8)

    def two_layers(w1, b1, w2):
        hidden = torch.nn.functional.leaky_relu(torch.nn.functional.conv2d(x, w1, b1, padding=1),
                                                0.2)
        return torch.nn.functional.conv2d(hidden, w2, padding=1)

    assert wide_first.shape == (7, 3, 3, 3) and wide_second.shape == (2, 7, 3, 3)
    assert torch.allclose(two_layers(wide_first, wide_bias, wide_second),
                          two_layers(first, bias, second), atol=1e-5)


@pytest.mark.parametrize("widths", [{}, {16: 16, 32: 24}])
def test_student_equals_a_teacher_whose_fine_styles_are_constant(widths):
    teacher = teacher_without_fine_styles(16)
    kwargs = student_kwargs(TEACHER, 16, widths)
    features, noise = torch.randn(64, 6), torch.randn(64, 8)
    with torch.no_grad():
        student = student_from_teacher(teacher, kwargs, teacher.mapping(features, noise),
                                       jitter=0.0)
        expected, got = teacher(features[:8], noise[:8]), student(features[:8], noise[:8])
    assert isinstance(student.synthesis.blocks[-1].conv1, StaticLayer)
    assert student.synthesis.blocks[-1].conv1.bias.numel() == widths.get(32, 8)
    assert torch.allclose(got, expected, atol=1e-4)


def test_distillation_steps_bring_the_student_closer():
    teacher = teacher_without_fine_styles(16).requires_grad_(False)
    pool = FeaturePool({"x": np.random.default_rng(0).standard_normal((256, 6)).astype("f4")})
    gen = torch.Generator().manual_seed(0)
    features, noise = pool.sample(32, gen), torch.randn(32, 8, generator=gen)
    with torch.no_grad():
        w = teacher.mapping(features, noise)
    # a student knocked well off its start, which it can reach exactly
    student = student_from_teacher(teacher, student_kwargs(TEACHER, 16, {32: 16}), w, jitter=0.5)
    distiller = Distiller(teacher, student, 16, pool, lr=0.01, seed=0)
    before = distiller.rms_to_teacher(features, noise)
    for _ in range(100):
        distiller.step(8)
    assert distiller.rms_to_teacher(features, noise) < 0.5 * before


@pytest.mark.parametrize("args, fragment", [
    (["--static-from", "4"], "static_from"),
    (["--static-from", "24"], "static_from"),
    (["--width", "8=64"], "no static resolution"),
    (["--width", "32=4"], "narrower"),
    (["--width", "32x8"], "RESOLUTION=CHANNELS"),
])
def test_bad_options_are_one_sentence(tmp_path, capsys, args, fragment):
    teacher = Generator(**TEACHER)
    ckpt = tmp_path / "teacher.pt"
    torch.save({"G_ema": teacher.state_dict(), "G_kwargs": TEACHER, "config": {}}, ckpt)
    code = run_cli(distill_main, [str(ckpt), "--out", str(tmp_path / "out"),
                                  "--static-from", "16", *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and fragment in err
    assert not (tmp_path / "out" / "distilled.pt").exists()


def test_missing_teacher_is_one_sentence(tmp_path, capsys):
    code = run_cli(distill_main, [str(tmp_path / "nope.pt"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "does not exist" in err


def test_distilled_run_exports_and_plays(few_paintings, tmp_path):
    eegs = [str(shared_file(EEG_OPEN)), str(shared_file(EEG_CLOSED))]
    assert run_cli(train_main, ["--images", str(few_paintings), "--eeg", eegs[0], "--eeg",
                                eegs[1], "--outdir", str(tmp_path / "runs"), "--kimg", "0.016",
                                *TINY]) == 0
    run_dir = tmp_path / "runs" / "00000-tiny-32px"
    out = tmp_path / "distilled"
    assert run_cli(distill_main, [str(run_dir), "--out", str(out), "--static-from", "16",
                                  "--width", "32=32", "--kimg", "0.016", "--batch", "8",
                                  "--threads", "1"]) == 0
    ckpt = load_checkpoint(out / "distilled.pt")
    assert ckpt["G_kwargs"]["static_from"] == 16 and ckpt["G_kwargs"]["channels"][32] == 32
    distillation = ckpt["config"]["distillation"]
    assert distillation["rms_to_teacher"] >= 0
    assert np.isfinite(ckpt["metrics"]["swd_mean"])  # the student's own, not the teacher's
    assert ckpt["metrics"]["swd_mean"] != distillation["teacher_metrics"]["swd_mean"]
    assert (out / "teacher-vs-student.png").is_file()

    again = ["--static-from", "16", "--kimg", "0.008", "--batch", "8", "--threads", "1",
             "--student", str(out / "distilled.pt")]
    assert run_cli(distill_main, [str(run_dir), "--out", str(tmp_path / "more"),
                                  "--width", "32=32", *again]) == 0
    assert run_cli(distill_main, [str(run_dir), "--out", str(tmp_path / "other"), *again,
                                  "--static-from", "32"]) == 2

    assert run_cli(export_main, [str(out / "distilled.pt"), "--out", str(tmp_path / "b")]) == 0
    spec = BundleSpec.load(tmp_path / "b" / "generator.json")
    assert spec.provenance["network"]["static_from"] == 16
    assert spec.provenance["distillation"]["static_from"] == 16
    runtime = GeneratorRuntime.load(tmp_path / "b")
    closed, opened = (runtime.generate(np.full(25, v, np.float32)) for v in (-1.0, 1.0))
    assert closed.shape == (32, 32, 3) and closed.dtype == np.uint8
    assert np.abs(closed.astype(int) - opened.astype(int)).mean() > 1.0  # still steered
