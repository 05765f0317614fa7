"""`CompactMap`: a label map kept small for generating images again and again (training).

A 256^3 head map holds ~50 distinct values, so it is stored cropped to the head's box as 8-bit
codes into a table of the real values (about 8 MB instead of 64 MB as int32). Twenty maps then
travel cheaply to a training worker process. Generation runs on the codes and the label is
turned back into real values afterwards, so the result equals `generate` on the cropped map.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from segmentation_core.synth.generate import generate_detailed, head_box, maybe_strip
from segmentation_core.synth.intensity import label_values
from segmentation_core.synth.params import SynthParams


@dataclass(frozen=True)
class CompactMap:
    """Codes (uint8, or uint16 past 255 values) into `values`; code 0 is value 0."""

    name: str
    codes: np.ndarray
    values: np.ndarray  # int64, values[code]
    spacing_zyx: tuple[float, float, float]
    # ITK direction of the map's grid (None: identity); the automatic model turns maps to its
    # orientation (`segmentation_core.auto.orientation.canonical_map`)
    direction: tuple | None = None

    @classmethod
    def from_labels(
        cls,
        name: str,
        labels: np.ndarray,
        spacing_zyx,
        margin_mm: float | None = 10.0,
        direction=None,
    ) -> CompactMap:
        """`labels` (integer, z y x) cropped to its non-zero box plus `margin_mm` (None: the
        whole grid) and coded."""
        if margin_mm is not None:
            start, stop = head_box(labels, spacing_zyx, margin_mm)
            labels = labels[tuple(slice(a, b) for a, b in zip(start, stop, strict=True))]
        present = label_values(labels)
        values = np.union1d(present, [0])
        values = np.concatenate([[0], values[values != 0]])  # 0 first: code 0 is background
        dtype = np.uint8 if len(values) <= 256 else np.uint16
        if len(values) > 65536:
            raise ValueError(f"{name}: more than 65536 label values")
        order = np.argsort(values)
        codes = order[np.searchsorted(values[order], labels)].astype(dtype)
        spacing = tuple(float(s) for s in spacing_zyx)
        if direction is not None:
            direction = tuple(float(v) for v in np.asarray(direction, float).ravel())
        return cls(name, codes, values.astype(np.int64), spacing, direction)

    def labels(self) -> np.ndarray:
        """The real values back (int32)."""
        return self.values.astype(np.int32)[self.codes]

    def generate(
        self, rng: np.random.Generator, params: SynthParams | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(float32 image, int32 label with `params`' dropped values set to 0) on this map's
        grid: the codes are generated on, then mapped back to values."""
        p = params or SynthParams()
        keep_all = replace(
            p, drop_min=None, drop_values=(), crop_margin_mm=None, stripped_probability=0.0
        )
        if p.prior:  # the prior names real values: generation sees their codes
            table = dict(p.prior)
            coded = tuple(
                (code, table[int(v)]) for code, v in enumerate(self.values) if int(v) in table
            )
            keep_all = replace(keep_all, prior=coded)
        r = generate_detailed(self.codes, self.spacing_zyx, rng, keep_all)
        out_values = np.array(
            [0 if p.dropped(int(v)) else int(v) for v in self.values], dtype=np.int32
        )
        label = out_values[r.label]
        whole_head = any(p.dropped(int(v)) for v in self.values)
        maybe_strip(rng, r.image, label, whole_head, p)  # on the real values: what is dropped
        return r.image, label
