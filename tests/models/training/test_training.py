from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from installation.bundle import BundleSpec
from installation.errors import run_cli
from models.training.cli import main
from models.training.snapshots import checkpoints
from tests.conftest import REPO, shared_file
from tests.models.conftest import EEG_CLOSED, EEG_OPEN
from tests.models.evaluation.test_inception import save_detector

TINY = ["--cfg", "tiny", "--resolution", "32", "--batch", "8", "--tick", "0.016",
        "--crops-per-image", "4", "--metric-images", "8", "--threads", "1"]


def stats(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]


def test_tiny_run_on_paintings_writes_snapshots_and_exports(few_paintings, tmp_path, capsys):
    eegs = [str(shared_file(EEG_OPEN)), str(shared_file(EEG_CLOSED))]
    detector = save_detector(tmp_path / "detector.pt")
    code = run_cli(main, ["--images", str(few_paintings), "--eeg", eegs[0], "--eeg", eegs[1],
                          "--outdir", str(tmp_path / "runs"), "--kimg", "0.032", "--snap", "1",
                          "--inception", str(detector), *TINY])
    assert code == 0
    run_dir = tmp_path / "runs" / "00000-tiny-32px"
    records = stats(run_dir)
    assert [r["tick"] for r in records] == [1, 2]
    assert records[-1]["kimg"] == pytest.approx(0.032)
    assert {"loss_G", "loss_D", "augment_p", "sec_per_kimg", "swd_mean", "critic_accuracy",
            "critic_gap", "eeg_sensitivity", "fid", "kid"} <= set(records[-1])
    assert 0.0 <= records[-1]["critic_accuracy"] <= 1.0
    assert records[-1]["eeg_sensitivity_pair"] == "eyes_closed_vs_open"
    for name in ("fakes-000002-0.032kimg.png", "nearest-000002-0.032kimg.png", "timelapse.gif",
                 "network-snapshot-latest.pt", "training_options.json"):
        assert (run_dir / name).is_file(), name
    assert any(p.name.startswith("events.out.tfevents") for p in run_dir.iterdir())
    ckpt = torch.load(checkpoints(run_dir)[-1], weights_only=True)
    assert ckpt["tick"] == 2 and ckpt["config"]["image_count"] == 4

    from models.export import main as export_main

    assert run_cli(export_main, [str(run_dir), "--out", str(tmp_path / "bundle")]) == 0
    spec = BundleSpec.load(tmp_path / "bundle" / "generator.json")
    assert spec.provenance["trained"] is True and spec.provenance["kimg"] == pytest.approx(0.032)
    assert spec.provenance["data"]["image_count"] == 4
    sess = ort.InferenceSession(str(tmp_path / "bundle" / "generator.onnx"),
                                providers=["CPUExecutionProvider"])
    img = sess.run(None, {"features": np.zeros((1, 25), np.float32),
                          "noise": np.zeros((1, spec.noise_dim), np.float32)})[0]
    assert img.shape == (1, 32, 32, 3) and img.dtype == np.uint8


def test_resume_after_kill_continues_kimg_and_p(few_paintings, tmp_path, capsys):
    eeg = str(shared_file(EEG_OPEN))
    runs = tmp_path / "runs"
    cmd = [sys.executable, "train.py", "--images", str(few_paintings), "--eeg", eeg,
           "--outdir", str(runs), "--kimg", "100", "--snap", "1", "--ada-target", "0.01",
           "--ada-kimg", "0.5", *TINY]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    run_dir = runs / "00000-tiny-32px"
    try:
        deadline = time.monotonic() + 200
        while not (run_dir.is_dir() and len(checkpoints(run_dir)) >= 4):
            assert proc.poll() is None, "training stopped early"
            assert time.monotonic() < deadline, "no snapshot in time"
            time.sleep(0.2)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    last = torch.load(checkpoints(run_dir)[-1], weights_only=True)
    tick, kimg, p = last["tick"], last["kimg"], last["augment"]["p"]
    assert p > 0

    assert run_cli(main, ["--resume", str(run_dir), "--kimg", str(kimg + 0.032)]) == 0
    records = stats(run_dir)
    assert [r["tick"] for r in records] == list(range(1, tick + 3))
    resumed = records[tick]
    assert resumed["kimg"] == pytest.approx(kimg + 0.016)
    assert abs(resumed["augment_p"] - p) <= 0.065  # at most one adjustment away, not reset
    final = torch.load(checkpoints(run_dir)[-1], weights_only=True)
    assert final["tick"] == tick + 2 and final["kimg"] == pytest.approx(kimg + 0.032)
    assert len(list(runs.iterdir())) == 1  # the same run folder


DDP_SCRIPT = """
import json, sys
import torch
import torch.distributed as dist
sys.path.insert(0, {repo!r})
from models.training.trainer import Trainer
from models.training.training_loop import finish_distributed, setup_distributed

rank, world, device = setup_distributed()
torch.manual_seed(rank)  # different initial weights: rank 0's must win
train = dict(batch=8, lr=0.002, r1_gamma=0.1, ema_kimg=0.1, ada_target=-1.0, ada_kimg=0.1,
             pl_weight=0.0)
g_kwargs = dict(n_features=25, noise_dim=8, resolution=16, channels={{4: 16, 8: 8, 16: 8}},
                w_dim=16, mapping_layers=1)
trainer = Trainer(g_kwargs, dict(resolution=16, channels={{4: 16, 8: 8, 16: 8}}), train, device)
before = torch.cat([p.detach().flatten().clone() for p in trainer.G.parameters()])
for step in range(4):
    torch.manual_seed(100 + 10 * rank + step)  # each process its own data
    trainer.step(torch.rand(4, 3, 16, 16) * 2 - 1, torch.randn(4, 25), torch.randn(4, 8))
flat = torch.cat([p.detach().flatten() for m in (trainer.G, trainer.D, trainer.G_ema)
                  for p in m.parameters()])
flat = torch.cat([flat, torch.tensor([trainer.ada.p])])
everyone = [torch.zeros_like(flat) for _ in range(world)]
dist.all_gather(everyone, flat)
g_now = torch.cat([p.detach().flatten() for p in trainer.G.parameters()])
if rank == 0:
    json.dump({{"world": world, "max_diff": max(float((e - flat).abs().max()) for e in everyone),
               "changed": float((g_now - before).abs().max()), "p": trainer.ada.p}},
              open(sys.argv[1], "w"))
finish_distributed()
"""


def test_two_process_gloo_steps_stay_in_sync(tmp_path):
    script = tmp_path / "ddp_step.py"
    script.write_text(DDP_SCRIPT.format(repo=str(REPO)))
    out = tmp_path / "result.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node", "2", str(script), str(out)],
                          cwd=tmp_path, env=env, timeout=240, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["world"] == 2
    assert result["changed"] > 0
    assert result["max_diff"] == 0.0
    # A target of -1 always raises p; after 4 steps it rises by the images of both processes
    # (2 x 4 steps x 4 images) / 100, so the counts were summed across processes.
    assert result["p"] == pytest.approx(0.32)


TINY_CHANNELS = {4: 16, 8: 8, 16: 8}


def tiny_trainer(**train):
    """A 16 px Trainer on the CPU; ``train`` overrides its settings (say ``pl_weight``)."""
    from models.training.trainer import Trainer

    g_kwargs = dict(n_features=25, noise_dim=8, resolution=16, channels=TINY_CHANNELS, w_dim=16,
                    mapping_layers=1)
    settings = dict(batch=4, lr=0.002, r1_gamma=0.1, ema_kimg=0.1, ada_target=0.6, ada_kimg=0.1,
                    pl_weight=0.0)
    return Trainer(g_kwargs, dict(resolution=16, channels=TINY_CHANNELS),
                   {**settings, **train}, torch.device("cpu"))


def test_path_length_regularisation_runs_and_checkpoint_state_round_trips(tmp_path):
    from models.training.snapshots import latest_checkpoint, save_atomic

    torch.manual_seed(0)
    trainer = tiny_trainer(pl_weight=2.0)
    out = [trainer.step(torch.rand(4, 3, 16, 16) * 2 - 1, torch.randn(4, 25), torch.randn(4, 8))
           for _ in range(5)]
    assert "pl" in out[0] and np.isfinite(out[0]["pl"]) and trainer.pl.mean > 0
    save_atomic(trainer.state_dict(), tmp_path / "network-snapshot-000001.pt")
    (tmp_path / "network-snapshot-000002.pt.tmp").write_bytes(b"cut short by kill -9")
    path = latest_checkpoint(tmp_path)
    assert path.name == "network-snapshot-000001.pt"
    other = tiny_trainer(pl_weight=2.0)
    other.load_state_dict(torch.load(path, weights_only=True))
    assert other.kimg == pytest.approx(trainer.kimg) and other.step_count == 5
    assert other.pl.mean == trainer.pl.mean
    for a, b in zip(trainer.G_ema.parameters(), other.G_ema.parameters(), strict=True):
        assert torch.equal(a, b)
    assert other.opt_D.state_dict()["state"].keys() == trainer.opt_D.state_dict()["state"].keys()


def test_resumed_run_equals_an_uninterrupted_one(few_paintings, tmp_path, capsys):
    eeg = str(shared_file(EEG_OPEN))
    common = ["--images", str(few_paintings), "--eeg", eeg, "--snap", "1", "--ada-kimg", "1",
              *TINY]
    assert run_cli(main, [*common, "--outdir", str(tmp_path / "a"), "--kimg", "0.048"]) == 0
    assert run_cli(main, [*common, "--outdir", str(tmp_path / "b"), "--kimg", "0.016"]) == 0
    run_b = tmp_path / "b" / "00000-tiny-32px"
    assert run_cli(main, ["--resume", str(run_b), "--kimg", "0.048"]) == 0
    a = torch.load(checkpoints(tmp_path / "a" / "00000-tiny-32px")[-1], weights_only=True)
    b = torch.load(checkpoints(run_b)[-1], weights_only=True)
    assert a["tick"] == b["tick"] == 3
    assert a["augment"] == b["augment"]
    for key in ("G", "D", "G_ema"):
        for name, value in a[key].items():
            assert torch.equal(value, b[key][name]), f"{key}.{name}"


def test_a_resumed_run_goes_on_at_the_rate_r1_weight_and_ada_target_it_is_given(
        few_paintings, tmp_path, capsys):
    eeg = str(shared_file(EEG_OPEN))
    common = ["--images", str(few_paintings), "--eeg", eeg, "--snap", "1", "--ada-kimg", "1",
              *TINY]
    assert run_cli(main, [*common, "--outdir", str(tmp_path / "a"), "--kimg", "0.032"]) == 0
    assert run_cli(main, [*common, "--outdir", str(tmp_path / "b"), "--kimg", "0.016"]) == 0
    run_a, run_b = tmp_path / "a" / "00000-tiny-32px", tmp_path / "b" / "00000-tiny-32px"
    assert run_cli(main, ["--resume", str(run_b), "--kimg", "0.032", "--lr", "0.0005",
                          "--gamma", "0.4", "--ada-target", "0.3"]) == 0
    a = torch.load(checkpoints(run_a)[-1], weights_only=True)
    b = torch.load(checkpoints(run_b)[-1], weights_only=True)
    assert b["config"]["train"]["lr"] == 0.0005 and b["config"]["train"]["r1_gamma"] == 0.4
    assert b["config"]["retuned"] == [{"from_kimg": pytest.approx(0.016), "lr": 0.0005,
                                       "r1_gamma": 0.4, "ada_target": 0.3}]
    assert b["augment"]["target"] == 0.3 and a["augment"]["target"] == 0.6
    rates = {g["lr"] for key in ("opt_G", "opt_D") for g in b[key]["param_groups"]}
    assert all(0.5 * 0.0005 < rate < 0.0005 for rate in rates)  # lazy-regularisation corrected
    assert a["config"]["train"]["lr"] > 0.001  # the uninterrupted run kept the cfg's rate
    # The calmer tick moved the weights less than the same tick at the cfg's rate.
    first = torch.load(checkpoints(run_b)[0], weights_only=True)
    moved = {name: sum(float((run["G"][k] - first["G"][k]).abs().sum()) for k in first["G"])
             for name, run in (("calm", b), ("cfg", a))}
    assert moved["calm"] < 0.5 * moved["cfg"]


def leg_that_holds(**hold) -> tuple:
    """A tiny trainer holding ``hold`` after three steps, and its G and EMA weights before."""
    torch.manual_seed(0)
    trainer = tiny_trainer(ema_kimg=0.01, pl_weight=1.0, **hold)
    with torch.no_grad():  # an EMA that differs from G where it is held, as a resumed run's may
        for name, param in trainer.G_ema.named_parameters():
            if name in trainer.held:
                param.add_(0.1)
    before = {name: {k: v.clone() for k, v in getattr(trainer, name).state_dict().items()}
              for name in ("G", "G_ema")}
    reals = torch.rand(4, 3, 16, 16) * 2 - 1
    for _ in range(3):  # the first step runs the path-length update too
        trainer.step(reals, torch.randn(4, 25), torch.randn(4, 8))
    return trainer, before


def moved_and_kept(trainer, before, moved: list[str]) -> None:
    """Assert that the held weights stayed, in G and its EMA, and that ``moved`` learnt."""
    for name in ("G", "G_ema"):
        after = getattr(trainer, name).state_dict()
        for key in trainer.held:
            assert torch.equal(after[key], before[name][key]), (name, key)
        for key in moved:
            assert not torch.equal(after[key], before[name][key]), (name, key)


def test_a_leg_that_holds_the_finest_blocks_trains_the_rest_around_them():
    trainer, before = leg_that_holds(hold_from=16)
    assert trainer.held and all(".blocks.2." in name for name in trainer.held)
    moved_and_kept(trainer, before, ["synthesis.blocks.1.conv1.conv.weight",
                                     "synthesis.blocks.1.torgb.conv.weight",
                                     "mapping.embed.weight"])


def test_a_leg_that_holds_the_features_trains_only_the_coarse_colour_and_the_mapping():
    trainer, before = leg_that_holds(hold_from=16, hold_features=True)
    assert "synthesis.blocks.1.conv1.conv.weight" in trainer.held
    assert "synthesis.blocks.0.const" in trainer.held
    assert "synthesis.blocks.2.torgb.conv.weight" in trainer.held
    moved_and_kept(trainer, before, ["synthesis.blocks.0.torgb.conv.weight",
                                     "synthesis.blocks.1.torgb.conv.weight",
                                     "mapping.embed.weight"])


def test_a_step_updates_d_and_g_together_each_against_the_other_as_it_stood():
    def trainer():
        torch.manual_seed(0)
        return tiny_trainer()

    torch.manual_seed(1)
    reals, features, noise = torch.rand(4, 3, 16, 16) * 2 - 1, torch.randn(4, 25), torch.randn(4, 8)
    together, by_hand = trainer(), trainer()
    torch.manual_seed(2)  # the synthesis noise
    together.step(reals, features, noise)

    # The same update by hand: G's gradient through D as it was, then D's own update (with R1:
    # step 0 is due one) on the same fakes, then G's step.
    torch.manual_seed(2)
    fakes = by_hand.G(features, noise)
    by_hand.D.requires_grad_(False)
    by_hand.opt_G.zero_grad(set_to_none=True)
    F.softplus(-by_hand.D(fakes)).mean().backward(retain_graph=True)
    by_hand.discriminator_step(reals, fakes.detach())
    by_hand.opt_G.step()

    for name in ("G", "D"):
        a, b = (torch.cat([p.detach().flatten() for p in getattr(t, name).parameters()])
                for t in (together, by_hand))
        assert torch.allclose(a, b, atol=1e-6), name
    moved = torch.cat([p.detach().flatten() for p in together.D.parameters()])
    assert not torch.allclose(moved, torch.cat([p.detach().flatten()
                                                for p in trainer().D.parameters()]))
