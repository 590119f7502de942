"""Calibrated inputs: parameters set to a published figure.

A result that follows from a calibrated input is an *input*, not a finding. Reports list
every entry here beside the value each scenario actually used, so a reader can tell what
was assumed from what was simulated. The registry lives in the package (not in the
repository's docs) so that it travels with an installed scslab.

Adding an entry (a module that introduces a calibrated parameter does this at import)::

    from scslab.calibration import register_calibrated
    register_calibrated("modules.sources.court.misattribution", 0.01,
                        figure="1 % of court records name the wrong person",
                        citation="Author (year), Journal", tag="V")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Tags as in the calibration notes: V checked against the source, S secondary source
#: only, U unverified (treat as an assumption).
TAGS = {"V": "checked against the source", "S": "secondary source only",
        "U": "unverified (an assumption)"}


@dataclass(frozen=True)
class Calibrated:
    """One parameter set to a published figure."""

    path: str  # dotted scenario path, as in --set
    value: Any  # the published value the default was set to
    figure: str  # the published figure, in words
    citation: str
    tag: str = "V"


CALIBRATED: dict[str, Calibrated] = {}


def register_calibrated(
    path: str, value: Any, figure: str, citation: str, tag: str = "V"
) -> Calibrated:
    """Record that the scenario parameter at ``path`` was set to a published figure.

    Re-registering a path replaces its entry (so a module reload does not duplicate it).
    """
    if tag not in TAGS:
        raise ValueError(f"tag must be one of {sorted(TAGS)}, not {tag!r}")
    if not path or any(not p for p in path.split(".")):
        raise ValueError(f"bad parameter path {path!r}")
    entry = Calibrated(path, value, figure, citation, tag)
    CALIBRATED[path] = entry
    return entry


def calibrated_inputs() -> list[Calibrated]:
    """All registered calibrated inputs, in registration order."""
    return list(CALIBRATED.values())


_MISSING = object()


def scenario_value(resolved: Mapping, path: str) -> Any:
    """The value at a dotted ``path`` of a resolved scenario (None if absent)."""
    node: Any = resolved
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def group_overrides(resolved: Mapping, path: str) -> dict[str, Any]:
    """Per-group values overriding a ``population.traits.X`` input, if any.

    Groups may override some traits (``population.groups.NAME.X``); a report must show
    those too, or a reader would think the calibrated figure applied to everyone.
    """
    prefix = "population.traits."
    if not path.startswith(prefix):
        return {}
    attr = path[len(prefix):]
    groups = scenario_value(resolved, "population.groups") or {}
    return {g: spec[attr] for g, spec in groups.items()
            if isinstance(spec, Mapping) and spec.get(attr) is not None}


register_calibrated(
    "population.traits.awareness", 0.11,
    figure="11 % of residents of social-credit pilot areas knew they lived in a pilot area",
    citation=("survey of residents of Chinese municipal social-credit pilot areas, as "
              "collected in scslab's calibration notes (calibration.md, 'Municipal point "
              "systems')"),
    tag="V",
)

register_calibrated(
    "modules.debts.sanction_weight", 0.07,
    figure=("3.22 M of 12.11 M listed dishonest judgment debtors had complied (0.27; "
            "Supreme People's Court, Sept 2018), reproduced as listed_debtor_repaid_365 "
            "in national-blacklist (0.272 at 10^4 people)"),
    citation=("Supreme People's Court figures as collected in scslab's calibration notes "
              "(calibration.md, 'Court list of dishonest judgment debtors')"),
    tag="V",
)

register_calibrated(
    "modules.attitudes.approval_median", 0.866,
    figure=("about 80 % of respondents approved of social credit systems (Kostka 2019, "
            "New Media & Society 21(7)); the median is set so the day-0 mean approval is "
            "0.80"),
    citation="Kostka 2019, as collected in scslab's calibration notes ('Public opinion')",
    tag="V",
)
