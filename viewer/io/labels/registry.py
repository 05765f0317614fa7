"""The label formats the app knows, in one list: which format a file is (by content, then by
name), which formats can be saved to, and the file-dialog filters built from them.

To add a format: write `viewer/io/labels/formats/<name>.py` defining `FORMAT` and add it to
`FORMATS` below (CONTRIBUTING.md, "Add a label format"); `register` does the same at run time.
"""

from __future__ import annotations

from pathlib import Path

from viewer.errors import LoadError
from viewer.io.file_checks import regular_file_size
from viewer.io.labels.format import LabelFormat
from viewer.io.labels.formats import dicom_seg, metaimage, nifti, nrrd, seg_nrrd

# Order matters: content sniffing runs in this order (a DICOM file is one whatever its name, so
# it comes before the NRRD header check), the first writable format is the one a save proposes,
# and the file dialogs list them so.
FORMATS: list[LabelFormat] = [
    dicom_seg.FORMAT,
    nifti.FORMAT,
    seg_nrrd.FORMAT,
    nrrd.FORMAT,
    metaimage.FORMAT,
]


def register(fmt: LabelFormat) -> None:
    """Add (or replace, by key) a label format; it is then read, saved and offered in the file
    dialogs like the built-in ones."""
    unregister(fmt.key)
    FORMATS.append(fmt)


def unregister(key: str) -> None:
    FORMATS[:] = [f for f in FORMATS if f.key != key]


def by_key(key: str) -> LabelFormat:
    return next(f for f in FORMATS if f.key == key)


def writable() -> list[LabelFormat]:
    """The formats labels can be saved to."""
    return [f for f in FORMATS if f.write is not None]


def readable_text() -> str:
    """e.g. 'NIfTI label map (.nii.gz, .nii), ... or DICOM SEG (.dcm)', for messages."""
    parts = [f"{f.name} ({', '.join(f.suffixes)})" for f in FORMATS]
    return ", ".join(parts[:-1]) + " or " + parts[-1] if len(parts) > 1 else "".join(parts)


def format_for_name(path: str | Path, formats: list[LabelFormat] | None = None) -> LabelFormat:
    """The format whose ending `path` has (the longest ending wins: .seg.nrrd over .nrrd);
    LoadError when none has it."""
    best, best_len = None, 0
    for f in FORMATS if formats is None else formats:
        ending = f.matches_name(path)
        if len(ending) > best_len:
            best, best_len = f, len(ending)
    if best is None:
        raise LoadError(
            f"unknown label file type: RadLabel reads labels from {readable_text()} files", path
        )
    return best


def save_format(path: str | Path) -> LabelFormat:
    """The format a label file of this name is saved in; LoadError for names no writable
    format owns."""
    endings = [f.write_suffixes[0] for f in writable()]
    try:
        found = format_for_name(path, writable())
    except LoadError:
        raise LoadError(
            f"unknown label file type (use {', '.join(endings[:-1])} or {endings[-1]})", path
        ) from None
    ending = found.matches_name(path)
    if ending in found.read_only_suffixes:
        raise LoadError(
            f"RadLabel reads {ending} labels but does not write them "
            f"(use {found.write_suffixes[0]})",
            path,
        )
    return found


def read_format(path: Path) -> LabelFormat:
    """The format of an existing label file: the first whose `sniff` claims its content, else
    by its name; LoadError for a missing, empty or unknown file, or a folder."""
    if not path.exists():
        raise LoadError("no such file", path)
    if path.is_dir():
        raise LoadError(f"a folder is not a label file: choose one {readable_text()} file", path)
    if regular_file_size(str(path)) == 0:  # a FIFO would block the reads below forever
        raise LoadError("file is empty", path)
    for f in FORMATS:
        if f.sniff is not None and f.sniff(path):
            return f
    return format_for_name(path)


def save_suffixes() -> tuple[str, ...]:
    """Every ending labels can be saved with, longest first (so `.seg.nrrd` is found before
    `.nrrd` by a first-match search)."""
    return tuple(sorted({s for f in writable() for s in f.write_suffixes}, key=len, reverse=True))


def default_save_suffix() -> str:
    return writable()[0].write_suffixes[0]


def save_filter() -> str:
    """The save dialog's filter: one entry with every ending a save understands."""
    return _all_of("Label files", writable(), writing=True)


def open_filter() -> str:
    """The open dialog's filter: all files first (a DICOM SEG often has no ending at all), then
    every readable ending, then each format."""
    return ";;".join(
        ["All files (*)", _all_of("Label files", FORMATS), *(f.file_filter for f in FORMATS)]
    )


def _all_of(title: str, formats: list[LabelFormat], writing: bool = False) -> str:
    endings: list[str] = []
    for f in formats:
        endings += [s for s in (f.write_suffixes if writing else f.suffixes) if s not in endings]
    return f"{title} ({' '.join('*' + s for s in endings)})"
