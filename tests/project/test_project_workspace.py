"""The project workspace: creating, adding cases, labels, state transitions, next case, journal,
and bad input refused with nothing changed."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from project_data import (
    GRID,
    LABELS,
    blob_label,
    make_project,
    tree_bytes,
    write_image,
    write_label,
)

from viewer.errors import GeometryError, LoadError, RadLabelError
from viewer.io.labels.load_save import load_labels
from viewer.model.geometry import Geometry
from viewer.model.labelmap import LabelMap
from viewer.project import Project, ProjectBusy

REPO_DATA = Path(__file__).resolve().parents[1] / "data"


def test_create_and_open_keep_name_and_labels(tmp_path):
    Project.create(tmp_path / "p", "Livers", LABELS)
    project = Project.open(tmp_path / "p")
    assert project.name == "Livers"
    assert project.labels == LABELS
    assert project.cases() == []
    assert project.active_version() is None
    assert project.settings()["auto_retrain_after"] == 0
    assert [e["event"] for e in project.journal()] == ["create"]


def test_create_refuses_an_existing_project(tmp_path):
    Project.create(tmp_path / "p", "a", LABELS)
    with pytest.raises(RadLabelError, match="a project exists here already"):
        Project.create(tmp_path / "p", "b", LABELS)


def test_case_goes_new_in_progress_finished(tmp_path):
    project = make_project(tmp_path / "p")
    image = write_image(tmp_path / "scan.nii.gz")
    case = project.add_case(image)
    assert (case.case_id, case.state, case.patient_id) == ("scan", "new", "scan")
    assert project.image_path("scan") == image.absolute()
    lab = blob_label()
    project.save_label("scan", "original", LabelMap(GRID, lab), user="ann")
    assert project.case("scan").state == "new"
    assert project.case("scan").has_original
    draft = lab.copy()
    draft[0, 0, 0] = 2
    project.save_label("scan", "draft", LabelMap(GRID, draft), user="ann")
    assert project.case("scan").state == "in_progress"
    final = lab.copy()
    final[lab == 2] = 0  # the user removed the spleen: Dice 1 for label 1, 0 for label 2
    done = project.submit("scan", LabelMap(GRID, final), user="ann", time_spent_s=12.5, clicks=4)
    assert done.state == "finished"
    assert (done.editor, done.time_spent_s, done.clicks) == ("ann", 12.5, 4)
    assert done.dice_original_final == pytest.approx(0.5)
    assert done.has_final
    written = load_labels(project.label_path("scan", "final"))
    assert written.source_geometry.same_grid(GRID, tol=1e-9)
    np.testing.assert_array_equal(written.labelmap.array, final)
    events = [e["event"] for e in project.journal()]
    assert events == ["create", "add_case", "save_label", "save_label", "save_label"]


def test_original_is_kept_once(tmp_path):
    project = make_project(tmp_path / "p", 1)
    first = blob_label()
    project.save_label("img0", "original", first, user="ann")
    project.save_label("img0", "original", np.zeros_like(first), user="ann")
    np.testing.assert_array_equal(
        load_labels(project.label_path("img0", "original")).labelmap.array, first
    )


def test_add_final_label_finishes_the_case_and_copy_keeps_the_image_inside(tmp_path):
    project = make_project(tmp_path / "p")
    image = write_image(tmp_path / "a.nii.gz")
    label = write_label(tmp_path / "a_label.nii.gz", blob_label())
    case = project.add_case(image, label, final=True, copy=True)
    assert case.state == "finished"
    assert case.image == "cases/a/image.nii.gz"
    assert project.image_path("a") == tmp_path / "p" / "cases" / "a" / "image.nii.gz"
    assert project.image_path("a").read_bytes() == image.read_bytes()
    second = project.add_case(image)
    assert second.case_id == "a-2"


def test_next_case_new_oldest_first_then_least_sure(tmp_path):
    project = make_project(tmp_path / "p", 3)
    assert project.next_case().case_id == "img0"
    for cid in ("img0", "img1", "img2"):
        project.save_label(cid, "draft", blob_label(), user="ann")
    sure = {"img0": 0.1, "img1": 0.9, "img2": 0.5}
    assert project.next_case(lambda c: sure[c.case_id]).case_id == "img1"
    assert project.next_case().case_id == "img0"  # without a model: least recently touched
    project.submit("img1", blob_label(), user="ann", time_spent_s=1, clicks=1)
    assert project.next_case(lambda c: sure[c.case_id]).case_id == "img2"


def test_next_case_skips_a_case_someone_else_holds(tmp_path):
    project = make_project(tmp_path / "p", 2)
    assert project.acquire_lock("img0", "bob")
    assert project.next_case(user="ann").case_id == "img1"
    assert project.next_case(user="bob").case_id == "img0"


def test_case_lock_holder_and_read_only_for_others(tmp_path):
    project = make_project(tmp_path / "p", 1)
    assert project.lock_holder("img0") is None
    assert project.acquire_lock("img0", "ann")
    assert project.acquire_lock("img0", "ann")  # its holder again: refreshed
    assert not project.acquire_lock("img0", "bob")
    assert project.lock_holder("img0") == "ann"
    with pytest.raises(ProjectBusy, match="being edited by ann"):
        project.save_label("img0", "draft", blob_label(), user="bob")
    project.release_lock("img0", "bob")  # not bob's to give back
    assert project.lock_holder("img0") == "ann"
    project.release_lock("img0", "ann")
    assert project.acquire_lock("img0", "bob")


def test_stale_case_lock_of_a_dead_process_is_broken(tmp_path):
    import socket

    project = make_project(tmp_path / "p", 1)
    lock = tmp_path / "p" / "cases" / "img0" / "lock"
    # a pid that cannot be running (beyond pid_max) on this host
    lock.write_text(
        json.dumps({"user": "gone", "host": socket.gethostname(), "pid": 2**22 + 7, "time": 0})
    )
    assert project.lock_holder("img0") is None
    assert project.acquire_lock("img0", "ann")
    assert project.lock_holder("img0") == "ann"


def test_the_same_users_second_window_gets_the_case_read_only(tmp_path):
    import os
    import socket
    import time

    project = make_project(tmp_path / "p", 1)
    lock = tmp_path / "p" / "cases" / "img0" / "lock"
    other_window = os.getppid()  # a live process of this user on this host, not this one
    held = {"user": "ann", "host": socket.gethostname(), "pid": other_window, "time": time.time()}
    lock.write_text(json.dumps(held))
    assert not project.acquire_lock("img0", "ann", this_process_only=True)
    project.release_lock("img0", "ann", this_process_only=True)  # not ours: left alone
    assert json.loads(lock.read_text())["pid"] == other_window
    assert project.acquire_lock("img0", "ann")  # the command line: the same person may
    assert project.acquire_lock("img0", "bob", this_process_only=True) is False


# --- bad input leaves the project byte-identical ------------------------------------------------


@pytest.fixture
def project_with_case(tmp_path):
    project = make_project(tmp_path / "p", 1)
    project.save_label("img0", "draft", blob_label(), user="ann")
    return project


def _refused(project, tmp_path, call, error, match):
    before = tree_bytes(tmp_path / "p")
    with pytest.raises(error, match=match) as info:
        call()
    assert tree_bytes(tmp_path / "p") == before
    assert "\n" not in str(info.value)
    return info.value


def test_label_on_another_grid_is_refused(project_with_case, tmp_path):
    other = Geometry(GRID.shape_zyx, (1.5, 1.0, 2.5), GRID.origin)
    label = write_label(tmp_path / "other.nii.gz", blob_label(), other)
    image = write_image(tmp_path / "new.nii.gz")
    err = _refused(
        project_with_case,
        tmp_path,
        lambda: project_with_case.add_case(image, label, final=True),
        GeometryError,
        "another grid",
    )
    assert err.path == str(label)
    _refused(
        project_with_case,
        tmp_path,
        lambda: project_with_case.submit(
            "img0", LabelMap(other, blob_label()), user="ann", time_spent_s=1, clicks=1
        ),
        GeometryError,
        "another grid",
    )


def test_label_values_outside_the_set_are_refused(project_with_case, tmp_path):
    bad = blob_label()
    bad[0, 0, :3] = 7
    label = write_label(tmp_path / "bad.nii.gz", bad)
    image = write_image(tmp_path / "new.nii.gz")
    err = _refused(
        project_with_case,
        tmp_path,
        lambda: project_with_case.add_case(image, label),
        LoadError,
        r"label values 7 are not in the project's label set \(1, 2\)",
    )
    assert err.path == str(label)
    _refused(
        project_with_case,
        tmp_path,
        lambda: project_with_case.save_label("img0", "draft", bad, user="ann"),
        LoadError,
        "label values 7",
    )


def test_missing_image_is_refused(project_with_case, tmp_path):
    err = _refused(
        project_with_case,
        tmp_path,
        lambda: project_with_case.add_case(tmp_path / "nope.nii.gz"),
        LoadError,
        "no such file",
    )
    assert err.path.endswith("nope.nii.gz")


def test_corrupt_project_and_case_files_are_refused_naming_them(project_with_case, tmp_path):
    pj = tmp_path / "p" / "project.json"
    good = pj.read_bytes()
    pj.write_text("{ not json")
    with pytest.raises(LoadError, match="not valid JSON") as info:
        Project.open(tmp_path / "p")
    assert info.value.path == str(pj)
    pj.write_bytes(good)
    cj = tmp_path / "p" / "cases" / "img0" / "case.json"
    data = json.loads(cj.read_text())
    data["state"] = "half-done"
    cj.write_text(json.dumps(data))
    before = tree_bytes(tmp_path / "p")
    with pytest.raises(LoadError, match="unknown state 'half-done'") as info:
        Project.open(tmp_path / "p").case("img0")
    assert info.value.path == str(cj)
    # the rest of the project goes on: the damaged case is left out and named
    assert Project.open(tmp_path / "p").cases() == []
    (damaged,) = Project.open(tmp_path / "p").damaged_cases()
    assert damaged.startswith(str(cj)) and "unknown state 'half-done'" in damaged
    with pytest.raises(LoadError):
        project_with_case.save_label("img0", "draft", blob_label(), user="ann")
    assert tree_bytes(tmp_path / "p") == before


@pytest.mark.parametrize(
    "content, match",
    [(b"\xff{}", "not UTF-8 text"), (b"[" * 100_000, "nested too deeply")],
)
def test_undecodable_project_and_case_files_are_refused_naming_them(
    project_with_case, tmp_path, content, match
):
    pj = tmp_path / "p" / "project.json"
    good = pj.read_bytes()
    pj.write_bytes(content)
    with pytest.raises(LoadError, match=match) as info:
        Project.open(tmp_path / "p")
    assert info.value.path == str(pj)
    pj.write_bytes(good)
    cj = tmp_path / "p" / "cases" / "img0" / "case.json"
    cj.write_bytes(content)
    with pytest.raises(LoadError, match=match) as info:
        Project.open(tmp_path / "p").case("img0")
    assert info.value.path == str(cj)
    assert [match in d for d in Project.open(tmp_path / "p").damaged_cases()] == [True]


@pytest.mark.parametrize("key", ["active_version", "active_auto_version"])
@pytest.mark.parametrize("value", ["/tmp/evil", "../../x", "v1/../..", 5, ["v1"]])
def test_project_versions_must_be_plain_names(project_with_case, tmp_path, key, value):
    pj = tmp_path / "p" / "project.json"
    data = json.loads(pj.read_text())
    data[key] = value
    pj.write_text(json.dumps(data))
    with pytest.raises(LoadError, match=f"'{key}' must be a version name") as info:
        Project.open(tmp_path / "p")
    assert info.value.path == str(pj)
    with pytest.raises(LoadError):
        project_with_case.active_model_dir()
    with pytest.raises(LoadError):
        project_with_case.active_auto_model_dir()


@pytest.mark.parametrize("value", ["/etc/hostname", "../../img1/draft.nii.gz", "a/b.nii.gz", 5])
def test_case_label_names_must_stay_in_the_case_folder(project_with_case, tmp_path, value):
    cj = tmp_path / "p" / "cases" / "img0" / "case.json"
    data = json.loads(cj.read_text())
    data["labels"]["draft"] = value
    cj.write_text(json.dumps(data))
    with pytest.raises(LoadError, match="label 'draft' must be a file name") as info:
        project_with_case.label_path("img0", "draft")
    assert info.value.path == str(cj)
    assert project_with_case.cases() == []  # left out, and named:
    assert "label 'draft' must be a file name" in project_with_case.damaged_cases()[0]


@pytest.mark.parametrize("name", ["scan.nrrd", "scan.mha"])
def test_copy_of_an_image_with_a_detached_data_file_keeps_its_pixels(tmp_path, name):
    import shutil

    from viewer.io import load_volume

    project = make_project(tmp_path / "p")
    src = tmp_path / "elsewhere"
    src.mkdir()
    array = (np.arange(8 * 10 * 12) % 251).astype(np.uint8).reshape(8, 10, 12)
    (src / "pixels.raw").write_bytes(array.tobytes())
    if name.endswith(".nrrd"):
        header = (
            "NRRD0004\ntype: uint8\ndimension: 3\nspace: left-posterior-superior\n"
            "sizes: 12 10 8\nspace directions: (1.5,0,0) (0,1,0) (0,0,2)\n"
            "space origin: (10,-5,3)\nencoding: raw\ndata file: pixels.raw\n"
        )
    else:
        header = (
            "ObjectType = Image\nNDims = 3\nDimSize = 12 10 8\nElementSpacing = 1.5 1 2\n"
            "Offset = 10 -5 3\nElementType = MET_UCHAR\nElementDataFile = pixels.raw\n"
        )
    (src / name).write_text(header)
    original = load_volume(src / name)
    case = project.add_case(src / name, copy=True)
    shutil.rmtree(src)  # the user trusts the copy and removes the source
    copied = load_volume(project.image_path(case.case_id))
    np.testing.assert_array_equal(copied.array, array)
    assert copied.geometry.spacing == original.geometry.spacing == (1.5, 1.0, 2.0)
    assert copied.geometry.origin == original.geometry.origin == (10.0, -5.0, 3.0)


def test_dicom_folder_case_keeps_series_and_patient_and_copies_its_files(tmp_path):
    from viewer.io import load_volume

    src = REPO_DATA / "dicom" / "non_isotropic"
    project = make_project(tmp_path / "p")
    linked = project.add_case(src)
    assert (linked.case_id, linked.patient_id) == ("non_isotropic", "dicom2nifti")
    assert linked.series_uid == "1.2.826.0.1.3680043.8.498.69597760006836175184016920326015805567"
    assert project.image_path("non_isotropic") == src.absolute()
    copied = project.add_case(src, copy=True)
    assert copied.image == "cases/non_isotropic-2/image"
    assert sorted(p.name for p in project.image_path("non_isotropic-2").iterdir()) == [
        "00000_001.dcm",
        "00001_002.dcm",
        "00002_003.dcm",
        "00003_004.dcm",
    ]
    a = load_volume(src)
    b = load_volume(project.image_path("non_isotropic-2"), series_uid=copied.series_uid)
    assert b.geometry.same_grid(a.geometry, tol=1e-9)
    assert (a.array == b.array).all()


def test_a_torn_last_journal_line_is_skipped(tmp_path):
    project = make_project(tmp_path / "p", 1)
    with open(tmp_path / "p" / "journal.jsonl", "a") as f:
        f.write('{"event": "add_ca')  # a crash in the middle of an append
    assert [e["event"] for e in project.journal()] == ["create", "add_case"]
    project.save_label("img0", "draft", blob_label(), user="ann")  # the next append survives
    assert [e["event"] for e in project.journal()] == ["create", "add_case", "save_label"]


def test_training_refuses_a_case_whose_image_left_its_grid(tmp_path):
    from viewer.io.auto_cases import cases_from_project
    from viewer.project.retrain import _load_case

    project = make_project(tmp_path / "p", 2)
    for i in range(2):
        project.submit(f"img{i}", blob_label(), user="ann", time_spent_s=5, clicks=2)
    assert _load_case(project, "img0").label.shape == GRID.shape_zyx
    moved = Geometry(GRID.shape_zyx, GRID.spacing, (GRID.origin[0] + 1.0, *GRID.origin[1:]))
    write_image(project.image_path("img0"), grid=moved)  # the referenced file was re-exported
    with pytest.raises(LoadError, match="no longer matches the grid its labels were drawn on"):
        _load_case(project, "img0")
    with pytest.raises(LoadError, match="no longer matches") as e:
        cases_from_project(project)
    assert e.value.path == str(project.image_path("img0"))


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("clicks", 1e999, "'clicks' must be a finite number, 0 or more"),
        ("clicks", -3, "'clicks' must be a finite number, 0 or more"),
        ("time_spent_s", float("nan"), "'time_spent_s' must be a finite number, 0 or more"),
        ("time_spent_s", 10**400, "'time_spent_s' must be a finite number, 0 or more"),
        ("dice_original_final", "high", "'dice_original_final' must be a finite number, 0 or more"),
        ("case_id", "img7", "it names case 'img7', not its folder's"),
    ],
)
def test_impossible_case_numbers_and_a_foreign_case_id_leave_the_case_out(
    project_with_case, tmp_path, field, value, match
):
    cj = tmp_path / "p" / "cases" / "img0" / "case.json"
    data = json.loads(cj.read_text())
    data[field] = value
    cj.write_text(json.dumps(data))  # Python writes 1e999 and NaN as Infinity / NaN tokens
    assert project_with_case.cases() == []
    (damaged,) = project_with_case.damaged_cases()
    assert damaged == f"{cj}: the case record is damaged ({match})"


def test_a_copied_case_folder_does_not_count_the_case_twice(project_with_case, tmp_path):
    import shutil

    cases = tmp_path / "p" / "cases"
    shutil.copytree(cases / "img0", cases / "img0-backup")
    assert [c.case_id for c in project_with_case.cases()] == ["img0"]
    assert project_with_case.damaged_cases() == [
        f"{cases / 'img0-backup' / 'case.json'}: the case record is damaged "
        "(it names case 'img0', not its folder's)"
    ]


def test_an_infinite_grid_in_a_case_is_damage_not_a_crash(project_with_case, tmp_path):
    cj = tmp_path / "p" / "cases" / "img0" / "case.json"
    data = json.loads(cj.read_text())
    data["grid"]["shape_zyx"][0] = float("inf")
    cj.write_text(json.dumps(data))
    assert project_with_case.cases() == []
    assert "the case's image grid is unreadable" in project_with_case.damaged_cases()[0]


@pytest.mark.parametrize(
    "change, match",
    [
        ({"split": {"validation": 5}}, "'split.validation' must be a list of patient names"),
        ({"split": {"training": [["x"]]}}, "'split.training' must be a list of patient names"),
        ({"split": {"validation": "P12"}}, "'split.validation' must be a list of patient names"),
        ({"settings": {"retrain_minutes": "10"}}, "setting 'retrain_minutes' must be a number"),
        ({"settings": {"auto_retrain_after": 1e30}}, "setting 'auto_retrain_after' must be a"),
        ({"settings": {"retrain_threads": 0}}, "setting 'retrain_threads' must be a number"),
        ({"settings": {"replay_dir": 3}}, "setting 'replay_dir' must be a folder name"),
        ({"labels": [{"value": 1e999, "name": "x"}]}, "bad label entry"),
    ],
)
def test_wrongly_typed_split_settings_and_labels_refuse_the_project(
    project_with_case, tmp_path, change, match
):
    pj = tmp_path / "p" / "project.json"
    data = json.loads(pj.read_text())
    for key, value in change.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    pj.write_text(json.dumps(data))
    with pytest.raises(LoadError, match=match.replace("(", r"\(")) as info:
        Project.open(tmp_path / "p")
    assert info.value.path == str(pj)


def test_links_planted_in_a_project_are_never_written_or_read_through(project_with_case, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.nii.gz"
    victim.write_bytes(b"precious")
    case = tmp_path / "p" / "cases" / "img0"
    draft = case / "draft.nii.gz"
    draft.unlink()
    draft.symlink_to(victim)
    # reading the draft through the link is refused, naming it
    with pytest.raises(LoadError, match="the case's label file is a link") as info:
        project_with_case.label_path("img0", "draft")
    assert info.value.path == str(draft)
    # a save replaces the link with the project's own file; the file outside is untouched
    project_with_case.save_label("img0", "original", blob_label(), user="ann")
    journal = tmp_path / "p" / "journal.jsonl"
    assert journal.is_file() and not journal.is_symlink()
    cj = case / "case.json"
    real = cj.read_text()
    cj.unlink()
    (outside / "case.json").write_text(real)
    cj.symlink_to(outside / "case.json")
    assert project_with_case.cases() == []
    assert "the case record is a link" in project_with_case.damaged_cases()[0]
    assert victim.read_bytes() == b"precious"


def test_a_linked_case_folder_is_not_a_case(project_with_case, tmp_path):
    cases = tmp_path / "p" / "cases"
    elsewhere = tmp_path / "elsewhere"
    import shutil

    shutil.copytree(cases / "img0", elsewhere / "img9")
    (cases / "img9").symlink_to(elsewhere / "img9", target_is_directory=True)
    assert [c.case_id for c in project_with_case.cases()] == ["img0"]


def test_the_journal_is_never_appended_through_a_link(project_with_case, tmp_path, caplog):
    journal = tmp_path / "p" / "journal.jsonl"
    target = tmp_path / "elsewhere.jsonl"
    target.write_text("")
    journal.unlink()
    journal.symlink_to(target)
    with caplog.at_level(logging.WARNING):
        project_with_case.save_label("img0", "draft", blob_label(), user="ann")
    assert target.read_text() == ""
    assert [r.getMessage() for r in caplog.records if "later step" in r.getMessage()] == [
        f"case img0 saved (draft), but a later step failed: {journal}: is a link; the project "
        "writes only its own files"
    ]


def test_a_full_disk_after_a_case_is_published_does_not_fail_the_add(tmp_path, monkeypatch):
    import errno

    from viewer.project import store

    project = make_project(tmp_path / "p")
    image = write_image(tmp_path / "ct.nii.gz")

    def full(path, line):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "append_line", full)
    record = project.add_case(image, final=False)
    assert record.case_id == "ct"
    assert [c.case_id for c in project.cases()] == ["ct"]  # added once, reported as added
