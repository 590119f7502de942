"""Study files: the YAML spec, its validation, and the resolved study it describes.

A study runs every sample of a design over several scenarios on common random numbers.
Validation happens before anything runs: every error is a :class:`StudyError` whose
message is one line ``FILE: FIELD: reason`` (the CLI prints it and exits 2).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

METHODS = ("morris", "sobol", "lhs", "grid")
CONTRAST_SEPARATOR = " - "


class StudyError(ValueError):
    """A study could not be loaded or stored; the message is one line."""

    def __init__(self, where: str, field_: str | None, reason: str) -> None:
        self.where, self.field, self.reason = where, field_, reason
        text = f"{where}: {field_}: {reason}" if field_ else f"{where}: {reason}"
        super().__init__(" ".join(text.split()))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FactorSpec(_Strict):
    """The plausible range of one scenario parameter, sampled uniformly."""

    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> FactorSpec:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self


class DesignSpec(_Strict):
    """How the factor space is sampled (SALib designs; ``grid`` is a full factorial)."""

    method: Literal["morris", "sobol", "lhs", "grid"]
    trajectories: Annotated[int, Field(ge=2)] | None = None  # morris
    levels: Annotated[int, Field(ge=2)] = 4  # morris grid levels; grid points per factor
    samples: Annotated[int, Field(ge=2)] | None = None  # sobol base samples; lhs samples
    second_order: bool = False  # sobol
    seed: Annotated[int, Field(ge=0, lt=2**32)] = 1

    @model_validator(mode="after")
    def _needed(self) -> DesignSpec:
        if self.method == "morris" and self.trajectories is None:
            raise ValueError("trajectories: morris needs a number of trajectories")
        if self.method in ("sobol", "lhs") and self.samples is None:
            raise ValueError(f"samples: {self.method} needs a number of samples")
        if self.method != "morris" and self.trajectories is not None:
            raise ValueError(f"trajectories: only for morris, not {self.method}")
        if self.method in ("morris", "grid") and self.samples is not None:
            raise ValueError(f"samples: not used by {self.method}")
        return self


class StudySpec(_Strict):
    name: str
    description: str = ""
    #: the scenarios compared — or, instead, a ``world`` (builtin name or file): its
    #: societies are the study's scenarios, factors are paths of the world file and a
    #: run is one replicate of the whole world (``docs/studies.md``, Worlds)
    scenarios: Annotated[list[str], Field(min_length=1)] | None = None
    world: Annotated[str, Field(min_length=1)] | None = None
    people: Annotated[int, Field(gt=0)]
    days: Annotated[int, Field(gt=0)] | None = None  # scenarios: required
    periods: Annotated[int, Field(ge=1)] | None = None  # world: default the world's
    burn_in: Annotated[int, Field(ge=0)] | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] | None = None
    replicates: Annotated[int, Field(ge=1)] = 2
    set: list[str] = Field(default_factory=list)  # overrides applied to every scenario
    design: DesignSpec
    factors: Annotated[dict[str, FactorSpec], Field(min_length=1)]
    outputs: Annotated[list[str], Field(min_length=1)]
    contrasts: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _kind(self) -> StudySpec:
        if (self.scenarios is None) == (self.world is None):
            raise ValueError("scenarios: give either scenarios or a world")
        if self.world is None:
            if self.days is None:
                raise ValueError("days: required (the days each scenario runs)")
            if self.periods is not None:
                raise ValueError("periods: only for a world study")
        else:
            for name in ("days", "burn_in", "seed"):
                if getattr(self, name) is not None:
                    raise ValueError(f"{name}: not for a world study (the world file "
                                     "sets period_days and seed)")
            if self.set:
                raise ValueError("set: not for a world study (put overrides in the world "
                                 "file's societies)")
        return self


@dataclass(frozen=True)
class Contrast:
    """``minuend - subtrahend``: a paired difference between two scenarios of the study."""

    text: str
    minuend: str
    subtrahend: str


@dataclass
class ResolvedStudy:
    """A validated study: its spec, scenarios resolved and factors typed."""

    spec: StudySpec
    where: str
    labels: list[str]
    scenarios: dict[str, dict]  # label → resolved scenario (people, days, seed applied)
    integer_factors: list[str]  # factor paths whose schema type is an integer
    contrasts: list[Contrast]
    #: factor path → the scenarios that have it (a factor is applied only where it exists)
    factor_scenarios: dict[str, list[str]] = field(default_factory=dict)
    #: a world study: the world file's specification (validated, components merged) and
    #: the folder its scenario files are relative to
    world: dict | None = None
    world_dir: str | None = None

    @property
    def factor_names(self) -> list[str]:
        return list(self.spec.factors)

    def run_definition(self) -> dict:
        """Everything that decides what a run computes (not outputs or contrasts, which
        only decide the analysis): two studies with the same definition share runs."""
        return {
            "labels": self.labels,
            "scenarios": self.scenarios,
            "replicates": self.spec.replicates,
            "design": self.spec.design.model_dump(mode="json"),
            "factors": {k: v.model_dump(mode="json") for k, v in self.spec.factors.items()},
            "integer_factors": self.integer_factors,
            "factor_scenarios": self.factor_scenarios,
            **({"world": self.world, "world_dir": self.world_dir}
               if self.world is not None else {}),
        }

    def fingerprint(self) -> str:
        text = json.dumps(self.run_definition(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: dict) -> ResolvedStudy:
        """Rebuild a resolved study from ``study.json`` (no scenario is loaded again)."""
        spec = StudySpec.model_validate(data["spec"])
        contrasts = []
        for text in spec.contrasts:
            a, b = (p.strip() for p in text.split(CONTRAST_SEPARATOR))
            contrasts.append(Contrast(f"{a} - {b}", a, b))
        return cls(spec=spec, where=data.get("source", "study.json"), labels=data["labels"],
                   scenarios=data["scenarios"], integer_factors=data["integer_factors"],
                   contrasts=contrasts, factor_scenarios=data["factor_scenarios"],
                   world=data.get("world"), world_dir=data.get("world_dir"))

    def to_dict(self) -> dict:
        """The resolved study as plain data (written to the store as ``study.json``)."""
        return {"spec": self.spec.model_dump(mode="json"), "source": self.where,
                **self.run_definition(), "fingerprint": self.fingerprint()}


# --------------------------------------------------------------------------- loading


def validation_error_line(exc: ValidationError) -> tuple[str | None, str]:
    """The first pydantic error as (dotted field, one-line reason), for files whose
    errors name file, field and reason (study files, target files)."""
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif "input" in err and not isinstance(err["input"], dict | list):
        shown = repr(err["input"])
        if len(shown) <= 40:
            msg = f"{msg} (got {shown})"
    if ": " in msg and " " not in msg.split(": ", 1)[0]:  # "trajectories: reason"
        sub, msg = msg.split(": ", 1)
        loc = f"{loc}.{sub}" if loc else sub
    return loc or None, msg


def read_yaml_file(path: Path, what: str, error: type[StudyError]) -> Any:
    """Parse a YAML file with the scenario loader's safe parser; any failure is one
    ``error`` line naming the file (``what`` says which kind of file was missing)."""
    from scslab.scenario import ScenarioError
    from scslab.scenario.loader import parse_yaml_text

    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(where, None, f"no such {what}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(where, None, f"cannot read: {exc}") from None
    try:
        return parse_yaml_text(text, where)
    except ScenarioError as exc:
        raise error(where, None, exc.reason) from None


def parse_study(data: Any, where: str, base_dir: Path | None = None) -> ResolvedStudy:
    """Validate study data (already parsed YAML) and resolve its scenarios."""
    if not isinstance(data, dict):
        raise StudyError(where, None, "a study file must be a mapping")
    try:
        spec = StudySpec.model_validate(data)
    except ValidationError as exc:
        raise StudyError(where, *validation_error_line(exc)) from None
    return resolve(spec, where, base_dir)


def load_study(path: str | Path) -> ResolvedStudy:
    """Read and validate a study YAML file (scenario files are relative to it)."""
    path = Path(path)
    data = read_yaml_file(path, "study file", StudyError)
    return parse_study(data, str(path), path.parent)


def _scenario_ref(spec: str, base_dir: Path | None) -> str:
    """A scenario file named in a study is read relative to the study file."""
    from scslab.analysis.compare import parse_spec

    name, overrides = parse_spec(spec)
    if base_dir is None or not name.endswith((".yaml", ".yml")) or Path(name).is_absolute():
        return spec
    candidate = base_dir / name
    if not candidate.exists():
        return spec
    return ":".join([str(candidate), ",".join(overrides)]) if overrides else str(candidate)


def _lookup(data: Any, path: str) -> tuple[bool, Any]:
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def resolve(spec: StudySpec, where: str, base_dir: Path | None = None) -> ResolvedStudy:
    """Load the scenarios (one seed for all: common random numbers) and check factors,
    outputs and contrasts against them."""
    from scslab.analysis.compare import CompareError, load_specs, metric_names, with_overrides
    from scslab.scenario import ScenarioError, resolved_dict

    if spec.world is not None:
        return _resolve_world(spec, where, base_dir)
    assert spec.scenarios is not None
    refs = [_scenario_ref(s, base_dir) for s in spec.scenarios]
    try:
        _, scenarios = load_specs(refs, spec.set, people=spec.people, days=spec.days,
                                  burn_in=spec.burn_in, seed=spec.seed, crn=True)
    except (ScenarioError, CompareError) as exc:
        raise StudyError(where, "scenarios", str(exc)) from None
    labels = [s.strip() for s in spec.scenarios]
    if len(set(labels)) != len(labels):
        raise StudyError(where, "scenarios", "a scenario is named twice")

    integer: list[str] = []
    applies: dict[str, list[str]] = {}
    for path, bounds in spec.factors.items():
        applies[path] = []
        for label, sc in zip(labels, scenarios, strict=True):
            found, value = _lookup(resolved_dict(sc), path)
            if not found:
                continue  # e.g. a parameter of a list only this scenario defines
            if isinstance(value, bool) or not isinstance(value, int | float | None):
                raise StudyError(where, f"factors.{path}",
                                 f"is a {type(value).__name__} in scenario {label!r}, "
                                 "not a number")
            applies[path].append(label)
            is_int = isinstance(value, int)
            if is_int and path not in integer:
                integer.append(path)
            for end in ("low", "high"):
                x = getattr(bounds, end)
                x = round(x) if is_int else x
                try:
                    with_overrides(sc, [f"{path}={x!r}"], label)
                except ScenarioError as exc:
                    raise StudyError(where, f"factors.{path}.{end}",
                                     f"{exc.reason} (in scenario {label!r})") from None
        if not applies[path]:
            raise StudyError(where, f"factors.{path}",
                             "unknown path: no scenario of the study has it (any dotted "
                             "path of the resolved scenario, as for --set; see scslab show)")

    known = None
    for sc in scenarios:
        names = set(metric_names(sc))
        known = names if known is None else known & names
    known = known or set()
    for i, out in enumerate(spec.outputs):
        if out not in known:
            overall = sorted(m for m in known if "[" not in m)
            raise StudyError(where, f"outputs[{i}]",
                             f"unknown output {out!r}; known: {', '.join(overall)} "
                             "(or NAME[group=G], NAME[region=K])")

    return ResolvedStudy(spec=spec, where=where, labels=labels,
                         scenarios={lb: resolved_dict(sc)
                                    for lb, sc in zip(labels, scenarios, strict=True)},
                         integer_factors=integer, contrasts=_contrasts(spec, where, labels),
                         factor_scenarios=applies)


def _contrasts(spec: StudySpec, where: str, labels: list[str]) -> list[Contrast]:
    contrasts: list[Contrast] = []
    for i, text in enumerate(spec.contrasts):
        parts = [p.strip() for p in text.split(CONTRAST_SEPARATOR)]
        if len(parts) != 2 or not all(parts):
            raise StudyError(where, f"contrasts[{i}]",
                             f"expected 'SCENARIO - SCENARIO' (spaces around '-'), got {text!r}")
        for p in parts:
            if p not in labels:
                raise StudyError(where, f"contrasts[{i}]",
                                 f"unknown scenario {p!r}; the study's: {', '.join(labels)}")
        if parts[0] == parts[1]:
            raise StudyError(where, f"contrasts[{i}]", "a scenario minus itself is zero")
        contrasts.append(Contrast(f"{parts[0]} - {parts[1]}", parts[0], parts[1]))
    return contrasts


def _world_ref(ref: str, base_dir: Path | None) -> str:
    """A world file named in a study is read relative to the study file."""
    if base_dir is not None and ref.endswith((".yaml", ".yml")) and not Path(ref).is_absolute():
        candidate = base_dir / ref
        if candidate.exists():
            return str(candidate)
    return ref


def world_with(world: dict, values: dict[str, float | int], where: str):
    """The world specification with factor ``values`` put in (dotted paths of the world
    file); a value the world file's schema refuses is a :class:`StudyError`."""
    import copy

    from scslab.adoption import WorldSpec

    data = copy.deepcopy(world)
    for path, v in values.items():
        node = data
        *head, last = path.split(".")
        for part in head:
            node = node[part]
        node[last] = v
    try:
        return WorldSpec.model_validate(data)
    except ValidationError as exc:
        raise StudyError(where, *validation_error_line(exc)) from None


def _resolve_world(spec: StudySpec, where: str, base_dir: Path | None) -> ResolvedStudy:
    """A world study: the world's societies are the scenarios; factors are numeric paths
    of the world file (``societies.told.government.approval_weight``, ``vendor.discount``),
    applied to the whole world; outputs are the world's (``adoption.output_names``)."""
    from scslab.adoption import WorldError, check_world, load_world, output_names

    assert spec.world is not None
    try:
        world, world_where, here = load_world(_world_ref(spec.world, base_dir))
        check_world(world, world_where, here)
    except WorldError as exc:
        raise StudyError(where, "world", str(exc)) from None
    data = world.model_dump(mode="json")
    labels = list(world.societies)
    integer: list[str] = []
    for path, bounds in spec.factors.items():
        found, value = _lookup(data, path)
        if not found:
            raise StudyError(where, f"factors.{path}",
                             "unknown path: the world file has no such field (a dotted "
                             "path such as societies.NAME.government.approval_weight)")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise StudyError(where, f"factors.{path}",
                             f"is a {type(value).__name__} in the world, not a number")
        is_int = isinstance(value, int)
        if is_int:
            integer.append(path)
        for end in ("low", "high"):
            x = getattr(bounds, end)
            try:
                world_with(data, {path: round(x) if is_int else x}, where)
            except StudyError as exc:
                raise StudyError(where, f"factors.{path}.{end}",
                                 f"{exc.field}: {exc.reason}") from None
    known = output_names(world)
    for i, out in enumerate(spec.outputs):
        if out not in known:
            raise StudyError(where, f"outputs[{i}]",
                             f"unknown output {out!r}; a world study's: {', '.join(known)}")
    return ResolvedStudy(spec=spec, where=where, labels=labels,
                         scenarios={lb: {} for lb in labels}, integer_factors=integer,
                         contrasts=_contrasts(spec, where, labels),
                         factor_scenarios={p: labels for p in spec.factors},
                         world=data, world_dir=None if here is None else str(here))


def applied_value(value: float, integer: bool) -> float | int:
    """The value a run uses: integer-typed parameters take the design value rounded to
    the nearest integer (Python ``round``: ties to even)."""
    return round(value) if integer else float(value)


def factor_overrides(study: ResolvedStudy, values: dict[str, float], label: str) -> list[str]:
    """``--set``-style overrides that put one design point into scenario ``label`` (a
    factor the scenario does not have is left out)."""
    out = []
    for path in study.factor_names:
        if label not in study.factor_scenarios.get(path, study.labels):
            continue
        v = applied_value(values[path], path in study.integer_factors)
        out.append(f"{path}={v!r}")
    return out
