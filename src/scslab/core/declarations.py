"""Declarations a module makes, below the world that checks them: roles, phases, arrays,
counters and causes.

These are plain data; :mod:`scslab.core.world` and :mod:`scslab.core.metrics` read them, and
:mod:`scslab.core.module` (the ``Module`` contract, whose hooks take the world's ``View``)
re-exports them, so ``from scslab.core.module import Role`` keeps working.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any


class Role(StrEnum):
    """Who a module is. ``sensing`` is the boundary where acts (truth) become
    observations: a camera sees what really happens, errors included."""

    BEHAVIOUR = "behaviour"
    SENSING = "sensing"
    SYSTEM = "system"
    OBSERVER = "observer"


class Phase(IntEnum):
    """The fixed day order. Modules run by phase, then by declared dependencies, then name."""

    DECIDE = 10  # people (and firms, officials) act
    SENSE = 20  # sources and sensors observe acts
    RECORD = 30  # the dossier files observations as records
    SCORE = 40  # point rules and grades
    LIST = 50  # black- and redlists
    SANCTION = 60  # joint sanctions and rewards
    APPEAL = 70  # appeals remove records
    LEARN = 80  # people update perceptions from today's events
    OBSERVE = 90  # metrics


#: Which roles may run in which phase.
PHASE_ROLES: dict[Phase, frozenset[Role]] = {
    Phase.DECIDE: frozenset({Role.BEHAVIOUR}),
    Phase.SENSE: frozenset({Role.SENSING}),
    Phase.RECORD: frozenset({Role.SYSTEM}),
    Phase.SCORE: frozenset({Role.SYSTEM}),
    Phase.LIST: frozenset({Role.SYSTEM}),
    Phase.SANCTION: frozenset({Role.SYSTEM}),
    Phase.APPEAL: frozenset({Role.SYSTEM}),
    Phase.LEARN: frozenset({Role.BEHAVIOUR}),
    Phase.OBSERVE: frozenset({Role.OBSERVER}),
}


@dataclass(frozen=True)
class ArraySpec:
    """One per-agent (or per-region, per-link) array in the World.

    ``truth`` arrays are hidden from system modules: private traits, true states.
    """

    name: str  # dotted: "people.honesty"
    kind: str  # a key of scslab.core.layouts.DTYPES
    entity: str  # "people", "firms", "officials", "regions", "links", "people+1", ...
    truth: bool
    doc: str
    fill: float = 0


@dataclass(frozen=True)
class CounterSpec:
    """A metric counter accumulated per (chunk, cell), cell = group × region."""

    name: str
    doc: str
    real: bool = False  # float64 sums instead of int64 counts


@dataclass(frozen=True)
class CauseSpec:
    """A cause of group disparity a module declares, and how to switch it off:
    ``equalise(scenario, A, B)`` returns ``--set``-style overrides giving group A group B's
    value of the cause. ``scslab explain`` collects the causes of every module."""

    name: str
    description: str
    equalise: Callable[[Any, str, str], list[str]]


#: ``fn(scenario) -> overrides``: what turns a scenario into its counterfactual twin
TwinTransform = Callable[[Any], list[str]]
