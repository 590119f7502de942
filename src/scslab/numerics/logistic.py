"""The logistic function and its inverse, elementwise on NumPy arrays or scalars: the
link of every choice probability in the model (a logit index → a probability)."""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    """1 / (1 + e^−z)."""
    return 1.0 / (1.0 + np.exp(-z))


def logit(p):
    """log(p / (1 − p)), the inverse of :func:`sigmoid` (p strictly inside (0, 1))."""
    return np.log(p / (1.0 - p))
