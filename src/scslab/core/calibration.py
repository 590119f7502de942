"""Calibrated inputs: parameters set to a published figure.

A result that follows from a calibrated input is an *input*, not a finding. Reports list
every entry here beside the value each scenario actually used, so a reader can tell what
was assumed from what was simulated. The registry lives in the package (not in the
repository's docs) so that it travels with an installed scslab.

Adding an entry (a module that introduces a calibrated parameter does this at import)::

    from scslab.core.calibration import register_calibrated
    register_calibrated("modules.sources.court.misattribution", 0.01,
                        figure="1 % of court records name the wrong person",
                        citation="Author (year), Journal", tag="V")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Tags as in the calibration notes: V checked against the source, S secondary source
#: only, U unverified (treat as an assumption).
TAGS = {"V": "checked against the source", "S": "secondary source only",
        "U": "unverified (an assumption)"}


#: How a calibrated input got its value: ``set`` — the parameter *is* the published
#: figure; ``tuned`` — adjusted by hand until an output matched it; ``fitted`` — fitted by
#: ``scslab calibrate`` (the builtin target file, docs/calibration.md).
METHODS = ("set", "tuned", "fitted")


@dataclass(frozen=True)
class Calibrated:
    """One parameter set to a published figure (an *input*: what follows is given)."""

    path: str  # dotted scenario path, as in --set
    value: Any  # the parameter's default
    figure: str  # the published figure, in words
    citation: str
    tag: str = "V"
    #: the output that reproduces the figure (a metric name; None: not a run's output,
    #: e.g. an elasticity measured by paired runs) — in a run it is *given*, not found
    target: str | None = None
    target_value: float | None = None  # the published value of that output
    method: str = "set"
    fitted: Any = None  # the fitted value (method "fitted"), or None
    fit_command: str | None = None  # the command that reproduces the fit
    #: the scenarios whose ``target`` output is given (None: every scenario reporting it)
    scenarios: tuple[str, ...] | None = None


CALIBRATED: dict[str, Calibrated] = {}


def register_calibrated(
    path: str, value: Any, figure: str, citation: str, tag: str = "V", *,
    target: str | None = None, target_value: float | None = None, method: str = "set",
    fitted: Any = None, fit_command: str | None = None,
    scenarios: tuple[str, ...] | None = None,
) -> Calibrated:
    """Record that the scenario parameter at ``path`` was set to a published figure.

    Re-registering a path replaces its entry (so a module reload does not duplicate it).
    """
    if tag not in TAGS:
        raise ValueError(f"tag must be one of {sorted(TAGS)}, not {tag!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if not path or any(not p for p in path.split(".")):
        raise ValueError(f"bad parameter path {path!r}")
    entry = Calibrated(path, value, figure, citation, tag, target, target_value, method,
                       fitted, fit_command, scenarios)
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


def _base_metric(name: str) -> str:
    return name.split("[", 1)[0]


def given_outputs(resolved: Mapping, reported: Iterable[str]) -> dict[str, Calibrated]:
    """The reported outputs of a scenario that are targets of calibrated inputs it uses
    (at their registered or fitted value): reproducing them is given, not found.
    ``reported`` are metric names (``NAME``, ``NAME[group=G]``, ``NAME[region=K]``)."""
    by_target: dict[str, list[Calibrated]] = {}
    for c in CALIBRATED.values():
        if c.target is not None:
            by_target.setdefault(c.target, []).append(c)
    out: dict[str, Calibrated] = {}
    for name in reported:
        for key in (name, _base_metric(name)):
            for c in by_target.get(key, ()):
                v = scenario_value(resolved, c.path)
                if c.scenarios is not None and resolved.get("name") not in c.scenarios:
                    continue
                if v is not None and v in (c.value, c.fitted):
                    out.setdefault(name, c)
    return out


def undeclared_given(resolved: Mapping, reported: Iterable[str],
                     declared: Iterable[str]) -> list[str]:
    """Reported outputs that are targets of the scenario's calibrated inputs but not
    declared given (overall names; a declared ``NAME`` covers ``NAME[...]``). A scenario
    that reports one of these as a result passes an input off as a finding."""
    declared = {_base_metric(d) for d in declared}
    return sorted({_base_metric(n) for n in given_outputs(resolved, reported)} - declared)


FIT_COMMAND = ("scslab calibrate --out out/calibration --trials 16 --people 2000 "
               "--workers 2 --polish 3 (builtin targets; benchmarks/calibration.md)")

register_calibrated(
    "population.traits.awareness", 0.11,
    figure="11 % of residents of social-credit pilot areas knew they lived in a pilot area",
    citation=("survey of residents of Chinese municipal social-credit pilot areas, as "
              "collected in scslab's calibration notes (calibration.md, 'Municipal point "
              "systems')"),
    tag="V", target=None, target_value=0.11, method="set",
)

register_calibrated(
    "modules.debts.sanction_weight", 0.07,
    figure=("3.22 M of 12.11 M listed dishonest judgment debtors had complied (0.266; "
            "Supreme People's Court, Sept 2018), reproduced as listed_debtor_repaid_365 "
            "in national-blacklist (0.270 at 10^4 people)"),
    citation=("Supreme People's Court figures as collected in scslab's calibration notes "
              "(calibration.md, 'Court list of dishonest judgment debtors')"),
    tag="V", target="listed_debtor_repaid_365", target_value=0.266, method="fitted",
    # the default 0.07 lies in the converged fit's 95 % profile interval [0.0625, 0.07]
    fitted=0.0625, fit_command=FIT_COMMAND, scenarios=("national-blacklist", "calibrated"),
)

register_calibrated(
    "modules.attitudes.approval_median", 0.866,
    figure=("about 80 % of respondents approved of social credit systems (Kostka 2019, "
            "New Media & Society 21(7)); the median is set so the day-0 mean approval is "
            "0.80"),
    citation="Kostka 2019, as collected in scslab's calibration notes ('Public opinion')",
    tag="V", target="approval", target_value=0.80, method="fitted", fitted=0.866,
    fit_command=FIT_COMMAND, scenarios=("baseline",),
)

ELASTICITY_COMMAND = ("python tools/deterrence_elasticities.py --delta D --gamma G "
                      "(baseline, 10^4 people x 200 days, seeds 1-3 pooled; grid over "
                      "delta in {6, 6.5, 7}, gamma in {0.18 ... 0.25}, issue 15)")

register_calibrated(
    "modules.behaviour.deterrence_weight", 6.5,
    figure=("elasticity of violations to perceived detection −0.396 (paired runs, seeds "
            "1-3 pooled), inside the published [−0.5, −0.2] (Chalfin & McCrary; Draca, "
            "Machin & Witt; Evans & Owens)"),
    citation="calibration.md, 'Deterrence'; docs/model.md (paired runs)",
    tag="V", target=None, target_value=-0.396, method="tuned", fitted=6.5,
    fit_command=ELASTICITY_COMMAND,
)

register_calibrated(
    "modules.behaviour.severity_exponent", 0.2,
    figure=("elasticity of violations to perceived severity −0.078 (paired runs, seeds "
            "1-3 pooled), no stronger than −0.1 (Nagin 2013)"),
    citation="calibration.md, 'Deterrence' (the bound is inferred); docs/model.md",
    tag="V", target=None, target_value=-0.078, method="tuned", fitted=0.2,
    fit_command=ELASTICITY_COMMAND,
)

register_calibrated(
    "modules.credit_bureau.invisible_share", 0.10,
    figure="26 M US adults (1 in 10) are credit-invisible (CFPB 2015)",
    citation="CFPB 2015, as collected in calibration.md ('Western credit scoring')",
    tag="V", target="credit_invisible_share", target_value=0.10, method="set",
)

register_calibrated(
    "modules.credit_bureau.income_slope", 0.85,
    figure=("30 % invisible in low-income vs 4 % in upper-income neighbourhoods (CFPB "
            "2015); matched roughly by individual income quintiles (docs/markets.md)"),
    citation="CFPB 2015, as collected in calibration.md ('Western credit scoring')",
    tag="V", target=None, target_value=None, method="tuned",
)

register_calibrated(
    "modules.credit_bureau.group_offset.minority", 0.3,
    figure="~15 % of Black and Hispanic consumers invisible vs 9 % of White (CFPB 2015)",
    citation="CFPB 2015, as collected in calibration.md ('Western credit scoring')",
    tag="V", target="credit_invisible_share[group=minority]", target_value=0.15,
    method="tuned",
)

register_calibrated(
    "modules.credit_bureau.material_error_share", 0.05,
    figure="5.2 % of people moved risk tier after an error was corrected (FTC 2012)",
    citation="FTC 2012, as collected in calibration.md ('Western credit scoring')",
    tag="V", target="credit_material_error_share", target_value=0.05, method="set",
)

register_calibrated(
    "modules.surveillance.face.female_fmr_multiplier", 3.0,
    figure="one-to-one false match rates of women 2–5× those of men (NIST IR 8280)",
    citation="Grother, Ngan & Hanaoka 2019, NIST IR 8280, as collected in calibration.md",
    tag="V", target=None, target_value=3.0, method="set",
)

register_calibrated(
    "modules.attitudes.balanced_framing_shift", -1.4,
    figure=("approval of an aggregated score fell from 53 % to 29 % once pros and cons "
            "were explained (MERICS 2020); with the model's spread of approval (logit sd "
            "≈ 1.45) a public at mean 0.53 falls to 0.29 with a per-person shift of −1.40 "
            "(−1.0, the shift of the means' logits, gives 0.35)"),
    citation="MERICS 2020, as collected in scslab's calibration notes ('Public opinion')",
    tag="V", target=None, target_value=0.29, method="tuned",
    fit_command=("python -m pytest tests/test_attitudes.py -k merics (paired runs of "
                 "baseline at mean approval 0.53, a balanced campaign against an unframed "
                 "one; docs/model.md, Attitudes)"),
)
