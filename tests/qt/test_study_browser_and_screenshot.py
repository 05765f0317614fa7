"""Study browser (background scan/load, thumbnails, skipped files, cancel) and the headless
screenshot command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt5 import QtGui

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


def _browser(qtbot, path):
    from viewer.qt.study_browser import StudyBrowser

    dlg = StudyBrowser(str(path))
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.scan is not None and not dlg.busy(), timeout=60_000)
    return dlg


def test_browser_lists_series_with_thumbnail_and_loads_in_background(
    real_data, qapp_configured, qtbot
):
    dlg = _browser(qtbot, real_data / "seg" / "ct_abdomen_dicom" / "dicom")
    series = dlg.scan.all_series()
    assert len(series) == 1
    item = dlg.tree.currentItem()
    assert item.text(1) == "CT" and item.text(2) == "4"
    assert not item.icon(0).isNull()  # thumbnail decoded (JPEG 2000)
    assert dlg.skipped_label.text() == "No files skipped"
    with qtbot.waitSignal(dlg.accepted, timeout=60_000):
        dlg.load_selected()
    assert dlg.volume.geometry.shape_zyx == (4, 512, 512)


def test_browser_lists_skipped_files(real_data, qapp_configured, qtbot):
    dlg = _browser(qtbot, real_data / "dicom" / "pydicom_test_files")
    assert dlg.skipped_list.count() == len(dlg.scan.skipped) > 0
    assert ":" in dlg.skipped_list.item(0).text()  # path: reason
    assert len(dlg.scan.all_series()) > 1


def test_cancelling_a_load_keeps_the_dialog_open(shared_data, qapp_configured, qtbot):
    # A 120-file series: long enough to be still loading when cancel comes (a small one may
    # finish first), so this one stays on ../shared/data.
    dlg = _browser(qtbot, shared_data / "dicom" / "mr_head_120_slices")
    dlg.load_selected()
    assert dlg.busy()
    dlg.cancel()
    qtbot.waitUntil(lambda: not dlg.busy(), timeout=60_000)
    assert dlg.volume is None
    assert "cancel" in dlg.message.text().lower()


def _run(argv):
    from viewer.cli.main import run_cli

    return run_cli(argv)


def test_screenshot_command_writes_pngs(qapp_configured, tmp_path, capsys):
    from viewer.qt.app import configure_pyqtgraph

    configure_pyqtgraph()
    demo = str(DEMO / "ct_abdomen_demo.nii.gz")
    label = str(DEMO / "ct_abdomen_demo_label.nii.gz")
    out = tmp_path / "axial.png"
    assert (
        _run(
            [
                "screenshot",
                demo,
                "--label",
                label,
                "--view",
                "axial",
                "--out",
                str(out),
                "--size",
                "256",
            ]
        )
        == 0
    )
    img = QtGui.QImage(str(out))
    assert (img.width(), img.height()) == (256, 256)
    out_all = tmp_path / "all.png"
    assert (
        _run(
            [
                "screenshot",
                demo,
                "--view",
                "all",
                "--slice",
                "5",
                "--out",
                str(out_all),
                "--size",
                "200",
            ]
        )
        == 0
    )
    img = QtGui.QImage(str(out_all))
    assert (img.width(), img.height()) == (400, 400)
    from viewer.qt.screenshot import qimage_to_rgb

    rgb = qimage_to_rgb(img)
    assert rgb[:200, 200:].std() > 5  # the 3D quarter holds a real picture
    assert not np.array_equal(rgb[:200, :200], rgb[200:, :200])


def test_screenshot_command_errors_are_one_line(qapp_configured, tmp_path, capsys):
    demo = str(DEMO / "ct_abdomen_demo.nii.gz")
    assert (
        _run(["screenshot", str(tmp_path / "missing.nii"), "--out", str(tmp_path / "x.png")]) == 2
    )
    assert "missing.nii" in capsys.readouterr().err
    assert _run(["screenshot", demo, "--slice", "999", "--out", str(tmp_path / "x.png")]) == 2
    assert "outside" in capsys.readouterr().err
    for text in ("nan", "inf", "nan,0,0", "0,1e400,0"):
        out = tmp_path / "y.png"
        assert _run(["screenshot", demo, "--slice", text, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err == f"error: {demo}: --slice must be finite numbers, got {text!r}", err
        assert not out.exists()
