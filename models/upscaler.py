"""The second-stage painter: a fully convolutional upscaler and the discriminator that trains it.

The base generator paints at a low resolution (128 px); :class:`Upscaler` paints the same picture
``scale`` times larger with brushwork learnt from the artist's own paintings. Almost all of its
work is 3×3 convolution at the input size (what ONNX Runtime runs fastest on a CPU); one pixel
shuffle makes the output, and a bilinear copy of the input carries the colours, so the network
only learns the detail. The last convolution starts ICNR-initialised (every sub-pixel the same
kernel) and small, so an untrained upscaler is a smooth bilinear enlargement with no checkerboard.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

NEGATIVE_SLOPE = 0.2
TAIL_INIT_GAIN = 0.1  # the residual starts small: an untrained upscaler is nearly bilinear


def icnr_(weight: torch.Tensor, scale: int) -> torch.Tensor:
    """Initialise a pixel-shuffle convolution's weight so all sub-pixels start equal (in place).

    Parameters
    ----------
    weight : Tensor, shape (out_channels * scale**2, in_channels, k, k)
        The convolution's weight, grouped as pixel shuffle reads it.
    scale : int
        The pixel shuffle's factor.

    Returns
    -------
    Tensor
        ``weight``, filled.
    """
    out_channels = weight.shape[0] // scale**2
    base = torch.empty(out_channels, *weight.shape[1:])
    nn.init.kaiming_normal_(base, a=NEGATIVE_SLOPE)
    with torch.no_grad():
        weight.copy_(base.repeat_interleave(scale**2, dim=0))
    return weight


class Upscaler(nn.Module):
    """A painting in, the same painting ``scale`` times larger out.

    Parameters
    ----------
    channels : int
        Width of every convolution at the input resolution.
    blocks : int
        Number of 3×3 convolutions after the first (the network's depth).
    scale : int
        Output side over input side (a pixel shuffle of this factor).
    """

    def __init__(self, channels: int = 32, blocks: int = 8, scale: int = 4) -> None:
        super().__init__()
        if channels < 1 or blocks < 0 or scale < 2:
            raise ValueError("channels >= 1, blocks >= 0 and scale >= 2 are required")
        self.channels, self.blocks, self.scale = channels, blocks, scale
        layers = [nn.Conv2d(3, channels, 3, padding=1), nn.LeakyReLU(NEGATIVE_SLOPE)]
        for _ in range(blocks):
            layers += [nn.Conv2d(channels, channels, 3, padding=1), nn.LeakyReLU(NEGATIVE_SLOPE)]
        self.body = nn.Sequential(*layers)
        self.tail = nn.Conv2d(channels, 3 * scale**2, 3, padding=1)
        icnr_(self.tail.weight, scale)
        with torch.no_grad():
            self.tail.weight.mul_(TAIL_INIT_GAIN)
            self.tail.bias.zero_()

    def kwargs(self) -> dict:
        """The constructor's arguments, to rebuild this network from a checkpoint."""
        return {"channels": self.channels, "blocks": self.blocks, "scale": self.scale}

    def forward(self, painting: torch.Tensor) -> torch.Tensor:
        """Upscale a float painting.

        Parameters
        ----------
        painting : Tensor, shape (B, 3, r, r)
            Values in [-1, 1].

        Returns
        -------
        Tensor, shape (B, 3, scale*r, scale*r)
            Unclamped, nominally in [-1, 1].
        """
        if painting.ndim != 4 or painting.shape[1] != 3:
            raise ValueError(f"expected a painting batch (B, 3, r, r), got {tuple(painting.shape)}")
        smooth = F.interpolate(painting, scale_factor=self.scale, mode="bilinear",
                               align_corners=False)
        detail = F.pixel_shuffle(self.tail(self.body(painting)), self.scale)
        return smooth + detail


class PatchDiscriminator(nn.Module):
    """Real or upscaled, judged patch by patch (a map of logits), for any input size.

    Spectral normalisation on every convolution keeps the adversarial game stable without a
    gradient penalty, which matters when each step is expensive.

    Parameters
    ----------
    channels : tuple of int
        Width after each stride-2 4×4 convolution; the receptive field grows with their number.
    """

    def __init__(self, channels: tuple[int, ...] = (32, 64, 128, 128)) -> None:
        super().__init__()
        layers, width = [], 3
        for out in channels:
            layers += [spectral_norm(nn.Conv2d(width, out, 4, stride=2, padding=1)),
                       nn.LeakyReLU(NEGATIVE_SLOPE)]
            width = out
        layers.append(spectral_norm(nn.Conv2d(width, 1, 3, padding=1)))
        self.net = nn.Sequential(*layers)
        self.channels = tuple(channels)

    def kwargs(self) -> dict:
        """The constructor's arguments, to rebuild this network from a checkpoint."""
        return {"channels": list(self.channels)}

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (B, 1, h, w) for float images (B, 3, H, W) in [-1, 1]."""
        return self.net(images)


def upscaler_from_kwargs(kwargs: dict) -> Upscaler:
    """An upscaler built from its stored keyword arguments."""
    return Upscaler(**{k: int(v) for k, v in kwargs.items()})


def discriminator_from_kwargs(kwargs: dict) -> PatchDiscriminator:
    """A patch discriminator built from its stored keyword arguments."""
    return PatchDiscriminator(tuple(int(c) for c in kwargs["channels"]))
