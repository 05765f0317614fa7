"""The automatic model's one orientation: every image is turned to it before training and
inference, and the result is turned back onto the image's own grid.

A network learns anatomy in array order, so a model trained on sagittal FreeSurfer volumes
(LIA) sees a rotated, mirrored head in an axial DICOM series (LPS) and fails there. nnU-Net
leaves this to the dataset; a tool that takes any study cannot. The turn is a permutation of the
array axes plus flips (no interpolation), chosen from the ITK direction matrix so that array
axis 2 (x) runs towards the patient's left, axis 1 (y) towards posterior and axis 0 (z)
towards superior: the canonical orientation is LPS, the identity direction. An oblique grid
takes the nearest such turn. Going back is the exact inverse, so labels land voxel for voxel on
the input grid and its spacing, origin and direction are untouched.

With this orientation fixed, a left-right mirror is a flip of array axis 2
(`LEFT_RIGHT_AXIS`), which is what left/right label swapping (`mirror_pairs`) relies on.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace

import numpy as np

CANONICAL = "LPS"
LEFT_RIGHT_AXIS = 2  # array axis (z, y, x) that runs right -> left in the canonical orientation


@dataclass(frozen=True)
class Reorientation:
    """Canonical array axis k is source array axis `order[k]`, reversed where `flip[k]`."""

    order: tuple[int, int, int] = (0, 1, 2)
    flip: tuple[bool, bool, bool] = (False, False, False)

    @property
    def is_identity(self) -> bool:
        return self.order == (0, 1, 2) and not any(self.flip)


def reorientation(direction=None) -> Reorientation:
    """The turn that brings an image with this ITK direction (3x3, columns = the world
    directions of the x, y, z index axes; None = identity) to the canonical orientation."""
    if direction is None:
        return Reorientation()
    d = np.asarray(direction, dtype=float).reshape(3, 3)
    if not np.all(np.isfinite(d)):
        raise ValueError("direction matrix has non-finite entries")
    # pair index axes with world axes so that the summed |cosine| is largest (as the viewer's
    # display frame does); for an axis-aligned grid this is the one exact pairing
    best = max(
        itertools.permutations(range(3)),
        key=lambda ws: sum(abs(d[w, i]) for i, w in enumerate(ws)),
    )
    world_of_index = dict(enumerate(best))
    order = [0, 0, 0]
    flip = [False, False, False]
    for i, w in world_of_index.items():
        k = 2 - w  # world x (L) is array axis 2, world z (S) is array axis 0
        order[k] = 2 - i
        flip[k] = bool(d[w, i] < 0)
    return Reorientation(tuple(order), tuple(flip))  # type: ignore[arg-type]


def _flips(r: Reorientation) -> tuple[slice, ...]:
    return tuple(slice(None, None, -1) if f else slice(None) for f in r.flip)


def to_canonical(array: np.ndarray, r: Reorientation) -> np.ndarray:
    """`array` (z, y, x) in the canonical orientation (a view: no copy)."""
    if r.is_identity:
        return array
    return np.transpose(array, r.order)[_flips(r)]


def from_canonical(array: np.ndarray, r: Reorientation) -> np.ndarray:
    """A canonical-orientation array back in the source orientation (contiguous)."""
    if r.is_identity:
        return array
    return np.ascontiguousarray(np.transpose(array[_flips(r)], np.argsort(r.order)))


def canonical_spacing(spacing_zyx, r: Reorientation) -> tuple[float, float, float]:
    s = [float(v) for v in spacing_zyx]
    return (s[r.order[0]], s[r.order[1]], s[r.order[2]])


def _turned(item, fields: tuple[str, ...], contiguous: bool = False):
    """`item` (a dataclass with `direction` and `spacing_zyx`) with its arrays `fields` turned
    to the canonical orientation; its direction becomes None."""
    r = reorientation(item.direction)
    if r.is_identity:
        return replace(item, direction=None) if item.direction is not None else item
    turned = {f: to_canonical(getattr(item, f), r) for f in fields}
    if contiguous:
        turned = {f: np.ascontiguousarray(a) for f, a in turned.items()}
    spacing = canonical_spacing(item.spacing_zyx, r)
    return replace(item, **turned, spacing_zyx=spacing, direction=None)


def canonical_case(case):
    """An `AutoCase` turned to the canonical orientation, image and label together."""
    return _turned(case, ("image", "label"))


def canonical_map(cmap):
    """A generator label map (`CompactMap`) turned to the canonical orientation (its codes
    contiguous: every generated image is drawn from them)."""
    return _turned(cmap, ("codes",), contiguous=True)


_SIDE = re.compile(r"(?i)(?<![a-z])(left|right|lh|rh|l|r)(?![a-z])")
_SWAP = {"left": "right", "right": "left", "lh": "rh", "rh": "lh", "l": "r", "r": "l"}


def mirror_pairs(names_by_class: dict[int, str]) -> list[tuple[int, int]]:
    """Class pairs whose names differ only in the side word (Left-/Right-Hippocampus,
    left kidney/right kidney, lh/rh, L/R): the classes a left-right mirror exchanges."""
    key_of = {}
    for c, name in names_by_class.items():
        if _SIDE.search(name):
            swapped = _SIDE.sub(lambda m: _SWAP[m.group(1).lower()], name)
            key_of[c] = (name.lower(), swapped.lower())
    by_name = {name: c for c, (name, _) in key_of.items()}
    pairs = set()
    for c, (_, swapped) in key_of.items():
        other = by_name.get(swapped)
        if other is not None and other != c:
            pairs.add((min(c, other), max(c, other)))
    return sorted(pairs)


def swap_permutation(n_classes: int, pairs) -> np.ndarray:
    """Class index permutation exchanging each pair (classes 0..n_classes-1)."""
    perm = np.arange(n_classes)
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return perm


def plan_mirroring(plan: dict, mirror: bool | None) -> tuple[tuple[int, ...], tuple | None]:
    """(mirror axes, swap) for inference with test-time mirroring asked, refused, or left to
    the plan (None: mirror exactly when the model trained with mirroring, as nnU-Net does by
    default). A plan that records `mirror_pairs` mirrors only along the axes it trained with,
    exchanging the pairs along the left-right axis; an older plan mirrors along every axis,
    without exchange, and only when asked."""
    if mirror is None:
        mirror = bool(plan.get("mirror_axes")) and "mirror_pairs" in plan
    if not mirror:
        return (), None
    if "mirror_pairs" not in plan:
        return (0, 1, 2), None
    axes = tuple(int(a) for a in plan.get("mirror_axes", []))
    perm = swap_permutation(int(plan["n_classes"]), plan["mirror_pairs"])
    return axes, ((LEFT_RIGHT_AXIS, perm) if LEFT_RIGHT_AXIS in axes else None)


def training_swap(plan: dict) -> np.ndarray | None:
    """The class permutation of a left-right mirror when the plan trains with it, else None."""
    _, swap = plan_mirroring(plan, True)  # older plans: no exchange, so no training flips
    return None if swap is None else swap[1]


# an unpaired label at least this symmetric about the midline may be mirrored: the brain's
# midline structures and its sulcal CSF pass (the maps differ from their mirror only by each
# head's asymmetry), a one-sided organ mirrors onto other tissue and scores near 0
MIDLINE_DICE = 0.4


def mirror_decision(
    names_by_class: dict[int, str], symmetric: set[int] | frozenset = frozenset()
) -> tuple[list[tuple[int, int]], bool, str]:
    """(pairs, mirror or not, why): mirror left-right only when every class has a partner or
    lies on the midline (`symmetric`: the brain-stem, a ventricle), so that a mirrored head
    with Left/Right exchanged is still a head; a liver or a spleen has no partner and is not
    symmetric, and a mirrored abdomen is not one a scanner will show."""
    pairs = mirror_pairs(names_by_class)
    paired = {c for p in pairs for c in p}
    midline = [
        names_by_class[c] for c in sorted(names_by_class) if c not in paired and c in symmetric
    ]
    unpaired = [
        names_by_class[c] for c in sorted(names_by_class) if c not in paired and c not in symmetric
    ]
    if not pairs:
        return pairs, False, "no mirroring: no left/right label pairs"
    if unpaired:
        why = f"no mirroring: {', '.join(unpaired[:3])} have no left/right partner"
        return pairs, False, why + " and are not symmetric about the midline"
    why = f"left-right mirroring with {len(pairs)} left/right pairs exchanged"
    return pairs, True, why + (f" (on the midline: {', '.join(midline[:3])})" if midline else "")
