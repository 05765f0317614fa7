"""The training-data pack: what the base trainer trains on, in a few MB that travel to a GPU
machine without SimpleITK or the shared data (docs/gpu_training.md).

A pack is a folder: `pack.json` (the manifest) and one compressed `.npz` per training or
validation case and per label map (read with `allow_pickle=False`). A case keeps exactly what
`viewer.io.training_cases.load_training_case` made of it, so a trainer reading the pack sees the
same `TrainingCase`: the image on its own grid (stored in the smallest integer type that holds
it exactly, else float32), the label map (smallest integer type), spacing, modality, excluded
values and the clip range (`lo`, `hi`). Label maps for generated images are `CompactMap`s
(codes into a table of values, cropped to the head).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from segmentation_core.checkpoint_io import CheckpointError, read_json, write_json
from segmentation_core.synth.compact import CompactMap
from segmentation_core.training.dataset import TrainingCase

MANIFEST = "pack.json"
FORMAT = "radlabel-twin-pack-1"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.~-]+$")
_EXACT_TYPES = (np.uint8, np.int8, np.uint16, np.int16, np.int32)


@dataclass
class Pack:
    """A pack read back: training and validation cases, label maps, and the manifest's
    `synth_exclude_values` (held out of generated images)."""

    train: list[TrainingCase] = field(default_factory=list)
    val: list[TrainingCase] = field(default_factory=list)
    maps: list[CompactMap] = field(default_factory=list)
    synth_exclude_values: tuple[int, ...] = ()
    manifest: dict = field(default_factory=dict)


def smallest_exact_dtype(a: np.ndarray) -> np.dtype:
    """The smallest integer type that holds every value of `a` exactly (float32 if none)."""
    a = np.asarray(a)
    if a.size == 0:
        return np.dtype(np.uint8)
    if a.dtype.kind == "f" and not np.array_equal(a, np.round(a)):
        return np.dtype(np.float32)
    lo, hi = float(a.min()), float(a.max())
    for t in _EXACT_TYPES:
        info = np.iinfo(t)
        if info.min <= lo and hi <= info.max:
            return np.dtype(t)
    return np.dtype(np.float32)


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> int:
    """Compressed npz written beside `path`, read back and compared, then renamed into place."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    data = buf.getvalue()
    back = np.load(io.BytesIO(data), allow_pickle=False)
    if sorted(back.files) != sorted(arrays) or not all(
        back[k].dtype == v.dtype and np.array_equal(back[k], v) for k, v in arrays.items()
    ):
        raise CheckpointError("pack file read back differs from what was written", path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would keep the pack from other users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(data)


def _check_name(name: str) -> str:
    if not _SAFE_NAME.match(name):
        raise ValueError(f"case or map name {name!r} is not a plain file name")
    return name


def write_pack(
    out_dir: str | os.PathLike,
    train: list[TrainingCase],
    val: list[TrainingCase] = (),
    maps: list[CompactMap] = (),
    synth_exclude_values: tuple[int, ...] = (),
    source: dict | None = None,
) -> dict:
    """Write the pack into `out_dir` (created; the manifest is written last) and return the
    manifest. The images and labels are stored exactly (see `smallest_exact_dtype`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries, total = [], 0
    for role, cases in (("train", train), ("val", val)):
        for c in cases:
            file = f"{role}_{_check_name(c.name)}.npz"
            image = np.asarray(c.image)
            stored = image.astype(smallest_exact_dtype(image))
            label = np.asarray(c.label)
            total += _write_npz(
                out / file,
                {"image": stored, "label": label.astype(smallest_exact_dtype(label))},
            )
            entries.append(
                {
                    "name": c.name,
                    "role": role,
                    "file": file,
                    "shape": list(image.shape),
                    "spacing_zyx": [float(s) for s in c.spacing_zyx],
                    "modality": c.modality,
                    "exclude_values": [int(v) for v in c.exclude_values],
                    "lo": float(c.lo),
                    "hi": float(c.hi),
                }
            )
    map_entries = []
    for m in maps:
        file = f"map_{_check_name(m.name)}.npz"
        total += _write_npz(out / file, {"codes": m.codes, "values": m.values})
        map_entries.append(
            {"name": m.name, "file": file, "spacing_zyx": [float(s) for s in m.spacing_zyx]}
        )
    manifest = {
        "format": FORMAT,
        "cases": entries,
        "maps": map_entries,
        "synth_exclude_values": [int(v) for v in synth_exclude_values],
        "bytes": total,
        "source": source or {},
    }
    write_json(out / MANIFEST, manifest)
    return manifest


def _load_npz(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [n for n in names if n not in z.files]
            if missing:
                raise CheckpointError(f"pack file has no array {missing[0]!r}", path)
            return {n: z[n] for n in names}
    except (OSError, ValueError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"not a readable pack file ({e})", path) from None


def _entry_file(d: Path, entry: dict) -> Path:
    name = str(entry.get("file", ""))
    if not _SAFE_NAME.match(name):
        raise CheckpointError(f"bad file name {name!r} in the manifest", d / MANIFEST)
    return d / name


def read_pack(pack_dir: str | os.PathLike) -> Pack:
    """The pack in `pack_dir` as TrainingCases and CompactMaps (targets not yet found).
    CheckpointError names the file for anything unreadable or inconsistent."""
    d = Path(pack_dir)
    manifest = read_json(d / MANIFEST)
    if manifest.get("format") != FORMAT:
        raise CheckpointError(f"not a training pack (format is not {FORMAT})", d / MANIFEST)
    pack = Pack(
        synth_exclude_values=tuple(int(v) for v in manifest.get("synth_exclude_values", [])),
        manifest=manifest,
    )
    try:
        for e in manifest["cases"]:
            path = _entry_file(d, e)
            arrays = _load_npz(path, ("image", "label"))
            if (
                list(arrays["image"].shape) != e["shape"]
                or arrays["label"].shape != arrays["image"].shape
            ):
                raise CheckpointError("image and label shapes disagree with the manifest", path)
            case = TrainingCase(
                name=str(e["name"]),
                image=arrays["image"].astype(np.float32),
                label=arrays["label"].astype(np.int32),
                spacing_zyx=tuple(float(s) for s in e["spacing_zyx"]),
                modality=str(e["modality"]),
                exclude_values=tuple(int(v) for v in e["exclude_values"]),
                lo=float(e["lo"]),
                hi=float(e["hi"]),
            )
            (pack.train if e["role"] == "train" else pack.val).append(case)
        for e in manifest["maps"]:
            path = _entry_file(d, e)
            arrays = _load_npz(path, ("codes", "values"))
            pack.maps.append(
                CompactMap(
                    str(e["name"]),
                    arrays["codes"],
                    arrays["values"].astype(np.int64),
                    tuple(float(s) for s in e["spacing_zyx"]),
                )
            )
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"unexpected manifest layout ({e!r})", d / MANIFEST) from None
    return pack
