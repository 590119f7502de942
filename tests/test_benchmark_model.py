"""The benchmark's reduced model stays runnable and agrees with the hand-fused kernel.

(Speed is measured in benchmarks/, not here; this only guards the comparison's validity.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.reduced import numba_reference, scslab_model  # noqa: E402


def test_reduced_model_runs_and_agrees_with_the_reference():
    ours = scslab_model.run(4000, 60)
    ref = numba_reference.run(4000, 60)
    for out in (ours, ref):
        assert set(out) >= {"violation_rate"}
    a = float(np.mean(ours["violation_rate"]))
    b = float(np.mean(ref["violation_rate"]))
    se = np.sqrt(b * (1 - b) / (4000 * 60))
    assert abs(a - b) < 5 * se * np.sqrt(2)
