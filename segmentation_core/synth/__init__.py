"""SynthSeg-style image generation from label maps (numpy + scipy; no Qt, no viewer).

`generate(label_map, spacing_zyx, rng, params)` -> (float32 image, int32 label) on the same
grid; `generate_detailed` also returns what was drawn and can crop to the head.
"""

from segmentation_core.synth.generate import SynthResult, generate, generate_detailed, head_box
from segmentation_core.synth.params import SynthParams

__all__ = ["SynthParams", "SynthResult", "generate", "generate_detailed", "head_box"]
