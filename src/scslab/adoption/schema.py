"""World files: societies, their governments, the vendor and the legal regimes.

A world file is YAML validated by pydantic (unknown keys refused); every error is one line
naming the file, the field and the reason (:class:`WorldError`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scslab.scenario import ScenarioError, builtin_names
from scslab.scenario.loader import parse_yaml_text

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
#: legal regimes a society can be under; ``none`` bans nothing
Regime = Literal["none", "eu_ai_act"]


class WorldError(ValueError):
    """A bad world file: ``where: field: reason`` on one line."""

    def __init__(self, where: str, field: str | None, reason: str) -> None:
        self.where, self.field, self.reason = where, field, reason
        super().__init__(f"{where}: {field}: {reason}" if field else f"{where}: {reason}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Component(Strict):
    """A component a government can adopt: a scenario fragment merged while adopted."""

    description: str = ""
    cost: NonNeg = 0.0  # money per person per year (assumption)
    banned_by: list[Regime] = Field(default_factory=list)
    patch: dict[str, Any] = Field(default_factory=dict)
    exception_patch: dict[str, Any] | None = None  # the narrow form a regime's exception allows
    legal_patch: dict[str, dict[str, Any]] = Field(default_factory=dict)  # by regime
    vendor_patch: dict[str, Any] = Field(default_factory=dict)  # bought from the vendor


class Government(Strict):
    """How a government weighs what it observes (logit units; ``docs/adoption.md``)."""

    control_taste: float = 0.0  # intercept: the taste for control, per component
    taste: dict[str, float] = Field(default_factory=dict)  # per-component intercepts
    effect_weight: NonNeg = 5.0  # per unit relative fall in violations seen elsewhere
    trust_weight: NonNeg = 5.0  # per unit change in institutional trust seen elsewhere
    approval_weight: NonNeg = 0.0  # per logit of its own public's approval
    cost_weight: NonNeg = 1.0  # per money unit per person per year
    status_quo: NonNeg = 2.0  # added to keep an adopted component (repeal is costly)


class Society(Strict):
    scenario: str = "baseline"  # builtin name or file (relative to the world file)
    set: list[str] = Field(default_factory=list)  # scenario overrides, KEY=VALUE
    adopted: list[str] = Field(default_factory=list)  # components in force at period 0
    legal: Regime = "none"
    exceptions: list[str] = Field(default_factory=list)  # components allowed narrowly
    exporter: bool = False  # its vendor offers components to the others
    government: Government = Field(default_factory=Government)


class Vendor(Strict):
    offers: list[str] = Field(default_factory=list)  # components the exporter sells
    discount: Prob = 0.5  # share of the cost the vendor takes on (export credit)
    claim: float = -0.3  # the vendor's claimed relative change in violations


class WorldSpec(Strict):
    name: str
    description: str = ""
    periods: Annotated[int, Field(ge=1, le=100)] = 6
    period_days: Annotated[int, Field(ge=30, le=3650)] = 365
    people: Annotated[int, Field(ge=100)] = 2000
    seed: Annotated[int, Field(ge=0)] = 17
    #: attitudes carried from one period to the next, in aggregate (``docs/adoption.md``)
    carry: list[Literal["approval", "trust"]] = Field(
        default_factory=lambda: ["approval", "trust"])
    components: dict[str, Component] = Field(default_factory=dict)
    vendor: Vendor = Field(default_factory=Vendor)
    societies: dict[str, Society]

    @model_validator(mode="after")
    def _check(self) -> WorldSpec:
        if not self.societies:
            raise ValueError("societies: at least one society")
        known = set(self.components)
        for name in self.vendor.offers:
            if name not in known:
                raise ValueError(f"vendor.offers: unknown component {name!r}")
        for s_name, s in self.societies.items():
            for field in ("adopted", "exceptions"):
                for c in getattr(s, field):
                    if c not in known:
                        raise ValueError(f"societies.{s_name}.{field}: unknown component {c!r} "
                                         f"(known: {', '.join(known)})")
            for c in s.government.taste:
                if c not in known:
                    raise ValueError(f"societies.{s_name}.government.taste: unknown "
                                     f"component {c!r}")
            for c in s.adopted:
                if s.legal in self.components[c].banned_by and c not in s.exceptions:
                    raise ValueError(f"societies.{s_name}.adopted: {c!r} is banned under "
                                     f"{s.legal}")
        return self


def builtin_world_names() -> list[str]:
    root = resources.files("scslab.adoption.builtin")
    return sorted(p.name[:-5] for p in root.iterdir()
                  if p.name.endswith(".yaml") and p.name != "components.yaml")


def _builtin_text(name: str) -> str:
    return resources.files("scslab.adoption.builtin").joinpath(f"{name}.yaml").read_text()


def default_components() -> dict[str, dict]:
    data = parse_yaml_text(_builtin_text("components"), "builtin:components")
    return dict(data)


def _merge(base: dict, child: dict) -> dict:
    out = dict(base)
    for k, v in child.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def validated_world(data: dict, where: str) -> WorldSpec:
    """The world spec of ``data``, or a WorldError naming ``where`` and the bad field."""
    try:
        return WorldSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"].removeprefix("Value error, ")
        if ": " in msg and loc is None:
            loc, _, msg = msg.partition(": ")
        raise WorldError(where, loc, msg) from None


def with_period_days(spec: WorldSpec, where: str, period_days: int | None) -> WorldSpec:
    """``spec`` with its periods ``period_days`` long (None: as the file says), checked
    against the file field's bounds."""
    if period_days is None:
        return spec
    return validated_world({**spec.model_dump(), "period_days": period_days}, where)


def load_world(ref: str | Path) -> tuple[WorldSpec, str, Path | None]:
    """A world by builtin name or file: (spec, label for errors, folder of the file)."""
    ref = str(ref)
    if ref in builtin_world_names():
        where, text, here = f"builtin:{ref}", _builtin_text(ref), None
    else:
        path = Path(ref)
        if not path.is_file():
            raise WorldError(ref, None, "no such world file or builtin world "
                             f"({', '.join(builtin_world_names())})")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WorldError(ref, None, f"cannot read: {exc}") from None
        where, here = ref, path.parent
    try:
        data = parse_yaml_text(text, where)
    except ScenarioError as exc:
        raise WorldError(where, exc.field, exc.reason) from None
    if not isinstance(data, dict):
        raise WorldError(where, None, "top level must be a mapping")
    data = dict(data)
    comps = default_components()
    given = data.get("components") or {}
    if not isinstance(given, dict):
        raise WorldError(where, "components", "must be a mapping")
    data["components"] = {k: _merge(comps.get(k, {}), v if isinstance(v, dict) else {})
                          if v is not None else None
                          for k, v in {**{k: {} for k in comps}, **given}.items()}
    data["components"] = {k: v for k, v in data["components"].items() if v is not None}
    spec = validated_world(data, where)
    for s_name, s in spec.societies.items():
        if s.scenario not in builtin_names():
            p = Path(s.scenario) if here is None else here / s.scenario
            if not p.is_file():
                raise WorldError(where, f"societies.{s_name}.scenario",
                                 f"no builtin scenario or file {s.scenario!r}")
    return spec, where, here
