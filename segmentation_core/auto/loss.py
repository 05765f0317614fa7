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

from segmentation_core.training.static_graph import exp, reduce_sum

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
    weights (numpy or a tensor, length C) or None.

    Built from ops that also make the static training graph (`reduce_sum`, `exp`; the weighted
    cross-entropy by hand, sum(w_y * nll) / sum(w_y) as `F.cross_entropy` defines it, whose
    weighted path calls a PIR-only binding there).

    Why channels last: Paddle's CPU (log-)softmax over axis 1 of an NCDHW tensor walks memory
    with a stride of D*H*W; in the profiler of the automatic model's static training step it
    was the largest cost after the convolutions. Over the last axis it is contiguous
    (`benchmarks/bench_auto_loss.py` times both). The probabilities are the exponential of the
    log-probabilities rather than a second softmax."""
    logp = F.log_softmax(paddle.transpose(logits, [0, 2, 3, 4, 1]), axis=-1)
    onehot = F.one_hot(target, n_classes)  # (N, D, H, W, C)
    nll = -reduce_sum(logp * onehot, [4])
    if weights is None:
        ce = paddle.mean(nll)
    else:
        if isinstance(weights, np.ndarray):
            weights = paddle.to_tensor(weights.astype(np.float32))
        per_voxel = reduce_sum(onehot * paddle.reshape(weights, [1, 1, 1, 1, n_classes]), [4])
        ce = reduce_sum(nll * per_voxel) / reduce_sum(per_voxel)
    return ce + present_class_dice_loss(exp(logp), onehot, [0, 1, 2, 3], smooth)


def present_class_dice_loss(probs, onehot, dims: list[int], smooth: float = 1e-5):
    """1 - soft Dice, averaged over the foreground classes present in `onehot`; `dims`: every
    axis but the class axis (the class axis last or second)."""
    inter = reduce_sum(probs * onehot, dims)
    counts = reduce_sum(onehot, dims)
    dice = (2 * inter + smooth) / (reduce_sum(probs, dims) + counts + smooth)
    # only the foreground classes present in the batch: with small CPU patches most of a dozen
    # structures are absent from any one batch, and nnU-Net's Dice would then push their
    # probability to zero everywhere (the net collapsed to background); cross-entropy still
    # penalises false positives of absent classes
    present = (counts[1:] > 0).astype("float32")
    return reduce_sum((1.0 - dice[1:]) * present) / paddle.clip(reduce_sum(present), min=1.0)


def supervision_weights(n_outputs: int) -> np.ndarray:
    """Halving weights from full resolution down, the coarsest 0 (too coarse to supervise, as
    nnU-Net), normalised to sum 1."""
    weights = np.asarray([0.5**i for i in range(n_outputs)])
    if n_outputs > 1:
        weights[-1] = 0.0
    return weights / weights.sum()


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
    weights = supervision_weights(len(outputs))
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


# --- the same loss as a static graph's feeds and ops (training/static_graph.py) ----------------
def supervision_feed(
    x: np.ndarray, target: np.ndarray, shapes, n_classes: int, weighted_ce: bool
) -> dict[str, np.ndarray]:
    """The graph's inputs for one batch: the image `x`, each supervised output's target `t<i>`
    and, with `weighted_ce`, its cross-entropy weights `w<i>`."""
    feed = {"x": x}
    for i, t in enumerate(downsample_targets(target, shapes)):
        feed[f"t{i}"] = t.astype(np.int64)
        if weighted_ce:
            feed[f"w{i}"] = class_weights(t, n_classes)
    return feed


def supervision_graph_loss(outputs, feeds: dict, n_classes: int, weighted_ce: bool):
    """`deep_supervision_loss` over the graph's feeds (`supervision_feed`'s names); the
    unsupervised coarsest output is left out (no DataParallel in the graph)."""
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    total = None
    for i, (w, out) in enumerate(zip(supervision_weights(len(outputs)), outputs)):
        if w == 0:
            continue
        cw = feeds[f"w{i}"] if weighted_ce else None
        term = dice_ce(out, feeds[f"t{i}"], n_classes, weights=cw) * float(w)
        total = term if total is None else total + term
    return total
