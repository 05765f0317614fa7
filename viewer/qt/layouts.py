"""Arrangement of the four views: 2x2, one big + three small, 1x3 (slices only), single view."""

from __future__ import annotations

from PyQt5 import QtWidgets

LAYOUTS = ("2x2", "1+3", "1x3", "single")
ORDER = ("axial", "3d", "coronal", "sagittal")


class ViewGrid(QtWidgets.QWidget):
    """Holds the views and places them for the current layout; double-click maximises."""

    def __init__(self, views: dict[str, QtWidgets.QWidget], parent=None) -> None:
        super().__init__(parent)
        self.views = views
        self.grid = QtWidgets.QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self.layout_name = "2x2"
        self.main_view = "axial"
        self._before_maximise: tuple[str, str] | None = None
        self.set_layout("2x2")

    def set_layout(self, name: str, main_view: str | None = None) -> None:
        if name not in LAYOUTS:
            raise ValueError(f"unknown layout {name!r}; expected one of {LAYOUTS}")
        if main_view is not None:
            if main_view not in self.views:
                raise ValueError(f"unknown view {main_view!r}")
            self.main_view = main_view
        self.layout_name = name
        if name != "single":
            self._before_maximise = None
        for w in self.views.values():
            self.grid.removeWidget(w)
            w.hide()
        for i in range(4):
            self.grid.setRowStretch(i, 0)
            self.grid.setColumnStretch(i, 0)
        places = self._places(name)
        for view, (r, c, rs, cs) in places.items():
            self.grid.addWidget(self.views[view], r, c, rs, cs)
            self.views[view].show()
        rows = max(r + rs for r, _c, rs, _cs in places.values())
        cols = max(c + cs for _r, c, _rs, cs in places.values())
        for i in range(rows):
            self.grid.setRowStretch(i, 1)
        for i in range(cols):
            self.grid.setColumnStretch(i, 2 if name == "1+3" and i == 0 else 1)

    def _places(self, name: str) -> dict[str, tuple[int, int, int, int]]:
        if name == "2x2":
            return {v: (i // 2, i % 2, 1, 1) for i, v in enumerate(ORDER)}
        if name == "1x3":
            return {v: (0, i, 1, 1) for i, v in enumerate(("axial", "coronal", "sagittal"))}
        if name == "single":
            return {self.main_view: (0, 0, 1, 1)}
        others = [v for v in ORDER if v != self.main_view]
        places = {self.main_view: (0, 0, 3, 1)}
        places.update({v: (i, 1, 1, 1) for i, v in enumerate(others)})
        return places

    def visible_views(self) -> list[str]:
        return [name for name, w in self.views.items() if not w.isHidden()]

    def toggle_maximise(self, view: str) -> None:
        """Show `view` alone; the same call on the maximised view restores the previous layout."""
        if (
            self.layout_name == "single"
            and self._before_maximise is not None
            and view == self.main_view
        ):
            name, main = self._before_maximise
            self.set_layout(name, main)
            return
        before = (self.layout_name, self.main_view)
        self.set_layout("single", view)
        self._before_maximise = before
