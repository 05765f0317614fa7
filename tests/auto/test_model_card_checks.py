"""A damaged or hostile automatic-model card (`auto_model.json`) is one AutoModelError naming
the card: wrong types, paths out of the folder, sizes that would exhaust memory."""

from __future__ import annotations

import copy
import json

import pytest

from segmentation_core.auto.model_folder import CARD, FORMAT, AutoModelError, read_auto_model
from segmentation_core.model_store import MODEL_PREFIX

PLAN = {
    "n_classes": 3,
    "label_values": [1, 2],
    "label_names": {"1": "liver", "2": "spleen"},
    "normalization": {"scheme": "zscore"},
    "stages": [{"name": "fullres", "spacing_zyx": [2.0, 2.0, 2.0], "patch_zyx": [32, 32, 32]}],
    "mirror_axes": [2],
    "mirror_pairs": [[1, 2]],
}


def _folder(tmp_path, card_changes=None, plan_changes=None, stage_changes=None):
    plan = copy.deepcopy(PLAN)
    plan.update(plan_changes or {})
    if stage_changes:
        plan["stages"][0].update(stage_changes)
    card = {"format": FORMAT, "version": "v1", "plan": plan, "inference_folds": ["all"]}
    card.update(card_changes or {})
    d = tmp_path / "model"
    export = d / "fold_all" / "fullres" / "model"
    export.mkdir(parents=True)
    (export / f"{MODEL_PREFIX}.pdiparams").write_bytes(b"0")
    (d / CARD).write_text(json.dumps(card))
    return d


def test_the_good_card_reads(tmp_path):
    model = read_auto_model(_folder(tmp_path))
    assert model["labels"] == {1: "liver", 2: "spleen"} and model["folds"] == ["all"]


@pytest.mark.parametrize(
    "card, plan, stage",
    [
        ({}, {"label_names": []}, {}),  # a list where names map values
        ({}, {}, {"name": 5}),
        ({}, {}, {"name": "/tmp/elsewhere"}),
        ({}, {}, {"name": ".."}),
        ({"inference_folds": ["0/../../.."]}, {}, {}),
        ({}, {"n_classes": 10**9}, {}),
        ({}, {"label_values": [1, 2, 3]}, {}),
        ({}, {}, {"spacing_zyx": [1e-6, 1e-6, 1e-6]}),
        ({}, {}, {"spacing_zyx": [float("nan"), 1.0, 1.0]}),
        ({}, {}, {"patch_zyx": [0, 0, 0]}),
        ({}, {}, {"patch_zyx": [100000, 32, 32]}),
        ({}, {"stages": []}, {}),
        ({}, {"normalization": "zscore"}, {}),
        ({}, {"normalization": {"scheme": "minmax"}}, {}),  # unknown: not z-scored in silence
        ({}, {"normalization": {"scheme": "zscore", "mask": "otsu"}}, {}),
        ({}, {"mirror_pairs": [[1, 99]]}, {}),
        ({"postprocessing": {"largest_component": [7]}}, {}, {}),
        ({"plan": ["not", "a", "plan"]}, {}, {}),
    ],
)
def test_a_damaged_card_is_one_error_naming_it(tmp_path, card, plan, stage):
    if isinstance(card.get("plan"), list):
        folder = _folder(tmp_path)
        data = json.loads((folder / CARD).read_text())
        data["plan"] = card["plan"]
        (folder / CARD).write_text(json.dumps(data))
    else:
        folder = _folder(tmp_path, card, plan, stage)
    with pytest.raises(AutoModelError) as e:
        read_auto_model(folder)
    assert e.value.path == str(folder / CARD)
    assert "model card is incomplete or damaged" in e.value.reason
