"""Bridges between the document and background work: autosave/recovery, AI sessions, training."""
