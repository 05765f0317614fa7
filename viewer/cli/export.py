"""`export`: write labels for other tools and training, headless.

Single study (--image IMAGE --label LABEL --out OUT):
  nifti | nrrd | seg-nrrd   the label on the image grid (.nii.gz / .nrrd / Slicer .seg.nrrd)
  dicom-seg                 DICOM SEG referencing the image's DICOM series
  stl | obj                 one surface per segment into the folder OUT
  stats-csv                 per-segment statistics (voxels, mL, intensity) as CSV
Datasets (--out FOLDER --dataset-id N --name NAME, cases by --case IMAGE LABEL or --cases-dir):
  nnunet                    nnU-Net v2 raw dataset (DatasetNNN_NAME) + splits_final.json
  msd                       Medical Segmentation Decathlon / PaddleSeg MedicalSeg (TaskNN_NAME)
An existing output is refused unless --overwrite is given; with it a single file is replaced
atomically (written beside, read back, then renamed over: a failure keeps the old file) and a
dataset is replaced wholly (the new one is written in a hidden folder beside, then swapped in).
Segment names: --labels-json (`{"1": "liver"}`, optionally under "labels"), the names stored in a
.seg.nrrd or DICOM SEG, or a names file next to a plain label (labels.json, <label>s.json).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from viewer.errors import LoadError, RadLabelError, SaveError
from viewer.io import load_volume, open_labels
from viewer.io.atomic_save import atomic_write_text
from viewer.io.dataset_export import ExportCase, export_msd, export_nnunet
from viewer.io.dicom_seg import export_dicom_seg
from viewer.io.label_formats import save_labels
from viewer.io.label_formats_open import names_file_for
from viewer.io.mesh_export import export_meshes, mesh_file_names
from viewer.model.document import Document
from viewer.model.segment_io import read_json_map
from viewer.model.segments import SegmentTable
from viewer.model.statistics import segment_statistics, statistics_csv

SINGLE = ("nifti", "nrrd", "seg-nrrd", "dicom-seg", "stl", "obj", "stats-csv")
DATASETS = ("nnunet", "msd")
_IMAGE_NAMES = ("image.nii.gz", "image.nii", "image.nrrd", "image.mha", "dicom")
_LABEL_NAMES = ("label.seg.nrrd", "label.nii.gz", "label.nii", "label.nrrd")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "export",
        help="export labels: NIfTI/NRRD/.seg.nrrd/DICOM SEG/meshes/CSV, nnU-Net or MSD datasets",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--format", required=True, choices=SINGLE + DATASETS)
    p.add_argument("--out", required=True, help="output file, or folder for meshes/datasets")
    p.add_argument("--image", help="image file, DICOM file or DICOM folder (single study)")
    p.add_argument(
        "--label",
        help="label file (.nii.gz, .nrrd, .seg.nrrd, .mha, DICOM SEG .dcm) (single study)",
    )
    p.add_argument("--series", default=None, help="series id / SeriesInstanceUID in --image")
    p.add_argument("--labels-json", help="segment names: {'1': 'liver', ...}")
    p.add_argument(
        "--case",
        nargs=2,
        action="append",
        metavar=("IMAGE", "LABEL"),
        default=[],
        help="a dataset case (repeat for more cases)",
    )
    p.add_argument(
        "--cases-dir",
        help="folder of case folders, each with image.* or dicom/ and label.* (+ labels.json)",
    )
    p.add_argument("--dataset-id", type=int, help="nnU-Net dataset id / MSD task id (1..999)")
    p.add_argument("--name", help="dataset name (letters, digits, _ and -; no patient data)")
    p.add_argument("--channel-name", help="image channel name (default: CT or the modality)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (nnunet)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output (a dataset folder is replaced wholly)",
    )
    p.set_defaults(func=run)


def _names(label: str, labels_json: str | None) -> SegmentTable | None:
    path = Path(labels_json) if labels_json else names_file_for(Path(label))
    if path is None or not path.is_file():
        return None
    table = SegmentTable()
    for s in read_json_map(path):
        table.add(s.name, s.colour, segment_id=s.id)
    return table


def _load_case(image: str, label: str, series: str | None, labels_json: str | None):
    volume = load_volume(image, series_uid=series)
    loaded = open_labels(volume, label)  # NIfTI, NRRD, MetaImage, .seg.nrrd, DICOM SEG
    # a names file beside the label applies only to formats that do not name their segments
    own_names = loaded.format in ("seg-nrrd", "dicom-seg") and loaded.named
    table = (_names(label, labels_json) if labels_json or not own_names else None) or (
        loaded.segments
    )
    for s in loaded.segments:  # values without a name in the names file keep the file's name
        if table.get(s.id) is None:
            table.add(s.name, s.colour, segment_id=s.id)
    return volume, loaded, table


def _refuse_existing(paths: list[Path], overwrite: bool) -> None:
    """An export never replaces a file silently: an existing output needs --overwrite."""
    if overwrite:
        return
    for p in paths:
        if p.exists() or p.is_symlink():
            raise SaveError("the output exists (give --overwrite to replace it)", p)


def _run_single(args: argparse.Namespace) -> int:
    if not args.image or not args.label:
        raise LoadError(f"--format {args.format} needs --image and --label")
    if args.format not in ("stl", "obj"):  # before the (slow) loading; meshes need the labels
        _refuse_existing([Path(args.out)], args.overwrite)
    volume, loaded, table = _load_case(args.image, args.label, args.series, args.labels_json)
    for note in loaded.notes:
        print(f"note: {note}")
    labels = loaded.labelmap
    out = Path(args.out)
    if args.format in ("nifti", "nrrd", "seg-nrrd"):
        want = {"nifti": (".nii.gz", ".nii"), "nrrd": (".nrrd",), "seg-nrrd": (".seg.nrrd",)}
        if not out.name.lower().endswith(want[args.format]) or (
            args.format == "nrrd" and out.name.lower().endswith(".seg.nrrd")
        ):
            raise SaveError(
                f"--format {args.format} needs a file name ending in {want[args.format][0]}", out
            )
        layers = loaded.layers if args.format == "seg-nrrd" else labels
        save_labels(out, layers, table)
        print(f"wrote {out}: {len(labels.values())} segments on {list(labels.geometry.size_xyz)}")
    elif args.format == "dicom-seg":
        r = export_dicom_seg(volume, loaded.layers, out, table)
        for note in r.notes:
            print(f"note: {note}")
        print(
            f"wrote {out}: {r.segments} segments, {r.frames} frames, references series {r.referenced_series_uid}"
        )
    elif args.format in ("stl", "obj"):
        names = mesh_file_names(labels, table, args.format).values()
        _refuse_existing([out / name for _, name in names], args.overwrite)
        files = export_meshes(labels, out, table, args.format)
        print(f"wrote {len(files)} {args.format.upper()} surfaces to {out}")
    else:
        doc = Document(volume, labels)
        for s in table:
            seg = doc.segments.get(s.id)
            if seg is not None:
                seg.name, seg.colour = s.name, s.colour
        atomic_write_text(out, statistics_csv(segment_statistics(doc)))
        print(f"wrote {out}: {len(doc.segments)} segments")
    return 0


def _dataset_pairs(args: argparse.Namespace) -> list[tuple[str, str]]:
    pairs = [(img, lab) for img, lab in args.case]
    if args.cases_dir:
        root = Path(args.cases_dir)
        if not root.is_dir():
            raise LoadError("no such folder", root)
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            image = next((sub / n for n in _IMAGE_NAMES if (sub / n).exists()), None)
            label = next((sub / n for n in _LABEL_NAMES if (sub / n).exists()), None)
            if image is None or label is None:
                print(f"skipped {sub.name}: needs image.* or dicom/ and label.*")
                continue
            pairs.append((str(image), str(label)))
    if not pairs:
        raise LoadError("no cases: give --case IMAGE LABEL (repeatable) or --cases-dir")
    return pairs


def _merge(label_set: SegmentTable, table: SegmentTable) -> None:
    """Add the case's segments to the project label set, matching by name."""
    known = {s.name.strip().lower() for s in label_set}
    for s in table:
        if s.name.strip().lower() in known:
            continue
        sid = s.id if label_set.get(s.id) is None else label_set.next_free_id()
        label_set.add(s.name, s.colour, segment_id=sid)
        known.add(s.name.strip().lower())


def _run_dataset(args: argparse.Namespace) -> int:
    if args.dataset_id is None or not args.name:
        raise SaveError(f"--format {args.format} needs --dataset-id and --name")
    pairs = _dataset_pairs(args)
    cases, label_set = [], SegmentTable()
    fixed = _names("", args.labels_json) if args.labels_json else None
    for i, (image, label) in enumerate(pairs):
        try:
            volume, loaded, table = _load_case(image, label, None, args.labels_json)
        except RadLabelError as e:
            raise type(e)(f"case {i}: {e.reason}", e.path) from None
        cases.append(ExportCase(volume, loaded.labelmap, table))
        _merge(label_set, fixed or table)
    kwargs = {"channel_name": args.channel_name, "overwrite": args.overwrite}
    if args.format == "nnunet":
        r = export_nnunet(
            cases, args.out, args.dataset_id, args.name, label_set, folds=args.folds, **kwargs
        )
    else:
        r = export_msd(cases, args.out, args.dataset_id, args.name, label_set, **kwargs)
    for note in r.notes:
        print(f"note: {note}")
    labels = ", ".join(f"{k}={v}" for k, v in r.label_ids.items())
    print(f"wrote {r.folder}: {len(r.case_ids)} cases; labels {labels}")
    return 0


def run(args: argparse.Namespace) -> int:
    return _run_dataset(args) if args.format in DATASETS else _run_single(args)
