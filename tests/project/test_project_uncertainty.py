"""Next case among cases in progress: the one the active model is least sure about, measured
off the UI (viewer.project.uncertainty) and cached per model and working label."""

from __future__ import annotations

import numpy as np
import pytest
from project_data import BIG, LABELS, sphere_label, write_label

pytest.importorskip("paddle")

from segmentation_core import open_session  # noqa: E402
from segmentation_core.evaluation.harness import evaluate_case  # noqa: E402
from viewer.io import save_volume  # noqa: E402
from viewer.model.labelmap import LabelMap  # noqa: E402
from viewer.project import Project  # noqa: E402
from viewer.project.uncertainty import cached, from_cache, refresh  # noqa: E402


def _project(tmp_path) -> tuple[Project, np.ndarray, dict[str, np.ndarray]]:
    """Two cases in progress with the same draft: in 'clear' the balls are bright in the image,
    in 'hidden' the image is noise only (the model cannot find them from one click)."""
    project = Project.create(tmp_path / "p", "rank", LABELS)
    src = tmp_path / "src"
    src.mkdir()
    lab = sphere_label()
    rng = np.random.default_rng(3)
    images = {
        "clear": (rng.normal(0, 8, BIG.shape_zyx) + 60 * (lab > 0)).astype(np.float32),
        "hidden": rng.normal(0, 8, BIG.shape_zyx).astype(np.float32),
    }
    for name, img in images.items():
        save_volume(img, BIG, src / f"{name}.nii.gz")
        project.add_case(src / f"{name}.nii.gz", patient_id=name)
        project.save_label(name, "draft", LabelMap(BIG, lab), user="ann")
    return project, lab, images


def _one_click_uncertainty(model_dir, image, lab) -> float:
    session = open_session("paddle", model_dir=model_dir, in_process=True, threads=1)
    try:
        res = evaluate_case(session, image, lab, BIG.spacing_zyx, [1, 2], n_clicks=1)
    finally:
        session.close()
    return round(1.0 - float(np.mean([t.dice_at(1) for t in res.targets])), 4)


def test_next_case_goes_to_the_case_the_model_is_least_sure_about(tmp_path):
    project, lab, images = _project(tmp_path)
    model_dir = project.active_model_dir()
    # without measurements: least recently touched ('clear' was drafted first)
    assert project.next_case(from_cache(project)).case_id == "hidden"
    assert project.next_case().case_id == "clear"

    measured = refresh(project, threads=1)
    want = {n: _one_click_uncertainty(model_dir, images[n], lab) for n in images}
    assert measured == want
    assert want["hidden"] > want["clear"]
    assert {n: cached(project, n, model_dir) for n in images} == want
    assert project.next_case(from_cache(project)).case_id == "hidden"
    assert refresh(project, threads=1) == {}  # cached: nothing measured twice


def test_an_edited_label_or_another_model_is_measured_again(tmp_path):
    project, lab, _ = _project(tmp_path)
    model_dir = project.active_model_dir()
    refresh(project, threads=1)
    assert cached(project, "clear", model_dir) is not None
    assert cached(project, "clear", tmp_path / "other_model") is None
    edited = lab.copy()
    edited[edited == 2] = 0
    project.save_label("clear", "draft", LabelMap(BIG, edited), user="ann")
    assert cached(project, "clear", model_dir) is None
    assert cached(project, "hidden", model_dir) is not None
    assert set(refresh(project, threads=1)) == {"clear"}


def test_a_case_without_a_working_label_is_not_ranked(tmp_path):
    project, _, _ = _project(tmp_path)
    src = tmp_path / "src"
    save_volume(np.zeros(BIG.shape_zyx, np.float32), BIG, src / "empty.nii.gz")
    write_label(src / "empty_label.nii.gz", np.zeros(BIG.shape_zyx, np.uint16), BIG)
    project.add_case(src / "empty.nii.gz", patient_id="empty")
    project.save_label(
        "empty", "draft", LabelMap(BIG, np.zeros(BIG.shape_zyx, np.uint16)), user="a"
    )
    measured = refresh(project, threads=1)
    assert measured["empty"] is None
    assert cached(project, "empty", project.active_model_dir()) is None


def test_project_rank_prints_the_cases_least_sure_first(tmp_path, capsys):
    from viewer.cli.main import run_cli

    project, _, _ = _project(tmp_path)
    assert run_cli(["project", "rank", str(project.folder), "--threads", "1"]) == 0
    model_dir = project.active_model_dir()
    want = [f"{n}: uncertainty {cached(project, n, model_dir):.3f}" for n in ("hidden", "clear")]
    assert capsys.readouterr().out.splitlines() == want
