"""Societies and adoption: governments deciding, period by period, which components of a
scoring and surveillance system to adopt, keep or repeal (``docs/adoption.md``).

>>> from scslab.adoption import run_world
>>> result = run_world("framing", replicates=2, people=1000, periods=3)
>>> result.adoption()          # share of replicates in force, with intervals
"""

from scslab.adoption.run import (
    WorldResult,
    check_world,
    output_names,
    run_replicate,
    run_world,
    scenario_for,
    society_outputs,
)
from scslab.adoption.schema import (
    WorldError,
    WorldSpec,
    builtin_world_names,
    load_world,
    with_period_days,
)

__all__ = ["WorldError", "WorldResult", "WorldSpec", "builtin_world_names", "check_world",
           "load_world", "output_names", "run_replicate", "run_world", "scenario_for",
           "society_outputs", "with_period_days"]
