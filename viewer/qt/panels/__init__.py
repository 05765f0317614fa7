"""Editing panels (segments, tools, segment operations) and their wiring into the main window."""

from viewer.qt.panels.editing import EditingController, install_editing, offer_recovery

__all__ = ["EditingController", "install_editing", "offer_recovery"]
