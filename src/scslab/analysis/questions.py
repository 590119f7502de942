"""The essay's questions, answered from runs: ``scslab answer``.

Each :class:`Question` names a scenario, its reference, the headlines it reads and the
study factors its robustness is checked over. :func:`run_answers` runs every question
(a card: attribution on common random numbers, plus — for the quick and default budgets —
a Latin hypercube study of the contrast), and stores *results only* (``answers.json``).
:func:`answers_html` renders the report from that stored file alone: every number in a
sentence is a cited stored value written by :func:`scslab.analysis.answers.fmt` (tested), so the
report cannot say what the runs did not. Rerunning from the manifest reproduces the
report byte for byte. See docs/answers.md.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scslab.analysis.answers import (
    CSS,
    HEADLINES,
    Card,
    CardRow,
    Headline,
    build_card,
    clean_json,
    fmt,
    interval,
)
from scslab.analysis.html import figure_html, page_html, table_html

#: What one budget runs: people, days, burn-in, replicates; study samples (0 = no study)
#: and study replicates. Wall times measured on 2 cores are in docs/answers.md.
#: ``world_*``: the adoption world's people per society, periods, days per period and
#: replicates. The world's own periods are a year; tiny's 60-day periods make it a smoke
#: test of the pipeline (four societies' fixed per-day cost dominates such small runs).
BUDGETS: dict[str, dict[str, int]] = {
    "tiny": {"people": 2000, "days": 60, "burn_in": 10, "replicates": 2, "samples": 0,
             "study_replicates": 2, "world_people": 200, "world_periods": 2,
             "world_period_days": 60, "world_replicates": 2},
    "quick": {"people": 3000, "days": 120, "burn_in": 30, "replicates": 3, "samples": 4,
              "study_replicates": 2, "world_people": 500, "world_periods": 3,
              "world_period_days": 365, "world_replicates": 2},
    "default": {"people": 10000, "days": 365, "burn_in": 90, "replicates": 4, "samples": 8,
                "study_replicates": 2, "world_people": 2000, "world_periods": 6,
                "world_period_days": 365, "world_replicates": 3},
}
DEFAULT_SEED = 2024

ADOPTION_MODULE = "scslab.adoption"
ADOPTION_MISSING = "not yet answered: needs the adoption model (#20)"
#: The adoption question: its id (for --questions), the builtin world it runs, the
#: Western societies its sentence reads and the components it cites (the social credit
#: score and the face checkpoints), at the world's last period.
ADOPTION_ID = "adoption"
ADOPTION_WORLD = "will-the-west-adopt-it"
WESTERN = ("eu", "us")
ADOPTION_LEAD = ("point_scores", "face_checkpoints")
ADOPTION_MECHANISM = (
    "Each period every society is simulated for a year; between periods each government "
    "adopts, keeps or repeals each component with probability σ(U): its taste for "
    "control, the effect on violations and trust it has seen wherever the component was "
    "switched (or the exporting vendor's claim before any evidence), its public's "
    "approval, the cost (discounted when bought from the vendor) and a status-quo bias; a "
    "component its law bans is never in force (the EU AI Act; face checkpoints only in "
    "the Act's narrow exception) (docs/adoption.md).")
ADOPTION_ASSUMPTIONS = (
    "Governments' weights (taste for control, weight on approval and cost) and the "
    "components' costs are assumptions set in the world file, not fitted to any "
    "government's record.",
    "Western publics' approval median 0.45 is an assumption (no Western survey figure in "
    "the calibration notes); a more approving public makes adoption likelier where "
    "governments listen to it.",
    "Societies see every other society's outcome at once and believe the vendor's claim "
    "until evidence exists; slower diffusion of evidence would change the timeline.",
)


def _headlines(*keys: str) -> tuple[Headline, ...]:
    return tuple(h for k in keys for h in HEADLINES if h.key == k)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    scenario: str
    reference: str
    headlines: tuple[Headline, ...]
    lead: tuple[str, ...]  # headline keys the one-sentence answer cites, in order
    mechanism: str
    assumptions: tuple[str, ...]
    factors: dict[str, tuple[float, float]] = field(default_factory=dict)
    reference_name: str = ""  # how sentences and figures name the reference


QUESTIONS: tuple[Question, ...] = (
    Question(
        "market-officials",
        "Does a social credit system buy market trust and honest officials?",
        "corporate", "baseline",
        _headlines("fraud_rate", "transaction_cost", "bribes_paid",
                   "reported_minus_true_compliance", "violation_rate"),
        ("fraud_rate", "bribes_paid"),
        "A public seller score (complaints, court records, reviews) screens sellers, so "
        "defrauding costs future trades; officials are scored and audited by a central "
        "authority that also rewards the compliance they report (docs/markets.md).",
        ("Sellers' response to the score (reputation_weight) and officials' integrity are "
         "assumptions; with a stronger reward on reported compliance, falsified statistics "
         "can outweigh honesty gained.",
         "The reference (baseline) has the same market, firms and officials without the "
         "system; it is not a society without any institutions."),
        {"population.traits.awareness": (0.05, 0.4)},
    ),
    Question(
        "privacy-groups",
        "At what cost in privacy, and to which groups?",
        "rongcheng", "baseline",
        _headlines("records_per_person_day", "exposure", "false_sanction_rate",
                   "false_sanction_days",
                   "false_sanction_rate[group=minority] − false_sanction_rate[group=majority]"),
        ("records_per_person_day",
         "false_sanction_rate[group=minority] − false_sanction_rate[group=majority]"),
        "More sources record more acts of more people; records err, so more records mean "
        "more false sanctions, and where a group is recorded more densely (region, income) "
        "it bears more of them (docs/model.md, docs/surveillance.md).",
        ("Source coverage and error rates are assumptions unless listed as calibrated.",
         "Group differences come from where people live and their income in this synthetic "
         "society; a real society's segregation may differ."),
        {"population.traits.awareness": (0.05, 0.4)},
    ),
    Question(
        "checkpoints",
        "Do checkpoints confine a minority's movement?",
        "checkpoint-region", "national-blacklist",
        _headlines("blocked_movement_rate[group=minority] − "
                   "blocked_movement_rate[group=majority]", "exposure",
                   "false_sanction_rate"),
        ("blocked_movement_rate[group=minority] − blocked_movement_rate[group=majority]",),
        "Checkpoints on the roads out of the minority's region screen travellers by face "
        "recognition against a watchlist filled by design; false matches and lawful-basis "
        "entries detain people and block their trips (docs/surveillance.md).",
        ("Face-recognition error rates by group and the watchlist's group share are "
         "assumptions unless listed as calibrated.",
         "Trips are not re-planned around checkpoints; avoidance would lower blocked trips "
         "but also movement itself."),
        {"population.traits.awareness": (0.05, 0.4)},
    ),
)

ADOPTION_QUESTION = "Would a Western society adopt it?"


# --------------------------------------------------------------------------- sentences


def _direction(row: CardRow) -> str:
    if row.low is not None and row.low > 0:
        return "raises"
    if row.high is not None and row.high < 0:
        return "lowers"
    return "does not clearly change"


def _clause(row: CardRow, scenario: str) -> tuple[str, list[dict]]:
    """A clause on one row and the stored values it cites."""
    if not row.measured:
        if row.scenario_mean is None:
            return f"the {row.label} is {row.reason}", []
        cites = [{"key": row.key, "field": f, "text": fmt(getattr(row, f))}
                 for f in ("scenario_mean", "scenario_low", "scenario_high")]
        return (f"in {scenario} the {row.label} is {cites[0]['text']} (95 % interval "
                f"{cites[1]['text']} to {cites[2]['text']}; {row.reason.split(';')[0]})",
                cites)
    cites = [{"key": row.key, "field": f, "text": fmt(getattr(row, f))}
             for f in ("diff", "low", "high")]
    text = (f"it {_direction(row)} the {row.label} (difference {cites[0]['text']}, "
            f"95 % interval {cites[1]['text']} to {cites[2]['text']})")
    if row.robustness is not None:
        pct = f"{row.robustness:.0%}"
        cites.append({"key": row.key, "field": "robustness", "text": pct})
        text += f", with the same sign in {pct} of the study's samples"
    return text, cites


def sentence(q: Question, card: Card) -> tuple[str, list[dict]]:
    """The one-sentence answer and its citations ({key, field, text})."""
    parts, cites = [], []
    for key in q.lead:
        t, c = _clause(card.row(key), card.scenario)
        parts.append(t)
        cites += c
    return (f"Against {q.reference_name or card.reference}, {card.scenario}: "
            + "; ".join(parts) + ".", cites)


def cited_text(value: Any, field_: str) -> str:
    """How a cited stored value is written (the test reads this back)."""
    if field_ == "robustness":
        return f"{value:.0%}"
    return fmt(value)


# --------------------------------------------------------------------------- running


def _study_dict(q: Question, b: dict, seed: int, outputs: list[str]) -> dict:
    return {
        "name": f"answer-{q.id}", "scenarios": [q.scenario, q.reference],
        "people": b["people"], "days": b["days"], "burn_in": b["burn_in"], "seed": seed,
        "replicates": b["study_replicates"],
        "design": {"method": "lhs", "samples": b["samples"], "seed": seed},
        "factors": {k: {"low": lo, "high": hi} for k, (lo, hi) in q.factors.items()},
        "outputs": outputs, "contrasts": [f"{q.scenario} - {q.reference}"],
    }


def _group_bars(att: Any, q: Question) -> dict:
    """metric → run → group → (mean, low, high), for the disparity figure."""
    from scslab.analysis.attribution import FULL_RUN, REFERENCE_RUN
    from scslab.analysis.compare import mean_stats

    out: dict = {}
    metrics = sorted({h.metric for h in q.headlines if h.groups is not None})
    available = set(att.summaries["metric"].unique())
    for m in metrics:
        per: dict = {}
        for run, label in ((FULL_RUN, att.label), (REFERENCE_RUN, att.reference)):
            per[label] = {}
            for g in ("majority", "minority"):
                name = f"{m}[group={g}]"
                if name not in available:
                    continue
                s = att.summaries
                v = s[(s["scenario"] == run) & (s["metric"] == name)].sort_values("replicate")
                per[label][g] = list(mean_stats(v["value"].to_numpy(dtype=float), m))
        out[m] = per
    return clean_json(out)


def adoption_answer() -> dict:
    """The hook for question 4: answered only when ``scslab.adoption`` provides
    ``run_world``; otherwise the reason it is not."""
    if importlib.util.find_spec(ADOPTION_MODULE) is None:
        return {"answered": False, "reason": ADOPTION_MISSING}
    mod = importlib.import_module(ADOPTION_MODULE)
    if not hasattr(mod, "run_world"):
        return {"answered": False, "reason": f"not yet answered: {ADOPTION_MODULE} has no "
                                              "run_world (#20)"}
    return {"answered": True}


def pct(x: float) -> str:
    """A share of replicates as a sentence writes it (and the test reads back)."""
    return f"{x:.0%}"


def adoption_sentence(shares: list[dict], world: str) -> tuple[str, list[dict]]:
    """The adoption answer and its citations ({key: society/component, field, text}) from
    the stored last-period shares (95 % Wilson intervals over replicates)."""
    last = {f"{r['society']}/{r['component']}": r for r in shares}
    parts, cites = [], []
    for soc in WESTERN:
        clauses = []
        for comp in ADOPTION_LEAD:
            key = f"{soc}/{comp}"
            r = last[key]
            c = [{"key": key, "field": f, "text": pct(r[f])} for f in ("share", "low", "high")]
            cites += c
            clauses.append(f"{comp.replace('_', ' ')} in force in {c[0]['text']} of "
                           f"replicates (95 % interval {c[1]['text']} to {c[2]['text']})")
        parts.append(f"{soc} has " + " and ".join(clauses))
    return (f"In the world {world}, by the last period: " + "; ".join(parts) + ".", cites)


def run_adoption(b: dict, workers: int = 1) -> dict:
    """Run the adoption world at the budget's size and store its series: the share of
    replicates with each component in force per society and period (95 % Wilson
    interval) and each society's mean approval and violation rate per period."""
    hook = adoption_answer()
    if not hook["answered"]:
        return hook
    from scslab.adoption import run_world

    res = run_world(ADOPTION_WORLD, replicates=b["world_replicates"],
                    people=b["world_people"], periods=b["world_periods"],
                    period_days=b["world_period_days"], workers=workers)
    table = res.adoption(0.95)
    series = [{"society": str(r.society), "component": str(r.component),
               "period": int(r.period), "share": float(r.share), "low": float(r.low),
               "high": float(r.high), "n": int(r.n)} for r in table.itertuples()]
    last_period = int(table["period"].max())
    shares = [r for r in series if r["period"] == last_period]
    obs = res.observations.groupby(["society", "period"], sort=False)[
        ["approval", "violation_rate"]].mean().reset_index()
    outcomes = [{"society": str(r.society), "period": int(r.period),
                 "approval": float(r.approval), "violation_rate": float(r.violation_rate)}
                for r in obs.itertuples()]
    text, cites = adoption_sentence(shares, ADOPTION_WORLD)
    return clean_json({"answered": True, "world": ADOPTION_WORLD, "sentence": text, "cites": cites,
            "shares": shares, "series": series, "outcomes": outcomes,
            "societies": list(res.spec.societies), "components": list(res.spec.components),
            "period_days": int(res.spec.period_days), "world_seed": int(res.spec.seed),
            "mechanism": ADOPTION_MECHANISM, "assumptions": list(ADOPTION_ASSUMPTIONS)})


def run_answers(budget: str, *, seed: int = DEFAULT_SEED, workers: int = 1,
                dask: str | None = None, root: Path | None = None,
                questions: tuple[Question, ...] = QUESTIONS, adoption: bool = True,
                progress: Callable[[str], None] | None = None) -> dict:
    """Run every question at ``budget`` (and, with ``adoption``, the adoption world);
    studies are written under ``root/studies``. Returns the stored results (what
    answers.json holds)."""
    from scslab.analysis.attribution import attribute
    from scslab.analysis.compare import load_specs, metric_names
    from scslab.analysis.studies import Study

    b = BUDGETS[budget]
    answers = []
    for q in questions:
        if progress:
            progress(q.id)
        _, (sc, ref) = load_specs([q.scenario, q.reference], (), people=b["people"],
                                  days=b["days"], burn_in=b["burn_in"], seed=seed)
        have_s, have_r = set(metric_names(sc)), set(metric_names(ref))
        wanted = list(dict.fromkeys(m for h in q.headlines for m in h.parts()
                                    if m in have_s | have_r))
        study_dir = None
        both = [h.metric for h in q.headlines
                if h.groups is None and h.metric in have_s and h.metric in have_r]
        if b["samples"] and root is not None and q.factors and both:
            study_dir = root / "studies" / q.id
            Study.from_dict(_study_dict(q, b, seed, both), f"answer {q.id}").run(
                study_dir, workers=workers, dask=dask)
        att = attribute(q.scenario, q.reference, wanted or None, replicates=b["replicates"],
                        people=b["people"], days=b["days"], burn_in=b["burn_in"], seed=seed,
                        workers=workers)
        card = build_card(att, q.headlines, study_dir)
        card.settings["study"] = None if study_dir is None else f"studies/{q.id}"
        text, cites = sentence(q, card)
        answers.append({"id": q.id, "question": q.text, "sentence": text, "cites": cites,
                        "reference_name": q.reference_name or q.reference,
                        "card": card.to_dict(), "groups": _group_bars(att, q),
                        "mechanism": q.mechanism, "assumptions": list(q.assumptions)})
    stored: dict = {"budget": budget, "seed": seed, "settings": b, "answers": answers}
    if adoption:
        if progress:
            progress(ADOPTION_ID)
        stored["adoption"] = {"question": ADOPTION_QUESTION, **run_adoption(b, workers)}
    return stored


# --------------------------------------------------------------------------- figures


def forest_figure(card: Card, reference: str = "") -> Any:
    """One panel per headline with a value: the paired difference with its Monte Carlo
    interval (thick) and, where a study gave one, the combined interval (thin); a headline
    the reference leaves undefined shows the scenario's level instead (orange, so marked)."""
    from matplotlib.figure import Figure

    rows = [r for r in card.rows if r.measured or r.scenario_mean is not None]
    fig = Figure(figsize=(7.5, 0.75 * max(len(rows), 1) + 0.9), dpi=100)
    if not rows:
        fig.text(0.5, 0.5, "nothing measured", ha="center")
        return fig
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    for ax, r in zip(axes, rows, strict=True):
        if r.measured:
            mid, low, high, color, name = r.diff, r.low, r.high, "#2a6ebb", r.label
        else:
            mid, low, high = r.scenario_mean, r.scenario_low, r.scenario_high
            color, name = "#e08a2c", f"{r.label}\n(level in {card.scenario})"
        low = mid if low is None else low
        high = mid if high is None else high
        if r.combined_low is not None:
            ax.plot([r.combined_low, r.combined_high], [0, 0], color="#9bb8d9", lw=2)
        ax.plot([low, high], [0, 0], color=color, lw=6, solid_capstyle="butt")
        ax.plot([mid], [0], "o", color="#123d6a", ms=7)
        ax.axvline(0, color="#b22", lw=1)
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        lo = min(0.0, low, r.combined_low if r.combined_low is not None else 0.0)
        hi = max(0.0, high, r.combined_high if r.combined_high is not None else 0.0)
        pad = (hi - lo) * 0.15 or 1.0
        ax.set_xlim(lo - pad, hi + pad)
        for s in ("top", "right", "left"):
            ax.spines[s].set_visible(False)
    fig.suptitle(f"{card.scenario} − {reference or card.reference} (paired, 95 %)",
                 fontsize=9)
    fig.subplots_adjust(left=0.38, right=0.97, top=1 - 0.45 / fig.get_figheight(),
                        bottom=0.35 / fig.get_figheight() + 0.05, hspace=0.9)
    return fig


def disparity_figure(groups: dict) -> Any | None:
    """Bars by group (majority, minority) per scenario with 95 % intervals."""
    import numpy as np
    from matplotlib.figure import Figure

    metrics = [m for m, per in groups.items() if any(per.values())]
    if not metrics:
        return None
    fig = Figure(figsize=(3.6 * len(metrics) + 0.6, 3.2), dpi=100)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    colors = ("#2a6ebb", "#e08a2c")
    for ax, m in zip(axes, metrics, strict=True):
        labels = list(groups[m])
        x = np.arange(len(labels))
        for i, g in enumerate(("majority", "minority")):
            vals = [groups[m][lab].get(g, [None, None, None]) for lab in labels]
            mean = np.array([np.nan if v[0] is None else v[0] for v in vals])
            lo = np.array([np.nan if v[1] is None else v[1] for v in vals])
            hi = np.array([np.nan if v[2] is None else v[2] for v in vals])
            err = np.vstack([np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)])
            pos = x + (i - 0.5) * 0.38
            ax.bar(pos, np.nan_to_num(mean), 0.38, yerr=err, capsize=3, color=colors[i],
                   label=g)
            for p_, v in zip(pos, mean, strict=True):
                if not np.isfinite(v):  # undefined (module off, nothing to count): say so
                    ax.text(p_, 0, "undefined", rotation=90, ha="center", va="bottom",
                            fontsize=7, color="#666")
        ax.set_xticks(x)
        ax.set_xticklabels([lab if len(lab) < 22 else lab[:20] + "…" for lab in labels],
                           fontsize=8)
        ax.set_title(m, fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def adoption_figure(ad: dict) -> Any:
    """Adoption timelines: one panel per society, the share of replicates with each
    component in force per period with its 95 % Wilson band (from the stored series)."""
    from matplotlib.figure import Figure

    socs = ad["societies"]
    fig = Figure(figsize=(2.6 * len(socs) + 0.8, 3.0), dpi=100)
    axes = fig.subplots(1, len(socs), sharey=True, squeeze=False)[0]
    comps = ad["components"]
    for ax, soc in zip(axes, socs, strict=True):
        for j, comp in enumerate(comps):
            rows = sorted((r for r in ad["series"]
                           if r["society"] == soc and r["component"] == comp),
                          key=lambda r: r["period"])
            # dodged sideways so that components with the same share stay visible
            x = [r["period"] + 1 + (j - (len(comps) - 1) / 2) * 0.08 for r in rows]
            y = [r["share"] for r in rows]
            err = [[r["share"] - r["low"] for r in rows], [r["high"] - r["share"] for r in rows]]
            ax.errorbar(x, y, yerr=err, marker="os^D"[j % 4], ms=4, lw=1.2, capsize=2,
                        elinewidth=0.8, label=comp.replace("_", " "))
        ax.set_title(soc, fontsize=9)
        ax.set_xlabel("period (year)", fontsize=8)
        ax.set_ylim(-0.05, 1.05)
        ax.tick_params(labelsize=7)
        ax.set_xticks(sorted({r["period"] + 1 for r in ad["series"]}))
    axes[0].set_ylabel("share of replicates in force", fontsize=8)
    axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    return fig


def _adoption_html(ad: dict, n: int, b: dict) -> str:
    e = html.escape
    head = f"<section id={ADOPTION_ID}><h2>{n}. {e(ad['question'])}</h2>"
    if not ad["answered"]:
        return head + f"<p class=open>{e(ad['reason'])}</p></section>"
    parts = [head, f"<p class=answer>{e(ad['sentence'])}</p>",
             f"<p class=note>World {e(ad['world'])} (its own seed {ad['world_seed']}): "
             f"{b['world_people']:,} people per society, {b['world_periods']} periods of "
             f"{ad['period_days']} days, {b['world_replicates']} replicates; shares of "
             "replicates with 95 % Wilson intervals.</p>",
             _img(adoption_figure(ad), f"{ADOPTION_ID}-timeline",
                  "Adoption timelines: share of replicates with each component in force at "
                  "each period, by society, with its 95 % Wilson interval (components "
                  "dodged sideways)."),
             f"<h3>Mechanism</h3><p>{e(ad['mechanism'])}</p>"]
    cell = {(r["society"], r["component"]): f"{pct(r['share'])} [{pct(r['low'])}, "
            f"{pct(r['high'])}]" for r in ad["shares"]}
    parts.append("<p>In force at the last period (share of replicates [95 % interval]):</p>"
                 + table_html(["society", *ad["components"]],
                              [[soc, *(cell[(soc, c)] for c in ad["components"])]
                               for soc in ad["societies"]]))
    final = max(r["period"] for r in ad["outcomes"])
    parts.append("<p>Mean approval and violation rate in the last period:</p>"
                 + table_html(["society", "approval", "violation rate"],
                              [[r["society"], fmt(r["approval"]), fmt(r["violation_rate"])]
                               for r in ad["outcomes"] if r["period"] == final]))
    parts.append("<h3>Assumptions that could overturn it</h3><ul>"
                 + "".join(f"<li>{e(x)}</li>" for x in ad["assumptions"]) + "</ul></section>")
    return "\n".join(parts)


def _img(fig: Any, alt: str, caption: str) -> str:
    from scslab.analysis.figures import figure_png

    return figure_html(figure_png(fig), alt, caption)


# --------------------------------------------------------------------------- report


def answers_html(stored: dict) -> str:
    """The report, from the stored results only (deterministic: no clock, no paths)."""
    from scslab.analysis.answers import card_section_html

    e = html.escape
    s = stored["settings"]
    body = ["<h1>Does social credit work? The essay's questions, answered by runs</h1>",
            f"<p class=note>Budget <b>{e(stored['budget'])}</b>: {s['people']:,} people, "
            f"{s['days']} days after a {s['burn_in']}-day burn-in, {s['replicates']} "
            f"replicates on common random numbers (seed {stored['seed']}); "
            + (f"robustness over a Latin hypercube of {s['samples']} samples × "
               f"{s['study_replicates']} replicates." if s["samples"] else
               "no study at this budget, so intervals cover Monte Carlo noise only.")
            + " Every number below is read from answers.json.</p>"]
    for i, a in enumerate(stored["answers"], start=1):
        card = Card.from_dict(a["card"])
        body.append(f"<section id=\"{e(a['id'])}\"><h2>{i}. {e(a['question'])}</h2>")
        body.append(f"<p class=answer>{e(a['sentence'])}</p>")
        body.append(_img(forest_figure(card, a.get("reference_name", "")),
                         f"{a['id']}-forest",
                         "Effect of the system: paired difference with its 95 % interval "
                         "(thick: Monte Carlo; thin: with parameter uncertainty, when a "
                         "study ran); red line: no effect. Orange: the scenario's level, "
                         "where the reference leaves the outcome undefined."))
        bars = disparity_figure(a["groups"])
        if bars is not None:
            body.append(_img(bars, f"{a['id']}-groups",
                             "By group: mean with 95 % interval over replicates."))
        body.append(f"<h3>Mechanism</h3><p>{e(a['mechanism'])}</p>")
        comps = [[r.label, c["component"], f"{fmt(c['effect'])} "
                  f"{interval(c['low'], c['high'])}", fmt(c["share"])]
                 for r in card.rows if r.measured for c in r.components]
        if comps:
            body.append("<p>Components that cause it (effect of removing each, one at a "
                        "time):</p>" + table_html(["outcome", "component", "effect [95 %]",
                                                   "share of total"], comps))
        body.append("<h3>Calibrated targets it rests on</h3>")
        body.append(table_html(["parameter", "value", "published figure", "source", "tag"],
                               [[x["path"], str(x["value"]), x["figure"], x["citation"],
                                 x["tag"]] for x in card.assumed])
                    if card.assumed else "<p>No calibrated input is registered for this "
                                         "scenario: every parameter is an assumption.</p>")
        body.append("<h3>Assumptions that could overturn it</h3><ul>"
                    + "".join(f"<li>{e(x)}</li>" for x in a["assumptions"]) + "</ul>")
        body.append("<details><summary>The full card</summary>"
                    + card_section_html(card) + "</details></section>")
    if "adoption" in stored:
        body.append(_adoption_html(stored["adoption"], len(stored["answers"]) + 1, s))
    return page_html("scslab: the questions answered", "\n".join(body), CSS)
