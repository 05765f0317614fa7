"""Evaluation of interactive segmentation per ../shared/EVALUATION.md: simulated clicker, metrics,
and a harness that drives any session through the protocol (numpy + scipy; no Qt, no file I/O)."""
