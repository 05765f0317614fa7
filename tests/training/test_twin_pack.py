"""The training-data pack for GPU runs (issue 16): written from tiny generated cases and maps,
read back exactly (values, dtypes, spacing, ranges, exclusions), stored compactly, and refused
in one line when damaged."""

from __future__ import annotations

import json

import numpy as np
import pytest

from segmentation_core.checkpoint_io import CheckpointError
from segmentation_core.synth.compact import CompactMap
from segmentation_core.training.dataset import TrainingCase
from segmentation_core.training.pack import (
    FORMAT,
    MANIFEST,
    read_pack,
    smallest_exact_dtype,
    write_pack,
)


def _cases():
    rng = np.random.default_rng(0)
    ct = TrainingCase(
        "ct_tiny",
        image=rng.integers(-1024, 2000, (6, 7, 8)).astype(np.float32),
        label=rng.integers(0, 5, (6, 7, 8)).astype(np.int32),
        spacing_zyx=(3.0, 0.75, 0.75),
        modality="CT",
        lo=-1000.0,
        hi=1500.5,
    )
    mr = TrainingCase(
        "mr_tiny",
        image=rng.normal(size=(4, 5, 6)).astype(np.float32),  # not integers: kept as float32
        label=np.full((4, 5, 6), 2017, np.int32),
        spacing_zyx=(1.0, 1.0, 1.0),
        modality="MR",
        exclude_values=(17, 53),
        lo=-2.5,
        hi=2.25,
    )
    val = TrainingCase(
        "val_tiny",
        image=rng.integers(0, 255, (3, 4, 5)).astype(np.float32),
        label=rng.integers(0, 3, (3, 4, 5)).astype(np.int32),
        spacing_zyx=(2.0, 1.0, 1.0),
        modality="MR",
    )
    labels = np.zeros((10, 12, 14), np.int32)
    labels[2:8, 3:9, 4:10] = 41
    labels[4:6, 5:7, 6:8] = 2
    cmap = CompactMap.from_labels("map_a", labels, (1.0, 1.0, 1.0), margin_mm=None)
    return [ct, mr], [val], [cmap]


def test_pack_round_trip_keeps_every_case_exactly(tmp_path):
    train, val, maps = _cases()
    manifest = write_pack(tmp_path / "p", train, val, maps, synth_exclude_values=(17,))
    files = sorted(f.name for f in (tmp_path / "p").iterdir())
    assert files == [
        "map_map_a.npz",
        MANIFEST,
        "train_ct_tiny.npz",
        "train_mr_tiny.npz",
        "val_val_tiny.npz",
    ]
    assert json.loads((tmp_path / "p" / MANIFEST).read_text()) == manifest
    assert manifest["format"] == FORMAT
    assert manifest["cases"][1] == {
        "name": "mr_tiny",
        "role": "train",
        "file": "train_mr_tiny.npz",
        "shape": [4, 5, 6],
        "spacing_zyx": [1.0, 1.0, 1.0],
        "modality": "MR",
        "exclude_values": [17, 53],
        "lo": -2.5,
        "hi": 2.25,
    }
    # compact and exact: CT in int16, the MR floats as float32, labels in the smallest type
    with np.load(tmp_path / "p" / "train_ct_tiny.npz", allow_pickle=False) as z:
        assert (z["image"].dtype, z["label"].dtype) == (np.int16, np.uint8)
    with np.load(tmp_path / "p" / "train_mr_tiny.npz", allow_pickle=False) as z:
        assert (z["image"].dtype, z["label"].dtype) == (np.float32, np.uint16)
    pack = read_pack(tmp_path / "p")
    assert [c.name for c in pack.train] == ["ct_tiny", "mr_tiny"]
    assert [c.name for c in pack.val] == ["val_tiny"]
    for got, ref in zip(pack.train + pack.val, train + val):
        assert got.image.dtype == np.float32 and got.label.dtype == np.int32
        assert got.image.tobytes() == ref.image.tobytes()
        assert np.array_equal(got.label, ref.label)
        assert (got.spacing_zyx, got.modality, got.exclude_values) == (
            ref.spacing_zyx,
            ref.modality,
            ref.exclude_values,
        )
        assert (got.lo, got.hi) == (ref.lo, ref.hi)
    (m,) = pack.maps
    assert m.name == "map_a" and m.spacing_zyx == (1.0, 1.0, 1.0)
    assert np.array_equal(m.labels(), maps[0].labels())
    assert m.codes.dtype == np.uint8 and m.values.tolist() == [0, 2, 41]
    assert pack.synth_exclude_values == (17,)


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        ([0.0, 255.0], np.uint8),
        ([-3.0, 100.0], np.int8),
        ([0.0, 4095.0], np.uint16),
        ([-1024.0, 3071.0], np.int16),
        ([0.0, 70000.0], np.int32),
        ([0.0, 0.5], np.float32),
        ([0.0, 1e10], np.float32),
    ],
)
def test_smallest_exact_dtype(values, dtype):
    a = np.array(values, np.float32)
    assert smallest_exact_dtype(a) == dtype
    assert np.array_equal(a.astype(smallest_exact_dtype(a)).astype(np.float32), a)


def test_a_case_name_that_is_not_a_file_name_is_refused(tmp_path):
    train, _, _ = _cases()
    train[0].name = "../escape"
    with pytest.raises(ValueError, match="not a plain file name"):
        write_pack(tmp_path / "p", train)


@pytest.mark.parametrize(
    "damage", ["format", "path", "missing_array", "not_npz", "pickled", "shape"]
)
def test_a_damaged_pack_is_refused_naming_the_file(tmp_path, damage):
    train, val, maps = _cases()
    d = tmp_path / "p"
    write_pack(d, train, val, maps)
    manifest = json.loads((d / MANIFEST).read_text())
    bad_file = d / MANIFEST
    if damage == "format":
        manifest["format"] = "other"
        reason = f"not a training pack (format is not {FORMAT})"
    elif damage == "path":
        manifest["cases"][0]["file"] = "../../etc/passwd"
        reason = "bad file name '../../etc/passwd' in the manifest"
    elif damage == "missing_array":
        np.savez_compressed(d / "train_ct_tiny.npz", image=train[0].image)
        bad_file, reason = d / "train_ct_tiny.npz", "pack file has no array 'label'"
    elif damage == "not_npz":
        (d / "val_val_tiny.npz").write_bytes(b"garbage")
        bad_file, reason = d / "val_val_tiny.npz", "not a readable pack file"
    elif damage == "pickled":  # an object array would need unpickling: never done
        np.savez(d / "map_map_a.npz", codes=np.array([{}], dtype=object), values=np.zeros(1))
        bad_file, reason = d / "map_map_a.npz", "not a readable pack file"
    else:
        manifest["cases"][1]["shape"] = [4, 5, 7]
        bad_file = d / "train_mr_tiny.npz"
        reason = "image and label shapes disagree with the manifest"
    (d / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError) as e:
        read_pack(d)
    assert e.value.path == str(bad_file)
    assert e.value.reason.startswith(reason)
