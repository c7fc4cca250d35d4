"""``train.py --resume BUNDLE --adapt discriminator``: a critic for a bundle that kept none."""

from __future__ import annotations

import json

import numpy as np
import torch

from installation.engine.generator_runtime import GeneratorRuntime
from installation.errors import run_cli
from models.bundles.default import build_untrained_bundle
from models.export import main as export
from models.training.cli import main as train
from tests.helpers import assert_user_error


def paint(bundle, seed: int = 0) -> np.ndarray:
    """A few paintings of the bundle's ONNX graph for fixed inputs."""
    runtime = GeneratorRuntime.load(bundle, provider="cpu", native=True)
    rng = np.random.default_rng(seed)
    n_features = runtime.feature_spec.n_features

    def draw(size):
        return rng.standard_normal(size).astype(np.float32)

    return np.stack([runtime.generate(draw(n_features), draw(runtime.noise_dim))
                     for _ in range(3)])


def test_the_warmed_critic_ships_and_the_paintings_stay(tmp_path, few_paintings, eyes_open_edf,
                                                        capsys):
    bundle = build_untrained_bundle(tmp_path / "tiny", cfg_name="tiny")
    meta = json.loads((bundle / "generator.json").read_text())
    meta["provenance"]["credits"] = ["Paintings: someone, public domain"]
    (bundle / "generator.json").write_text(json.dumps(meta))
    runs = tmp_path / "runs"
    assert train(["--resume", str(bundle), "--adapt", "discriminator", "--images",
                  str(few_paintings), "--outdir", str(runs), "--adapt-steps", "30",
                  "--crops-per-image", "4", "--threads", "1"]) == 0
    (run_dir,) = runs.iterdir()
    warmed = tmp_path / "warmed"
    assert export([str(run_dir), "--out", str(warmed)]) == 0

    ckpt = torch.load(warmed / "generator.pt", weights_only=True)
    start = torch.load(bundle / "generator.pt", weights_only=True)
    assert "D" not in start and {"D", "D_kwargs"} <= set(ckpt)
    assert all(torch.equal(ckpt["G_ema"][k], v) for k, v in start["G_ema"].items())
    np.testing.assert_array_equal(paint(warmed), paint(bundle))
    provenance = json.loads((warmed / "generator.json").read_text())["provenance"]
    assert provenance["lineage"][-1]["adapted"] == "discriminator"
    # the same paintings, so the licence they ask for is kept without --credit
    assert provenance["credits"] == ["Paintings: someone, public domain"]
    figures = provenance["metrics"]
    # it learnt to tell the artist's crops from this generator's paintings
    assert (figures["discriminator_warmup_accuracy"]
            > figures["discriminator_warmup_accuracy_before"])
    assert (figures["discriminator_warmup_real_logit"]
            > figures["discriminator_warmup_painting_logit"])

    # a full run from the warmed bundle starts from its critic, not a fresh one
    capsys.readouterr()
    again = tmp_path / "again"
    assert train(["--resume", str(warmed), "--images", str(few_paintings), "--eeg",
                  str(eyes_open_edf), "--outdir", str(again), "--cfg", "tiny", "--batch", "8",
                  "--tick", "0.008", "--kimg", "0.008", "--snap", "1", "--crops-per-image", "4",
                  "--metric-images", "8", "--threads", "1"]) == 0
    assert "a fresh one starts" not in capsys.readouterr().out
    (continued,) = again.iterdir()
    after = torch.load(continued / "network-snapshot-latest.pt", weights_only=True)
    weight = next(k for k in ckpt["D"] if k.endswith("weight"))
    moved = (after["D"][weight] - ckpt["D"][weight]).abs().mean()
    assert moved < 0.05 * ckpt["D"][weight].abs().mean()


def test_it_needs_the_paintings(tmp_path, capsys):
    bundle = build_untrained_bundle(tmp_path / "tiny", cfg_name="tiny")
    code = run_cli(train, ["--resume", str(bundle), "--adapt", "discriminator", "--outdir",
                           str(tmp_path / "runs")])
    assert_user_error(code, capsys.readouterr().err, "--images DIR")
    code = run_cli(train, ["--resume", str(bundle), "--adapt", "discriminator", "--images",
                           str(tmp_path / "nowhere"), "--outdir", str(tmp_path / "runs")])
    assert_user_error(code, capsys.readouterr().err, "does not exist")
    assert not (tmp_path / "runs").exists()

