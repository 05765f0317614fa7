"""Exports shared by the `export` command and the GUI's File > Export: one study's labels as
NIfTI / NRRD / .seg.nrrd / DICOM SEG / STL / OBJ / statistics CSV, and nnU-Net or MSD training
datasets from several cases. Long exports take `progress(fraction, text)` and `cancel()`
callbacks (the GUI runs them off the UI thread); each returns the lines it has to say."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from viewer.errors import ExportCancelled, LoadError, RadLabelError, SaveError
from viewer.io import load_volume, open_labels
from viewer.io.atomic_save import atomic_write_text
from viewer.io.dataset_export import ExportCase, export_msd, export_nnunet
from viewer.io.dicom_seg import export_dicom_seg
from viewer.io.labels import registry
from viewer.io.labels.format import LabelFormat
from viewer.io.labels.load_save import save_labels
from viewer.io.labels.open import names_file_for
from viewer.io.mesh_export import export_meshes, mesh_file_names
from viewer.model.document import Document
from viewer.model.label_layers import LabelLayers
from viewer.model.labelmap import LabelMap
from viewer.model.segment_io import read_json_map
from viewer.model.segments import SegmentTable
from viewer.model.statistics import segment_statistics, statistics_csv
from viewer.model.volume import Volume

# single-study exports besides the label files of viewer.io.labels.registry
OTHER_SINGLE = ("dicom-seg", "stl", "obj", "stats-csv")
DATASETS = ("nnunet", "msd")
CASE_IMAGE_NAMES = ("image.nii.gz", "image.nii", "image.nrrd", "image.mha", "dicom")
CASE_LABEL_NAMES = ("label.seg.nrrd", "label.nii.gz", "label.nii", "label.nrrd")


def label_file_formats() -> list[LabelFormat]:
    """The label formats an export writes with `save_labels`: the registry's writable ones,
    those that keep overlapping segments first."""
    return sorted(registry.writable(), key=lambda f: not f.layers)


def single_formats() -> tuple[str, ...]:
    """Every single-study export format key."""
    return tuple(f.key for f in label_file_formats()) + OTHER_SINGLE


SINGLE = single_formats()  # the command line's choices

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]


def _no_progress(_fraction: float, _text: str) -> None:
    pass


def _never() -> bool:
    return False


@dataclass
class LoadedCase:
    """An image with its labels read from files, and the segment names that apply (also on the
    segments of `layers`). `unnamed`: the ids whose names were made up ("Segment 3": neither a
    names file nor the label file named them), which a dataset matches by value, not by name."""

    volume: Volume
    labelmap: LabelMap
    layers: LabelLayers | LabelMap
    segments: SegmentTable
    notes: list[str] = field(default_factory=list)
    unnamed: set[int] = field(default_factory=set)

    def named_segments(self, named: bool = True) -> SegmentTable:
        """The segments whose names came from a file (with `named=False`: the others)."""
        table = SegmentTable()
        for s in self.segments:
            if (s.id not in self.unnamed) == named:
                table.add(s.name, s.colour, segment_id=s.id)
        return table


def read_names(path: str | Path) -> SegmentTable:
    """A names file (`{"1": "liver"}`, optionally under "labels") as a segment table."""
    table = SegmentTable()
    for s in read_json_map(Path(path)):
        table.add(s.name, s.colour, segment_id=s.id)
    return table


def _names(label: str, labels_json: str | None) -> SegmentTable | None:
    path = Path(labels_json) if labels_json else names_file_for(Path(label))
    if path is None or not path.is_file():
        return None
    return read_names(path)


def load_case(
    image: str, label: str, series: str | None = None, labels_json: str | None = None
) -> LoadedCase:
    """Read an image and its label file (any label format) with the names that apply: the
    names file when given, else the names the label stores, else a names file beside it. The
    names and colours apply to the label map's table and to the layers' segments alike (the
    .seg.nrrd and DICOM SEG writers take their names from the layers)."""
    volume = load_volume(image, series_uid=series)
    loaded = open_labels(volume, label)  # NIfTI, NRRD, MetaImage, .seg.nrrd, DICOM SEG
    # a names file beside the label applies only to formats that do not name their segments
    own_names = loaded.format in ("seg-nrrd", "dicom-seg") and loaded.named
    from_file = _names(label, labels_json) if labels_json or not own_names else None
    table = from_file or loaded.segments
    unnamed: set[int] = set()
    for s in loaded.segments:  # values without a name in the names file keep the file's name
        if from_file and table.get(s.id) is None:
            table.add(s.name, s.colour, segment_id=s.id)
        if not loaded.named and (not from_file or from_file.get(s.id) is None):
            unnamed.add(s.id)
    for s in loaded.layers.segments:
        final = table.get(s.id)
        if final is not None:
            s.name, s.colour = final.name, final.colour
    return LoadedCase(volume, loaded.labelmap, loaded.layers, table, list(loaded.notes), unnamed)


def check_output(fmt: str, out: str | Path) -> None:
    """SaveError when `out` does not end the way format `fmt` needs."""
    wanted = next((f for f in label_file_formats() if f.key == fmt), None)
    if wanted is None:
        return
    try:
        named = registry.save_format(out)
    except LoadError:
        named = None
    if named is not wanted:  # e.g. .seg.nrrd for --format nrrd: the name decides the format
        raise SaveError(
            f"--format {fmt} needs a file name ending in {wanted.write_suffixes[0]}", out
        )


def refuse_existing(paths: Iterable[Path], overwrite: bool) -> None:
    """An export never replaces a file silently: an existing output needs `overwrite`."""
    if overwrite:
        return
    for p in paths:
        if p.exists() or p.is_symlink():
            raise SaveError("the output exists (give --overwrite to replace it)", p)


def mesh_outputs(
    labels: LabelMap, segments: SegmentTable | None, fmt: str, out: str | Path
) -> list[Path]:
    """The surface files export_meshes writes into the folder `out`."""
    return [Path(out) / name for _, name in mesh_file_names(labels, segments, fmt).values()]


def export_study(
    fmt: str,
    volume: Volume,
    labels: LabelMap | LabelLayers,
    segments: SegmentTable,
    out: str | Path,
    *,
    overwrite: bool = False,
    cancel: Cancel = _never,
) -> list[str]:
    """Write one study's labels in format `fmt` (SINGLE) to `out` (a folder for stl/obj);
    returns what to tell the user. An existing output is refused unless `overwrite`.
    `cancel()` is asked before the work and between surfaces (ExportCancelled)."""
    if cancel():
        raise ExportCancelled("export cancelled", out)
    if fmt not in single_formats():
        raise SaveError(f"unknown export format '{fmt}'", out)
    out = Path(out)
    labelmap = labels.to_labelmap() if isinstance(labels, LabelLayers) else labels
    targets = mesh_outputs(labelmap, segments, fmt, out) if fmt in ("stl", "obj") else [out]
    refuse_existing(targets, overwrite)
    label_format = next((f for f in label_file_formats() if f.key == fmt), None)
    if label_format is not None:
        check_output(fmt, out)
        save_labels(out, labels if label_format.layers else labelmap, segments)
        size = list(labelmap.geometry.size_xyz)
        return [f"wrote {out}: {len(labelmap.values())} segments on {size}"]
    if fmt == "dicom-seg":
        r = export_dicom_seg(volume, labels, out, segments)
        return [f"note: {n}" for n in r.notes] + [
            f"wrote {out}: {r.segments} segments, {r.frames} frames, "
            f"references series {r.referenced_series_uid}"
        ]
    if fmt in ("stl", "obj"):
        files = export_meshes(labelmap, out, segments, fmt, should_stop=cancel)
        return [f"wrote {len(files)} {fmt.upper()} surfaces to {out}"]
    doc = Document(volume, labelmap)
    for s in segments:
        seg = doc.segments.get(s.id)
        if seg is not None:
            seg.name, seg.colour = s.name, s.colour
    atomic_write_text(out, statistics_csv(segment_statistics(doc)))
    return [f"wrote {out}: {len(doc.segments)} segments"]


def find_cases(cases_dir: str | Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(image, label) pairs of a folder of case folders, and the sub-folders skipped (each
    case folder holds image.* or dicom/ and label.*)."""
    root = Path(cases_dir)
    if not root.is_dir():
        raise LoadError("no such folder", root)
    pairs, skipped = [], []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        image = next((sub / n for n in CASE_IMAGE_NAMES if (sub / n).exists()), None)
        label = next((sub / n for n in CASE_LABEL_NAMES if (sub / n).exists()), None)
        if image is None or label is None:
            skipped.append(f"skipped {sub.name}: needs image.* or dicom/ and label.*")
            continue
        pairs.append((str(image), str(label)))
    return pairs, skipped


def merge_label_set(label_set: SegmentTable, table: SegmentTable) -> None:
    """Add a case's named segments to the project label set, matching by name."""
    known = {s.name.strip().lower() for s in label_set}
    for s in table:
        if s.name.strip().lower() in known:
            continue
        sid = s.id if label_set.get(s.id) is None else label_set.next_free_id()
        label_set.add(s.name, s.colour, segment_id=sid)
        known.add(s.name.strip().lower())


def merge_by_value(label_set: SegmentTable, table: SegmentTable) -> None:
    """Add a case's unnamed segments to the project label set, matching by value: a value the
    set has is that class, whatever its name; a new value joins under its made-up name."""
    for s in table:
        if label_set.get(s.id) is None:
            label_set.add(s.name, s.colour, segment_id=s.id)


def dataset_folder(fmt: str, out: str | Path, dataset_id: int, name: str) -> Path:
    """The folder export_nnunet / export_msd write (DatasetNNN_name / TaskNN_name)."""
    if fmt == "nnunet":
        return Path(out) / f"Dataset{int(dataset_id):03d}_{name}"
    return Path(out) / f"Task{int(dataset_id):02d}_{name}"


@dataclass
class DatasetRequest:
    """What a dataset export needs: cases as files and/or in memory, and the CLI's options."""

    fmt: str
    out: str
    dataset_id: int
    name: str
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (image, label) files
    cases: list[ExportCase] = field(default_factory=list)  # already open (the GUI's study)
    labels_json: str | None = None
    channel_name: str | None = None
    folds: int = 5
    overwrite: bool = False


def _tracked(
    cases: list[ExportCase], progress: Progress, cancel: Cancel, start: float
) -> Iterator[ExportCase]:
    """The cases, reporting progress and checking cancel as the writer takes each one."""
    for i, case in enumerate(cases):
        if cancel():
            raise ExportCancelled("export cancelled")
        progress(start + (1 - start) * i / max(len(cases), 1), f"writing case {i + 1}/{len(cases)}")
        yield case


def export_dataset(
    req: DatasetRequest, progress: Progress = _no_progress, cancel: Cancel = _never
) -> list[str]:
    """Write an nnU-Net or MSD dataset; returns what to tell the user. A cancelled or failed
    export leaves no partial dataset (and an earlier one as it was)."""
    if req.fmt not in DATASETS:
        raise SaveError(f"unknown dataset format '{req.fmt}'")
    if req.dataset_id is None or not req.name:
        raise SaveError(f"--format {req.fmt} needs --dataset-id and --name")
    total = len(req.pairs) + len(req.cases)
    if not total:
        raise LoadError("no cases: give --case IMAGE LABEL (repeatable) or --cases-dir")
    fixed = read_names(req.labels_json) if req.labels_json else None
    label_set, cases, lines = SegmentTable(), [], []
    unnamed: list[SegmentTable] = []
    for case in req.cases:
        cases.append(case)
        merge_label_set(label_set, fixed or case.segments or SegmentTable())
    for i, (image, label) in enumerate(req.pairs, start=len(req.cases)):
        if cancel():
            raise ExportCancelled("export cancelled")
        progress(0.5 * i / total, f"reading case {i + 1}/{total}")
        try:
            c = load_case(image, label, None, req.labels_json)
        except RadLabelError as e:
            raise type(e)(f"case {i}: {e.reason}", e.path) from None
        # made-up names ("Segment 1") are no names: those values map by value, the rest by name
        named = c.named_segments()
        cases.append(ExportCase(c.volume, c.labelmap, named))
        merge_label_set(label_set, fixed or named)
        unnamed.append(c.named_segments(named=False))
        # resampled onto the image, values lost, overlaps flattened: training data must say so
        lines += [f"note: case {i} ({label}): {n}" for n in c.notes]
    if fixed is None:  # after every named case, so a value meets the class its name made
        for table in unnamed:
            merge_by_value(label_set, table)
    kwargs = {"channel_name": req.channel_name, "overwrite": req.overwrite}
    # the writers stage the whole dataset beside its place and swap it in when complete: a
    # cancel (raised while they take the next case) leaves an earlier dataset as it was
    tracked = _tracked(cases, progress, cancel, 0.5 if req.pairs else 0.0)
    if req.fmt == "nnunet":
        r = export_nnunet(
            tracked, req.out, req.dataset_id, req.name, label_set, folds=req.folds, **kwargs
        )
    else:
        r = export_msd(tracked, req.out, req.dataset_id, req.name, label_set, **kwargs)
    progress(1.0, "done")
    lines += [f"note: {n}" for n in r.notes]
    labels = ", ".join(f"{k}={v}" for k, v in r.label_ids.items())
    lines.append(f"wrote {r.folder}: {len(r.case_ids)} cases; labels {labels}")
    return lines


def cases_from(
    case_pairs: Iterable[tuple[str, str]], cases_dir: str | None
) -> tuple[list[tuple[str, str]], list[str]]:
    """The CLI's --case pairs plus the cases of --cases-dir; and the skipped folders."""
    pairs = [(img, lab) for img, lab in case_pairs]
    skipped: list[str] = []
    if cases_dir:
        found, skipped = find_cases(cases_dir)
        pairs += found
    return pairs, skipped
