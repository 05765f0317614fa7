"""Texts for the window/level: the readout in a slice view's corner ("W 400 L 50 HU") and the
preset menu's entries ("Abdomen (W 400 / L 50)"), and the preset a number key picks."""

from __future__ import annotations

from viewer.model.view_state import AUTO_PRESET, CT_PRESETS, WindowLevel

# number key -> preset: 1-8 the CT presets in menu order, 0 the image's automatic window
PRESET_KEYS: dict[int, str] = {i + 1: name for i, name in enumerate(CT_PRESETS)}
PRESET_KEYS[0] = AUTO_PRESET


def _fmt(v: float, whole: bool) -> str:
    if whole or abs(v) >= 100:
        text = f"{v:.0f}"
    elif abs(v) >= 1:
        text = f"{v:.1f}"
    else:
        text = f"{v:.3g}"
    return "0" if text in ("-0", "-0.0") else text


def window_text(window: WindowLevel, modality: str) -> str:
    """The corner readout: whole HU for CT ("W 400 L 50 HU"), else the image's units."""
    ct = modality.upper() == "CT"
    text = f"W {_fmt(window.width, ct)} L {_fmt(window.level, ct)}"
    return text + " HU" if ct else text


def preset_label(name: str) -> str:
    """A preset's menu entry with its values: "Abdomen (W 400 / L 50)"; Auto says what it is."""
    if name in CT_PRESETS:
        w, level = CT_PRESETS[name]
        return f"{name} (W {_fmt(w, True)} / L {_fmt(level, True)})"
    if name == AUTO_PRESET:
        return f"{name} (1st-99th percentile)"
    return name
