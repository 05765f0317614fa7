"""Where the "Save labels" dialog starts and the name it proposes.

The dialog starts in the image's folder (for a DICOM series, the folder that holds the series
folder) and proposes `<image stem>_labels<suffix>`: the stem is the file name without its image
suffixes (.nii.gz, .nii, .nrrd, .mha, ...), for DICOM the series description or else the series
folder's name. The suffix is the one of the last labels saved (at first the first writable
format's of viewer.io.labels.registry, .nii.gz); the dialog's filter is the registry's. When the
image has no folder one can write in, the dialog starts in the folder labels were last saved to.
Labels that already have a file (saved, opened or recovered) propose that file.
"""

from __future__ import annotations

import os
import re

from PyQt5 import QtCore, QtWidgets

from viewer.io.labels.registry import default_save_suffix, save_filter, save_suffixes
from viewer.io.volume_files import FILE_SUFFIXES
from viewer.model.document import Document
from viewer.model.volume import Volume


def image_stem(volume: Volume) -> str:
    """The name the label file is named after: the image file without its suffixes; for DICOM
    the series description, else the series folder's name. Safe as a file name."""
    meta = volume.metadata or {}
    source = volume.source_path or ""
    if meta.get("format") == "DICOM":
        folder = source if _is_series_folder(volume) else os.path.dirname(source)
        stem = str(meta.get("SeriesDescription") or "") or os.path.basename(folder.rstrip("/\\"))
    elif source:
        stem = os.path.basename(source)
        for suffix in sorted(FILE_SUFFIXES, key=len, reverse=True):
            if stem.lower().endswith(suffix):
                stem = stem[: -len(suffix)]
                break
    else:
        stem = volume.name
    # DICOM descriptions hold anything ("#6 REST1 w SMS PF7-8"): keep what every system allows
    stem = re.sub(r"[^\w.-]+", "_", stem).strip("._")
    return stem or "image"


def image_folder(volume: Volume) -> str:
    """The folder the image lies in ("" when it has none): a DICOM series folder's parent."""
    source = volume.source_path or ""
    if not source:
        return ""
    return os.path.dirname(os.path.abspath(source))  # abspath drops a trailing separator


def _is_series_folder(volume: Volume) -> bool:
    """True when a DICOM `volume` came from a folder (its source is the folder, not a file)."""
    files = (volume.metadata or {}).get("source_files") or []
    return volume.source_path not in files and not os.path.isfile(volume.source_path)


def proposed_label_path(doc: Document, last_folder: str = "", suffix: str = "") -> str:
    """The path the save dialog proposes for `doc`'s labels (see the module docstring)."""
    if doc.label_path:
        return doc.label_path
    folder = image_folder(doc.volume)
    if not (folder and os.path.isdir(folder) and os.access(folder, os.W_OK)):
        folder = last_folder if last_folder and os.path.isdir(last_folder) else ""
    folder = folder or os.path.expanduser("~")
    suffix = suffix if suffix in save_suffixes() else default_save_suffix()
    return os.path.join(folder, f"{image_stem(doc.volume)}_labels{suffix}")


def label_suffix(path: str) -> str:
    """The label format suffix of `path` ("" when no writable label format owns its ending)."""
    lower = path.lower()
    return next((s for s in save_suffixes() if lower.endswith(s)), "")


def remember_label_path(settings: QtCore.QSettings, path: str) -> None:
    """Note the folder and suffix of labels just saved, for the next proposal."""
    settings.setValue("last_label_folder", os.path.dirname(os.path.abspath(path)))
    suffix = label_suffix(path)
    if suffix:
        settings.setValue("last_label_suffix", suffix)


def ask_label_path(window: QtWidgets.QWidget, doc: Document) -> str:
    """Ask where to save `doc`'s labels, starting at the proposal; "" when cancelled."""
    settings = window.settings
    start = proposed_label_path(
        doc,
        str(settings.value("last_label_folder", "") or ""),
        str(settings.value("last_label_suffix", "") or ""),
    )
    path, _ = QtWidgets.QFileDialog.getSaveFileName(window, "Save labels", start, save_filter())
    return path
