"""Observers: the metrics of a run (they read the truth)."""
