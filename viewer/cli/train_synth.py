"""`train-base --synth-labelmaps DIR --synth-share F`: the label maps read once, cropped and
coded (`CompactMap`), as the `SynthSpec` the trainer generates fresh images from."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from viewer.errors import RadLabelError

SYNTH_EXCLUDE_KEY = "synth"  # --exclude synth:17,53 holds values out of generated cases


def add_synth_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--synth-labelmaps",
        nargs="+",
        default=[],
        metavar="MAPS",
        help="label map files or folders: also train on images generated from them on the fly "
        "(SynthSeg-style, fresh random draws throughout the run)",
    )
    p.add_argument(
        "--synth-share",
        type=float,
        default=0.5,
        metavar="F",
        help="fraction of training patches from generated images (default 0.5; 1.0 without "
        "--data); --exclude synth:V1,V2 keeps values out of them",
    )


def load_synth_spec(items: Sequence[str], share: float, exclude_values: Sequence[int] = ()):
    """The SynthSpec for these maps; RadLabelError naming the file for a bad map."""
    from segmentation_core.synth.compact import CompactMap
    from segmentation_core.training.synth_pool import SynthSpec
    from viewer.io.label_map_files import find_label_maps, load_label_map, map_stem

    if not 0.0 < share <= 1.0:
        raise RadLabelError(f"--synth-share must be in (0, 1], got {share}")
    maps = []
    for path in find_label_maps(list(items)):
        labels, geometry = load_label_map(path)
        maps.append(CompactMap.from_labels(map_stem(path), labels, geometry.spacing_zyx))
        del labels  # one full-size map in memory at a time
    return SynthSpec(
        maps=tuple(maps), share=share, exclude_values=tuple(int(v) for v in exclude_values)
    )
