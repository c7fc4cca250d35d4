"""Distil a trained generator into one whose finest resolutions are static, for CPUs.

``python -m models.adaptation.distill TEACHER --out DIR [--static-from 64]
[--width 64=64 --width 128=32] [--kimg 32]`` writes ``DIR/distilled.pt``, a checkpoint that
``python -m models.export`` takes like any other, and ``DIR/teacher-vs-student.png``.

The student keeps the teacher's mapping network and its modulated blocks below
``static_from`` unchanged, so the EEG steers the composition and colours exactly as before.
Its static blocks start as the teacher's layers with the styles and demodulation fixed at their
means over the EEG recordings (and the noise maps of their upsampling layers), widened where
asked by duplicating channels; then they learn to paint what the teacher paints (L1 on pixels,
on their gradients and on the local amount of fine detail) for EEG windows of the teacher's
recordings and random noise.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from installation.errors import ModelError, run_cli
from models.bundles.checkpoint import generator_from_checkpoint, load_checkpoint
from models.networks import (
    Generator,
    StaticLayer,
    StaticToRGB,
    SynthesisBlock,
    SynthesisLayer,
    ToRGB,
    channels_at,
    check_static_from,
    synthesis_resolutions,
)
from models.training.feature_pool import FeaturePool
from models.training.snapshots import save_atomic, save_grid
from models.training.training_loop import generator_metrics, load_data

CHECKPOINT_NAME = "distilled.pt"
PANEL_NAME = "teacher-vs-student.png"


def student_kwargs(teacher_kwargs: dict, static_from: int, widths: dict[int, int]) -> dict:
    """The student's generator arguments: the teacher's, static from ``static_from``.

    ``widths`` overrides channel counts of static resolutions; they may only grow (the
    student starts as a copy of the teacher, widened by duplicating channels).
    """
    resolution = teacher_kwargs["resolution"]
    try:
        check_static_from(static_from, resolution)
    except ValueError as exc:
        raise ModelError(f"Cannot distil: {exc}.") from None
    channels = {int(k): int(v) for k, v in teacher_kwargs["channels"].items()}
    full = {r: channels_at(channels, r) for r in synthesis_resolutions(resolution)}
    for r, width in widths.items():
        if r not in full or r < static_from:
            raise ModelError(f"--width {r}={width} names no static resolution of this "
                             f"{resolution} px generator; use one from {static_from} up.")
        if width < full[r]:
            raise ModelError(f"--width {r}={width} is narrower than the teacher's {full[r]} "
                             "channels; a student may only widen.")
        full[r] = width
    return {**teacher_kwargs, "channels": full, "static_from": static_from}


def sample_inputs(pool: FeaturePool, n: int, noise_dim: int,
                  gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` EEG windows of the pool and standard normal noise vectors."""
    return pool.sample(n, gen), torch.randn(n, noise_dim, generator=gen)


@torch.no_grad()
def mean_modulation(layer: SynthesisLayer | ToRGB, w: torch.Tensor) -> torch.Tensor:
    """The layer's effective convolution weight with its styles and demodulation at their means.

    Parameters
    ----------
    layer : SynthesisLayer or ToRGB
        A modulated layer of the teacher.
    w : torch.Tensor
        Intermediate latents [N, w_dim] the means are taken over.

    Returns
    -------
    torch.Tensor
        [C_out, C_in, k, k]: ``conv(x, result)`` is the layer's convolution for the mean style.
    """
    conv = layer.conv
    base = conv.weight * conv.weight_gain
    styles = conv.affine(w)
    weight = base * styles.mean(0)[None, :, None, None]
    if conv.demodulate:
        demod = torch.rsqrt(styles.square() @ conv.weight_power(base) + 1e-8)
        weight = weight * demod.mean(0)[:, None, None, None]
    return weight


def duplicate_indices(narrow: int, wide: int, gen: torch.Generator) -> torch.Tensor:
    """Which teacher channel each of ``wide`` student channels copies: all once, then random."""
    extra = torch.randint(narrow, (wide - narrow,), generator=gen)
    return torch.cat([torch.arange(narrow), extra])


def widen(weight: torch.Tensor, bias: torch.Tensor | None, in_index: torch.Tensor | None,
          out_index: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Widen a convolution function-preservingly (Net2Net).

    Output channels are copied along ``out_index``; input channels along ``in_index``, each
    copy's weights divided by how often its channel was copied, so the sum over the copies of
    duplicated activations equals the original.
    """
    if in_index is not None:
        counts = torch.bincount(in_index, minlength=weight.shape[1]).to(weight.dtype)
        weight = weight[:, in_index] / counts[in_index][None, :, None, None]
    if out_index is not None:
        weight = weight[out_index]
        bias = bias[out_index] if bias is not None else None
    return weight, bias


@torch.no_grad()
def set_effective(module: StaticLayer | StaticToRGB, weight: torch.Tensor,
                  bias: torch.Tensor, jitter: float, gen: torch.Generator) -> None:
    """Give a static module an effective weight and bias, with relative noise ``jitter``.

    The jitter breaks the symmetry between duplicated channels, which would otherwise learn in
    lockstep.
    """
    raw = weight / module.weight_gain
    raw = raw + jitter * raw.std() * torch.randn(raw.shape, generator=gen)
    module.weight.copy_(raw)
    module.bias.copy_(bias)


@torch.no_grad()
def init_static_block(student: SynthesisBlock, teacher: SynthesisBlock, w: torch.Tensor,
                      in_index: torch.Tensor | None, out_index: torch.Tensor | None,
                      jitter: float, gen: torch.Generator) -> None:
    """Start a static student block as the teacher's block at the mean style, widened."""
    for name in ("conv0", "conv1"):
        t_layer, s_layer = getattr(teacher, name), getattr(student, name)
        weight, bias = widen(mean_modulation(t_layer, w), t_layer.bias,
                             in_index if name == "conv0" else out_index, out_index)
        set_effective(s_layer, weight, bias, jitter, gen)
    student.conv0.noise_strength.copy_(teacher.conv0.noise_strength)
    student.conv0.noise_const.copy_(teacher.conv0.noise_const)
    weight, _ = widen(mean_modulation(teacher.torgb, w), None, out_index, None)
    set_effective(student.torgb, weight, teacher.torgb.bias, 0.0, gen)


@torch.no_grad()
def student_from_teacher(teacher: Generator, kwargs: dict, w: torch.Tensor, seed: int = 0,
                         jitter: float = 0.01) -> Generator:
    """The student generator, initialised from ``teacher``.

    Parameters
    ----------
    teacher : Generator
        The trained generator (the EMA copy).
    kwargs : dict
        The student's arguments (:func:`student_kwargs`).
    w : torch.Tensor
        Latents of the teacher [N, w_dim] over which styles are averaged.
    seed : int
        Seed of the duplicated channels and the jitter.
    jitter : float
        Relative noise added to the static convolutions' weights.

    Returns
    -------
    Generator
        Same mapping and modulated blocks as the teacher; static blocks at the mean style.
    """
    gen = torch.Generator().manual_seed(seed)
    student = Generator(**kwargs)
    student.mapping.load_state_dict(teacher.mapping.state_dict())
    in_index = None
    for s_block, t_block in zip(student.synthesis.blocks, teacher.synthesis.blocks, strict=True):
        if not s_block.static:
            s_block.load_state_dict(t_block.state_dict())
            continue
        narrow, wide = t_block.conv1.bias.numel(), s_block.conv1.bias.numel()
        out_index = duplicate_indices(narrow, wide, gen) if wide > narrow else None
        init_static_block(s_block, t_block, w, in_index, out_index, jitter, gen)
        in_index = out_index
    student.synthesis.set_noise_mode("const")  # the teacher's noise maps, as exported
    fit_texture(student, teacher, w)
    return student.eval().requires_grad_(False)


@torch.no_grad()
def fit_texture(student: Generator, teacher: Generator, w: torch.Tensor) -> None:
    """Start the finest texture as the mean difference between teacher and student images."""
    residual = torch.cat([teacher.synthesis(part) - student.synthesis(part)
                          for part in w.split(64)]).mean(dim=0, keepdim=True)
    student.synthesis.blocks[-1].torgb.texture.add_(residual)


def split_at(generator: Generator, resolution: int) -> tuple[list, list]:
    """The synthesis blocks below ``resolution``, and those from it on."""
    blocks = list(generator.synthesis.blocks)
    return ([b for b in blocks if b.resolution < resolution],
            [b for b in blocks if b.resolution >= resolution])


def run_blocks(blocks, x, img, w):
    """Apply synthesis ``blocks`` to activations ``x`` and image ``img``."""
    for block in blocks:
        x, img = block(x, img, w)
    return x, img


def image_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 on pixels and on their gradients, plus L1 on the local amount of fine detail.

    Pixel losses alone teach the mean of what the teacher's noise adds, a smooth wash; the
    detail term asks for as much brush texture as the teacher has in each 8x8 patch, wherever
    its strokes fall.
    """
    def grads(img):
        return img[..., :, 1:] - img[..., :, :-1], img[..., 1:, :] - img[..., :-1, :]

    (px, py), (tx, ty) = grads(pred), grads(target)
    return (F.l1_loss(pred, target) + F.l1_loss(px, tx) + F.l1_loss(py, ty)
            + F.l1_loss(fine_detail(pred), fine_detail(target)))


def fine_detail(img: torch.Tensor, patch: int = 8) -> torch.Tensor:
    """Mean absolute high-pass (image minus its 2x-blurred self) over ``patch``-pixel squares."""
    blurred = F.interpolate(F.avg_pool2d(img, 2), scale_factor=2.0, mode="bilinear",
                            align_corners=False)
    return F.avg_pool2d((img - blurred).abs(), patch)


class Distiller:
    """Trains the student's static blocks to paint what the teacher paints.

    The teacher's shared part (mapping and modulated blocks) runs once per batch; its
    activations feed both the teacher's and the student's fine blocks.
    """

    def __init__(self, teacher: Generator, student: Generator, static_from: int,
                 pool: FeaturePool, lr: float, seed: int, total_steps: int | None = None):
        self.teacher, self.pool = teacher, pool
        self.shared, self.teacher_fine = split_at(teacher, static_from)
        self.student_fine = split_at(student, static_from)[1]
        params = [p for b in self.student_fine for p in b.parameters()]
        for p in params:
            p.requires_grad_(True)
        self.optimizer = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.99))
        # cosine decay to a tenth: the student settles instead of jittering around the teacher
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda i: 1.0 if total_steps is None else
            0.1 + 0.45 * (1.0 + math.cos(math.pi * min(i / total_steps, 1.0))))
        self.gen = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def targets(self, features, noise):
        """The shared activations and the teacher's image."""
        w = self.teacher.mapping(features, noise)
        x, img = run_blocks(self.shared, None, None, w)
        return w, x, img, run_blocks(self.teacher_fine, x, img, w)[1]

    def step(self, batch: int) -> float:
        """One optimiser step on a fresh batch; returns the loss."""
        features, noise = sample_inputs(self.pool, batch, self.teacher.noise_dim, self.gen)
        w, x, img, target = self.targets(features, noise)
        pred = run_blocks(self.student_fine, x, img, w)[1]
        loss = image_loss(pred, target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        return float(loss.detach())

    @torch.no_grad()
    def rms_to_teacher(self, features, noise) -> float:
        """Median RMS difference of student and teacher images, on the 0-255 scale."""
        w, x, img, target = self.targets(features, noise)
        pred = run_blocks(self.student_fine, x, img, w)[1]
        return float(((pred - target) * 127.5).square().mean(dim=(1, 2, 3)).sqrt().median())


def parse_widths(items: list[str]) -> dict[int, int]:
    """``["64=64", "128=32"]`` -> {64: 64, 128: 32}; ModelError on another form."""
    widths = {}
    for item in items:
        try:
            res, width = (int(v) for v in item.split("="))
        except ValueError:
            raise ModelError(f"--width takes RESOLUTION=CHANNELS, like 128=32, not {item!r}.") \
                from None
        widths[res] = width
    return widths


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m models.adaptation.distill``."""
    parser = argparse.ArgumentParser(
        prog="python -m models.adaptation.distill",
        description="Distil a trained generator into one with static fine blocks, for CPUs.")
    parser.add_argument("teacher", help="network-snapshot-*.pt, or a train.py run folder")
    parser.add_argument("--out", required=True, help="folder for distilled.pt and the panel")
    parser.add_argument("--static-from", type=int, default=64,
                        help="first static resolution (default 64)")
    parser.add_argument("--width", action="append", default=[], metavar="RES=CHANNELS",
                        help="channels of a static resolution, at least the teacher's (repeat)")
    parser.add_argument("--kimg", type=float, default=32.0,
                        help="thousands of images to distil on (default 32)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.005,
                        help="Adam learning rate, decayed to a tenth (default 0.005)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (0: torch's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--student", metavar="DISTILLED_PT",
                        help="continue this student (a distilled.pt of the same options) "
                             "instead of starting from the teacher")
    return parser


def continued_student(path: str | Path, kwargs: dict) -> Generator:
    """The student of an earlier ``distilled.pt``; ModelError if its architecture differs."""
    ckpt = load_checkpoint(path)
    if ckpt["G_kwargs"] != kwargs:
        raise ModelError(f"{path} holds a student of other options than these; pass the same "
                         "--static-from and --width as when it was distilled.")
    student = generator_from_checkpoint(ckpt)
    student.synthesis.set_noise_mode("const")
    return student.eval().requires_grad_(False)


def train_student(distiller: Distiller, steps: int, batch: int) -> None:
    """Run ``steps`` distillation steps, printing the loss and speed every hundred."""
    started = time.monotonic()
    losses = []
    for i in range(steps):
        losses.append(distiller.step(batch))
        if (i + 1) % 100 == 0 or i + 1 == steps:
            print(f"step {i + 1}/{steps}  loss {np.mean(losses[-100:]):.4f}  "
                  f"{(i + 1) * batch / (time.monotonic() - started):.1f} img/s", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors become one line and exit code 2."""
    return run_cli(distill, argv)


def distill(argv: list[str] | None = None) -> int:
    """Distil a checkpoint; see ``--help``."""
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    ckpt = load_checkpoint(args.teacher)
    teacher = generator_from_checkpoint(ckpt).eval().requires_grad_(False)
    teacher.synthesis.set_noise_mode("const")  # what the exported teacher paints
    kwargs = student_kwargs(ckpt["G_kwargs"], args.static_from, parse_widths(args.width))
    dataset, pool = load_data(ckpt["config"])  # the teacher's crops and z-scored EEG windows
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    gen = torch.Generator().manual_seed(args.seed + 1)
    with torch.no_grad():
        w = teacher.mapping(*sample_inputs(pool, 1024, teacher.noise_dim, gen))
    if args.student:
        student = continued_student(args.student, kwargs)
    else:
        student = student_from_teacher(teacher, kwargs, w, seed=args.seed)
    probe = sample_inputs(pool, 64, teacher.noise_dim, gen)
    steps = max(1, round(args.kimg * 1000 / args.batch))
    distiller = Distiller(teacher, student, args.static_from, pool, args.lr, args.seed, steps)
    start_rms = distiller.rms_to_teacher(*probe)
    print(f"student at the start: RMS {start_rms:.1f} from the teacher (0-255)")
    train_student(distiller, steps, args.batch)
    rms = distiller.rms_to_teacher(*probe)
    print(f"student after {args.kimg:g} kimg: RMS {rms:.1f} from the teacher (0-255)")

    # SWD and EEG sensitivity as train.py measures them, on the same crops, windows and noise
    metrics, teacher_metrics = (generator_metrics(g.eval(), dataset, pool, ckpt["config"])
                                for g in (student, teacher))
    print(f"SWD to real crops (mean of 16-{teacher.resolution} px): student "
          f"{metrics['swd_mean']:.1f}, teacher {teacher_metrics['swd_mean']:.1f}")
    command = shlex.join(["python", "-m", "models.adaptation.distill",
                          *(argv if argv is not None else sys.argv[1:])])
    record = {"teacher": str(args.teacher), "teacher_kimg": round(float(ckpt.get("kimg", 0.0)), 3),
              "static_from": args.static_from, "kimg": args.kimg, "batch": args.batch,
              "rms_to_teacher_start": round(start_rms, 2), "rms_to_teacher": round(rms, 2),
              "teacher_metrics": teacher_metrics, "command": command}
    save_atomic({"G_ema": student.requires_grad_(False).state_dict(), "G_kwargs": kwargs,
                 "config": {**ckpt["config"], "distillation": record},
                 "kimg": ckpt.get("kimg", 0.0), "metrics": metrics}, out / CHECKPOINT_NAME)
    with torch.no_grad():
        features, noise = (t[:8] for t in probe)
        save_grid(torch.cat([teacher(features, noise), student(features, noise)]), 8,
                  out / PANEL_NAME)
    print(f"wrote {out / CHECKPOINT_NAME} and {out / PANEL_NAME} (top: teacher, bottom: student)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
