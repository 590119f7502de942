"""The "what this does not show" note printed beside every result on the page.

A number on a dashboard reads as a finding; these notes say what it is not. The general
points hold for every run of this laboratory; the specific ones follow from the result
(one replicate has no interval; parameters set to published figures are inputs, not
findings — the same list as the report's "What is assumed").
"""

from __future__ import annotations

from typing import Any

GENERAL = (
    "Synthetic people only: no real person, place or population is described, and the "
    "model cannot be pointed at one.",
    "A model of mechanisms, not a forecast: every behavioural equation is documented with "
    "its source or marked an assumption (docs/model.md); most defaults are assumptions "
    "(docs/parameters.md).",
    "Effects are measured in the simulated society against its own truth; the simulated "
    "apparatus never sees that truth, but real systems' records were not checked here.",
    "Harms the model has no mechanism for (stigma beyond the listed sanctions, family "
    "effects not modelled, long-run institutional change) are absent, not zero.",
)


def limits(kind: str, scenario: dict | None = None, replicates: int = 1,
           people: int | None = None, days: int | None = None) -> list[str]:
    """Plain sentences for a result of ``kind`` ("run", "compare", "explain")."""
    out = list(GENERAL)
    if people is not None and days is not None:
        out.append(f"Size: {people:,} people over {days:,} measured days; rare events "
                   "(per-group rates of small groups) are noisy at this size.")
    if replicates < 2:
        out.append("One replicate: no interval, so differences from another run may be "
                   "chance. Use Compare (several replicates on common random numbers) "
                   "before reading a difference.")
    if kind == "run":
        out.append("Live series are daily values during the run, burn-in included; the "
                   "summary covers the measured period only.")
    if kind == "compare":
        out.append("Differences are paired over replicates on common random numbers: they "
                   "are the effect of the settings that differ, in this model, not of any "
                   "real system.")
    if kind == "explain":
        out.append("Shares are for the registered causes only and need not add up when "
                   "causes interact; a cause the model lacks cannot appear.")
    if scenario is not None:
        out.extend(calibrated(scenario))
    return out


def calibrated(scenario: dict) -> list[str]:
    """The parameters set to published figures in ``scenario`` (report.assumed_rows)."""
    from scslab.analysis.report import assumed_rows

    try:
        _, rows = assumed_rows({"scenario": scenario})
    except Exception:  # noqa: BLE001 - the note is extra; a failure must not hide a result
        return []
    if not rows:
        return []
    names = ", ".join(f"{r[0]} = {r[-1]}" for r in rows)
    return [f"Calibrated inputs (set to published figures, so results following from them "
            f"are inputs, not findings): {names}."]


def limits_markdown(*args: Any, **kwargs: Any) -> str:
    return "\n".join(f"- {s}" for s in limits(*args, **kwargs))
