"""The classic engine: marker-controlled watershed (`segmentation_core.classic`), no model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from segmentation_core.engines.base import POINTS, SessionOptions

if TYPE_CHECKING:
    from segmentation_core.session import InteractiveSession

PATCH = (64, 64, 64)


class ClassicEngine:
    name = "classic"
    title = "Classic (no learning)"
    capabilities = frozenset({POINTS})
    model_formats: tuple[str, ...] = ()
    fallback = None

    def open(self, model_dir: Path | None, options: SessionOptions) -> InteractiveSession:
        from segmentation_core.autozoom import ZoomConfig, ZoomSegmenter
        from segmentation_core.classic import classic_patch_model
        from segmentation_core.session import InteractiveSession

        seg = ZoomSegmenter(classic_patch_model, ZoomConfig(patch_shape=PATCH))
        return InteractiveSession(
            seg,
            self.name,
            options.keep_clicked_components,
            local_corrections=options.local_corrections,
        )
