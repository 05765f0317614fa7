"""The welcome page (issue 19): shown over the empty views at first start, opens the demo study
and recent files, walks through the three-step tour, can be dismissed for good and comes back
from Help; empty views say what to do. Driven with real clicks on an offscreen window."""

from __future__ import annotations

from PyQt5 import QtCore, QtWidgets

from viewer.qt.settings import add_recent_file
from viewer.qt.welcome import EMPTY_VIEW_TEXT, SETTING_SHOW, install_welcome

L = QtCore.Qt.LeftButton


def _settings(tmp_path) -> QtCore.QSettings:
    return QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.IniFormat)


def _window(qtbot, settings, with_3d: bool = False):
    from viewer.qt.main_window import MainWindow

    w = MainWindow(settings=settings, with_3d=with_3d)
    qtbot.addWidget(w)
    w.resize(1000, 800)
    welcome = install_welcome(w)
    w.show()
    qtbot.waitExposed(w)
    return w, welcome


def test_first_start_shows_the_page_over_the_views_and_the_demo_opens(
    qapp_configured, qtbot, tmp_path
):
    w, welcome = _window(qtbot, _settings(tmp_path))
    page = welcome.page
    assert page.isVisible() and page.parent() is w.grid
    assert (page.geometry().center() - w.grid.rect().center()).manhattanLength() <= 1  # centred
    assert [lab.isVisible() for lab in welcome.hints.values()] == [False] * 3
    assert page.recent_paths() == []  # nothing opened yet
    qtbot.mouseClick(page.demo_button, L)
    assert w.document is not None
    assert w.document.geometry.shape_zyx == (30, 101, 122)
    assert w.document.volume.source_path.endswith("ct_abdomen_demo.nii.gz")
    assert not page.isVisible(), "an open image replaces the welcome page"
    assert [lab.isVisible() for lab in welcome.hints.values()] == [False] * 3


def test_tour_steps_through_the_three_gestures(qapp_configured, qtbot, tmp_path):
    _w, welcome = _window(qtbot, _settings(tmp_path))
    page = welcome.page
    heading = lambda: page.tour.currentWidget().text().split("</h3>")[0]  # noqa: E731
    assert heading() == "<h3>1. Click to segment" and not page.back_button.isEnabled()
    qtbot.mouseClick(page.next_button, L)
    assert heading() == "<h3>2. Correct" and page.step_label.text() == "Step 2 of 3"
    qtbot.mouseClick(page.next_button, L)
    assert heading() == "<h3>3. Save and export" and not page.next_button.isEnabled()
    qtbot.mouseClick(page.back_button, L)
    assert page.step() == 1


def test_dismissed_for_good_then_back_from_help_with_recent_files(qapp_configured, qtbot, tmp_path):
    settings = _settings(tmp_path)
    recent = tmp_path / "scan.nii.gz"
    w, welcome = _window(qtbot, settings)
    page = welcome.page
    qtbot.mouseClick(page.show_at_start, L)  # untick "Show this page at start"
    qtbot.mouseClick(page.close_button, L)
    assert not page.isVisible()
    assert settings.value(SETTING_SHOW) == "false"
    # no image and no page: every empty slice view says what to do
    for name, hint in welcome.hints.items():
        assert hint.isVisible() and hint.text() == EMPTY_VIEW_TEXT
        assert hint.geometry() == w.slice_views[name].rect()
    w.close()

    add_recent_file(settings, str(recent))
    w2, welcome2 = _window(qtbot, settings)
    assert not welcome2.page.isVisible(), "dismissed for good: not at the next start"
    menu = w2.help_menu.menu
    assert menu.actions()[0] is welcome2.action and welcome2.action.text() == "&Welcome page"
    welcome2.action.trigger()  # Help > Welcome page
    assert welcome2.page.isVisible() and not welcome2.page.show_at_start.isChecked()
    assert welcome2.page.recent_paths() == [str(recent)]
    assert [h.isVisible() for h in welcome2.hints.values()] == [False] * 3
    errors = []
    w2.show_error = lambda title, msg: errors.append(msg)
    button = next(
        b for b in welcome2.page.recent_box.findChildren(QtWidgets.QPushButton)
        if b.text() == str(recent)
    )  # fmt: skip
    qtbot.mouseClick(button, L)
    assert len(errors) == 1 and str(recent) in errors[0]  # it tried that file (it is gone)
    assert welcome2.page.isVisible()  # a failed open keeps the page


def test_the_3d_view_built_after_the_first_paint_stays_under_the_page(
    qapp_configured, qtbot, tmp_path
):
    w, welcome = _window(qtbot, _settings(tmp_path), with_3d=True)
    qtbot.waitUntil(lambda: w._view_3d is not None)  # built after the first paint
    qtbot.wait(50)
    page = welcome.page
    corner = page.geometry().topRight() + QtCore.QPoint(-5, 5)  # where the 3D view lies
    assert w.grid.views["3d"].geometry().contains(corner)
    hit = w.grid.childAt(corner)
    assert hit is page or page.isAncestorOf(hit), f"{type(hit).__name__} covers the page"
