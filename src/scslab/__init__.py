"""scslab: a laboratory for social credit and mass-surveillance systems.

Public API: :func:`load_scenario`, :class:`Sim`, :class:`Results`, :func:`run`.
Imports are lazy so that ``scslab --help`` does not load Numba.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scslab._version import __version__

__all__ = ["Results", "Sim", "__version__", "compare", "load_scenario", "run"]

if TYPE_CHECKING:
    from scslab.analysis.compare import compare
    from scslab.run.engine import Sim
    from scslab.run.results import Results
    from scslab.run.runner import run_scenario as run
    from scslab.scenario import load_scenario


def __getattr__(name: str) -> Any:
    if name == "load_scenario":
        from scslab.scenario import load_scenario

        return load_scenario
    if name == "Sim":
        from scslab.run.engine import Sim

        return Sim
    if name == "Results":
        from scslab.run.results import Results

        return Results
    if name == "compare":
        from scslab.analysis.compare import compare

        return compare
    if name == "run":
        from scslab.run.runner import run_scenario

        return run_scenario
    raise AttributeError(f"module 'scslab' has no attribute {name!r}")
