"""A default guessed while loading (issue 20, item 10) shows in the window as a status note."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "io"))
from hostile_inputs import nifti_bytes  # noqa: E402


def test_loader_warning_appears_as_a_status_note(window, tmp_path):
    raw = bytearray(nifti_bytes())
    struct.pack_into("<f", raw, 76 + 4 * 3, -2.0)  # pixdim[3] negative: its size is guessed
    f = tmp_path / "negative.nii"
    f.write_bytes(bytes(raw))
    assert window.open_path(str(f))
    assert window.errors == []
    assert window.statusBar().currentMessage() == (
        "negative.nii: voxel size pixdim[3] is negative (-2): 2 mm used"
    )
