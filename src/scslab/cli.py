"""The ``scslab`` command (typer + rich).

Heavy imports (NumPy, Numba, pandas, the engine) happen inside commands, so ``--help``
stays fast. Bad input ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

try:  # typer >= 0.29 vendors its own click
    from typer._click import exceptions as cx
except ImportError:  # pragma: no cover - older typer on click
    from click import exceptions as cx

#: exit and abort exceptions, whichever of typer's or click's the running version raises
_EXIT = tuple({typer.Exit, getattr(cx, "Exit", typer.Exit)})
_ABORT = tuple({typer.Abort, getattr(cx, "Abort", typer.Abort)})

EXIT_USAGE = 2

app = typer.Typer(
    name="scslab",
    help=(
        "scslab — a laboratory for social credit and mass-surveillance systems in "
        "synthetic societies (synthetic people only).\n\n"
        "Examples:\n\n"
        "  scslab run                         # default scenario, 100 000 people\n\n"
        "  scslab run baseline --people 20000 --days 365 --out out/baseline\n\n"
        "  scslab scenarios                   # list builtin scenarios\n\n"
        "  scslab show baseline --set acts.traffic.rate=0.02"
    ),
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class UserError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


def _fail(message: str) -> None:
    raise UserError(message)


def _load(scenario: str | None, sets: list[str] | None, **shortcuts):
    from scslab.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(scenario, sets or [], **shortcuts)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None


def _check_out(out: Path | None) -> None:
    if out is not None and out.exists() and not out.is_dir():
        _fail(f"{out}: --out must be a directory, and this is a file")


def _progress_runner(total_days: int, replicates: int, quiet: bool):
    """A rich progress bar over replicate-days (a no-op when quiet or not a TTY)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    if quiet:
        return None, None
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(),
        TextColumn("{task.completed}/{task.total} days"), TimeRemainingColumn(),
        transient=True, disable=not sys.stderr.isatty(),
        console=_console(stderr=True),
    )
    task = progress.add_task("simulating", total=total_days * replicates)
    done: dict[int, int] = {}

    def tick(replicate: int, day: int) -> None:
        done[replicate] = day
        progress.update(task, completed=sum(done.values()))

    return progress, tick


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _print_summary(results, scenario, wall: float) -> None:
    from rich.table import Table

    from scslab.summary import summary_rows

    console = _console()
    pop = scenario.population
    reps = len(results.replicates)
    console.print(
        f"[bold]{scenario.name}[/bold] — {pop.people:,} people, {scenario.time.days:,} days "
        f"after a {scenario.time.burn_in:,}-day burn-in, seed {scenario.seed}, "
        f"{reps} replicate{'s' if reps != 1 else ''}, {wall:.1f} s"
    )
    if scenario.description:
        console.print(scenario.description)
    modules = ", ".join(sorted(k for k, v in scenario.modules.items() if v.get("enabled", True)))
    console.print(f"modules switched on: {modules}")
    groups = list(pop.groups)
    table = Table(title="Summary (measured period, after burn-in)", title_justify="left")
    table.add_column("metric")
    table.add_column("all", justify="right")
    if reps > 1:
        table.add_column("95 % interval", justify="right")
    for g in groups:
        table.add_column(f"group={g}", justify="right")
    for row in summary_rows(results, groups):
        table.add_row(*row)
    console.print(table)


@app.command()
def run(
    scenario: Annotated[str | None, typer.Argument(
        help="Builtin scenario name or YAML file (default: baseline).")] = None,
    people: Annotated[int | None, typer.Option(help="Number of people.")] = None,
    days: Annotated[int | None, typer.Option(help="Days measured after the burn-in.")] = None,
    burn_in: Annotated[int | None, typer.Option(help="Burn-in days (not measured).")] = None,
    seed: Annotated[int | None, typer.Option(help="Master seed.")] = None,
    replicates: Annotated[int, typer.Option(min=1, help="Replicates (new population each).")] = 1,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes for replicates.")] = 1,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a scenario value: dotted.path=value (repeatable).")] = None,
    out: Annotated[Path | None, typer.Option(help="Write results to this directory.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
) -> None:
    """Run a scenario and print a summary; with --out, write series, summary, manifest.

    Examples:

      scslab run

      scslab run baseline --people 20000 --days 365 --burn-in 0

      scslab run my.yaml --set acts.traffic.rate=0.02 --replicates 5 --out out/my
    """
    import time

    _check_out(out)
    sc = _load(scenario, set_, people=people, days=days, burn_in=burn_in, seed=seed)
    from scslab.runner import run_scenario

    total = sc.time.burn_in + sc.time.days
    progress, tick = _progress_runner(total, replicates, quiet)
    t0 = time.perf_counter()
    if progress is not None:
        with progress:
            results = run_scenario(sc, replicates, workers, tick, command=sys.argv)
    else:
        results = run_scenario(sc, replicates, workers, None, command=sys.argv)
    wall = time.perf_counter() - t0
    if out is not None:
        from scslab.figures import run_figures

        run_figures(results, out / "figures")  # before the manifest, which is written last
        results.save(out, results.manifest)
    if not quiet:
        _print_summary(results, sc, wall)
        if out is not None:
            _console().print(f"results written to {out}/")


@app.command()
def scenarios() -> None:
    """List the builtin scenarios.

    Example:

      scslab scenarios
    """
    from rich.table import Table

    from scslab.scenario import builtin_names, load_scenario

    table = Table("name", "description")
    for name in builtin_names():
        table.add_row(name, load_scenario(name).description)
    _console().print(table)


@app.command()
def show(
    scenario: Annotated[str | None, typer.Argument(
        help="Builtin scenario name or YAML file (default: baseline).")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a value: dotted.path=value (repeatable).")] = None,
) -> None:
    """Print a scenario fully resolved (extends merged, defaults filled) as YAML.

    Examples:

      scslab show baseline

      scslab show my.yaml --set population.people=1e6
    """
    from scslab.scenario import resolved_yaml

    typer.echo(resolved_yaml(_load(scenario, set_)), nl=False)


@app.command()
def rerun(
    manifest: Annotated[Path, typer.Argument(help="A manifest.json written by 'scslab run'.")],
    out: Annotated[Path, typer.Option(help="Directory for the new results.")],
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
) -> None:
    """Re-run a result from its manifest (same scenario, seed, replicates).

    In the same environment the new series.parquet is bit-identical to the old one.

    Example:

      scslab rerun out/baseline/manifest.json --out out/baseline-again
    """
    import json

    from scslab.scenario import ScenarioError, scenario_from_dict

    _check_out(out)
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(f"{manifest}: no such manifest file")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(f"{manifest}: not a readable JSON manifest ({exc})")
    if not isinstance(data, dict) or "scenario" not in data or "replicates" not in data:
        _fail(f"{manifest}: not a scslab manifest (no 'scenario' or 'replicates')")
    try:
        sc = scenario_from_dict(data["scenario"], where=str(manifest))
    except ScenarioError as exc:
        _fail(str(exc))
    from scslab.runner import run_scenario

    reps = int(data["replicates"])
    progress, tick = _progress_runner(sc.time.burn_in + sc.time.days, reps, quiet)
    if progress is not None:
        with progress:
            results = run_scenario(sc, reps, 1, tick, command=sys.argv)
    else:
        results = run_scenario(sc, reps, 1, None, command=sys.argv)
    from scslab.figures import run_figures

    run_figures(results, out / "figures")
    results.save(out, results.manifest)
    if not quiet:
        _console().print(f"re-ran {manifest} into {out}/")


def _register_games() -> None:
    """Mount the games and validation commands when that package is present."""
    try:
        from scslab.games.cli import game_app, validate_command
    except ImportError:
        return
    app.add_typer(game_app, name="game", help="Reputation games and civil violence.")
    app.command(name="validate")(validate_command)


_register_games()


def _register_dashboard() -> None:
    from scslab.dashboard_cli import dashboard_command

    app.command(name="dashboard")(dashboard_command)


_register_dashboard()


def _register_compare() -> None:
    """Mount the comparison commands (compare, explain, report)."""
    from scslab.compare_cli import compare_command, explain_command, report_command

    app.command(name="compare")(compare_command)
    app.command(name="explain")(explain_command)
    app.command(name="report")(report_command)


_register_compare()


def _register_attribute() -> None:
    """Mount ``attribute`` (attribution of a scenario's effect to its components)."""
    from scslab.attribution_cli import attribute_command

    app.command(name="attribute")(attribute_command)


_register_attribute()


def _register_study() -> None:
    """Mount ``scslab study run | analyze | status``."""
    from scslab.study_cli import study_app

    app.add_typer(study_app, name="study", help="Studies: sweeps, sensitivity, robustness.")


_register_study()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning bad input into one line and exit status 2."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="scslab", standalone_mode=False)
    except UserError as exc:
        print(f"scslab: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except cx.UsageError as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None and ctx.command_path else ""
        print(f"scslab: error: {' '.join(exc.format_message().split())}{hint}", file=sys.stderr)
        return EXIT_USAGE
    except _EXIT as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except _ABORT:
        print("scslab: aborted", file=sys.stderr)
        return 130
    except cx.ClickException as exc:
        print(f"scslab: error: {' '.join(exc.format_message().split())}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("scslab: interrupted", file=sys.stderr)
        return 130
    return 0


def entry() -> None:  # pragma: no cover - console script
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    entry()
