"""What a label format declares: its key, its name in file dialogs, the file-name endings it
owns, and how it recognises, reads and writes a file.

A leaf of viewer.io.labels: each module in `formats/` builds one `LabelFormat`, and
`viewer.io.labels.registry` lists them; nothing here knows any particular format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from viewer.model.geometry import Geometry
from viewer.model.label_layers import LabelLayers

# (layers on the file's own grid, whether the file named its segments)
Reader = Callable[[Path], tuple[LabelLayers, bool]]
# (layers, path) -> the path written; must write atomically and verified (viewer.io.atomic_save)
Writer = Callable[[LabelLayers, Path], Path]


class GridFit(str, Enum):
    """How a label file's voxels reached the image grid."""

    SAME_GRID = "same grid"  # stored on the image's own grid: taken as is
    RESAMPLED = "resampled"  # another grid of the same space: nearest neighbour
    NEAREST_VOXEL = "nearest voxel"  # DICOM SEG frames off the voxel centres: nearest voxel


# (path, image grid, image series UID, image frame of reference UID) ->
#     (layers on the image grid, how they were placed, notes)
GridReader = Callable[
    [Path, Geometry, "str | None", "str | None"], tuple[LabelLayers, GridFit, list[str]]
]


@dataclass(frozen=True)
class LabelFormat:
    """One label file format.

    `suffixes`: lower-case name endings, the first is the one a save proposes. `sniff(path)`:
    True when the file's content says it is this format whatever its name (checked before the
    endings). A format reads with `read` (on its own grid) or, when it has no grid of its own,
    `read_onto` (placed on the image); it can be saved to when it has `write`. `layers`: the
    writer keeps overlapping segments (else it gets one label map). `empty_segments`: the file
    stores segments without voxels, so a label map saved to it brings the segment table's
    undrawn entries (names, colours, ids) along. `read_only_suffixes`: endings of `suffixes`
    that are read but not offered for saving.
    """

    key: str
    name: str
    suffixes: tuple[str, ...]
    read: Reader | None = None
    write: Writer | None = None
    sniff: Callable[[Path], bool] | None = None
    read_onto: GridReader | None = None
    layers: bool = False
    empty_segments: bool = False
    read_only_suffixes: tuple[str, ...] = ()  # endings read but never written (a .nhdr pair)

    @property
    def write_suffixes(self) -> tuple[str, ...]:
        """The endings a save to this format may have."""
        return tuple(s for s in self.suffixes if s not in self.read_only_suffixes)

    @property
    def file_filter(self) -> str:
        """This format's file-dialog filter, e.g. 'NIfTI label map (*.nii.gz *.nii)'."""
        return f"{self.name} ({' '.join('*' + s for s in self.suffixes)})"

    @property
    def save_file_filter(self) -> str:
        """The filter of a save dialog: only the endings this format writes."""
        return f"{self.name} ({' '.join('*' + s for s in self.write_suffixes)})"

    def matches_name(self, path: str | Path) -> str:
        """The ending of `path` this format owns ('' when none)."""
        name = Path(path).name.lower()
        return next((s for s in self.suffixes if name.endswith(s)), "")
