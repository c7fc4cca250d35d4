"""One StyleGAN2-ADA training step and everything it needs to resume: networks, optimisers, p.

Data-parallel runs (torchrun) average gradients with ``all_reduce`` after each backward pass,
like NVlabs' loop, rather than wrapping the modules in DistributedDataParallel: lazy R1 takes a
double backward through D, which DDP's reducer does not support.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from models.networks import Discriminator, Generator, make_ema, update_ema
from models.training.augment import AdaptiveProbability, augment
from models.training.losses import (
    PL_INTERVAL,
    R1_INTERVAL,
    PathLengthPenalty,
    discriminator_loss,
    generator_loss,
    lazy_r1_loss,
)


def distributed() -> bool:
    """Whether a process group with more than one process is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def average_gradients(module: torch.nn.Module) -> None:
    """Average the gradients of ``module`` over all processes (no-op when alone)."""
    if not distributed():
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.flatten() for g in grads])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    torch.nn.utils.vector_to_parameters(flat, grads)


def broadcast_module(module: torch.nn.Module) -> None:
    """Give every process rank 0's parameters and buffers."""
    if distributed():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=0)


def set_gradients(module: torch.nn.Module, loss: torch.Tensor, retain_graph: bool = False) -> None:
    """Store the gradient of ``loss`` for ``module``'s parameters alone, averaged over processes.

    Other networks in the graph get no gradient, and autograd does not walk back into them.
    """
    params = [p for p in module.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params, retain_graph=retain_graph, allow_unused=True)
    for param, grad in zip(params, grads, strict=True):
        param.grad = grad
    average_gradients(module)


def lazy_ratio(interval: int) -> float:
    """How much of a step's rate (and beta) a loss regularised every ``interval`` steps keeps."""
    return interval / (interval + 1)


def lazy_adam(params, lr: float, interval: int) -> torch.optim.Adam:
    """Adam with the learning rate and betas corrected for lazy regularisation."""
    ratio = lazy_ratio(interval)
    return torch.optim.Adam(params, lr=lr * ratio, betas=(0.0, 0.99 ** ratio), eps=1e-8)


def held_names(generator: Generator, hold_from: int | None = None,
               features: bool = False) -> frozenset[str]:
    """Names of the generator's parameters that a leg keeps as they are.

    Parameters
    ----------
    generator : Generator
        The network being trained.
    hold_from : int, optional
        Hold the synthesis blocks at this resolution and finer, RGB outputs included (None:
        none of them).
    features : bool
        Hold every synthesis convolution too (the features each block hands the next), so that
        only the coarser blocks' RGB outputs and the mapping learn: the finest blocks then read
        the features they were trained on.
    """
    held = set()
    for index, block in enumerate(generator.synthesis.blocks):
        whole = hold_from is not None and block.resolution >= hold_from
        for name, _ in block.named_parameters():
            if whole or (features and not name.startswith("torgb.")):
                held.add(f"synthesis.blocks.{index}.{name}")
    return frozenset(held)


class Trainer:
    """Generator, discriminator, EMA generator, optimisers and augmentation probability.

    Parameters
    ----------
    g_kwargs, d_kwargs : dict
        Constructor arguments of :class:`Generator` and :class:`Discriminator`.
    train : dict
        ``lr``, ``r1_gamma``, ``ema_kimg``, ``ada_target``, ``ada_kimg``, ``pl_weight``,
        ``batch`` (total over processes); optionally ``hold_from`` and ``hold_features``, the
        weights a leg keeps as they are (see :func:`held_names`).
    device : torch.device
        Where to train.
    channels_last : bool, optional
        Keep activations in the channels-last layout; None = on the CPU only, where oneDNN runs
        the narrow high-resolution convolutions about 1.4 times faster that way.
    """

    def __init__(self, g_kwargs: dict, d_kwargs: dict, train: dict, device: torch.device,
                 channels_last: bool | None = None):
        self.train, self.device = train, device
        if channels_last is None:
            channels_last = device.type == "cpu"
        self.layout = torch.channels_last if channels_last else torch.contiguous_format
        self.G = Generator(**g_kwargs).to(device, memory_format=self.layout)
        self.D = Discriminator(**d_kwargs).to(device, memory_format=self.layout)
        broadcast_module(self.G)
        broadcast_module(self.D)
        self.G_ema = make_ema(self.G)
        self.G_ema.synthesis.set_noise_mode("const")
        self.held = held_names(self.G, train.get("hold_from"), train.get("hold_features", False))
        self.opt_G = lazy_adam(self.G.parameters(), train["lr"], PL_INTERVAL)
        self.opt_D = lazy_adam(self.D.parameters(), train["lr"], R1_INTERVAL)
        self.ada = AdaptiveProbability(train["ada_target"], train["ada_kimg"])
        self.pl = PathLengthPenalty(train["pl_weight"]) if train["pl_weight"] > 0 else None
        self.step_count = 0
        self.kimg = 0.0
        self.detector = None  # optional Inception feature detector for FID/KID; never saved

    def set_feature_stats(self, mean, std) -> None:
        """Store the training features' mean and std in G and G_ema (standardised inside)."""
        for g in (self.G, self.G_ema):
            g.mapping.set_feature_stats(torch.as_tensor(mean).to(self.device),
                                        torch.as_tensor(std).to(self.device))

    def step(self, reals: torch.Tensor, features: torch.Tensor,
             noise: torch.Tensor) -> dict[str, float]:
        """One D update (with lazy R1 every 16th) and one G update, taken together.

        One synthesis pass and one discriminator pass over the fakes serve both updates: D's
        gradient comes from the logistic loss, G's from the non-saturating loss through the
        same graph, and each network then steps against the other as it stood at the start of
        the step (simultaneous updates). Alternating updates judge the fakes a second time,
        with the D just updated; this step spares that pass.
        """
        self.generator_requires_grad()
        self.D.requires_grad_(True)
        fakes = self.G(features, noise)
        real_logits, r1 = self.real_terms(reals)
        fake_logits = self.D(augment(fakes, self.ada.p))
        loss_D, stats = self.critic_loss(real_logits, fake_logits, r1)
        loss_G = generator_loss(fake_logits)
        # Both gradients before either step: G's flows back through D's current weights.
        set_gradients(self.D, loss_D, retain_graph=True)
        set_gradients(self.G, loss_G)
        self.opt_D.step()
        self.opt_G.step()
        self.ada.accumulate(real_logits)
        stats["loss_G"] = float(loss_G.detach())
        return self.finish_step(stats, features, noise)

    def finish_step(self, stats: dict, features, noise) -> dict[str, float]:
        """Path length (when due), EMA, augmentation and counters after the D and G updates."""
        if self.pl is not None and self.step_count % PL_INTERVAL == 0:
            stats["pl"] = self.path_length_step(features, noise)
        ema_beta = 0.5 ** (self.train["batch"] / max(self.train["ema_kimg"] * 1000, 1e-8))
        update_ema(self.G_ema, self.G, ema_beta, keep=self.held)
        self.adjust_augmentation()
        self.step_count += 1
        self.kimg += self.train["batch"] / 1000.0
        stats["augment_p"] = self.ada.p
        return stats

    def generator_requires_grad(self) -> None:
        """Let G's parameters learn, all but the held ones (no gradient, so Adam skips them)."""
        for name, param in self.G.named_parameters():
            param.requires_grad_(name not in self.held)

    def discriminator_step(self, reals, fakes) -> dict[str, float]:
        """D's update alone: logistic loss on augmented reals and (detached) fakes, lazy R1."""
        self.D.requires_grad_(True)
        real_logits, r1 = self.real_terms(reals)
        fake_logits = self.D(augment(fakes, self.ada.p))
        loss, stats = self.critic_loss(real_logits, fake_logits, r1)
        self.opt_D.zero_grad(set_to_none=True)
        loss.backward()
        average_gradients(self.D)
        self.opt_D.step()
        self.ada.accumulate(real_logits)
        return stats

    def real_terms(self, reals) -> tuple[torch.Tensor, torch.Tensor | None]:
        """D's logits of the augmented reals, and the lazy R1 term when this step is due one."""
        do_r1 = self.step_count % R1_INTERVAL == 0 and self.train["r1_gamma"] > 0
        reals = reals.detach().contiguous(memory_format=self.layout).requires_grad_(do_r1)
        real_logits = self.D(augment(reals, self.ada.p))
        r1 = lazy_r1_loss(reals, real_logits, self.train["r1_gamma"]) if do_r1 else None
        return real_logits, r1

    @staticmethod
    def critic_loss(real_logits, fake_logits, r1) -> tuple[torch.Tensor, dict[str, float]]:
        """D's loss (R1 included when given) and its statistics."""
        loss = discriminator_loss(real_logits, fake_logits)
        stats = {"loss_D": float(loss.detach())}
        if r1 is not None:
            loss = loss + r1
            stats["r1"] = float(r1.detach()) / R1_INTERVAL
        return loss, stats

    def path_length_step(self, features, noise) -> float:
        """Path-length regularisation on half the batch."""
        half = max(1, features.shape[0] // 2)
        w = self.G.mapping(features[:half], noise[:half])
        loss = self.pl(self.G.synthesis(w), w)
        self.opt_G.zero_grad(set_to_none=True)
        loss.backward()
        average_gradients(self.G)
        self.opt_G.step()
        return float(loss.detach())

    def adjust_augmentation(self) -> None:
        """Apply the overfitting heuristic when due, with counts summed over processes."""
        if not self.ada.due():
            return
        totals = torch.tensor([self.ada.sign_sum, float(self.ada.count)], dtype=torch.float64,
                              device=self.device)
        if distributed():
            dist.all_reduce(totals)
        self.ada.adjust(float(totals[0]), int(totals[1]))

    def set_lr(self, lr: float) -> None:
        """Run both optimisers at ``lr`` (corrected for lazy regularisation, as at the start)."""
        for opt, interval in ((self.opt_G, PL_INTERVAL), (self.opt_D, R1_INTERVAL)):
            for group in opt.param_groups:
                group["lr"] = lr * lazy_ratio(interval)

    def state_dict(self) -> dict:
        """Everything a resumed run needs (tensors and plain Python values only)."""
        return {
            "G": self.G.state_dict(), "D": self.D.state_dict(), "G_ema": self.G_ema.state_dict(),
            "opt_G": self.opt_G.state_dict(), "opt_D": self.opt_D.state_dict(),
            "augment": self.ada.state_dict(), "pl_mean": self.pl.mean if self.pl else 0.0,
            "step": self.step_count, "kimg": self.kimg,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore from :meth:`state_dict` (fresh optimisers where ``state`` has none)."""
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.G_ema.load_state_dict(state["G_ema"])
        if "opt_G" in state:
            self.opt_G.load_state_dict(state["opt_G"])
            self.opt_D.load_state_dict(state["opt_D"])
            self.set_lr(self.train["lr"])  # a resumed run may go on at another rate
        self.ada.load_state_dict(state["augment"])
        if self.pl is not None:
            self.pl.mean = float(state["pl_mean"])
        self.step_count, self.kimg = int(state["step"]), float(state["kimg"])
