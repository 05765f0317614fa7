"""The automatic-segmentation network: a 3-D U-Net with per-axis pooling and deep supervision.

Instance norm and LeakyReLU(0.01) as nnU-Net (batches are 2 patches: batch norm would not
learn stable statistics). Pooling kernels come from the plan, per level and axis (an axis whose
feature map would drop below 4 voxels is not pooled). With `deep_supervision` the forward pass
in training returns the logits at every decoder level (full resolution first); `eval()` and the
exported model return the full-resolution logits only.
"""

from __future__ import annotations

import paddle
from paddle import nn

from segmentation_core.network import ConvBlock  # the interactive net's block: the same recipe


class AutoUNet3D(nn.Layer):
    """(N, in_channels, D, H, W) -> (N, n_classes, D, H, W) logits."""

    def __init__(
        self,
        in_channels: int,
        n_classes: int,
        widths: list[int],
        pool_kernels: list[list[int]],
        deep_supervision: bool = True,
    ) -> None:
        super().__init__()
        if len(widths) != len(pool_kernels) + 1:
            raise ValueError("one width per level: len(widths) == len(pool_kernels) + 1")
        self.widths = list(widths)
        self.deep_supervision = deep_supervision
        self.enc = nn.LayerList()
        self.pools = nn.LayerList()
        cin = in_channels
        for i, w in enumerate(widths):
            self.enc.append(ConvBlock(cin, w))
            cin = w
            if i < len(pool_kernels):
                self.pools.append(nn.MaxPool3D(pool_kernels[i], stride=pool_kernels[i]))
        self.ups = nn.LayerList()
        self.dec = nn.LayerList()
        self.heads = nn.LayerList()
        for i in range(len(pool_kernels) - 1, -1, -1):
            k = pool_kernels[i]
            self.ups.append(nn.Conv3DTranspose(widths[i + 1], widths[i], k, stride=k))
            self.dec.append(ConvBlock(2 * widths[i], widths[i]))
            self.heads.append(nn.Conv3D(widths[i], n_classes, 1))

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.enc):
            x = block(x)
            if i < len(self.pools):
                skips.append(x)
                x = self.pools[i](x)
        outs = []
        for up, dec, head in zip(self.ups, self.dec, self.heads):
            x = dec(paddle.concat([up(x), skips.pop()], axis=1))
            outs.append(head(x))
        if self.deep_supervision and self.training:
            return outs[::-1]  # full resolution first
        return outs[-1]


def build_network(plan: dict, stage: dict) -> AutoUNet3D:
    """The network of one plan stage (input: the image plus the stage's extra channels)."""
    return AutoUNet3D(
        1 + int(stage["extra_channels"]),
        int(plan["n_classes"]),
        stage["widths"],
        stage["pool_kernels"],
        bool(plan.get("deep_supervision", True)),
    )
