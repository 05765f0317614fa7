"""Dice + cross-entropy on softmax logits, with deep-supervision weights (nnU-Net's loss).

Soft Dice is computed over the whole batch per foreground class (batch Dice: small structures
absent from one patch do not make the loss jump) and averaged over the classes present in the
batch; the cross-entropy is plain.
Deep supervision: the outputs at coarser decoder levels get halving weights (normalised to
sum 1), against the target subsampled by nearest neighbour.
"""

from __future__ import annotations

import numpy as np
import paddle
import paddle.nn.functional as F

MAX_CLASS_WEIGHT = 30.0  # cap: a class of a few voxels must not swamp the batch


def class_weights(target: np.ndarray, n_classes: int) -> np.ndarray:
    """Cross-entropy weights from the batch's class counts: sqrt(background / class), at least 1,
    at most MAX_CLASS_WEIGHT (classes absent from the batch: 1).

    Why: a dozen small structures fill ~1 % of a CPU-sized patch; with plain cross-entropy the
    net first learns "background everywhere", the softmax saturates and the soft Dice's gradient
    through it vanishes, so a short CPU schedule never leaves that state (measured: pseudo-Dice 0
    after 400 steps). Weighting the rare classes up keeps their logits in play from the start."""
    counts = np.bincount(target.reshape(-1), minlength=n_classes)[:n_classes].astype(np.float64)
    w = np.ones(n_classes, np.float32)
    present = counts[1:] > 0
    ratio = np.sqrt(max(counts[0], 1.0) / np.maximum(counts[1:], 1.0))
    w[1:][present] = np.clip(ratio[present], 1.0, MAX_CLASS_WEIGHT)
    return w


def dice_ce(logits, target, n_classes: int, smooth: float = 1e-5, weights=None):
    """logits (N, C, D, H, W), target int64 (N, D, H, W); `weights`: per-class cross-entropy
    weights (numpy, length C) or None."""
    w = None if weights is None else paddle.to_tensor(np.asarray(weights, np.float32))
    ce = F.cross_entropy(logits, target.unsqueeze(1), axis=1, weight=w)
    probs = F.softmax(logits, axis=1)
    onehot = F.one_hot(target, n_classes).transpose([0, 4, 1, 2, 3])
    dims = [0, 2, 3, 4]
    inter = (probs * onehot).sum(axis=dims)
    denom = probs.sum(axis=dims) + onehot.sum(axis=dims)
    dice = (2 * inter + smooth) / (denom + smooth)
    # only the foreground classes present in the batch: with small CPU patches most of a dozen
    # structures are absent from any one batch, and nnU-Net's Dice would then push their
    # probability to zero everywhere (the net collapsed to background); cross-entropy still
    # penalises false positives of absent classes
    present = (onehot.sum(axis=dims)[1:] > 0).astype("float32")
    fg_dice = ((1.0 - dice[1:]) * present).sum() / paddle.clip(present.sum(), min=1.0)
    return ce.mean() + fg_dice


def downsample_targets(target: np.ndarray, shapes) -> list[np.ndarray]:
    """The (N, D, H, W) target subsampled to each output's spatial shape (nearest)."""
    out = []
    for shape in shapes:
        steps = [max(1, a // b) for a, b in zip(target.shape[1:], shape)]
        out.append(np.ascontiguousarray(target[:, :: steps[0], :: steps[1], :: steps[2]]))
    return out


def deep_supervision_loss(outputs, target: np.ndarray, n_classes: int, weighted_ce: bool = False):
    """Weighted Dice+CE over the decoder outputs (a single tensor works too); `weighted_ce`:
    cross-entropy with `class_weights` of each output's target."""
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    weights = np.asarray([0.5**i for i in range(len(outputs))])
    if len(outputs) > 1:
        weights[-1] = 0.0  # the coarsest output is too coarse to supervise (nnU-Net)
    weights = weights / weights.sum()
    targets = downsample_targets(target, [o.shape[2:] for o in outputs])
    total = None
    for w, out, t in zip(weights, outputs, targets):
        if w == 0:
            # not supervised, but in the graph with a zero gradient: under paddle.DataParallel
            # every parameter must get a gradient each step or the gradient all-reduce waits
            # for the coarsest head's forever ("multiple forwards and one backward")
            term = out.sum() * 0.0
        else:
            cw = class_weights(t, n_classes) if weighted_ce else None
            term = dice_ce(out, paddle.to_tensor(t.astype(np.int64)), n_classes, weights=cw)
            term = term * float(w)
        total = term if total is None else total + term
    return total
