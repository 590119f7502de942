"""The Module contract: what a mechanism declares so the engine can check and run it.

A module owns one mechanism. It declares

* ``Params``  — a pydantic model, the module's block under ``modules:`` in a scenario;
* ``owns``    — the per-agent arrays it creates (and is the single writer of);
* ``reads``   — arrays, event tables and logs it reads (``name@prev``: yesterday's value,
  so the writer may run later in the day; a trailing ``?``: optional, used only if some
  module provides it);
* ``appends`` — event tables / logs it adds rows to (``acts``, ``observations``, ``dossier``);
* ``withdraws`` — event tables it may withdraw rows from before their consumers see them
  (a gate: a lender refusing loan applications); see ``docs/engine.md``;
* ``streams`` — the random streams it draws from, each with a semantic slot layout;
* ``counters``— the metric counters it accumulates;
* ``role`` and ``phase`` — who it is (people, the apparatus, or the observer) and when
  in the fixed day order it runs.

``system`` modules receive a :class:`~scslab.core.world.SystemView` with no truth at all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from scslab.core.declarations import (
    PHASE_ROLES,
    ArraySpec,
    CauseSpec,
    CounterSpec,
    Phase,
    Role,
    TwinTransform,
)
from scslab.core.metrics import FinalMetricDef, MetricDef
from scslab.core.population import REGION_SIZES, region_sizes
from scslab.core.scenario_schema import ModuleParams
from scslab.numerics.rng import StreamSpec

if TYPE_CHECKING:
    from scslab.core.scenario_schema import Scenario
    from scslab.core.world import View

__all__ = [
    "PHASE_ROLES", "ArraySpec", "CauseSpec", "CounterSpec", "FinalMetricDef", "MetricDef",
    "Module", "Phase", "Role",
    "StreamSpec", "TwinTransform",
]


class Module(ABC):
    """Base class of every mechanism. Subclasses set the class attributes below."""

    name: ClassVar[str]
    role: ClassVar[Role]
    phase: ClassVar[Phase]
    Params: ClassVar[type[ModuleParams]] = ModuleParams
    owns: ClassVar[tuple[ArraySpec, ...]] = ()
    reads: ClassVar[tuple[str, ...]] = ()
    appends: ClassVar[tuple[str, ...]] = ()
    #: event tables it reads and may withdraw rows from (a gate): it runs after their
    #: producers (appenders that do not read them) and before every other reader
    withdraws: ClassVar[tuple[str, ...]] = ()
    streams: ClassVar[tuple[StreamSpec, ...]] = ()
    counters: ClassVar[tuple[CounterSpec, ...]] = ()
    #: the metrics it defines on counters, and the figures its ``final_metrics`` hook
    #: reports at the end of a run; each with its theme and unit
    metrics: ClassVar[tuple[MetricDef, ...]] = ()
    final_metric_defs: ClassVar[tuple[FinalMetricDef, ...]] = ()
    doc: ClassVar[str] = ""
    #: declarations the analysis layer collects (nothing registers itself at import time):
    #: transformations the twin of every scenario applies (``scslab compare --twin``) ...
    twin_transforms: ClassVar[tuple[TwinTransform, ...]] = ()
    #: ... and causes of group disparity that ``scslab explain`` can equalise
    causes: ClassVar[tuple[CauseSpec, ...]] = ()
    #: the module whose ``enabled`` switch this one follows (e.g. appeal filing follows
    #: the appeals board), or None
    switched_by: ClassVar[str | None] = None
    #: every draw it makes for a person is keyed by the person's global uid
    #: (``View.uids``), not by the local row, and it reads other people only through
    #: its own exchange: it can run on a partition of the population (``Sim(uids=...)``,
    #: ``docs/scaling.md``) — with the parameters ``partition_problem`` accepts
    partitionable: ClassVar[bool] = False
    #: figures over the whole population it needs on a partition, which a partition
    #: cannot compute from its own people (``national_figures`` computes them)
    national_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: ModuleParams, scenario: Scenario) -> None:
        self.params = params
        self.scenario = scenario

    @classmethod
    def check_params(cls, params: ModuleParams, scenario: Scenario) -> ModuleParams:
        """Cross-check parameters against the scenario (e.g. act names in a rule).
        Raise ``ValueError("field.path: reason")``; return the (possibly completed) params."""
        return params

    @classmethod
    def consequences(cls, scenario: Scenario, catalogue) -> dict | None:
        """Per-act public consequences this mechanism adds (see ``incentives.py``):
        a dict with any of ``detection``, ``sanction``, ``reward`` arrays."""
        return None

    @classmethod
    def partition_problem(cls, params: ModuleParams, scenario: Scenario,
                          split: Mapping[str, int]) -> str | None:
        """Why this module cannot run on a partition of the population with these
        parameters (one line), or None. A partitionable module overrides it to refuse the
        settings whose effects cross partitions and are not exchanged yet. ``split``: how
        many regions (``"people.region"``) and households (``"people.household"``) the
        partition cuts (``Population.split``), for modules that need them whole."""
        if not cls.partitionable:
            return "it keys draws by local row, not by uid (Module.partitionable)"
        return None

    @classmethod
    def national_figures(cls, scenario: Scenario, population: Any) -> dict[str, Any]:
        """Its ``national_keys`` over the whole population (a synthesised
        ``Population``), computed as its ``setup`` computes them in an ordinary run, so
        that a partition given them (``Sim(national=...)``) draws the same bits."""
        return {}

    @classmethod
    def enabled_in(cls, scenario: Scenario) -> bool:
        """On if its own block says so — and, for a module that belongs to another's
        mechanism (``switched_by``), only while that module is on too."""
        default = cls.Params.model_fields["enabled"].default
        on = bool(scenario.modules.get(cls.name, {}).get("enabled", default))
        if cls.switched_by is not None:
            on = on and bool(scenario.modules.get(cls.switched_by, {}).get("enabled", False))
        return on

    @classmethod
    def final_metric_names(cls, scenario: Scenario) -> list[str]:
        """The names its ``final_metrics`` hook may report in ``scenario`` (a run may leave
        some out, e.g. when the mechanism behind one is off)."""
        groups = list(scenario.population.groups)
        out: list[str] = []
        for f in cls.final_metric_defs:
            out.append(f.name)
            if f.breakdown:
                out.extend(f"{f.name}[group={g}]" for g in groups)
                out.extend(f"{f.name}[region={k}]" for k in range(scenario.population.regions))
        return out

    def setup(self, world: View) -> None:  # noqa: B027 - optional hook, empty by default
        """Fill owned arrays at day 0 (they are allocated with ``fill`` already)."""

    @abstractmethod
    def step(self, world: View, day: int) -> None:
        """Advance the mechanism by one day."""

    def exchange_due(self) -> str | None:
        """On a partition, between two days: what this module still awaits from the
        exchange that follows its step, said as its error says it ("counts were not
        exchanged (Market.receive_day_counts)"); None when nothing is due, as always in
        one process. The module's next step checks it (:meth:`require_exchanged`) and the
        engine after the last day, which no step follows."""
        return None

    def require_exchanged(self) -> None:
        """At the start of a step on a partition: stop unless the previous day's exchange
        was handed in (a driver that skipped it would leave this partition on its own
        figures, silently)."""
        due = self.exchange_due()
        if due is not None:
            raise RuntimeError(f"{self.name} on a partition: the previous day's {due}")


class RunsRegions:
    """For a module that runs officials, firms or figures of regions (``View.own_regions``):
    on a partition it needs every region's size, a national figure. Put before
    :class:`Module` in the bases."""

    national_keys: ClassVar[tuple[str, ...]] = (REGION_SIZES,)

    @classmethod
    def national_figures(cls, scenario: Scenario, population: Any) -> dict[str, Any]:
        return region_sizes(population) if cls.enabled_in(scenario) else {}  # type: ignore[attr-defined]
