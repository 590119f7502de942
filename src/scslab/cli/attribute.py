"""``scslab attribute`` (a typer command function, mounted in :mod:`scslab.cli`).

A command of its own rather than a mode of ``explain``: ``explain`` decomposes a group
disparity inside one scenario by equalising causes in the society; ``attribute`` decomposes
the difference between two scenarios by removing parts of the system. They share neither
their required options (``--between``) nor their formula. Bad input is raised as
:class:`scslab.cli.UserError` (one line, exit status 2).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from scslab.cli.options import BurnIn, Days, People
from scslab.cli.options import console as _console

_SPEC_HELP = ("Builtin name, YAML file, or NAME:key=value,key=value for a variant "
              "(e.g. baseline:sources.court.coverage=0.6).")


def _run(quiet: bool, **kwargs):
    """Run :func:`scslab.analysis.attribution.attribute` with a progress bar over the runs; bad
    input becomes a one-line UserError."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from scslab.analysis.attribution import attribute
    from scslab.analysis.compare import CompareError
    from scslab.cli.options import UserError
    from scslab.scenario import ScenarioError

    progress = None
    if not quiet and sys.stderr.isatty():
        progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                            TextColumn("{task.completed}/{task.total} runs"),
                            TimeRemainingColumn(), transient=True,
                            console=_console(stderr=True))
    try:
        if progress is None:
            return attribute(progress=None, **kwargs)
        task = progress.add_task("simulating", total=None)
        with progress:
            return attribute(progress=lambda done, total: progress.update(
                task, completed=done, total=total), **kwargs)
    except (CompareError, ScenarioError) as exc:
        raise UserError(" ".join(str(exc).split())) from None


def print_attribution(att) -> None:
    """Per metric: the total, each component's effect of removal with its interval and
    its share, the interaction residual; then refusals and warnings."""
    from rich.markup import escape
    from rich.table import Table

    from scslab.analysis.attribution import TOTAL
    from scslab.analysis.report import interval_text
    from scslab.analysis.summary import fmt

    console = _console()
    m = att.manifest
    console.print(
        f"[bold]attribute[/bold] {escape(att.label)} vs {escape(att.reference)} — "
        f"{m.get('people', 0):,} people, {m.get('days')} days after a {m.get('burn_in')}-day "
        f"burn-in, {att.replicates} replicates on common random numbers, "
        f"{m.get('wall_seconds', 0):.1f} s")
    t = att.table()
    for metric in att.metrics:
        sub = t[t["metric"] == metric]
        total = sub[sub["component"] == TOTAL].iloc[0]
        table = Table(title=f"{metric}: effect of removing each component = Y(S) − Y(S − c), "
                      "mean [95 % t-interval]; share = mean effect / mean total [95 % "
                      "bootstrap]", title_justify="left")
        for h, j in (("component", "left"), ("effect of removing it", "right"),
                     ("share of total", "right")):
            table.add_column(h, justify=j, overflow="fold")
        for _, row in sub.iterrows():
            name = row["component"]
            if row["status"] not in ("", "removed"):
                table.add_row(escape(name), escape(row["status"]), "—")
                continue
            effect = interval_text(row["effect"], row["effect_low"], row["effect_high"])
            share = (fmt(row["share"]) if name == TOTAL else
                     interval_text(row["share"], row["share_low"], row["share_high"]))
            style = "bold" if row["kind"] in ("total", "residual") else None
            table.add_row(escape(name), escape(effect), escape(share), style=style)
        console.print(table)
        if bool(total["total_zero"]):
            console.print(f"[bold yellow]warning:[/bold yellow] the total effect on "
                          f"{escape(metric)} is not distinguishable from 0 (its interval "
                          "includes 0): shares are ratios of noise; read the absolute "
                          "effects, or run more replicates or people.")
    if att.confounds:
        paths = ", ".join(c["path"] for c in att.confounds)
        console.print(f"[bold yellow]warning: confounds[/bold yellow] — the scenarios also "
                      f"differ outside the system ({escape(paths)}); no component holds "
                      "these, so their effect is in the residual.")


def attribute_command(
    scenario: Annotated[str, typer.Argument(help=_SPEC_HELP, show_default=False)],
    against: Annotated[str, typer.Option(help="The reference scenario.")] = "baseline",
    metric: Annotated[list[str] | None, typer.Option(
        "--metric", help="Metric to attribute (repeatable or comma-separated; default "
        "violation_rate). NAME[group=G] and NAME[region=K] are accepted.")] = None,
    components: Annotated[str | None, typer.Option(
        help="Only these components, comma-separated (default: every component).")] = None,
    replicates: Annotated[int, typer.Option(help="Replicates per run (at least 2).")] = 3,
    people: People = None,
    days: Days = None,
    burn_in: BurnIn = None,
    seed: Annotated[int | None, typer.Option(help="Master seed (shared by all runs).")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override for every run: dotted.path=value (repeatable).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (one Numba thread each).")] = 1,
    out: Annotated[Path | None, typer.Option(help=(
        "Write attribution.parquet/.csv/.json, replicates.parquet, scenarios/, "
        "figures/attribution.png and manifest.json here."))] = None,
    force: Annotated[bool, typer.Option(
        help="Replace an existing non-empty --out folder whole (never merged).")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
) -> None:
    """Attribute a scenario's effect against a reference to its components, by ablation.

    Each component of the scenario's system that the reference lacks (sources, the score,
    each list, each sanction measure, appeals, surveillance, ...) is switched off in turn
    and the scenario run again on the same numbers. Reports each component's effect
    Y(S) − Y(S without it) with a 95 % interval, its share of the total Y(S) − Y(reference),
    and the interaction residual (total − sum of effects).

    Examples:

      scslab attribute rongcheng --against baseline --people 10000 --days 365

      scslab attribute national-blacklist --metric violation_rate,false_sanction_rate --out out/att
    """
    from scslab.analysis.compare import CompareError
    from scslab.cli.options import UserError, open_out
    from scslab.run.outfolder import OutFolderError

    if replicates < 2:
        raise UserError(f"--replicates must be at least 2 (got {replicates}): intervals "
                        "need two or more replicates")
    from scslab.analysis.compare import load_spec
    from scslab.cli.options import check_memory

    for spec in (scenario, against):  # refused before any run if it cannot fit
        try:
            _, sc = load_spec(spec, set_ or [], people=people, days=days, burn_in=burn_in,
                              seed=seed)
        except CompareError as exc:
            raise UserError(str(exc)) from None
        # at least the scenario and the reference, each replicate: the components add runs
        check_memory(sc, workers, replicates, runs=2 * replicates)
    try:  # --out checked and taken before anything runs (outfolder.py)
        folder = open_out(out, force)
    except OutFolderError as exc:
        raise UserError(str(exc)) from None
    try:
        att = _run(quiet, scenario=scenario, reference=against, metrics=metric,
                   replicates=replicates, people=people, days=days, burn_in=burn_in,
                   seed=seed, sets=set_ or [], only=None if components is None else [components],
                   workers=workers, command=sys.argv)
        if folder is not None:
            att.save(folder)
    except CompareError as exc:
        raise UserError(str(exc)) from None
    finally:
        if folder is not None:
            folder.abort()
    if not quiet:
        print_attribution(att)
        if out is not None:
            from rich.markup import escape

            _console().print(escape(f"results written to {out}/"))
