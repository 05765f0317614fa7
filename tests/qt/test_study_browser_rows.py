"""Study browser rows of series that share a description: each row shows what tells it apart
(series number, acquisition time, slice count, rows x columns, plane, modality)."""

from __future__ import annotations

from dicom_factory import AXIAL, CORONAL, SAGITTAL, write_series

from viewer.io.dicom_series_info import dicom_time, plane_name


def test_rows_with_one_description_differ(qapp_configured, qtbot, tmp_path):
    from viewer.qt.study_browser import COLUMNS, StudyBrowser

    folder = tmp_path / "study"
    desc = "REST1 w SMS PF7-8"
    write_series(folder / "a", description=desc, number=6, time="101500.5", slices=3)
    write_series(
        folder / "b", description=desc, number=7, time="102233", slices=4, orientation=CORONAL
    )
    write_series(
        folder / "c",
        description=desc,
        number=8,
        time="1031",
        slices=5,
        rows=10,
        columns=12,
        orientation=SAGITTAL,
    )
    oblique = (1.0, 0.0, 0.0, 0.0, 0.7071068, 0.7071068)  # tilted 45 degrees about x
    write_series(folder / "d", description=desc, number=9, time="104500", orientation=oblique)
    dlg = StudyBrowser(str(folder))
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.scan is not None and not dlg.busy(), timeout=60_000)
    rows = []
    for i in range(dlg.tree.topLevelItem(0).child(0).childCount()):
        item = dlg.tree.topLevelItem(0).child(0).child(i)
        rows.append([item.text(c) for c in range(len(COLUMNS))])
    assert sorted(rows) == [
        [f"#6 {desc}", "MR", "3", "8 \u00d7 6", "axial", "10:15:00", "20240102"],
        [f"#7 {desc}", "MR", "4", "8 \u00d7 6", "coronal", "10:22:33", "20240102"],
        [f"#8 {desc}", "MR", "5", "10 \u00d7 12", "sagittal", "10:31:00", "20240102"],
        [f"#9 {desc}", "MR", "3", "8 \u00d7 6", "oblique", "10:45:00", "20240102"],
    ]
    assert COLUMNS == [
        "Patient / study / series",
        "Modality",
        "Slices",
        "Size",
        "Plane",
        "Time",
        "Date",
    ]
    assert dlg.width() >= 1100 or dlg.width() == dlg.screen().availableGeometry().width()


def test_plane_and_time_parsing():
    assert plane_name(AXIAL) == "axial"
    assert plane_name(CORONAL) == "coronal"
    assert plane_name(SAGITTAL) == "sagittal"
    # 10 degrees off axial is still axial; 45 degrees is oblique
    c, s = 0.98480775, 0.17364818
    assert plane_name((1, 0, 0, 0, c, s)) == "axial"
    assert plane_name((1, 0, 0, 0, 0.7071068, 0.7071068)) == "oblique"
    assert plane_name(None) == "" and plane_name((0, 0, 0, 0, 0, 0)) == ""
    assert dicom_time("093012.123456") == "09:30:12"
    assert dicom_time("0930") == "09:30:00"
    assert dicom_time("09:30:12") == "09:30:12"
    assert dicom_time("") == "" and dicom_time("ab") == ""
