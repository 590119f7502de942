"""Confounds: where compared scenarios differ outside the system being compared.

A comparison is meant to measure a *system* — its sources and sensors, scores, lists,
sanctions, appeals, surveillance — acting on one and the same *society*. When two
scenarios also differ in the society (population, acts, debts, how people decide, the run's
length), a "significant" difference may be that difference alone. This module holds the one
partition of the resolved scenario into society and system (:func:`part_of`, documented in
``docs/compare.md``), diffs resolved scenarios path by path, and returns every society path
that differs as a :class:`Confound`.

The partition follows the modules' roles: a module that is the system (role ``system``) or
its eyes (role ``sensing``) is system; a module of people's behaviour or a metric observer is
society. A few parameters of behavioural modules are the system's and are listed in
:data:`SYSTEM_PATHS`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SOCIETY = "society"
SYSTEM = "system"
IGNORED = "ignored"

#: Top-level keys and what they are. ``seed`` is ignored because a comparison forces one
#: seed on all scenarios (common random numbers); names and descriptions are labels.
TOP_LEVEL_PARTS: dict[str, str] = {
    "name": IGNORED,
    "description": IGNORED,
    "extends": IGNORED,
    "seed": IGNORED,
    "reference_norm": SOCIETY,  # the yardstick of lawful conduct metrics use
    "population": SOCIETY,
    "time": SOCIETY,  # a different run length is a different measurement
    "venues": SOCIETY,
    "acts": SOCIETY,
    "sources": SYSTEM,  # administrative sources: who records what, with which errors
    "modules": SYSTEM,  # refined per module by role (see part_of)
}

#: Parameters of behaviour-role modules that belong to the system (longest prefix wins).
SYSTEM_PATHS: tuple[str, ...] = (
    # the market's reputation system: who screens sellers, when a seller is flagged
    "modules.market.screening", "modules.market.flag_threshold",
    "modules.market.flag_halflife_days", "modules.market.complaint_source_code",
    # the corporate credit system: inspection, firm score, blacklist and what it costs
    "modules.firms.coverage", "modules.firms.false_record_rate", "modules.firms.score_base",
    "modules.firms.points", "modules.firms.restore_days", "modules.firms.black_threshold",
    "modules.firms.ban_loans", "modules.firms.listing_cost_per_day",
    "modules.firms.listing_days", "modules.firms.soe_preference",
    "modules.firms.score_weight",
    # audits, transparency, the officials' score and the centre's reward for reported gains
    "modules.officials.audit_probability", "modules.officials.audit_detection",
    "modules.officials.transparency", "modules.officials.transparency_detection",
    "modules.officials.score_base", "modules.officials.score_points",
    "modules.officials.suspension_score", "modules.officials.suspension_days",
    "modules.officials.source_code", "modules.officials.reward_weight",
)

#: Module roles that are the system (the rest — behaviour, observer — are society).
SYSTEM_ROLES = ("system", "sensing")

ABSENT = "<absent>"


@dataclass(frozen=True)
class Confound:
    """A society path in which compared scenarios differ: its value in each (by label),
    :data:`ABSENT` where a scenario does not have it."""

    path: str
    values: dict[str, Any]

    def to_dict(self) -> dict:
        return {"path": self.path, "values": dict(self.values)}


def module_part(module: str) -> str:
    """System or society for a module name, by its role (unknown modules: system)."""
    from scslab.modules.registry import module_classes

    cls = module_classes().get(module)
    if cls is None:
        return SYSTEM
    return SYSTEM if str(cls.role) in SYSTEM_ROLES else SOCIETY


def part_of(path: str) -> str:
    """The part of the scenario a dotted path belongs to: society, system or ignored."""
    parts = path.split(".")
    top = TOP_LEVEL_PARTS.get(parts[0], SOCIETY)
    if parts[0] != "modules" or len(parts) < 2:
        return top
    if any(path == p or path.startswith(p + ".") for p in SYSTEM_PATHS):
        return SYSTEM
    return module_part(parts[1])


def diff_paths(dicts: Sequence[Mapping]) -> dict[str, list[Any]]:
    """Dotted path → the values in each dict, for every path where they differ. Mappings
    are descended; where a key is missing from some dict the whole subtree is one entry
    (value :data:`ABSENT` for the dicts without it); lists compare whole."""
    out: dict[str, list[Any]] = {}

    def walk(nodes: list[Any], prefix: str) -> None:
        if all(isinstance(n, Mapping) for n in nodes):
            keys = list(dict.fromkeys(k for n in nodes for k in n))
            for k in keys:
                path = f"{prefix}.{k}" if prefix else str(k)
                if all(k in n for n in nodes):
                    walk([n[k] for n in nodes], path)
                else:
                    out[path] = [n[k] if k in n else ABSENT for n in nodes]
        elif any(n != nodes[0] for n in nodes[1:]):
            out[prefix] = list(nodes)

    walk(list(dicts), "")
    return out


def confounds(scenarios: Sequence[Any], labels: Sequence[str] | None = None) -> list[Confound]:
    """Every society path in which the scenarios differ, with each scenario's value.

    ``scenarios`` are :class:`~scslab.scenario.Scenario` objects or resolved dicts;
    ``labels`` name them (default: their ``name``).

    >>> confounds([load_scenario("baseline"), load_scenario("national-blacklist")])
    [Confound(path='modules.debts.initial_debtor_share', values={...})]
    """
    from scslab.scenario import resolved_dict

    dicts = [s if isinstance(s, Mapping) else resolved_dict(s) for s in scenarios]
    if labels is None:
        labels = [str(d.get("name", f"scenario {i}")) for i, d in enumerate(dicts)]
    labels = _unique(list(labels))
    return [Confound(path, dict(zip(labels, values, strict=True)))
            for path, values in diff_paths(dicts).items() if part_of(path) == SOCIETY]


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        n = seen.get(lab, 0)
        seen[lab] = n + 1
        out.append(lab if n == 0 else f"{lab} ({n + 1})")
    return out


def value_text(value: Any, width: int = 60) -> str:
    """A short one-line rendering of a value (YAML flow style for mappings and lists)."""
    if value == ABSENT:
        return ABSENT
    if isinstance(value, Mapping | list):
        import yaml

        text = yaml.safe_dump(value, default_flow_style=True, width=10**9).strip()
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def confound_records(found: Sequence[Confound]) -> list[dict]:
    """JSON-ready list (what manifests record)."""
    return [c.to_dict() for c in found]


def confound_summary(found: Sequence[Confound]) -> str:
    """One line: the paths (for ``--strict`` errors)."""
    return ", ".join(f"{c.path} ({' vs '.join(value_text(v, 24) for v in c.values.values())})"
                     for c in found)


def confounds_html(records: Sequence[Mapping]) -> str:
    """The report section for confounds recorded in a manifest ("" when there are none)."""
    if not records:
        return ""
    e = html.escape
    labels = list(dict.fromkeys(k for r in records for k in r["values"]))
    head = "".join(f"<th>{e(x)}</th>" for x in ["society path", *labels])
    body = "".join(
        "<tr><td>" + e(r["path"]) + "</td>"
        + "".join(f"<td>{e(value_text(r['values'].get(lab, ABSENT)))}</td>" for lab in labels)
        + "</tr>" for r in records)
    return ("<h2>Warning: confounds</h2><p class=\"note\">The scenarios differ outside the "
            "system being compared (population, acts, behaviour, debts, run length): a "
            "difference in outcomes may come from these and not from the system.</p>"
            f"<table><tr>{head}</tr>{body}</table>")
