"""Named network and training configurations (``--cfg``): the presets, one table per network.

``CONFIGS`` holds the generator's (``train.py --cfg``), ``UPSCALER_PRESETS`` the upscaler's
(``python -m models.upscale --cfg``). Everything a preset decides (sizes, optimiser,
regularisation, and how long a run lasts) is a field of its dataclass, so a preset added here is
complete everywhere it is named.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NetworkConfig:
    """Sizes of the generator and discriminator and the training defaults that go with them.

    Attributes
    ----------
    name : str
        The ``--cfg`` name.
    resolution : int
        Default output resolution in pixels.
    g_channels, d_channels : dict of int to int
        Channels per resolution; narrow at high resolution so the generator runs on CPUs.
    w_dim, noise_dim, mapping_layers : int
        Latent sizes and depth of the mapping network.
    batch : int
        Default total batch size.
    lr : float
        Adam learning rate of G and D.
    r1_gamma : float
        R1 weight (scales with resolution squared).
    ema_kimg : float
        Half-life of the generator EMA in thousands of images.
    ada_kimg : float
        kimg for the augmentation probability to go from 0 to 1 at full imbalance.
    pl_weight : float
        Path-length regularisation weight (0 = off).
    kimg : float
        Default length of a run in thousands of images (``--kimg``).
    tick_kimg : float
        Default thousands of images per tick (``--tick``): one progress line per tick.
    """

    name: str
    resolution: int
    g_channels: dict = field(default_factory=dict)
    d_channels: dict = field(default_factory=dict)
    w_dim: int = 256
    noise_dim: int = 64
    mapping_layers: int = 4
    batch: int = 16
    lr: float = 0.0025
    r1_gamma: float = 1.0
    ema_kimg: float = 10.0
    ada_kimg: float = 500.0
    pl_weight: float = 0.0
    kimg: float = 2000.0
    tick_kimg: float = 4.0

    def network_kwargs(self, resolution: int, batch: int, n_features: int,
                       r1_gamma: float | None = None, ada_target: float | None = None,
                       ada_kimg: float | None = None) -> tuple[dict, dict, dict]:
        """Keyword arguments of the generator, the discriminator and the trainer.

        Parameters
        ----------
        resolution, batch : int
            The run's image size and total batch.
        n_features : int
            Length of the EEG feature vector fed to the mapping network.
        r1_gamma : float, optional
            R1 weight; by default this config's, scaled with the resolution squared.
        ada_target, ada_kimg : float, optional
            Augmentation heuristic target (default :data:`ADA_TARGET`) and speed (default: this
            config's).

        Returns
        -------
        (dict, dict, dict)
            ``G_kwargs``, ``D_kwargs`` and ``train``, as stored in a run's config.
        """
        if r1_gamma is None:
            r1_gamma = self.r1_gamma * (resolution / self.resolution) ** 2
        g_kwargs = {"n_features": n_features, "noise_dim": self.noise_dim,
                    "resolution": resolution, "channels": dict(self.g_channels),
                    "w_dim": self.w_dim, "mapping_layers": self.mapping_layers}
        d_kwargs = {"resolution": resolution, "channels": dict(self.d_channels)}
        train = {"batch": batch, "lr": self.lr, "ema_kimg": self.ema_kimg, "r1_gamma": r1_gamma,
                 "ada_target": ada_target or ADA_TARGET, "ada_kimg": ada_kimg or self.ada_kimg,
                 "pl_weight": self.pl_weight}
        return g_kwargs, d_kwargs, train


CONFIGS: dict[str, NetworkConfig] = {
    # Trains on two CPU cores in minutes: a smoke test and a quick look at the data.
    "tiny": NetworkConfig(
        name="tiny", resolution=64,
        g_channels={4: 64, 8: 64, 16: 64, 32: 32, 64: 16, 128: 16, 256: 16},
        d_channels={4: 64, 8: 64, 16: 64, 32: 32, 64: 16, 128: 16, 256: 16},
        w_dim=64, noise_dim=32, mapping_layers=2, batch=8, lr=0.002, r1_gamma=0.05,
        ema_kimg=0.5, ada_kimg=20.0, kimg=5.0, tick_kimg=0.2,
    ),
    # The largest size that trains to painterly results on a 2-core CPU within hours (~130
    # sec/kimg at one thread): wide at low resolution for composition, narrow above.
    "128": NetworkConfig(
        name="128", resolution=128,
        g_channels={4: 256, 8: 256, 16: 128, 32: 64, 64: 32, 128: 16},
        d_channels={4: 256, 8: 256, 16: 128, 32: 64, 64: 32, 128: 16},
        w_dim=256, noise_dim=64, mapping_layers=4, batch=16, lr=0.0025, r1_gamma=0.2,
        ema_kimg=5.0, ada_kimg=100.0, kimg=500.0, tick_kimg=1.0,
    ),
    # The default show model on a GPU: 256 px, narrow at high resolution (~20-40 ms/frame with ONNX
    # Runtime on 1-2 CPU cores).
    "256": NetworkConfig(
        name="256", resolution=256,
        g_channels={4: 256, 8: 256, 16: 128, 32: 128, 64: 64, 128: 32, 256: 32},
        d_channels={4: 256, 8: 256, 16: 256, 32: 128, 64: 64, 128: 32, 256: 32},
        w_dim=256, noise_dim=64, mapping_layers=4, batch=32, r1_gamma=1.0, ema_kimg=10.0,
        ada_kimg=500.0, kimg=2000.0, tick_kimg=4.0,
    ),
    # For a GPU in the gallery: wider, 512 px.
    "512": NetworkConfig(
        name="512", resolution=512,
        g_channels={4: 512, 8: 512, 16: 512, 32: 256, 64: 128, 128: 64, 256: 32, 512: 16},
        d_channels={4: 512, 8: 512, 16: 512, 32: 256, 64: 128, 128: 64, 256: 32, 512: 32},
        w_dim=512, noise_dim=64, mapping_layers=8, batch=32, r1_gamma=4.0, ema_kimg=10.0,
        ada_kimg=500.0, kimg=5000.0, tick_kimg=4.0,
    ),
}


ADA_TARGET = 0.6  # StyleGAN2-ADA's: augment once the critic is right on 80 % of the reals
CPU_CFG = "128"  # the largest that trains to painterly results on a CPU within hours
GPU_CFG = "256"  # the default show model


def machine_cfg() -> tuple[str, str]:
    """The ``--cfg`` that suits this machine, and why: 256 with a CUDA GPU, 128 without."""
    import torch  # lazy: the preset tables themselves need no torch

    if torch.cuda.is_available():
        return GPU_CFG, f"a GPU was found ({torch.cuda.get_device_name(0)})"
    return CPU_CFG, "no GPU was found, so the CPU configuration"


@dataclass(frozen=True)
class UpscalePreset:
    """Sizes and training defaults of an upscaler configuration (``--cfg``)."""

    channels: int
    blocks: int
    fine_channels: int
    d_channels: tuple[int, ...]
    batch: int
    base_batch: int
    patch: int
    kimg: float
    tick_kimg: float
    lr: float = 2e-4
    adv_weight: float = 0.05
    consistency_weight: float = 1.0
    lattice_weight: float = 0.1
    equivariance_weight: float = 1.0
    warmup_kimg: float = 2.0
    ema_kimg: float = 1.0


UPSCALER_PRESETS = {
    # The shipped size: 7 convolutions of 32 channels at the input size, 16 after each doubling.
    "default": UpscalePreset(channels=32, blocks=6, fine_channels=16,
                             d_channels=(16, 32, 64, 64), batch=6,
                             base_batch=4, patch=192, kimg=100.0, tick_kimg=0.5),
    # Tests and smoke runs on two cores.
    "tiny": UpscalePreset(channels=8, blocks=1, fine_channels=4, d_channels=(8, 16), batch=2,
                          base_batch=2, patch=64, kimg=0.02, tick_kimg=0.01, warmup_kimg=0.0,
                          ema_kimg=0.01),
}
