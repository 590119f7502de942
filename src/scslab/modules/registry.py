"""The registry of module classes: every mechanism scslab can switch on."""

from __future__ import annotations

from functools import cache


@cache
def module_classes() -> dict[str, type]:
    """Name → class for every registered module (imported lazily: they pull in Numba)."""
    from scslab.modules.acts_basic import ActsBasic
    from scslab.modules.core_metrics import CoreMetrics
    from scslab.modules.records import DossierModule
    from scslab.modules.sources import Sources

    classes = (ActsBasic, Sources, DossierModule, CoreMetrics)
    return {cls.name: cls for cls in classes}
