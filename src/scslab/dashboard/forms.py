"""Form fields generated from the scenario schema (pydantic), grouped into sections.

Each editable scalar (int, float, bool) of the scenario and of every module's parameter
block becomes a :class:`FormField` with its current value, its bounds from the schema's
constraints, and its meaning: the field's own description where the schema has one, else
the parameter register's default and source. The page turns fields into widgets; edits come
back as ``dotted.path=value`` overrides, validated by the same loader as ``--set``.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from scslab.dashboard.register import lookup

#: sections shown open; the rest start folded
OPEN_SECTIONS = ("Size and time", "Systems switched on")


@dataclass(frozen=True)
class FormField:
    path: str  # dotted path, as in --set
    label: str
    kind: str  # "int", "float" or "bool"
    value: Any
    low: float | None
    high: float | None
    meaning: str  # description and/or register default and source


@dataclass(frozen=True)
class FormSection:
    title: str
    fields: tuple[FormField, ...]


def _scalar_kind(annotation: Any) -> str | None:
    """"int"/"float"/"bool" for a plain scalar annotation (Annotated unwrapped), else None."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _scalar_kind(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return None  # optional fields (None = inherit) stay out of the form
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    return None


def _bounds(info: Any) -> tuple[float | None, float | None]:
    low = high = None
    for m in info.metadata:
        if getattr(m, "ge", None) is not None:
            low = m.ge
        if getattr(m, "gt", None) is not None:
            low = m.gt
        if getattr(m, "le", None) is not None:
            high = m.le
        if getattr(m, "lt", None) is not None:
            high = m.lt
    return low, high


def _meaning(path: str, description: str | None) -> str:
    parts = [description.strip()] if description else []
    entry = lookup(path)
    if entry is not None:
        parts.append(f"default {entry.default}; source: {entry.source}")
    elif not parts:
        parts.append("not in the parameter register")
    return " — ".join(parts)


def model_fields(model: BaseModel, prefix: str, skip: tuple[str, ...] = (),
                 only: tuple[str, ...] | None = None, label_from: int = -1) -> list[FormField]:
    """The scalar fields of one pydantic model instance, with their paths under ``prefix``;
    the label is the path from component ``label_from`` on (default: the field name)."""
    out = []
    for name, info in type(model).model_fields.items():
        if name in skip or (only is not None and name not in only):
            continue
        kind = _scalar_kind(info.annotation)
        if kind is None:
            continue
        path = f"{prefix}.{name}" if prefix else name
        low, high = _bounds(info)
        label = ".".join(path.split(".")[label_from:])
        out.append(FormField(path, label, kind, getattr(model, name), low, high,
                             _meaning(path, info.description)))
    return out


def scenario_sections(scenario: Any) -> list[FormSection]:
    """Every section of the form for ``scenario`` (a validated Scenario)."""
    from scslab.modules.registry import module_classes

    pop = scenario.population
    size = [f for f in model_fields(pop, "population") if f.label in ("people", "regions")]
    size += model_fields(scenario.time, "time")
    size += [f for f in model_fields(scenario, "") if f.label == "seed"]
    sections = [FormSection("Size and time", tuple(size))]
    classes = module_classes()
    switches = []
    for name, cls in sorted(classes.items()):
        if cls.switched_by is not None:
            continue  # follows another module's switch
        on = bool(scenario.modules.get(name, {}).get("enabled", False))
        doc = " ".join((cls.doc or (cls.__doc__ or "")).split())
        switches.append(FormField(f"modules.{name}.enabled", name, "bool", on, None, None,
                                  doc[:200] or _meaning(f"modules.{name}", None)))
    sections.append(FormSection("Systems switched on", tuple(switches)))
    society = [f for f in model_fields(pop, "population") if f.label not in ("people", "regions")]
    society += model_fields(pop.network, "population.network", label_from=-2)
    society += model_fields(pop.traits, "population.traits", label_from=-2)
    for g, spec in pop.groups.items():
        society += model_fields(spec, f"population.groups.{g}", label_from=-2)
    sections.append(FormSection("Society", tuple(society)))
    acts = [f for name, a in scenario.acts.items()
            for f in model_fields(a, f"acts.{name}", only=("rate", "penalty"), label_from=-2)]
    sections.append(FormSection("Acts", tuple(acts)))
    sources = [f for name, s in scenario.sources.items()
               for f in model_fields(s, f"sources.{name}", label_from=-2,
                                     only=("coverage", "misattribution", "fabrication_rate"))]
    sections.append(FormSection("Sources", tuple(sources)))
    for name, cls in sorted(classes.items()):
        block = scenario.modules.get(name, {})
        if not block.get("enabled", False):
            continue
        params = cls.Params.model_validate(block)
        fields = model_fields(params, f"modules.{name}", skip=("enabled",))
        if fields:
            sections.append(FormSection(f"Module: {name}", tuple(fields)))
    return [s for s in sections if s.fields]


def overrides(sections: list[FormSection], values: dict[str, Any]) -> list[str]:
    """``path=value`` for every field whose value differs from the scenario's."""
    out = []
    for section in sections:
        for f in section.fields:
            if f.path not in values:
                continue
            v = values[f.path]
            if v is None:
                continue
            if f.kind == "bool":
                v = bool(v)
            if v != f.value:
                text = ("true" if v else "false") if f.kind == "bool" else repr(v)
                out.append(f"{f.path}={text}")
    return out
