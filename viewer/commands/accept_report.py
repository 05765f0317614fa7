"""What accepting a result into a segment did to the other segments, in words.

With "Overwrite other segments" on, an accepted AI result replaces the voxels of other
(unlocked) segments it covers, which the user must be told; the caller
copies the labels of the edit's box before applying it, and `describe_accept` compares them with
the labels after and names how many voxels went to the target and which segments lost how many.
"""

from __future__ import annotations

import numpy as np

from viewer.model.segments import SegmentTable


def taken_from(before: np.ndarray, after: np.ndarray, target: int) -> tuple[int, dict[int, int]]:
    """(voxels now in `target` that were not, {other segment id: voxels it lost to `target`})."""
    gained = (after == target) & (before != target)
    old = before[gained]
    counts = np.bincount(old.ravel(), minlength=1) if old.size else np.zeros(1, np.int64)
    taken = {int(v): int(n) for v, n in enumerate(counts) if v and n}
    return int(np.count_nonzero(gained)), taken


def describe_accept(segments: SegmentTable, target: int, added: int, taken: dict[int, int]) -> str:
    """ "Accepted 12,345 voxels into 'Liver'; took 210 from 'Spleen', 33 from 'Kidney'.\""""
    seg = segments.get(target)
    name = seg.name if seg is not None else f"Segment {target}"
    text = f"Accepted {added:,} voxels into '{name}'"
    if taken:
        parts = []
        for sid, n in sorted(taken.items(), key=lambda item: -item[1]):
            other = segments.get(sid)
            parts.append(f"{n:,} from '{other.name if other is not None else f'label {sid}'}'")
        text += "; took " + ", ".join(parts)
    return text + "."
