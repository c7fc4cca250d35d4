"""The training step's fast paths compute what the plain ones did."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from models.configs import CONFIGS
from models.networks import EqualConv2d, SynthesisLayer, lrelu, pooled_kernel
from models.training.trainer import Trainer


@pytest.mark.parametrize("kernel", [1, 3])
def test_stride_two_convolution_equals_convolution_then_pooling(kernel):
    torch.manual_seed(0)
    conv = EqualConv2d(6, 10, kernel, activate=False, down=True)
    with torch.no_grad():
        conv.bias.normal_()
    x = torch.randn(3, 6, 16, 16)
    plain = F.avg_pool2d(F.conv2d(x, conv.weight * conv.weight_gain, conv.bias,
                                  padding=kernel // 2), 2)
    assert conv(x).shape == plain.shape
    torch.testing.assert_close(conv(x), plain, atol=1e-5, rtol=1e-5)


def test_pooled_kernel_grows_by_one_and_keeps_the_sum():
    weight = torch.randn(4, 2, 3, 3)
    pooled = pooled_kernel(weight)
    assert pooled.shape == (4, 2, 4, 4)
    torch.testing.assert_close(pooled.sum((2, 3)), weight.sum((2, 3)))


def test_downsampling_an_odd_size_is_refused():
    with pytest.raises(ValueError, match="even size"):
        EqualConv2d(2, 2, 3, down=True)(torch.randn(1, 2, 7, 8))


def test_channels_last_step_matches_the_plain_layout():
    cfg = CONFIGS["tiny"]
    g_kwargs, d_kwargs, train = cfg.network_kwargs(32, 4, 25)
    losses = []
    for channels_last in (False, True):
        torch.manual_seed(0)
        trainer = Trainer(g_kwargs, d_kwargs, train, torch.device("cpu"), channels_last)
        gen = torch.Generator().manual_seed(1)
        reals = torch.rand(4, 3, 32, 32, generator=gen) * 2 - 1
        torch.manual_seed(2)
        first = trainer.step(reals, torch.randn(4, 25, generator=gen),
                             torch.randn(4, cfg.noise_dim, generator=gen))
        second = trainer.step(reals, torch.randn(4, 25, generator=gen),
                              torch.randn(4, cfg.noise_dim, generator=gen))
        losses.append((first["loss_D"], first["loss_G"], second["loss_D"], second["loss_G"]))
    assert losses[0] == pytest.approx(losses[1], rel=1e-3, abs=1e-4)


def test_the_fused_training_layer_equals_the_plain_one_with_its_gradients():
    """Training's multiply-add (demodulation, noise, bias, gain) paints what export's graph does."""
    torch.manual_seed(0)
    layer = SynthesisLayer(8, 6, 16, resolution=16, up=True)
    with torch.no_grad():
        layer.bias.normal_()
        layer.noise_strength.fill_(0.3)
    layer.noise_mode = "const"
    x, w = torch.randn(3, 8, 8, 8), torch.randn(3, 16)
    outputs, grads = [], []
    for training in (True, False):
        layer.train(training)
        layer.zero_grad()
        out = layer(x, w)
        (out * torch.linspace(-1, 1, out.numel()).reshape(out.shape)).sum().backward()
        outputs.append(out.detach())
        grads.append([p.grad.clone() for p in layer.parameters()])
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-5, atol=1e-5)
    assert outputs[0].min() < 0 < outputs[0].max()  # both sides of the leaky ReLU were taken
    for fused, plain in zip(*grads, strict=True):
        torch.testing.assert_close(fused, plain, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("down", [False, True])
def test_a_convolution_with_its_gain_in_the_weights_equals_convolve_then_activate(down):
    torch.manual_seed(1)
    conv = EqualConv2d(4, 5, 3, down=down)
    with torch.no_grad():
        conv.bias.normal_()
    x = torch.randn(2, 4, 8, 8)
    weight = conv.weight * conv.weight_gain
    if down:
        plain = F.avg_pool2d(F.conv2d(x, weight, conv.bias, padding=1), 2)
    else:
        plain = F.conv2d(x, weight, conv.bias, padding=1)
    torch.testing.assert_close(conv(x), lrelu(plain), rtol=1e-5, atol=1e-5)
