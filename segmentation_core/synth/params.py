"""`SynthParams`: every range of the SynthSeg-style generator, and a switch for each effect."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SynthParams:
    """Ranges of the random draws (Billot et al., SynthSeg). Each effect can be switched off,
    so that tests can check one effect at a time; with everything off an image is each
    label's drawn mean, exactly."""

    # per-label Gaussian intensity: mean ~ U(mean_range), std ~ U(std_range)
    mean_range: tuple[float, float] = (0.0, 255.0)
    std_range: tuple[float, float] = (0.0, 35.0)
    # a contrast prior (`segmentation_core.synth.priors`): with probability `prior_probability`
    # an image draws each listed value's mean as prior * U(prior_gain) + N(0, prior_std)
    prior: tuple[tuple[int, float], ...] = ()
    prior_probability: float = 0.0
    prior_gain: tuple[float, float] = (0.7, 1.4)
    prior_std: float = 8.0
    # label values that only shape the image: set to 0 in the output label (None: keep all)
    drop_min: int | None = 500
    drop_values: tuple[int, ...] = ()

    # spatial deformation, applied to the label map (nearest neighbour) before intensities
    deform: bool = True
    rotation_deg: float = 15.0  # each axis ~ U(-r, r)
    scaling: float = 0.15  # each axis ~ U(1 - s, 1 + s)
    shear: float = 0.012  # each off-diagonal term ~ U(-s, s)
    translation_mm: float = 8.0  # each axis ~ U(-t, t)
    elastic: bool = True
    elastic_grid_mm: float = 24.0  # spacing of the coarse grid of the smooth displacement
    elastic_std_mm: float = 3.0  # displacement std ~ U(0, this), per image

    # multiplicative bias field: exp of a smooth field drawn on a coarse grid
    bias: bool = True
    bias_grid_mm: float = 64.0  # spacing of the coarse grid of the log bias field
    bias_std: float = 0.5  # log-field std ~ U(0, this)

    # blur to a random acquisition resolution
    blur: bool = True
    resolution_range_mm: tuple[float, float] = (1.0, 3.0)  # probability below: per axis
    low_res_probability: float = 0.5  # chance that each axis is drawn from resolution_range_mm
    thick_slice_probability: float = 0.3  # chance of one thick-slice axis
    thick_slice_mm: tuple[float, float] = (2.0, 9.0)
    resample: bool = True  # also go down to the acquisition grid and back (linear)

    noise: bool = True
    noise_std: float = 10.0  # std ~ U(0, this), intensity units before normalisation

    gamma: bool = True
    gamma_log_std: float = 0.4  # image ** exp(N(0, this)) after normalisation to [0, 1]

    normalise: bool = True  # min-max to [0, 1] (off: the raw intensities)

    # a share of the images skull-stripped, as FreeSurfer's norm or a brain-extracted scan:
    # every voxel outside the kept labels set to 0 after normalisation. Only maps that hold
    # dropped (shape-only) values are stripped: elsewhere label 0 is tissue, not outside.
    stripped_probability: float = 0.0

    crop_margin_mm: float | None = None  # generate_cropped: margin around the head's box

    def dropped(self, value: int) -> bool:
        """Whether a label value only shapes the image (set to 0 in the output label)."""
        if value in self.drop_values:
            return True
        return self.drop_min is not None and value >= self.drop_min

    def all_off(self) -> SynthParams:
        """These ranges with every effect off: each label's voxels get its drawn mean."""
        from dataclasses import replace

        return replace(
            self,
            std_range=(0.0, 0.0),
            deform=False,
            elastic=False,
            bias=False,
            blur=False,
            resample=False,
            noise=False,
            gamma=False,
            normalise=False,
            stripped_probability=0.0,
        )
