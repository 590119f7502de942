"""``scslab compare``, ``scslab explain`` and ``scslab report`` (typer command functions).

Registered in :mod:`scslab.cli` with ``app.command(name="compare")(compare_command)`` etc.
Heavy imports happen inside the functions so ``scslab --help`` stays fast. Bad input is
raised as :class:`scslab.cli.UserError` (one line, exit status 2).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from scslab.cli.options import BurnIn, Days, People, PopulationOnDisk, ReportFigures

_SPEC_HELP = ("Builtin name, YAML file, or NAME:key=value,key=value for a variant "
              "(e.g. baseline:sources.court.coverage=0.6).")


def _user_error(message: str) -> Exception:
    from scslab.cli.options import UserError

    return UserError(message)


def _guard(fn, *args, **kwargs):
    """Call ``fn``; turn bad-input exceptions into a one-line UserError."""
    from scslab.analysis.compare import CompareError
    from scslab.scenario import ScenarioError

    try:
        return fn(*args, **kwargs)
    except (CompareError, ScenarioError) as exc:
        raise _user_error(" ".join(str(exc).split())) from None


def _check_replicates(replicates: int) -> None:
    if replicates < 2:
        raise _user_error(f"--replicates must be at least 2 (got {replicates}): intervals "
                          "and paired differences need two or more replicates")


def _open_out(out: Path | None, force: bool):
    from scslab.cli.options import open_out

    return open_out(out, force)


def _check_memory(specs: list[str], sets: list[str] | None, workers: int, replicates: int,
                  twin: bool = False, population_on_disk: Path | None = None,
                  runs_per_replicate: int | None = None, **shortcuts) -> None:
    """Refuse before any run a comparison whose largest scenario, with every scenario's
    daily series gathered (twins too), cannot fit in memory — with as many runs at once
    as there are workers and runs (one per scenario, twin and replicate; an explanation
    passes its own count, ``runs_per_replicate``)."""
    from scslab.analysis.compare import load_spec, metric_names
    from scslab.cli.options import check_memory
    from scslab.run.memory import series_bytes

    scs = [_guard(load_spec, spec, sets or [], **shortcuts)[1] for spec in specs]
    held = (2 if twin else 1) * sum(
        series_bytes(len(metric_names(sc)), sc.time.burn_in + sc.time.days, replicates)
        for sc in scs)
    per_replicate = runs_per_replicate or len(scs) * (2 if twin else 1)
    for sc in scs:
        check_memory(sc, workers, replicates, held, population_on_disk=population_on_disk,
                     offer_population_on_disk=True, runs=replicates * per_replicate)


def _write(save, folder) -> None:
    """``save(folder)`` into the folder opened before the runs; release it whatever happens."""
    try:
        if folder is not None:
            _guard(save, folder)
    finally:
        if folder is not None:
            folder.abort()


def _job_progress(quiet: bool):
    """A rich progress bar over (scenario × replicate) jobs; None when quiet / not a TTY."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from scslab.cli.options import console as _console

    if quiet or not sys.stderr.isatty():
        return None, None
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                        TextColumn("{task.completed}/{task.total} runs"),
                        TimeRemainingColumn(), transient=True, console=_console(stderr=True))
    task = progress.add_task("simulating", total=None)

    def tick(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return progress, tick


def _run_with_progress(quiet: bool, fn, **kwargs):
    progress, tick = _job_progress(quiet)
    if progress is None:
        return _guard(fn, progress=None, **kwargs)
    with progress:
        return _guard(fn, progress=tick, **kwargs)


def print_comparison(comp) -> None:
    """The side-by-side table, by theme, and the twin/chilling table when present."""
    from rich.markup import escape
    from rich.table import Table

    from scslab.analysis.report import comparison_rows, twin_rows
    from scslab.cli.options import console as _console

    console = _console()
    m = comp.manifest
    console.print(
        f"[bold]compare[/bold] {len(comp.labels)} scenarios — {comp.people:,} people, "
        f"{m.get('days')} days after a {m.get('burn_in')}-day burn-in, {comp.replicates} "
        f"replicates, {'common random numbers' if m.get('crn', True) else 'independent seeds'}"
        f", {m.get('wall_seconds', 0):.1f} s")
    table_data = comp.table()
    # a side-by-side table needs ~26 columns of text per scenario (value and Δ): show
    # the scenarios in groups that fit, each beside the first (the reference of Δ)
    per_table = max(1, (max(console.width, 100) - 30) // 52)
    others = comp.labels[1:]
    groups = [others[i:i + per_table] for i in range(0, len(others), per_table)] or [[]]
    for group in groups:
        header, rows = comparison_rows(table_data, [comp.labels[0], *group])
        table = Table(title="mean [95 % interval]; Δ = paired difference vs the first scenario",
                      title_justify="left")
        for i, h in enumerate(header[1:]):
            table.add_column(escape(h), justify="left" if i == 0 else "right",
                             overflow="fold")
        theme = None
        for row in rows:
            if row[0] != theme:
                if theme is not None:
                    table.add_section()
                theme = row[0]
                table.add_row(f"[bold]{theme}[/bold]", *[""] * (len(header) - 2))
            table.add_row(*[escape(c) for c in ["  " + row[1], *row[2:]]])
        console.print(table)
    if comp.twins:
        th, tr = twin_rows(comp)
        t2 = Table(title="chilling: total (vs twin without expression-venue surveillance) "
                   "and direct", title_justify="left")
        for h in th:
            t2.add_column(escape(h), overflow="fold")
        for row in tr:
            t2.add_row(*[escape(c) for c in row])
        console.print(t2)


def print_confounds(records, stderr: bool = True) -> None:
    """The warning block: every society path in which the compared scenarios differ."""
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    from scslab.analysis.confounds import ABSENT, value_text
    from scslab.cli.options import console as _console

    if not records:
        return
    labels = list(dict.fromkeys(k for r in records for k in r["values"]))
    table = Table(show_edge=False)
    table.add_column("society path", overflow="fold")
    for lab in labels:
        table.add_column(escape(lab), overflow="fold")
    for r in records:
        table.add_row(escape(r["path"]), *[escape(value_text(r["values"].get(lab, ABSENT)))
                                           for lab in labels])
    _console(stderr=stderr).print(Panel(
        table, border_style="yellow", title="[bold yellow]warning: confounds[/bold yellow]",
        subtitle="outcomes may differ because of these, not the system; --strict refuses",
        expand=False))


def compare_command(
    scenarios: Annotated[list[str], typer.Argument(help=_SPEC_HELP, show_default=False)],
    replicates: Annotated[int, typer.Option(help="Replicates per scenario (at least 2).")] = 5,
    people: People = None,
    days: Days = None,
    burn_in: BurnIn = None,
    seed: Annotated[int | None, typer.Option(help="Master seed (shared by all scenarios).")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override for every scenario: dotted.path=value (repeatable).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (one Numba thread each).")] = 1,
    metrics: Annotated[list[str] | None, typer.Option(
        "--metrics", help="Metrics to show, comma-separated or repeated (default: every "
        "overall metric). NAME[group=G] and NAME[region=K] are accepted.")] = None,
    groups: Annotated[bool, typer.Option("--groups", help="Add the group breakdowns.")] = False,
    twin: Annotated[bool, typer.Option("--twin", help=(
        "Also run each scenario's twin without expression-venue surveillance (same numbers) "
        "and report the total chilling effect beside the direct one."))] = False,
    independent: Annotated[bool, typer.Option("--independent", help=(
        "A different seed per scenario (no common random numbers) — to see what CRN buys."))] = False,
    strict: Annotated[bool, typer.Option("--strict", help=(
        "Refuse (exit 2) when the scenarios differ outside the system compared "
        "(population, acts, behaviour, debts, run length)."))] = False,
    out: Annotated[Path | None, typer.Option(help=(
        "Write replicates.parquet, series.parquet, comparison.parquet, scenarios/, figures/, "
        "report.html and manifest.json here."))] = None,
    force: Annotated[bool, typer.Option(
        help="Replace an existing non-empty --out folder whole (never merged).")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
    figures: ReportFigures = True,
    population_on_disk: PopulationOnDisk = None,
) -> None:
    """Compare scenarios side by side on common random numbers.

    Replicate r of every scenario shares its synthetic population and random numbers, so
    differences are paired over replicates. Prints mean and 95 % interval per scenario and
    the paired difference against the first, grouped by theme.

    Examples:

      scslab compare baseline baseline:sources.court.coverage=0.6 --replicates 8 --people 20000

      scslab compare baseline my.yaml --days 365 --metrics detection_rate,violation_rate --groups

      scslab compare baseline baseline:acts.fraud.rate=0.004 --twin --workers 4 --out out/cmp
    """
    from scslab.analysis.compare import compare
    from scslab.analysis.report import write_comparison_files

    _check_replicates(replicates)
    _check_memory(scenarios, set_, workers, replicates, twin, population_on_disk,
                  people=people, days=days, burn_in=burn_in, seed=seed)
    folder = _open_out(out, force)
    try:
        comp = _run_with_progress(
            quiet, compare, scenarios=scenarios, replicates=replicates, people=people,
            days=days, burn_in=burn_in, seed=seed, sets=set_ or [], workers=workers,
            metrics=metrics, groups=groups, twin=twin, crn=not independent, strict=strict,
            command=sys.argv, population_on_disk=population_on_disk)
    except BaseException:
        if folder is not None:
            folder.abort()
        raise
    _write(lambda f: write_comparison_files(comp, f, figures=figures), folder)
    print_confounds(comp.confounds)
    if not quiet:
        print_comparison(comp)
        if out is not None:
            from rich.markup import escape

            from scslab.cli.options import console as _console

            _console().print(escape(f"results written to {out}/ (report: {out / 'report.html'})"))


def print_explanation(exp) -> None:
    from rich.markup import escape
    from rich.table import Table

    from scslab.analysis.report import explanation_rows
    from scslab.analysis.summary import fmt
    from scslab.cli.options import console as _console

    console = _console()
    t = exp.table()
    console.print(
        f"[bold]explain[/bold] {escape(exp.metric)}: {escape(exp.group_a)} vs "
        f"{escape(exp.group_b)} in {escape(exp.label)} — "
        f"{exp.people:,} people, {exp.replicates} replicates; disparity = "
        f"{'ln(M_A / M_B)' if exp.measure == 'log ratio' else 'M_A − M_B (a value is zero)'}, "
        f"base {exp.base_text()}")
    header, rows = explanation_rows(exp)
    table = Table(title="share = (D_base − D_equalised) / D_base per replicate, mean [95 % "
                  "interval]", title_justify="left")
    for h in (header[0], *header[3:]):
        table.add_column(escape(h), justify="left" if h == header[0] else "right",
                         overflow="fold")
    for row in rows:
        table.add_row(*[escape(c) for c in (row[0], *row[3:])])
    console.print(table)
    s = t[t["kind"] == "cause"]["share"].sum()
    a = t[t["kind"] == "all"]["share"]
    console.print(f"Shares need not add up when causes interact: single causes sum to {fmt(s)}"
                  f", all causes together remove {fmt(float(a.iloc[0])) if len(a) else '—'}.")
    if exp.unstable():
        console.print("[bold]warning:[/bold] the base disparity's interval includes 0; the "
                      "shares are ratios of noise (more replicates or people).")


def explain_command(
    scenario: Annotated[str, typer.Argument(help=_SPEC_HELP, show_default=False)],
    metric: Annotated[str, typer.Option(help="The metric whose group disparity to explain.",
                                        show_default=False)],
    between: Annotated[tuple[str, str], typer.Option(
        help="The two groups, A then B: the disparity is A relative to B.",
        show_default=False)],
    replicates: Annotated[int, typer.Option(help="Replicates per run (at least 2).")] = 5,
    people: People = None,
    days: Days = None,
    burn_in: BurnIn = None,
    seed: Annotated[int | None, typer.Option(help="Master seed.")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a scenario value: dotted.path=value (repeatable).")] = None,
    causes: Annotated[str | None, typer.Option(
        help="Causes to equalise, comma-separated (default: every registered cause).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (one Numba thread each).")] = 1,
    out: Annotated[Path | None, typer.Option(help=(
        "Write replicates.parquet, disparity.parquet, explanation.parquet, figures/, "
        "report.html and manifest.json here."))] = None,
    force: Annotated[bool, typer.Option(
        help="Replace an existing non-empty --out folder whole (never merged).")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
    figures: ReportFigures = True,
    population_on_disk: PopulationOnDisk = None,
) -> None:
    """Explain a group disparity: equalise one cause at a time and measure how much goes.

    The disparity is ln(M_A / M_B) (a difference where a value is zero). Each cause
    (income, behaviour, exposure, ...) is equalised between the groups on the same
    populations and random numbers; its share = (D_base − D_equalised) / D_base with a 95 %
    interval over replicates. Also reports all causes at once and the residual.

    Examples:

      scslab explain baseline --metric detection_rate --between minority majority

      scslab explain baseline:population.groups.minority.honesty_mean=0.6 --metric violation_rate --between minority majority --replicates 8 --people 5000 --days 100
    """
    from scslab.analysis.explain import explain
    from scslab.analysis.report import write_explanation_files

    _check_replicates(replicates)
    from scslab.analysis.explain import all_causes

    n_causes = len(all_causes()) if causes is None else len(causes.split(","))
    _check_memory([scenario], set_, workers, replicates,
                  population_on_disk=population_on_disk,
                  runs_per_replicate=n_causes + 2,  # the base, each cause, all at once
                  people=people, days=days, burn_in=burn_in, seed=seed)
    folder = _open_out(out, force)
    try:
        exp = _run_with_progress(
            quiet, explain, scenario=scenario, metric=metric, group_a=between[0],
            group_b=between[1], replicates=replicates, people=people, days=days,
            burn_in=burn_in, seed=seed, sets=set_ or [],
            causes=None if causes is None else causes.split(","), workers=workers,
            command=sys.argv, population_on_disk=population_on_disk)
    except BaseException:
        if folder is not None:
            folder.abort()
        raise
    _write(lambda f: write_explanation_files(exp, f, figures=figures), folder)
    if not quiet:
        print_explanation(exp)
        if out is not None:
            from rich.markup import escape

            from scslab.cli.options import console as _console

            _console().print(escape(f"results written to {out}/ (report: {out / 'report.html'})"))


def report_command(
    directory: Annotated[Path, typer.Argument(
        help="A directory written by 'scslab compare --out' or 'scslab explain --out'.",
        show_default=False)],
    figures: Annotated[bool, typer.Option(help="Redraw the figures too.")] = True,
) -> None:
    """Rebuild DIR/report.html (and DIR/figures) from stored results, without re-running.

    Example:

      scslab report out/cmp
    """
    from scslab.analysis.rebuild import rebuild_report

    path = _guard(rebuild_report, directory, figures=figures)
    from rich.markup import escape

    from scslab.cli.options import console as _console

    _console().print(escape(f"report written to {path}"))
