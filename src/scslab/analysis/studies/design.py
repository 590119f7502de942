"""Sample the factor space: Morris, Saltelli/Sobol and Latin hypercube designs from SALib,
and a full-factorial grid.

The design matrix ``X`` holds the design values (one row per sample, one column per
factor, in the study's factor order); runs use :func:`~scslab.analysis.studies.spec.applied_value`
of them (integer-typed parameters rounded). The analysis uses ``X`` as sampled.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from scslab.analysis.studies.spec import ResolvedStudy


def salib_problem(study: ResolvedStudy) -> dict:
    """The SALib problem: factor names and their [low, high] bounds."""
    names = study.factor_names
    return {"num_vars": len(names), "names": names,
            "bounds": [[study.spec.factors[n].low, study.spec.factors[n].high] for n in names]}


def design_matrix(study: ResolvedStudy) -> np.ndarray:
    """The design's samples, shape (samples, factors); the same study gives the same X."""
    import numpy as np

    d = study.spec.design
    problem = salib_problem(study)
    if d.method == "morris":
        from SALib.sample import morris

        x = morris.sample(problem, d.trajectories, num_levels=d.levels, seed=d.seed)
    elif d.method == "sobol":
        from SALib.sample import sobol

        x = sobol.sample(problem, d.samples, calc_second_order=d.second_order, seed=d.seed)
    elif d.method == "lhs":
        from SALib.sample import latin

        x = latin.sample(problem, d.samples, seed=d.seed)
    else:  # grid: every combination of ``levels`` evenly spaced values per factor
        axes = [np.linspace(lo, hi, d.levels) for lo, hi in problem["bounds"]]
        x = np.array(list(itertools.product(*axes)), dtype=np.float64)
    return np.ascontiguousarray(x, dtype=np.float64)


def design_frame(study: ResolvedStudy, x: np.ndarray | None = None) -> pd.DataFrame:
    """``sample`` and one column per factor (design values)."""
    import numpy as np
    import pandas as pd

    x = design_matrix(study) if x is None else x
    frame = pd.DataFrame(x, columns=study.factor_names)
    frame.insert(0, "sample", np.arange(len(frame), dtype=np.int32))
    return frame
