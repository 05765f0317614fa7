"""The validation split (per patient, fixed once chosen) and model versions (atomic publish,
activation, rollback)."""

from __future__ import annotations

import os

import pytest
from project_data import blob_label, make_project, write_image

from viewer.errors import RadLabelError, SaveError
from viewer.project import Project
from viewer.project import versions as vers
from viewer.project.split import MIN_PATIENTS, patient_hash, update_split


def _finish(project, cid):
    project.submit(cid, blob_label(), user="ann", time_spent_s=1, clicks=1)


def test_split_is_chosen_at_five_patients_and_never_moves(tmp_path):
    project = make_project(tmp_path / "p", 9)
    for i in range(MIN_PATIENTS - 1):
        _finish(project, f"img{i}")
    assert project.validation_cases() == []
    assert project.training_cases() == ["img0", "img1", "img2", "img3"]
    _finish(project, "img4")
    patients = [f"p{i}" for i in range(5)]
    expected = min(patients, key=patient_hash)  # 20 % of 5 = 1: the smallest hash
    chosen = project.split()
    assert chosen["validation"] == [expected]
    val_case = "img" + expected[1:]
    assert project.validation_cases() == [val_case]
    assert sorted(project.training_cases()) == sorted(
        f"img{i}" for i in range(5) if f"img{i}" != val_case
    )
    for i in range(5, 9):
        _finish(project, f"img{i}")
    after = project.split()
    assert set(chosen["validation"]) <= set(after["validation"])
    assert set(chosen["training"]) <= set(after["training"])
    later = {f"p{i}" for i in range(5, 9)}
    assert {p for p in later if patient_hash(p) < 0.2} == set(after["validation"]) - set(
        chosen["validation"]
    )
    events = [e["event"] for e in project.journal()]
    assert events.count("split_chosen") == 1


def test_split_counts_patients_not_scans_and_assigns_later_ones_by_hash():
    split = update_split({}, ["a", "b", "c", "d", "a"])  # 4 patients: not yet
    assert split == {"validation": [], "training": [], "chosen": False, "rule": split["rule"]}
    split = update_split(split, ["a", "b", "c", "d", "e", "a"])
    assert split["validation"] == [min("abcde", key=patient_hash)]
    assert sorted(split["validation"] + split["training"]) == list("abcde")
    again = update_split(split, list("abcdefghij"))
    new_val = sorted(p for p in "fghij" if patient_hash(p) < 0.2)
    assert again["validation"] == sorted(split["validation"] + new_val)
    assert again["training"] == sorted(split["training"] + [p for p in "fghij" if p not in new_val])


def _fake_model(folder, text="weights"):
    folder.mkdir(parents=True)
    (folder / "model.json").write_text("{}")
    (folder / "model.pdiparams").write_text(text)
    (folder / "meta.json").write_text("{}")
    return folder


def test_publish_activate_and_rollback(tmp_path):
    project = make_project(tmp_path / "p")
    base = project.active_model_dir()
    assert base.name == "base"
    v1 = project.publish_version(_fake_model(tmp_path / "m1"), {"parent": None}, activate=True)
    v2 = project.publish_version(_fake_model(tmp_path / "m2"), {"parent": v1}, activate=False)
    assert (v1, v2) == ("v1", "v2")
    assert project.active_version() == "v1"
    assert project.active_model_dir() == tmp_path / "p" / "models" / "v1" / "model"
    assert [(v.version_id, v.active, v.parent) for v in project.versions()] == [
        ("v1", True, None),
        ("v2", False, "v1"),
    ]
    project.activate("v2")
    assert project.active_model_dir() == tmp_path / "p" / "models" / "v2" / "model"
    project.activate("v1")  # rollback
    assert project.active_version() == "v1"
    project.activate(None)
    assert project.active_model_dir() == base
    with pytest.raises(RadLabelError, match="no model version 'v9'"):
        project.activate("v9")
    assert [e["event"] for e in project.journal()][-5:] == [
        "activate",
        "publish",
        "activate",
        "activate",
        "activate",
    ]


def test_a_failure_mid_publish_leaves_no_half_version_and_the_old_active(tmp_path, monkeypatch):
    project = make_project(tmp_path / "p")
    project.publish_version(_fake_model(tmp_path / "m1"), {"parent": None}, activate=True)

    real_fsync = vers._fsync_tree

    def broken(root):  # the disk fills after the model was copied, before the rename
        real_fsync(root)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(vers, "_fsync_tree", broken)
    with pytest.raises(SaveError, match="No space left on device"):
        project.publish_version(_fake_model(tmp_path / "m2"), {"parent": "v1"}, activate=True)
    assert sorted(os.listdir(tmp_path / "p" / "models")) == ["v1"]
    assert Project.open(tmp_path / "p").active_version() == "v1"
    assert [v.version_id for v in project.versions()] == ["v1"]

    monkeypatch.setattr(vers, "_fsync_tree", real_fsync)

    def rename_fails(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(vers.os, "rename", rename_fails)
    with pytest.raises(SaveError, match="Input/output error"):
        project.publish_version(_fake_model(tmp_path / "m3"), {"parent": "v1"}, activate=True)
    assert sorted(os.listdir(tmp_path / "p" / "models")) == ["v1"]
    assert project.active_version() == "v1"


def test_copy_of_a_two_file_image_is_rewritten_as_one_verified_file(tmp_path):
    project = make_project(tmp_path / "p")
    mhd = write_image(tmp_path / "scan.mhd")
    case = project.add_case(mhd, copy=True)
    assert case.image == "cases/scan/image.nii.gz"
    from viewer.io import load_volume

    a = load_volume(mhd)
    b = load_volume(project.image_path("scan"))
    assert b.geometry.same_grid(a.geometry, tol=1e-9)
    assert (a.array == b.array).all()


@pytest.mark.parametrize(
    "change",
    [
        {"version": "v1 (old)"},
        {"version": "v2"},  # another folder's name
        {"metrics": {"candidate": [0.9]}},
        {"metrics": {"candidate": {"dice@1": "0.9"}}},
        {"metrics": {"active_before": {"dice@3": float("inf")}}},
    ],
)
def test_a_version_record_that_could_break_activation_or_the_panel_is_skipped(tmp_path, change):
    import json

    project = make_project(tmp_path / "p")
    v1 = project.publish_version(_fake_model(tmp_path / "m1"), {"parent": None}, activate=False)
    record = tmp_path / "p" / "models" / v1 / "record.json"
    data = json.loads(record.read_text())
    data.update(change)
    record.write_text(json.dumps(data))
    assert project.versions() == []
    with pytest.raises(RadLabelError, match="no model version 'v1'"):
        project.activate("v1")
    assert project.active_version() is None
    assert Project.open(tmp_path / "p").active_version() is None
