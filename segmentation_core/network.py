"""The interactive 3D U-Net (Paddle), sized for CPU inference: about 0.35 M parameters."""

from __future__ import annotations

import paddle
from paddle import nn

from segmentation_core.encoding import IN_CHANNELS

DEFAULT_WIDTHS = (8, 16, 32, 64)


class ConvBlock(nn.Layer):
    """Two 3x3x3 convolutions with instance norm and LeakyReLU (batch sizes are tiny here)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv3D(cin, cout, 3, padding=1),
            nn.InstanceNorm3D(cout),
            nn.LeakyReLU(0.01),
            nn.Conv3D(cout, cout, 3, padding=1),
            nn.InstanceNorm3D(cout),
            nn.LeakyReLU(0.01),
        )

    def forward(self, x):
        return self.body(x)


class InteractiveUNet3D(nn.Layer):
    """Image + click maps + previous mask in, one logit map out (same spatial size)."""

    def __init__(self, widths=DEFAULT_WIDTHS, in_channels: int = IN_CHANNELS) -> None:
        super().__init__()
        self.widths = tuple(widths)
        self.down = nn.LayerList()
        cin = in_channels
        for w in self.widths:
            self.down.append(ConvBlock(cin, w))
            cin = w
        self.pool = nn.MaxPool3D(2)
        self.up = nn.LayerList()
        self.dec = nn.LayerList()
        for w_hi, w_lo in zip(self.widths[::-1][:-1], self.widths[::-1][1:]):
            self.up.append(nn.Conv3DTranspose(w_hi, w_lo, 2, stride=2))
            self.dec.append(ConvBlock(2 * w_lo, w_lo))
        self.head = nn.Conv3D(self.widths[0], 1, 1)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.down):
            x = block(x)
            if i < len(self.down) - 1:
                skips.append(x)
                x = self.pool(x)
        for up, dec in zip(self.up, self.dec):
            x = up(x)
            x = dec(paddle.concat([x, skips.pop()], axis=1))
        return self.head(x)


def count_parameters(net: nn.Layer) -> int:
    return int(sum(p.size for p in net.parameters()))
