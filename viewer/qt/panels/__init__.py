"""Editing panels and their controller."""

from viewer.qt.panels.editing import EditingController, install_editing
from viewer.qt.recovery_prompt import offer_recovery

__all__ = ["EditingController", "install_editing", "offer_recovery"]
