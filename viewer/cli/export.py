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

from viewer.errors import LoadError
from viewer.services.export import (
    DATASETS,
    SINGLE,
    DatasetRequest,
    cases_from,
    export_dataset,
    export_study,
    load_case,
    refuse_existing,
)


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


def _run_single(args: argparse.Namespace) -> int:
    if not args.image or not args.label:
        raise LoadError(f"--format {args.format} needs --image and --label")
    if args.format not in ("stl", "obj"):  # before the (slow) loading; meshes need the labels
        refuse_existing([Path(args.out)], args.overwrite)
    case = load_case(args.image, args.label, args.series, args.labels_json)
    for note in case.notes:
        print(f"note: {note}")
    labels = case.layers if args.format in ("seg-nrrd", "dicom-seg") else case.labelmap
    lines = export_study(
        args.format, case.volume, labels, case.segments, args.out, overwrite=args.overwrite
    )
    for line in lines:
        print(line)
    return 0


def _run_dataset(args: argparse.Namespace) -> int:
    from viewer.errors import SaveError

    if args.dataset_id is None or not args.name:
        raise SaveError(f"--format {args.format} needs --dataset-id and --name")
    pairs, skipped = cases_from(args.case, args.cases_dir)
    for line in skipped:
        print(line)
    request = DatasetRequest(
        fmt=args.format,
        out=args.out,
        dataset_id=args.dataset_id,
        name=args.name,
        pairs=pairs,
        labels_json=args.labels_json,
        channel_name=args.channel_name,
        folds=args.folds,
        overwrite=args.overwrite,
    )
    for line in export_dataset(request):
        print(line)
    return 0


def run(args: argparse.Namespace) -> int:
    return _run_dataset(args) if args.format in DATASETS else _run_single(args)
