"""StyleGAN2 networks in plain torch ops, so the generator exports to ONNX and runs anywhere.

The mapping network takes the EEG feature vector (normalised with the training statistics, then
embedded by a fully connected layer) concatenated with a normalised noise vector, and maps it to
the intermediate latent ``w``. The synthesis network applies ``w`` through modulated and
demodulated convolutions whose styles scale the activations, not per-sample weights, so every
convolution keeps static weights (TensorRT and ONNX friendly). Upsampling is bilinear
interpolation, which equals StyleGAN2's [1, 3, 3, 1] FIR upsampling up to the border handling.

A generator may also render its finest resolutions with *static* blocks (``static_from``):
plain convolutions, bias and activation, no styles, noise only where they upsample. On a CPU
the per-pixel work around a modulated convolution (style and demodulation multiplies, noise,
layout reorders) costs as much as the convolution itself at high resolution, while a static
convolution fuses its bias and activation and keeps the blocked layout. Such generators are
distilled from a trained one (``python -m models.adaptation.distill``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Collection

import torch
import torch.nn.functional as F
from torch import nn

LRELU_GAIN = math.sqrt(2.0)


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale each row to unit root-mean-square."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + eps)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    """Leaky ReLU with the gain that keeps the activations' variance."""
    return F.leaky_relu(x, 0.2) * LRELU_GAIN


def upsample_2x(x: torch.Tensor) -> torch.Tensor:
    """Bilinear upsampling to twice the size.

    A constant scale factor exports as one ONNX Resize with constant scales; a target size
    would cost a Shape, Slice and Concat before every Resize (dynamic batch axis).
    """
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


def per_channel(values: torch.Tensor) -> torch.Tensor:
    """[B, C] -> [B, C, 1, 1], to scale the channels of an image batch.

    One Reshape in ONNX, where indexing with None would cost two Unsqueeze nodes.
    """
    return values.reshape(-1, values.shape[1], 1, 1)


def pixel_noise(x: torch.Tensor, mode: str, const: torch.Tensor) -> torch.Tensor:
    """One noise map per image [B, 1, H, W]: fresh (``"random"``) or the layer's constant."""
    if mode == "random":
        return torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device)
    return const


class EqualLinear(nn.Module):
    """Fully connected layer with equalised learning rate (weights scaled at run time).

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the input and output.
    bias_init : float
        Initial value of the bias.
    lr_mul : float
        Learning-rate multiplier (0.01 in the mapping network).
    activate : bool
        Apply the leaky ReLU.
    """

    def __init__(self, in_features: int, out_features: int, bias_init: float = 0.0,
                 lr_mul: float = 1.0, activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init) / lr_mul))
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.lr_mul = lr_mul
        self.activate = activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Linear map with the run-time weight scale, then the optional activation."""
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.lr_mul)
        return lrelu(x) if self.activate else x


def pooled_kernel(weight: torch.Tensor) -> torch.Tensor:
    """The stride-2 kernel that equals convolving with ``weight`` and then 2×2 average pooling.

    A k×k kernel becomes (k+1)×(k+1): each output pixel of the pooled result reads the k×k
    neighbourhoods of four input pixels. Convolving at the output size only skips the three
    quarters of the full-size convolution that pooling would throw away, and the pooling pass.
    """
    shifted = [F.pad(weight, (dx, 1 - dx, dy, 1 - dy)) for dy in (0, 1) for dx in (0, 1)]
    return torch.stack(shifted).sum(0) / 4


class EqualConv2d(nn.Module):
    """Plain convolution with equalised learning rate, optional 2x average-pool downsampling.

    With ``down`` the convolution and the pooling run as one stride-2 convolution
    (:func:`pooled_kernel`): the same result, a quarter of the full-size work.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 activate: bool = True, down: bool = False, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size,
                                               kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2
        self.activate = activate
        self.down = down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolve, optionally halve the size, optionally activate.

        The activation's gain rides in the weights and bias (``lrelu(gain * y)`` equals
        ``gain * lrelu(y)``), and the leaky ReLU runs in place on the convolution's fresh
        output: two passes over the activations fewer, forward and backward.
        """
        gain = LRELU_GAIN if self.activate else 1.0
        weight = self.weight * (self.weight_gain * gain)
        bias = self.bias * gain if self.bias is not None and self.activate else self.bias
        if self.down:
            if x.shape[-1] % 2 or x.shape[-2] % 2:
                raise ValueError(f"downsampling needs an even size, got {tuple(x.shape[-2:])}")
            x = F.conv2d(x, pooled_kernel(weight), bias, stride=2, padding=self.padding)
        else:
            x = F.conv2d(x, weight, bias, padding=self.padding)
        return F.leaky_relu(x, 0.2, inplace=True) if self.activate else x


class MappingNetwork(nn.Module):
    """EEG features + noise -> intermediate latent ``w``.

    Features are standardised with buffers set from the training data (``set_feature_stats``),
    embedded, and both parts are normalised to unit RMS before being concatenated, so neither
    dominates by scale. Tracks the running mean of ``w`` for truncation.

    Parameters
    ----------
    n_features : int
        Length of the EEG feature vector (the feature spec's ``n_features``).
    noise_dim : int
        Length of the noise vector; 0 = no noise input (``w`` follows the EEG alone).
    w_dim : int
        Length of ``w``.
    num_layers : int
        Fully connected layers after the concatenation.
    embed_dim : int, optional
        Width of the features' embedding; None = ``w_dim``.
    lr_mul : float
        Learning-rate multiplier of those layers (StyleGAN's 0.01: the mapping learns slowly).
    w_avg_beta : float
        Decay of the running mean of ``w`` per training step (used for truncation).
    """

    def __init__(self, n_features: int, noise_dim: int, w_dim: int, num_layers: int = 4,
                 embed_dim: int | None = None, lr_mul: float = 0.01, w_avg_beta: float = 0.995):
        super().__init__()
        self.n_features, self.noise_dim, self.w_dim = n_features, noise_dim, w_dim
        embed_dim = embed_dim or w_dim
        self.embed = EqualLinear(n_features, embed_dim)
        dims = [embed_dim + noise_dim] + [w_dim] * num_layers
        self.layers = nn.ModuleList(
            EqualLinear(a, b, lr_mul=lr_mul, activate=True)
            for a, b in zip(dims[:-1], dims[1:], strict=True)
        )
        self.register_buffer("feature_mean", torch.zeros(n_features))
        self.register_buffer("feature_std", torch.ones(n_features))
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.w_avg_beta = w_avg_beta

    def set_feature_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Store the training features' mean and standard deviation (std floored at 1e-3)."""
        self.feature_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.feature_std.copy_(torch.as_tensor(std, dtype=torch.float32).clamp_min(1e-3))

    def forward(self, features: torch.Tensor, noise: torch.Tensor,
                truncation_psi: float = 1.0) -> torch.Tensor:
        """Map features [B, F] and noise [B, Z] to ``w`` [B, w_dim]."""
        feats = (features - self.feature_mean) / self.feature_std
        parts = [normalize_2nd_moment(self.embed(feats))]
        if self.noise_dim > 0:
            parts.append(normalize_2nd_moment(noise))
        w = torch.cat(parts, dim=1)
        for layer in self.layers:
            w = layer(w)
        if self.training:
            self.w_avg.copy_(w.detach().mean(0).lerp(self.w_avg, self.w_avg_beta))
        if truncation_psi != 1.0:
            w = self.w_avg + (w - self.w_avg) * truncation_psi
        return w


class ModulatedConv2d(nn.Module):
    """Convolution modulated by a style per input channel, optionally demodulated.

    The style multiplies the activations before a convolution with static weights; the
    demodulation factor, computed from the styles and the squared weights, scales the output.
    This is StyleGAN2's non-fused path: same result as per-sample weights, but exportable.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and of the output.
    kernel_size : int
        Side of the square kernel (odd; padded to keep the size).
    w_dim : int
        Length of ``w``, from which the affine layer makes one style per input channel.
    demodulate : bool
        Scale each output channel to unit expected variance (False for the RGB layers).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, w_dim: int,
                 demodulate: bool = True):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size,
                                               kernel_size))
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2
        self.demodulate = demodulate
        self.frozen_power: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, w: torch.Tensor, up: bool = False) -> torch.Tensor:
        """Convolve ``x`` [B, C, H, W] modulated by the styles from ``w`` [B, w_dim].

        With ``up``, the input is upsampled 2x after the styles scale it: the same result as
        before (both are linear per channel), with the multiply on a quarter of the pixels.
        """
        x, scale = self.convolve(x, w, up)
        return x if scale is None else x * scale

    def convolve(self, x: torch.Tensor, w: torch.Tensor,
                 up: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The convolution before demodulation, and the demodulation factor [B, C, 1, 1].

        The factor is None without demodulation. Training multiplies it in together with the
        layer's noise, bias and gain (:meth:`SynthesisLayer.forward`).
        """
        styles = self.affine(w)
        weight = self.weight * self.weight_gain
        x = x * per_channel(styles)
        if up:
            x = upsample_2x(x)
        x = F.conv2d(x, weight, padding=self.padding)
        if not self.demodulate:
            return x, None
        power = styles.square() @ self.weight_power(weight)
        return x, per_channel(torch.rsqrt(power + 1e-8))

    def weight_power(self, weight: torch.Tensor) -> torch.Tensor:
        """Squared sums of the (gain-scaled) weights per input and output channel, [C_in, C_out]."""
        if self.frozen_power is not None:
            return self.frozen_power
        return weight.square().sum(dim=(2, 3)).t()

    def freeze(self) -> None:
        """Precompute the weights' squared sums for export.

        ONNX constant folding would otherwise keep a second copy of the weights for ReduceSum.
        """
        with torch.no_grad():
            self.frozen_power = self.weight_power(self.weight * self.weight_gain).clone()

    @torch.no_grad()
    def absorb_input_gain(self, gain: float) -> None:
        """Take over a constant factor of the input (``conv(x)`` then equals ``conv(gain * x)``).

        The styles grow by ``gain`` (they multiply the input) and the frozen squared sums
        shrink by ``gain²``, so the demodulation, computed from the styles, is unchanged.
        Call after :meth:`freeze`.
        """
        self.affine.weight.mul_(gain)
        self.affine.bias.mul_(gain)
        if self.frozen_power is not None:
            self.frozen_power = self.frozen_power / gain**2


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution, per-pixel noise, bias and activation; optionally upsamples."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 up: bool = False):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim)
        self.up = up
        self.resolution = resolution
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.noise_strength = nn.Parameter(torch.zeros([]))
        # Constant noise used at export and for reproducible renders: no RandomNormal in ONNX.
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))
        self.noise_mode = "random"
        self.output_gain = LRELU_GAIN  # 1 once the layers reading it absorbed it (export)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """One modulated layer of the synthesis network."""
        if self.training:
            return self._fused(x, w)
        x = self.conv(x, w, up=self.up)
        x = x + self.noise_strength * self._noise(x)
        x = F.leaky_relu(x + self.bias[None, :, None, None], 0.2)
        return x * self.output_gain if self.output_gain != 1.0 else x

    def _fused(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """The same layer with one new tensor instead of five, for training.

        ``gain * lrelu(d * y + n + b)`` equals ``lrelu(y * (gain d) + gain n + gain b)``: the
        gain rides in the demodulation, noise and bias, and the additions and the activation
        run in place on the product. The exported graph keeps the plain form (``eval``).
        """
        x, scale = self.conv.convolve(x, w, up=self.up)
        gain = self.output_gain
        x = x * (scale * gain)  # the one new tensor; the rest works in place on it
        x = x.add_((gain * self.noise_strength) * self._noise(x))
        x = x.add_((gain * self.bias).reshape(1, -1, 1, 1))
        return F.leaky_relu(x, 0.2, inplace=True)

    def absorb_input_gain(self, gain: float) -> None:
        """Take over a constant input factor (see :meth:`ModulatedConv2d.absorb_input_gain`)."""
        self.conv.absorb_input_gain(gain)

    def _noise(self, x: torch.Tensor) -> torch.Tensor:
        return pixel_noise(x, self.noise_mode, self.noise_const)


class ToRGB(nn.Module):
    """Modulated 1x1 convolution to three colour channels, without demodulation."""

    def __init__(self, in_channels: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, 3, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """The block's RGB contribution [B, 3, H, W]."""
        return self.conv(x, w) + self.bias[None, :, None, None]

    def absorb_input_gain(self, gain: float) -> None:
        """Take over a constant input factor (see :meth:`ModulatedConv2d.absorb_input_gain`)."""
        self.conv.absorb_input_gain(gain)


class StaticLayer(nn.Module):
    """3x3 convolution, bias and activation with static weights; optionally upsamples first.

    The style-free counterpart of :class:`SynthesisLayer` for the finest resolutions: its
    bias and activation fuse into the convolution in ONNX Runtime. Only the upsampling layer of
    a block takes per-pixel noise (its brush texture): a noise pass on every layer would cost
    as much as the styles saved. ``w`` is accepted and ignored, so blocks call both kinds alike.
    """

    def __init__(self, in_channels: int, out_channels: int, resolution: int, up: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1.0 / math.sqrt(in_channels * 9)
        self.up = up
        if up:
            self.noise_strength = nn.Parameter(torch.zeros([]))
            self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))
        self.noise_mode = "random"
        self.output_gain = LRELU_GAIN  # 1 once the layers reading it absorbed it (export)

    def forward(self, x: torch.Tensor, w: torch.Tensor | None = None) -> torch.Tensor:
        """Upsample and add noise (optionally), convolve, add the bias, activate."""
        if self.up:
            x = upsample_2x(x)
        x = F.conv2d(x, self.weight * self.weight_gain, self.bias, padding=1)
        if self.up:
            x = x + self.noise_strength * self._noise(x)
        x = F.leaky_relu(x, 0.2)
        return x * self.output_gain if self.output_gain != 1.0 else x

    def _noise(self, x: torch.Tensor) -> torch.Tensor:
        return pixel_noise(x, self.noise_mode, self.noise_const)

    @torch.no_grad()
    def absorb_input_gain(self, gain: float) -> None:
        """Take over a constant factor of the input: the weights grow by ``gain``."""
        self.weight.mul_(gain)


class StaticToRGB(nn.Module):
    """1x1 convolution to three colour channels with static weights (see :class:`StaticLayer`).

    A learned per-pixel ``texture`` stands in for the fixed noise maps of the modulated layers
    it replaces: added to three channels, it costs next to nothing.
    """

    def __init__(self, in_channels: int, resolution: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(3, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(3))
        self.texture = nn.Parameter(torch.zeros(1, 3, resolution, resolution))
        self.weight_gain = 1.0 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor | None = None) -> torch.Tensor:
        """The block's RGB contribution [B, 3, H, W]."""
        return F.conv2d(x, self.weight * self.weight_gain, self.bias) + self.texture

    @torch.no_grad()
    def absorb_input_gain(self, gain: float) -> None:
        """Take over a constant factor of the input: the weights grow by ``gain``."""
        self.weight.mul_(gain)


class SynthesisBlock(nn.Module):
    """One resolution of the skip generator: (upsample +) two layers, and its RGB contribution.

    ``static`` blocks use :class:`StaticLayer` and :class:`StaticToRGB` (no styles, no noise).
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 static: bool = False):
        super().__init__()
        self.resolution = resolution
        self.static = static
        if resolution == 4:
            self.const = nn.Parameter(torch.randn(out_channels, 4, 4))
            self.conv0 = None
        elif static:
            self.conv0 = StaticLayer(in_channels, out_channels, resolution, up=True)
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=True)
        if static:
            self.conv1 = StaticLayer(out_channels, out_channels, resolution)
            self.torgb = StaticToRGB(out_channels, resolution)
        else:
            self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution)
            self.torgb = ToRGB(out_channels, w_dim)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None,
                w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the block's activations and the RGB image so far."""
        if self.conv0 is None:
            x = self.const.unsqueeze(0).expand(w.shape[0], -1, -1, -1)
        else:
            x = self.conv0(x, w)
        x = self.conv1(x, w)
        y = self.torgb(x, w)
        img = y if img is None else upsample_2x(img) + y
        return x, img


class SynthesisNetwork(nn.Module):
    """``w`` -> image in [-1, 1] (NCHW float), from a learned 4x4 constant up to ``resolution``.

    Parameters
    ----------
    w_dim : int
        Length of ``w``.
    resolution : int
        Output size, a power of two >= 4.
    channels : dict of int to int
        Channel count per resolution (missing keys take the nearest lower resolution's).
    static_from : int, optional
        Render this resolution and the finer ones with static blocks; None: all modulated.
    """

    def __init__(self, w_dim: int, resolution: int, channels: dict[int, int],
                 static_from: int | None = None):
        super().__init__()
        check_resolution(resolution)
        check_static_from(static_from, resolution)
        self.resolution = resolution
        resolutions = synthesis_resolutions(resolution)
        widths = [channels_at(channels, r) for r in resolutions]
        self.blocks = nn.ModuleList(
            SynthesisBlock(widths[max(i - 1, 0)], widths[i], w_dim, r,
                           static=static_from is not None and r >= static_from)
            for i, r in enumerate(resolutions)
        )

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        """Render ``w`` [B, w_dim] to an image [B, 3, R, R]."""
        x = img = None
        for block in self.blocks:
            x, img = block(x, img, w)
        return img

    def freeze(self) -> None:
        """Prepare for export; the weights must not change afterwards.

        Fixes the demodulation factors' weight part and moves each layer's activation gain
        into the styles of the convolutions that read its output, which saves a full pass over
        the activations per layer in the exported graph.
        """
        for conv in self.modules():
            if isinstance(conv, ModulatedConv2d):
                conv.freeze()
        for block in self.blocks:
            readers = [block.torgb]
            if block.conv0 is not None:  # the first block's conv1 reads the constant, no gain
                readers += [block.conv0, block.conv1]
            for reader in readers:
                reader.absorb_input_gain(LRELU_GAIN)
            for layer in (block.conv0, block.conv1):
                if layer is not None:
                    layer.output_gain = 1.0

    def set_noise_mode(self, mode: str) -> None:
        """``"random"`` (training) or ``"const"`` (export, reproducible renders)."""
        if mode not in ("random", "const"):
            raise ValueError(f"noise mode must be 'random' or 'const', not {mode!r}")
        for layer in self.modules():
            if isinstance(layer, SynthesisLayer | StaticLayer):
                layer.noise_mode = mode


class Generator(nn.Module):
    """Mapping + synthesis: (features [B, F], noise [B, Z]) -> image [B, 3, R, R] in [-1, 1].

    Parameters
    ----------
    n_features : int
        Length of the EEG feature vector.
    noise_dim : int
        Length of the noise vector; 0 = no noise input.
    resolution : int
        Output size, a power of two >= 4.
    channels : dict of int to int
        Channel count per resolution (missing keys take the nearest lower resolution's).
    w_dim : int
        Length of the intermediate latent ``w``.
    mapping_layers : int
        Fully connected layers of the mapping network.
    static_from : int, optional
        Render this resolution and the finer ones with static blocks; None: all modulated.
    """

    def __init__(self, n_features: int, noise_dim: int, resolution: int, channels: dict[int, int],
                 w_dim: int = 256, mapping_layers: int = 4, static_from: int | None = None):
        super().__init__()
        self.n_features, self.noise_dim, self.resolution = n_features, noise_dim, resolution
        self.mapping = MappingNetwork(n_features, noise_dim, w_dim, mapping_layers)
        self.synthesis = SynthesisNetwork(w_dim, resolution, channels, static_from)

    def forward(self, features: torch.Tensor, noise: torch.Tensor,
                truncation_psi: float = 1.0) -> torch.Tensor:
        """Render images in [-1, 1] from features and noise."""
        return self.synthesis(self.mapping(features, noise, truncation_psi))


class DiscriminatorBlock(nn.Module):
    """Residual block: two convolutions (the second halves the size) beside a 1x1 skip."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3, down=True)
        self.skip = EqualConv2d(in_channels, out_channels, 1, activate=False, down=True,
                                bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Halve the size through the residual and skip paths."""
        return (self.skip(x) + self.conv1(self.conv0(x))) / math.sqrt(2.0)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """Append the mean standard deviation over groups of samples as one extra channel."""
    n, c, h, w = x.shape
    g = math.gcd(min(group_size, n), n)
    y = x.reshape(g, n // g, c, h, w)
    y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # [n // g]
    y = y.reshape(1, n // g, 1, 1, 1).expand(g, -1, 1, h, w).reshape(n, 1, h, w)
    return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    """Residual StyleGAN2 discriminator, unconditional: image [B, 3, R, R] -> logit [B, 1].

    The EEG features are paired with paintings at random, so there is nothing for D to judge
    about them; G learns to use them as a structured latent.

    Parameters
    ----------
    resolution : int
        Input size, a power of two >= 4.
    channels : dict of int to int
        Channel count per resolution (missing keys take the nearest lower resolution's).
    """

    def __init__(self, resolution: int, channels: dict[int, int]):
        super().__init__()
        check_resolution(resolution)
        resolutions = [2 ** i for i in range(int(math.log2(resolution)), 2, -1)]
        self.from_rgb = EqualConv2d(3, channels_at(channels, resolution), 1)
        self.blocks = nn.Sequential(*(
            DiscriminatorBlock(channels_at(channels, r), channels_at(channels, r // 2))
            for r in resolutions
        ))
        c4 = channels_at(channels, 4)
        self.conv = EqualConv2d(c4 + 1, c4, 3)
        self.fc = EqualLinear(c4 * 16, c4, activate=True)
        self.out = EqualLinear(c4, 1)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """Score images: one logit per image, high for real."""
        x = self.blocks(self.from_rgb(img))
        x = self.conv(minibatch_stddev(x))
        return self.out(self.fc(x.flatten(1)))


def check_resolution(resolution: int) -> None:
    """Raise ValueError unless ``resolution`` is a power of two of at least 4."""
    if resolution < 4 or resolution & (resolution - 1):
        raise ValueError(f"resolution must be a power of two >= 4, not {resolution}")


def check_static_from(static_from: int | None, resolution: int) -> None:
    """Raise ValueError unless ``static_from`` is None or a power of two in (4, resolution]."""
    if static_from is None:
        return
    if not 4 < static_from <= resolution or static_from & (static_from - 1):
        raise ValueError(f"static_from must be a power of two above 4 and at most the resolution "
                         f"{resolution}, not {static_from}")


def synthesis_resolutions(resolution: int) -> list[int]:
    """The resolutions of a generator's blocks: 4, 8, ..., ``resolution``."""
    return [2 ** i for i in range(2, int(math.log2(resolution)) + 1)]


def channels_at(channels: dict[int, int], resolution: int) -> int:
    """Channel count at ``resolution``: its entry, else the nearest lower resolution's."""
    keys = sorted(int(k) for k in channels)
    lower = [k for k in keys if k <= resolution] or keys[:1]
    return int(channels[lower[-1]] if lower[-1] in channels else channels[str(lower[-1])])


def make_ema(generator: Generator) -> Generator:
    """A frozen copy of ``generator`` to hold the exponential moving average of its weights."""
    ema = copy.deepcopy(generator).eval()
    ema.requires_grad_(False)
    return ema


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, beta: float,
               keep: Collection[str] = ()) -> None:
    """Move ``ema``'s parameters toward ``model``'s by ``1 - beta``; copy its buffers.

    Parameters named in ``keep`` (those a leg holds still) stay as ``ema`` has them.
    """
    for (name, p_ema), p in zip(ema.named_parameters(), model.parameters(), strict=True):
        if name not in keep:
            p_ema.copy_(p.detach().lerp(p_ema, beta))
    for b_ema, b in zip(ema.buffers(), model.buffers(), strict=True):
        b_ema.copy_(b.detach())
