"""The logistic function and its inverse, elementwise on NumPy arrays or scalars: the
link of every choice probability in the model (a logit index → a probability)."""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    """1 / (1 + e^−z)."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_in_place(z: np.ndarray) -> np.ndarray:
    """:func:`sigmoid` of a float array, written over it (the same bits: IEEE addition
    commutes) — for everyone at once, where a temporary per step would be the peak."""
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    np.divide(1.0, z, out=z)
    return z


def logit(p):
    """log(p / (1 − p)), the inverse of :func:`sigmoid` (p strictly inside (0, 1))."""
    return np.log(p / (1.0 - p))
