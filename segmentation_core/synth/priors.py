"""Named intensity priors for the generator: a typical mean per label value for one contrast.

SynthSeg draws every label's mean uniformly (any contrast). A prior narrows a share of the
images to one contrast (`SynthParams.prior`, `prior_probability`), which a short CPU schedule
learns far sooner, while the uniformly drawn rest keeps the model from depending on it; issue 16
asks for such priors for CT too. Values are on the generator's 0..255 scale before its bias
field, blur, noise, min-max normalisation and gamma, so only their order and rough spacing
matter; labels without a prior (skull, scalp, SynthSeg's extra-cerebral classes) stay uniform.

"t1": FreeSurfer label values (aseg), levels after FreeSurfer's intensity normalisation, which
sets white matter to 110: general T1 tissue contrast (white matter brightest, deep grey between
white matter and cortex, CSF darkest), not measured on any image of this project.
"""

from __future__ import annotations

_WM, _CORTEX, _CSF = 110.0, 70.0, 30.0

T1_FREESURFER: dict[int, float] = {
    2: _WM, 41: _WM,  # cerebral white matter
    3: _CORTEX, 42: _CORTEX,  # cerebral cortex
    4: _CSF, 43: _CSF, 5: _CSF, 44: _CSF, 14: _CSF, 15: _CSF, 24: _CSF, 72: _CSF,  # CSF spaces
    7: 100.0, 46: 100.0,  # cerebellar white matter
    8: 72.0, 47: 72.0,  # cerebellar cortex
    10: 92.0, 49: 92.0,  # thalamus
    11: 78.0, 50: 78.0,  # caudate
    12: 83.0, 51: 83.0,  # putamen
    13: 96.0, 52: 96.0,  # pallidum
    16: 95.0,  # brain stem
    17: 71.0, 53: 71.0,  # hippocampus
    18: 73.0, 54: 73.0,  # amygdala
    26: 77.0, 58: 77.0,  # accumbens
    28: 92.0, 60: 92.0,  # ventral diencephalon
    85: 95.0,  # optic chiasm
}  # fmt: skip

PRIORS: dict[str, dict[int, float]] = {"t1": T1_FREESURFER}


def prior_table(name: str) -> tuple[tuple[int, float], ...]:
    """The named prior as (value, mean) pairs; ValueError naming the known ones."""
    try:
        table = PRIORS[name.lower()]
    except KeyError:
        known = ", ".join(sorted(PRIORS))
        raise ValueError(f"unknown intensity prior '{name}' (known: {known})") from None
    return tuple(sorted(table.items()))
