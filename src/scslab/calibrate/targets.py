"""Target files: published figures the simulation is fitted to or checked against.

A target file names the free parameters (dotted scenario paths, as for ``--set``, with a
plausible range), the run size, and the targets. Each target is one published figure:
its source, value and uncertainty, the metric and scenario that should reproduce it, and
its role — ``fit`` (used by the objective) or ``holdout`` (only checked at the optimum).

Every error is a :class:`CalibrationError` with one line ``FILE: FIELD: reason``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scslab.analysis.studies.spec import StudyError, read_yaml_file, validation_error_line

#: The builtin target file (published figures from the lab's calibration notes).
BUILTIN_TARGETS = Path(__file__).resolve().parent.parent / "data" / "targets.yaml"


class CalibrationError(StudyError):
    """A target file or calibration folder could not be used; the message is one line
    ``FILE: FIELD: reason``, as for study files."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParameterSpec(_Strict):
    """A free parameter: searched uniformly in [low, high]."""

    low: float
    high: float
    log: bool = False  # search on a log scale (low must then be > 0)

    @model_validator(mode="after")
    def _ordered(self) -> ParameterSpec:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError("low: a log-scale range needs low > 0")
        return self


class Target(_Strict):
    """One published figure and the simulated output that should reproduce it."""

    name: Annotated[str, Field(min_length=1)]
    metric: Annotated[str, Field(min_length=1)]
    scenario: Annotated[str, Field(min_length=1)]
    value: float
    uncertainty: Annotated[float, Field(gt=0)]
    role: Literal["fit", "holdout"]
    source: Annotated[str, Field(min_length=1)]
    tag: Literal["V", "S", "U"] = "V"
    note: str = ""


class TargetFile(_Strict):
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    people: Annotated[int, Field(gt=0)] = 10_000
    days: Annotated[int, Field(gt=0)] = 1095
    burn_in: Annotated[int, Field(ge=0)] | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] | None = None
    replicates: Annotated[int, Field(ge=1)] = 2
    set: list[str] = Field(default_factory=list)  # overrides applied to every scenario
    parameters: Annotated[dict[str, ParameterSpec], Field(min_length=1)]
    targets: Annotated[list[Target], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> TargetFile:
        names = [t.name for t in self.targets]
        for i, n in enumerate(names):
            if names.index(n) != i:
                raise ValueError(f"targets[{i}].name: target {n!r} is named twice")
        if not any(t.role == "fit" for t in self.targets):
            raise ValueError("targets: no target has role 'fit'; nothing to fit to")
        return self

    def fitted(self) -> list[Target]:
        return [t for t in self.targets if t.role == "fit"]

    def held_out(self) -> list[Target]:
        return [t for t in self.targets if t.role == "holdout"]

    def scenarios(self, role: str | None = None) -> list[str]:
        """Scenario names in order of first appearance (of the targets of ``role``)."""
        out: list[str] = []
        for t in self.targets:
            if (role is None or t.role == role) and t.scenario not in out:
                out.append(t.scenario)
        return out


def parse_targets(data: Any, where: str) -> TargetFile:
    """Validate target-file data (already parsed YAML)."""
    if not isinstance(data, dict):
        raise CalibrationError(where, None, "a target file must be a mapping")
    try:
        return TargetFile.model_validate(data)
    except ValidationError as exc:
        raise CalibrationError(where, *validation_error_line(exc)) from None


def load_targets(path: str | Path | None = None) -> TargetFile:
    """Read and validate a target file (the builtin one when ``path`` is None)."""
    path = BUILTIN_TARGETS if path is None else Path(path)
    data = read_yaml_file(path, "target file", CalibrationError)
    return parse_targets(data, str(path))


def resolve_targets(targets: str | Path | TargetFile | None,
                    people: int | None = None) -> tuple[TargetFile, str]:
    """The target file a fit or posterior works on and the name its errors give: a loaded
    file as is, a path read (the builtin file when None); ``people`` overrides its size."""
    if isinstance(targets, TargetFile):
        tf, where = targets, f"<{targets.name}>"
    else:
        tf = load_targets(targets)
        where = str(targets) if targets is not None else "builtin targets.yaml"
    if people is not None:
        tf = tf.model_copy(update={"people": people})
    return tf, where
