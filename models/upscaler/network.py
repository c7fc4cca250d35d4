"""The second-stage painter: a fully convolutional upscaler and the discriminator that trains it.

The base generator paints at a low resolution (128 px); :class:`Upscaler` paints the same picture
``scale`` times larger with brushwork learnt from the artist's own paintings. Most of its work is
3×3 convolution at the input size (what ONNX Runtime runs fastest on a CPU). It enlarges by
resize-convolutions (bilinear doubling of the features, then a 3×3 convolution) rather than
pixel shuffles, whose sub-pixel kernels learnt a periodic dot lattice under the adversarial loss
in our first run; nearest-neighbour doubling, tried next, still let the adversarial loss paint a
fine grid of lines, which bilinear doubling takes away. A bilinear copy of the input carries the
colours, so the network only paints the detail; its last convolution starts small, so an
untrained upscaler is a smooth bilinear enlargement.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

NEGATIVE_SLOPE = 0.2
TAIL_INIT_GAIN = 0.1  # the detail starts small: an untrained upscaler is nearly bilinear


def conv_act(width_in: int, width_out: int) -> list[nn.Module]:
    """A 3×3 convolution and its leaky ReLU."""
    return [nn.Conv2d(width_in, width_out, 3, padding=1), nn.LeakyReLU(NEGATIVE_SLOPE)]


class Upscaler(nn.Module):
    """A painting in, the same painting ``scale`` times larger out.

    Parameters
    ----------
    channels : int
        Width of the convolutions at the input resolution.
    blocks : int
        Number of 3×3 convolutions at the input resolution after the first.
    scale : int
        Output side over input side: a power of two, one resize-convolution (bilinear doubling,
        3×3 convolution) per doubling.
    fine_channels : int
        Width of the convolutions after each doubling (they run on 4× the pixels each time).
    """

    def __init__(self, channels: int = 32, blocks: int = 6, scale: int = 4,
                 fine_channels: int = 16) -> None:
        super().__init__()
        if channels < 1 or blocks < 0 or fine_channels < 1:
            raise ValueError("channels >= 1, blocks >= 0 and fine_channels >= 1 are required")
        if scale < 2 or scale & (scale - 1):
            raise ValueError(f"scale must be a power of two from 2, got {scale}")
        self.channels, self.blocks, self.scale = channels, blocks, scale
        self.fine_channels = fine_channels
        layers = conv_act(3, channels)
        for _ in range(blocks):
            layers += conv_act(channels, channels)
        self.body = nn.Sequential(*layers)
        widths = [channels] + [fine_channels] * int(math.log2(scale))
        self.doublings = nn.ModuleList(nn.Sequential(*conv_act(a, b))
                                       for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.tail = nn.Conv2d(fine_channels, 3, 3, padding=1)
        with torch.no_grad():
            self.tail.weight.mul_(TAIL_INIT_GAIN)
            self.tail.bias.zero_()

    def kwargs(self) -> dict:
        """The constructor's arguments, to rebuild this network from a checkpoint."""
        return {"channels": self.channels, "blocks": self.blocks, "scale": self.scale,
                "fine_channels": self.fine_channels}

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
        x = self.body(painting)
        for doubling in self.doublings:
            x = doubling(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))
        return smooth + self.tail(x)


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
