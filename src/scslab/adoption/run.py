"""Running a world: societies simulated period by period, governments deciding between.

Design (``docs/adoption.md``): each period every society's scenario — its base scenario,
its overrides, then the patch of every component in force — is simulated for
``period_days`` days on the same synthetic population (replicate r draws population r in
every period and every society: common random numbers, so a society's change from one
period to the next is its policy's and its public's doing). People's approval and trust
are carried forward in aggregate (``carry``): the next period's
``attitudes.approval_median`` is shifted by the logit change of mean approval over the
period, and ``attitudes.trust_carried`` accumulates the logit change of mean trust. Between periods each government decides
for each component, with one counter-based draw (stream ``adoption.decide``, counter
(period, component), instance = replicate — the same draw for every society: common random
numbers, so of two societies alike but for U the one with the higher U decides for the
component whenever the other does, by inversion)::

    U = taste_c + w_e · (−E_c) + w_t · T_c + w_a · logit(A) − w_c · cost_c · (1 − d·offered)
        + status_quo · [adopted]
    in force next period  ⇔  u < σ(U),  and never while its legal regime bans c

E_c the mean relative change in the violation rate seen in every society that switched c
on (or off, sign reversed) so far — anywhere in the world; before any evidence the
vendor's claim when c is offered, else 0; T_c the mean change in institutional trust seen
there; A the society's own mean approval last period; d the vendor's discount.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scslab.adoption.schema import Society, WorldError, WorldSpec, load_world, with_period_days
from scslab.numerics.rng import SlotLayout, Stream
from scslab.run.pool import spawn_pool

DECIDE_LAYOUT = SlotLayout((("component", 8),))
ProgressFn = Callable[[int, int], None]  # (replicate, periods done)


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _mean(sim, name: str) -> float:
    """Mean of a people array now (NaN when no module owns it)."""
    a = sim.world.arrays.get(name)
    return float(a.astype(np.float64).mean()) if a is not None else float("nan")


def _overrides(patch: dict) -> list[str]:
    """A scenario fragment as ``--set`` overrides (JSON is YAML): merged key by key."""
    return [f"{k}={json.dumps(v)}" for k, v in patch.items()]


@dataclass
class WorldResult:
    """Timelines (replicate × period × society × component) and what each society showed
    (replicate × period × society)."""

    spec: WorldSpec
    timelines: pd.DataFrame
    observations: pd.DataFrame
    replicates: int
    manifest: dict = field(default_factory=dict)

    def adoption(self, level: float = 0.9) -> pd.DataFrame:
        """Share of replicates with each component in force, society × component × period,
        with a Wilson interval (``level``)."""
        z = {0.9: 1.6449, 0.95: 1.96}.get(level, 1.6449)
        g = self.timelines.groupby(["society", "component", "period"], sort=False)["in_force"]
        out = g.agg(["mean", "count"]).reset_index().rename(columns={"mean": "share",
                                                                        "count": "n"})
        p, n = out["share"].to_numpy(float), out["n"].to_numpy(float)
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        out["low"], out["high"] = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
        return out


def scenario_for(spec: WorldSpec, society: Society, adopted: list[str], here: Path | None,
                 people: int, days: int, approval_median: float | None = None,
                 bought: frozenset[str] = frozenset(), trust_carried: float = 0.0):
    """The society's scenario with ``adopted`` components in force (and the attitudes
    carried from earlier periods: approval's median, trust's logit shift)."""
    from scslab.scenario import load_scenario

    sets = list(society.set)
    for name in spec.components:  # catalogue order: the order patches apply
        if name not in adopted:
            continue
        comp = spec.components[name]
        sets += _overrides(comp.patch)
        if society.legal in comp.banned_by and comp.exception_patch is not None:
            sets += _overrides(comp.exception_patch)
        if society.legal in comp.legal_patch:
            sets += _overrides(comp.legal_patch[society.legal])
        if name in bought:
            sets += _overrides(comp.vendor_patch)
    if society.legal != "none":
        sets.append(f"modules.surveillance.regime={society.legal}")
    if approval_median is not None:
        sets.append(f"modules.attitudes.approval_median={approval_median!r}")
    if trust_carried:
        sets.append(f"modules.attitudes.trust_carried={trust_carried!r}")
    ref = society.scenario
    if here is not None and (here / ref).is_file():
        ref = str(here / ref)
    return load_scenario(ref, sets, people=people, days=days, burn_in=0, seed=spec.seed)


def allowed(spec: WorldSpec, society: Society, component: str) -> bool:
    """Whether the society's legal regime lets it adopt ``component`` (perhaps narrowly)."""
    return (society.legal not in spec.components[component].banned_by
            or component in society.exceptions)


def check_world(spec: WorldSpec, where: str, here: Path | None) -> None:
    """Build every society's scenario as it starts and with every component it may adopt
    (before anything runs): a bad override or a component that does not fit the society's
    scenario is a :class:`WorldError` naming the society."""
    from scslab.scenario import ScenarioError

    for name, soc in spec.societies.items():
        everything = [c for c in spec.components if allowed(spec, soc, c)]
        for adopted in (soc.adopted, everything):
            try:
                scenario_for(spec, soc, adopted, here, spec.people, spec.period_days)
            except ScenarioError as exc:
                raise WorldError(where, f"societies.{name}",
                                 f"with {', '.join(adopted) or 'no component'}: {exc}"
                                 ) from None


def run_replicate(spec: WorldSpec, here: Path | None, replicate: int, people: int,
                  periods: int, progress: ProgressFn | None = None
                  ) -> tuple[list[dict], list[dict]]:
    from scslab.modules.people.attitudes import AttitudeParams
    from scslab.run.engine import Sim

    names = list(spec.societies)
    comps = list(spec.components)
    exporter = any(s.exporter for s in spec.societies.values())
    stream = Stream(spec.seed, "adoption.decide", replicate, DECIDE_LAYOUT)
    adopted = {s: [c for c in comps if c in spec.societies[s].adopted] for s in names}
    bought: dict[str, set[str]] = {s: set() for s in names}
    median: dict[str, float | None] = {s: None for s in names}
    trust_carried: dict[str, float] = {s: 0.0 for s in names}
    evidence: dict[str, list[tuple[float, float]]] = {c: [] for c in comps}
    last: dict[str, tuple[float, float, list[str]]] = {}
    timeline: list[dict] = []
    observed: list[dict] = []
    for period in range(periods):
        approval_now: dict[str, float] = {}
        for s in names:
            soc = spec.societies[s]
            sc = scenario_for(spec, soc, adopted[s], here, people, spec.period_days,
                              median[s], frozenset(bought[s]), trust_carried[s])
            sim = Sim(sc, replicate=replicate)
            start, t_start = _mean(sim, "people.approval"), _mean(sim, "people.institutional_trust")
            sim.run()
            summary = sim.results().summary
            a1 = sim.world.arrays.get("people.approval")
            end, t_end = _mean(sim, "people.approval"), _mean(sim, "people.institutional_trust")
            viol = float(summary.get("violation_rate") or 0.0)
            trust = float(summary.get("institutional_trust") or float("nan"))
            cost = sum(spec.components[c].cost
                       * (1 - spec.vendor.discount if c in bought[s] else 1.0)
                       for c in adopted[s])
            observed.append({"replicate": replicate, "period": period, "society": s,
                             "violation_rate": viol, "approval": summary.get("approval"),
                             "approval_end": end, "institutional_trust": trust,
                             "trust_start": t_start, "trust_end": t_end,
                             "cost": cost, "in_force": ",".join(adopted[s])})
            for c in comps:
                timeline.append({"replicate": replicate, "period": period, "society": s,
                                 "component": c, "in_force": c in adopted[s],
                                 "bought": c in bought[s], "allowed": allowed(spec, soc, c)})
            if s in last:  # evidence: what switching a component did here
                v0, t0, before = last[s]
                for c in comps:
                    sign = (c in adopted[s]) - (c in before)
                    if sign and v0 > 0:
                        evidence[c].append((sign * (viol - v0) / v0, sign * (trust - t0)))
            last[s] = (viol, trust, list(adopted[s]))
            approval_now[s] = end
            if "trust" in spec.carry and t_start == t_start and t_end == t_end:
                trust_carried[s] += _logit(t_end) - _logit(t_start)
            if "approval" in spec.carry and a1 is not None and start == start and end == end:
                base = (median[s] if median[s] is not None else
                        sc.module_params("attitudes", AttitudeParams).approval_median)
                median[s] = _sigmoid(_logit(base) + _logit(end) - _logit(start))
        if period == periods - 1:
            break
        for s in names:
            soc = spec.societies[s]
            g = soc.government
            nxt = []
            for j, c in enumerate(comps):
                if not allowed(spec, soc, c):
                    continue
                offered = exporter and not soc.exporter and c in spec.vendor.offers
                ev = evidence[c]
                if ev:
                    effect = float(np.mean([e for e, _ in ev]))
                    dtrust = float(np.nanmean([t for _, t in ev]))
                else:
                    effect, dtrust = (spec.vendor.claim if offered else 0.0), 0.0
                cost = spec.components[c].cost * (1 - spec.vendor.discount if offered else 1.0)
                a = approval_now[s]
                u_val = (g.control_taste + g.taste.get(c, 0.0) - g.effect_weight * effect
                         + g.trust_weight * (0.0 if dtrust != dtrust else dtrust)
                         + g.approval_weight * (_logit(a) if a == a else 0.0)
                         - g.cost_weight * cost + (g.status_quo if c in adopted[s] else 0.0))
                u = stream.uniform(period, DECIDE_LAYOUT.pack(component=j),
                                   np.zeros(1, dtype=np.int64))[0]
                if u < _sigmoid(u_val):
                    nxt.append(c)
                    if c not in adopted[s] and offered:
                        bought[s].add(c)
            bought[s] &= set(nxt)
            adopted[s] = nxt
        if progress is not None:
            progress(replicate, period + 1)
    if progress is not None:
        progress(replicate, periods)
    return timeline, observed


def _worker(spec_data: dict, here: str | None, replicate: int, people: int, periods: int):
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    spec = WorldSpec.model_validate(spec_data)
    return run_replicate(spec, None if here is None else Path(here), replicate, people, periods)


def run_world(name_or_path: str | Path, *, replicates: int = 3, people: int | None = None,
              periods: int | None = None, period_days: int | None = None,
              workers: int = 1, progress: ProgressFn | None = None) -> WorldResult:
    """Run a world (builtin name or YAML file) ``replicates`` times; bit-reproducible.
    ``period_days`` replaces the file's (within its bounds: a short smoke run).

    >>> r = run_world("framing", replicates=2, people=1000, periods=3)
    >>> r.timelines.groupby(["society", "component"]).in_force.mean()
    """
    spec, where, here = load_world(name_or_path)
    spec = with_period_days(spec, where, period_days)
    check_world(spec, where, here)
    people = spec.people if people is None else int(people)
    periods = spec.periods if periods is None else int(periods)
    if workers <= 1 or replicates <= 1:
        parts = [run_replicate(spec, here, r, people, periods, progress)
                 for r in range(replicates)]
    else:
        with spawn_pool(workers) as pool:
            futures = [pool.submit(_worker, spec.model_dump(), None if here is None
                                   else str(here), r, people, periods)
                       for r in range(replicates)]
            parts = []
            for r, f in enumerate(futures):
                parts.append(f.result())
                if progress is not None:
                    progress(r, periods)
    timelines = pd.DataFrame([row for t, _ in parts for row in t])
    observations = pd.DataFrame([row for _, o in parts for row in o])
    return WorldResult(spec, timelines, observations, replicates,
                       {"world": spec.name, "people": people, "periods": periods,
                        "period_days": spec.period_days,
                        "replicates": replicates})


#: A society's outcome at the last period (``society_outputs``), besides adoption.
OUTCOMES = ("approval", "institutional_trust", "violation_rate", "cost")


def output_names(spec: WorldSpec) -> list[str]:
    """What one world run reports per society (a study's outputs, ``docs/studies.md``):
    ``in_force[component=C]`` (1 if C is in force at the last period, else 0: its mean
    over replicates is the adoption share), ``in_force_share[component=C]`` (share of
    periods C was in force), ``components_in_force`` (how many at the last period), and
    the last period's ``approval``, ``institutional_trust``, ``violation_rate``, ``cost``."""
    comps = list(spec.components)
    return ([f"in_force[component={c}]" for c in comps]
            + [f"in_force_share[component={c}]" for c in comps]
            + ["components_in_force", *OUTCOMES])


def society_outputs(spec: WorldSpec, timeline: list[dict], observed: list[dict]
                    ) -> dict[str, dict[str, float]]:
    """One replicate's outputs (``output_names``) for each society."""
    out: dict[str, dict[str, float]] = {}
    last = max(r["period"] for r in observed)
    for s in spec.societies:
        rows = [r for r in timeline if r["society"] == s]
        m: dict[str, float] = {}
        for c in spec.components:
            mine = [r for r in rows if r["component"] == c]
            m[f"in_force[component={c}]"] = float(any(r["in_force"] for r in mine
                                                      if r["period"] == last))
            m[f"in_force_share[component={c}]"] = (sum(r["in_force"] for r in mine)
                                                   / len(mine))
        m["components_in_force"] = float(sum(r["in_force"] for r in rows
                                             if r["period"] == last))
        obs = next(r for r in observed if r["society"] == s and r["period"] == last)
        for k in OUTCOMES:
            v = obs.get(k)
            m[k] = float("nan") if v is None else float(v)
        out[s] = m
    return out
