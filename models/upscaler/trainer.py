"""One training step of the upscaler: reconstruction on real crops, adversarial on everything.

The generator-side loss has three parts:

- reconstruction: L1 between the upscaled downscale of a real crop and the crop itself, which
  keeps colours and shapes right;
- adversarial: the patch discriminator must take the upscaled pictures, those of real crops and
  those of the base model's own paintings, for real brushwork (this is what adds texture where
  L1 alone would give a smooth wash);
- consistency: an upscaled base painting, downscaled again, must be the base painting, so the
  upscaler adds detail without repainting what the brain steered;
- lattice: no power may stand out at the frequencies of the upscaling's pixel grid (see
  :mod:`models.upscaler.lattice`): our first adversarial runs painted a regular dot lattice there;
- equivariance: a picture flipped or transposed must be upscaled to the flipped or transposed
  upscaling. Nothing else ties a texture's direction to the picture: L1 is blind to fine texture
  of any direction and the discriminator accepts any plausible one, so our first upscaler laid
  one diagonal hatch over every painting (``models.evaluation.orientation``). A hatch that does not
  turn with the picture costs its full amplitude here.

The discriminator sees its pictures at a random phase of that grid (each cropped by 0 to
``scale - 1`` pixels): at a fixed phase its strided convolutions alias a lattice into an
innocent-looking brightness, and cannot learn to refuse it.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from models.upscaler.data import downscale
from models.upscaler.lattice import lattice_penalty
from models.upscaler.network import PatchDiscriminator, Upscaler

ADAM_BETAS = (0.5, 0.99)


def random_phase(images: torch.Tensor, scale: int) -> torch.Tensor:
    """``images`` cropped by a random 0 to ``scale - 1`` pixels on each side's start."""
    dy, dx = (int(v) for v in torch.randint(0, scale, (2,)))
    h, w = images.shape[-2] - scale, images.shape[-1] - scale
    return images[..., dy:dy + h, dx:dx + w]


def dihedral(images: torch.Tensor, index: int) -> torch.Tensor:
    """One of the square's 8 symmetries (``index`` 0-7: bits transpose, flip x, flip y)."""
    if index & 4:
        images = images.transpose(-1, -2)
    if index & 2:
        images = images.flip(-1)
    if index & 1:
        images = images.flip(-2)
    return images


def random_symmetry() -> int:
    """A random symmetry of the square other than the identity (1-7)."""
    return int(torch.randint(1, 8, ()))


def ramp(kimg: float, warmup_kimg: float) -> float:
    """0 → 1 over the first ``warmup_kimg`` thousand images (1 at once when it is 0)."""
    return 1.0 if warmup_kimg <= 0 else min(1.0, kimg / warmup_kimg)


class UpscaleTrainer:
    """The upscaler, its EMA copy, the discriminator and their optimisers.

    Parameters
    ----------
    u_kwargs, d_kwargs : dict
        Arguments of :class:`Upscaler` and :class:`PatchDiscriminator`.
    train : dict
        ``lr``, ``adv_weight``, ``consistency_weight``, ``lattice_weight`` and
        ``equivariance_weight`` (each 0 when absent), ``warmup_kimg``, ``ema_kimg``.
    device : torch.device, optional
        Where the networks live (the CPU when None); :meth:`step` moves its batches there.
    """

    def __init__(self, u_kwargs: dict, d_kwargs: dict, train: dict,
                 device: torch.device | None = None) -> None:
        self.device = device or torch.device("cpu")
        self.U = Upscaler(**u_kwargs).to(self.device)
        self.U_ema = copy.deepcopy(self.U).eval().requires_grad_(False)
        self.D = PatchDiscriminator(tuple(d_kwargs["channels"])).to(self.device)
        self.train = dict(train)
        self.opt_U = torch.optim.Adam(self.U.parameters(), lr=train["lr"], betas=ADAM_BETAS)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=train["lr"], betas=ADAM_BETAS)
        self.kimg = 0.0

    @property
    def scale(self) -> int:
        """The upscaler's factor."""
        return self.U.scale

    def step(self, real_high: torch.Tensor, real_low: torch.Tensor,
             base_low: torch.Tensor) -> dict[str, float]:
        """One discriminator and one upscaler update; return the losses.

        Parameters
        ----------
        real_high : Tensor (B, 3, P, P)
            Real crops (windows) at the output size, floats in [-1, 1].
        real_low : Tensor (B, 3, P/scale, P/scale)
            Their downscales.
        base_low : Tensor (Bb, 3, P/scale, P/scale)
            The base model's paintings (windows), with no target.
        """
        real_high, real_low, base_low = (t.to(self.device) for t in (real_high, real_low,
                                                                       base_low))
        weight = ramp(self.kimg, self.train["warmup_kimg"])
        up_real, up_base = self.U(real_low), self.U(base_low)
        loss_d = self.discriminator_step(real_high, torch.cat([up_real, up_base]).detach())
        losses = self.upscaler_step(real_high, real_low, up_real, base_low, up_base, weight)
        self.update_ema(len(real_high) + len(base_low))
        self.kimg += (len(real_high) + len(base_low)) / 1000.0
        return {"loss_D": loss_d, **losses, "adv_ramp": weight}

    def discriminator_step(self, reals: torch.Tensor, fakes: torch.Tensor) -> float:
        """Non-saturating logistic loss: real crops up, upscaled pictures down."""
        self.D.requires_grad_(True)
        loss = (F.softplus(-self.D(random_phase(reals, self.scale))).mean()
                + F.softplus(self.D(random_phase(fakes, self.scale))).mean())
        self.opt_D.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_D.step()
        return loss.item()

    def upscaler_step(self, real_high, real_low, up_real, base_low, up_base,
                      weight: float) -> dict:
        """Reconstruction + ramped adversarial + consistency + lattice + equivariance; one step."""
        self.D.requires_grad_(False)
        upscaled = torch.cat([up_real, up_base])
        reconstruction = (up_real - real_high).abs().mean()
        adversarial = F.softplus(-self.D(random_phase(upscaled, self.scale))).mean()
        consistency = (downscale(up_base, self.scale) - base_low).abs().mean()
        lattice = lattice_penalty(upscaled, self.scale)
        equivariance = self.equivariance(torch.cat([real_low, base_low]), upscaled)
        loss = (reconstruction + weight * self.train["adv_weight"] * adversarial
                + self.train["consistency_weight"] * consistency
                + self.train.get("lattice_weight", 0.0) * lattice
                + self.train.get("equivariance_weight", 0.0) * equivariance)
        self.opt_U.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_U.step()
        return {"loss_U": loss.item(), "loss_rec": reconstruction.item(),
                "loss_adv": adversarial.item(), "loss_consistency": consistency.item(),
                "loss_lattice": lattice.item(), "loss_equivariance": equivariance.item()}

    def equivariance(self, low: torch.Tensor, upscaled: torch.Tensor) -> torch.Tensor:
        """L1 between upscaled pictures turned by a random symmetry and the turned ones' upscaling.

        0, at no cost, when the term's weight is 0.
        """
        if not self.train.get("equivariance_weight", 0.0):
            return torch.zeros((), device=low.device)
        index = random_symmetry()
        return (self.U(dihedral(low, index)) - dihedral(upscaled, index)).abs().mean()

    @torch.no_grad()
    def update_ema(self, batch: int) -> None:
        """Move the EMA copy towards the upscaler (half-life ``ema_kimg`` thousand images)."""
        beta = 0.5 ** (batch / max(self.train["ema_kimg"] * 1000.0, 1e-8))
        for p_ema, p in zip(self.U_ema.parameters(), self.U.parameters(), strict=True):
            p_ema.lerp_(p, 1.0 - beta)

    def state_dict(self, optimisers: bool = True) -> dict:
        """Weights (and optimiser states) as plain tensors: a checkpoint with no pickled code."""
        state = {"U": self.U.state_dict(), "U_ema": self.U_ema.state_dict(),
                 "D": self.D.state_dict(), "U_kwargs": self.U.kwargs(),
                 "D_kwargs": self.D.kwargs(), "kimg": self.kimg}
        if optimisers:
            state.update(opt_U=self.opt_U.state_dict(), opt_D=self.opt_D.state_dict())
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore weights, kimg and, where the state has them, the optimisers."""
        self.U.load_state_dict(state["U"])
        self.U_ema.load_state_dict(state["U_ema"])
        self.D.load_state_dict(state["D"])
        self.kimg = float(state.get("kimg", 0.0))
        if "opt_U" in state:
            self.opt_U.load_state_dict(state["opt_U"])
            self.opt_D.load_state_dict(state["opt_D"])
