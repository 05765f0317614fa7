"""`train-base --synth-labelmaps DIR --synth-share F`: the label maps read once, cropped and
coded (`CompactMap`), as the `SynthSpec` the trainer generates fresh images from."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from viewer.errors import RadLabelError

SYNTH_EXCLUDE_KEY = "synth"
DEFAULT_STRIPPED_SHARE = 0.25  # brain-extracted inputs are common; most images keep the head  # --exclude synth:17,53 holds values out of generated cases


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
    p.add_argument(
        "--synth-contrast",
        default="",
        metavar="PRIOR[:P]",
        help="draw a share P (default 0.8) of the generated images with this contrast prior "
        "(t1: FreeSurfer labels at T1 levels); the rest keep uniformly random contrasts",
    )
    p.add_argument(
        "--synth-uses",
        type=int,
        default=16,
        metavar="N",
        help="patches drawn from each generated image before a fresh one replaces it "
        "(default 16; more halves the generation cost per patch, fewer gives more variety)",
    )

    p.add_argument(
        "--synth-stripped",
        type=float,
        default=DEFAULT_STRIPPED_SHARE,
        metavar="P",
        help="share of the images generated from whole-head maps (maps with shape-only "
        f"tissue classes) that are skull-stripped (default {DEFAULT_STRIPPED_SHARE:g}: the "
        "model then reads brain-extracted scans, such as FreeSurfer's norm, as well as heads)",
    )


DEFAULT_PRIOR_SHARE = 0.8  # most images at the prior's contrast: learned within a CPU hour


def parse_contrast(text: str):
    """SynthParams for `--synth-contrast PRIOR[:P]` ('' gives the generator's defaults)."""
    from dataclasses import replace

    from segmentation_core.synth.params import SynthParams
    from segmentation_core.synth.priors import prior_table

    params = SynthParams()
    if not text:
        return params
    name, _, share = text.partition(":")
    try:
        table = prior_table(name)
        p = float(share) if share else DEFAULT_PRIOR_SHARE
    except ValueError as e:
        raise RadLabelError(f"bad --synth-contrast '{text}': {e}") from None
    if not 0.0 < p <= 1.0:
        raise RadLabelError(f"bad --synth-contrast '{text}': the share must be in (0, 1]")
    return replace(params, prior=table, prior_probability=p)


def load_synth_spec(
    items: Sequence[str],
    share: float,
    exclude_values: Sequence[int] = (),
    contrast: str = "",
    uses: int = 16,
    stripped: float = 0.0,
):
    """The SynthSpec for these maps; RadLabelError naming the file for a bad map."""
    from dataclasses import replace

    from segmentation_core.synth.compact import CompactMap
    from segmentation_core.training.synth_pool import SynthSpec
    from viewer.io.label_map_files import find_label_maps, load_label_map, map_stem

    if not 0.0 < share <= 1.0:
        raise RadLabelError(f"--synth-share must be in (0, 1], got {share}")
    if uses < 1:
        raise RadLabelError(f"--synth-uses must be at least 1, got {uses}")
    if not 0.0 <= stripped <= 1.0:  # also refuses NaN
        raise RadLabelError(f"--synth-stripped must be in [0, 1], got {stripped}")
    params = replace(parse_contrast(contrast), stripped_probability=float(stripped))
    maps = []
    for path in find_label_maps(list(items)):
        labels, geometry = load_label_map(path)
        maps.append(
            CompactMap.from_labels(
                map_stem(path), labels, geometry.spacing_zyx, direction=geometry.direction
            )
        )
        del labels  # one full-size map in memory at a time
    return SynthSpec(
        maps=tuple(maps),
        share=share,
        params=params,
        uses=int(uses),
        exclude_values=tuple(int(v) for v in exclude_values),
    )
