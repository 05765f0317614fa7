"""Read-only mode of the main window: a project case that another user holds is shown but not
edited. `set_read_only(window, reason)` disables every editing tool's action (Navigate stays),
goes back to navigation and makes `window.execute` refuse commands with `reason`;
`set_read_only(window, "")` undoes all of it."""

from __future__ import annotations


def set_read_only(window, reason: str) -> None:
    """Make the open document read-only with `reason` shown to the user ("" : editable)."""
    window.read_only = reason
    editing = window.editing
    if editing is not None:
        if reason:
            editing.select_tool(None)  # a tool in use must not keep painting
        for key, action in editing.registry.actions.items():
            if key is not None:  # Navigate (key None) always works
                action.setEnabled(not reason)
    if window.ai is not None:
        if reason:
            window.ai.reject()  # an AI preview in progress cannot be accepted any more
        window.ai.panel.setEnabled(not reason)
    if reason:
        window.statusBar().showMessage(reason, 30000)
