"""Automatic segmentation trained from finished cases (issue 15): planning, training, inference
and scale-out training (`distributed`)."""
