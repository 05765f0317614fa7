"""The built-in painting tools, declared: one `ToolSpec` line each. To add a tool, write its
Qt-free class in `viewer/tools/` and add its line to `PAINT_TOOLS` (see CONTRIBUTING.md)."""

from __future__ import annotations

from viewer.qt.panels.tool_options import BrushOptions, FloodOptions
from viewer.qt.tool_registry import ToolSpec
from viewer.tools.brush import BrushTool, EraserTool
from viewer.tools.flood_fill import FloodFillTool
from viewer.tools.lasso import LassoTool

# painting tools sit in the Tools panel; the toolbar keeps to the tools without a panel row
PAINT_TOOLS: list[ToolSpec] = [
    ToolSpec(
        "brush",
        "Brush",
        "B",
        lambda c: BrushTool(c.document, c.state, c.brush_settings),
        options=BrushOptions,
        toolbar=False,
    ),
    ToolSpec(
        "eraser",
        "Eraser",
        "E",
        lambda c: EraserTool(c.document, c.state, c.brush_settings),
        options=BrushOptions,
        toolbar=False,
    ),
    ToolSpec(
        "flood_fill",
        "Flood fill",
        "F",
        lambda c: FloodFillTool(c.document, c.state, c.flood_settings),
        options=FloodOptions,
        toolbar=False,
    ),
    ToolSpec("lasso", "Lasso", "P", lambda c: LassoTool(c.document, c.state), toolbar=False),
]
