"""Counts a network's convolution FLOPs (multiply and add = 2) for one forward pass.

Conv3D: 2 x output voxels x Cout x Cin/groups x k^3; Conv3DTranspose: 2 x input voxels x Cin x
Cout/groups x k^3 (each input voxel scatters into a k^3 block). Norms, activations, pooling and
bias adds are left out: in this U-Net they are under 1 % of the work. A training step's backward
pass is about twice its forward (gradients for inputs and for weights).
"""

from __future__ import annotations

from math import prod


def conv_flops(net, input_shape: tuple[int, ...]) -> int:
    """FLOPs of `net`'s convolutions for one forward pass on an input of `input_shape`
    (N, C, D, H, W), found by running the network once on zeros with hooks on its layers."""
    import paddle
    from paddle import nn

    total = 0

    def hook(layer, inputs, output):
        nonlocal total
        w = layer.weight.shape  # Conv3D: (Cout, Cin/g, k...); Conv3DTranspose: (Cin, Cout/g, k...)
        k = prod(w[2:])
        if isinstance(layer, nn.Conv3DTranspose):
            x = inputs[0]
            total += 2 * prod(x.shape) * w[1] * k  # N*Cin*voxels_in x Cout/g x k^3
        else:
            total += 2 * prod(output.shape) * w[1] * k  # N*Cout*voxels_out x Cin/g x k^3

    handles = [
        layer.register_forward_post_hook(hook)
        for layer in net.sublayers(include_self=True)
        if isinstance(layer, (nn.Conv3D, nn.Conv3DTranspose))
    ]
    was_training = net.training
    net.eval()
    try:
        with paddle.no_grad():
            net(paddle.zeros(input_shape, "float32"))
    finally:
        for h in handles:
            h.remove()
        if was_training:
            net.train()
    return int(total)
