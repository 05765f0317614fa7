"""The FLOP counter used by benchmarks/bench_training.py, against hand-counted networks."""

from __future__ import annotations

import paddle
from paddle import nn

from segmentation_core.training.flops import conv_flops


def test_counts_convolutions_and_transposed_convolutions():
    net = nn.Sequential(
        nn.Conv3D(3, 4, 3, padding=1),  # out 1x4x8x8x8: 2 * 2048 * 3 * 27 = 331,776
        nn.MaxPool3D(2),
        nn.Conv3DTranspose(4, 5, 2, stride=2),  # in 1x4x4x4x4 = 256: 2 * 256 * 5 * 8 = 20,480
        nn.Conv3D(5, 1, 1),  # out 1x1x8x8x8 = 512: 2 * 512 * 5 * 1 = 5,120
    )
    assert conv_flops(net, (1, 3, 8, 8, 8)) == 331_776 + 20_480 + 5_120
    assert conv_flops(net, (2, 3, 8, 8, 8)) == 2 * (331_776 + 20_480 + 5_120)


def test_grouped_and_strided_convolution():
    net = nn.Conv3D(4, 8, 3, stride=2, padding=1, groups=2)  # out 1x8x4x4x4 = 512, Cin/g = 2
    assert conv_flops(net, (1, 4, 8, 8, 8)) == 2 * 512 * 2 * 27


def test_leaves_the_training_mode_as_it_was():
    net = nn.Sequential(nn.Conv3D(1, 1, 1))
    net.train()
    conv_flops(net, (1, 1, 2, 2, 2))
    assert net.training
    assert paddle.is_grad_enabled()
