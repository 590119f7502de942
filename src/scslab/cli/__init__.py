"""The ``scslab`` command (typer + rich).

Heavy imports (NumPy, Numba, pandas, the engine) happen inside commands, so ``--help``
stays fast. Bad input ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import gc
import os
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from typer.main import get_command_name
from typer.models import CommandInfo

from scslab.cli.answer import answer_command
from scslab.cli.attribute import attribute_command
from scslab.cli.calibrate import calibrate_command
from scslab.cli.card import card_command
from scslab.cli.collector import collector_paused
from scslab.cli.compare import compare_command, explain_command, report_command
from scslab.cli.dashboard import dashboard_command
from scslab.cli.options import (
    BurnIn,
    Days,
    People,
    PopulationOnDisk,
    UserError,
    check_memory,
    open_out,
)
from scslab.cli.options import console as _console
from scslab.cli.study import study_app
from scslab.cli.world import world_app
from scslab.games.cli import game_app, validate_command

try:  # typer >= 0.29 vendors its own click
    from typer._click import exceptions as cx
except ImportError:  # pragma: no cover - older typer on click
    from click import exceptions as cx

#: exit and abort exceptions, whichever of typer's or click's the running version raises
_EXIT = tuple({typer.Exit, getattr(cx, "Exit", typer.Exit)})
_ABORT = tuple({typer.Abort, getattr(cx, "Abort", typer.Abort)})

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: the app's settings, shared by the app of one command (:func:`app_for`)
APP_SETTINGS = {
    "name": "scslab",
    "help": (
        "scslab — a laboratory for social credit and mass-surveillance systems in "
        "synthetic societies (synthetic people only).\n\n"
        "Examples:\n\n"
        "  scslab run                         # default scenario, 100 000 people\n\n"
        "  scslab run baseline --people 20000 --days 365 --out out/baseline\n\n"
        "  scslab scenarios                   # list builtin scenarios\n\n"
        "  scslab show baseline --set acts.traffic.rate=0.02"
    ),
    "add_completion": False,
    "no_args_is_help": False,
    "pretty_exceptions_enable": False,
    "rich_markup_mode": None,
}

app = typer.Typer(**APP_SETTINGS)


def _fail(message: str) -> None:
    raise UserError(message)


def _load(scenario: str | None, sets: list[str] | None, **shortcuts):
    from scslab.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(scenario, sets or [], **shortcuts)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None


FORCE_HELP = "Replace an existing non-empty --out folder whole (never merged)."


def _progress_runner(total_days: int, replicates: int, quiet: bool):
    """A rich progress bar over replicate-days (a no-op when quiet or not a TTY)."""
    if quiet:
        return None, None
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

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


def _print_summary(results, scenario, wall: float) -> None:
    from rich.table import Table

    from scslab.analysis.summary import summary_rows

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
    from scslab.run.engine import default_module_classes

    # the modules that run (a module following another's switch runs only with it)
    modules = ", ".join(sorted(c.name for c in default_module_classes(scenario)))
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


def _simulate(sc, replicates: int, workers: int, quiet: bool,
              population_on_disk: Path | None = None):
    """Run the replicates with a progress bar; (results, wall seconds). The cycle
    collector is paused meanwhile: the build's long-lived objects walked for nothing."""
    import time

    from scslab.run.runner import run_scenario

    progress, tick = _progress_runner(sc.time.burn_in + sc.time.days, replicates, quiet)
    t0 = time.perf_counter()
    with collector_paused(), progress if progress is not None else nullcontext():
        results = run_scenario(sc, replicates, workers, tick, command=sys.argv,
                               population_on_disk=population_on_disk)
    return results, time.perf_counter() - t0


def _figure_helper(figures: bool, sc, workers: int = 1, replicates: int = 1,
                   population_on_disk: Path | None = None):
    """With figures to draw: a helper process for them, warming up while the run
    simulates (``analysis/figure_helper.py``); ``None`` without figures, without an idle
    CPU, or where the run would not fit in memory beside it."""
    if not figures:
        return None
    from scslab.analysis.figure_helper import HELPER_BYTES, FigureHelper
    from scslab.run.memory import memory_problem

    if memory_problem(sc, workers, replicates, HELPER_BYTES,
                      population_on_disk=population_on_disk is not None):
        return None
    return FigureHelper.start()


def _write_run(results, folder, figures: bool = True, helper=None) -> None:
    """Figures and data files into the staging folder, the manifest last, then rename."""
    if figures:
        from scslab.analysis.figure_helper import draw_run_figures
        from scslab.analysis.figures import save_figures

        save_figures(draw_run_figures(results, helper), folder.path("figures"))
    results.write_files(folder.path(""))
    results.manifest = folder.commit(results.manifest)


@app.command()
def run(
    scenario: Annotated[str | None, typer.Argument(
        help="Builtin scenario name or YAML file (default: baseline).")] = None,
    people: People = None,
    days: Days = None,
    burn_in: BurnIn = None,
    seed: Annotated[int | None, typer.Option(help="Master seed.")] = None,
    replicates: Annotated[int, typer.Option(min=1, help="Replicates (new population each).")] = 1,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes for replicates.")] = 1,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a scenario value: dotted.path=value (repeatable).")] = None,
    out: Annotated[Path | None, typer.Option(help="Write results to this directory.")] = None,
    force: Annotated[bool, typer.Option(help=FORCE_HELP)] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
    figures: Annotated[bool, typer.Option(
        help="With --out, draw the figures (most of a small run's time; data files and "
             "manifest are written either way).")] = True,
    population_on_disk: PopulationOnDisk = None,
) -> None:
    """Run a scenario and print a summary; with --out, write series, summary, manifest.

    Examples:

      scslab run

      scslab run baseline --people 20000 --days 365 --burn-in 0

      scslab run my.yaml --set acts.traffic.rate=0.02 --replicates 5 --out out/my

      scslab run rongcheng --people 1e8 --days 30 --burn-in 0 --population-on-disk /var/tmp
    """
    with collector_paused():  # the start's long-lived objects walked for nothing
        sc = _load(scenario, set_, people=people, days=days, burn_in=burn_in, seed=seed)
    check_memory(sc, workers, replicates, population_on_disk=population_on_disk,
                 offer_population_on_disk=True)
    folder = open_out(out, force)
    helper = _figure_helper(figures and folder is not None, sc, workers, replicates,
                            population_on_disk)
    try:
        results, wall = _simulate(sc, replicates, workers, quiet, population_on_disk)
        if folder is not None:
            _write_run(results, folder, figures, helper)
    finally:
        if helper is not None:
            helper.close()
        if folder is not None:
            folder.abort()
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
    force: Annotated[bool, typer.Option(help=FORCE_HELP)] = False,
    allow_different_code: Annotated[bool, typer.Option(
        "--allow-different-code", help="Re-run even when the code, Python, packages or "
        "platform differ from the manifest's (a warning instead of a refusal).")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
    population_on_disk: PopulationOnDisk = None,
) -> None:
    """Re-run a result from its manifest (same scenario, seed, replicates) and verify it.

    Refused when the code (a digest of the source), Python, a numerical package or the
    platform differ from the manifest's, unless --allow-different-code. Afterwards the new
    data files are compared with the checksums the manifest recorded: "identical" (exit
    0) or the files that differ (exit 1). Figures and report are not compared.

    Example:

      scslab rerun out/baseline/manifest.json --out out/baseline-again
    """
    from scslab.run.outfolder import DERIVED, read_manifest
    from scslab.run.provenance import differences
    from scslab.scenario import ScenarioError, scenario_from_dict

    data = read_manifest(manifest)
    if data.get("kind", "run") != "run":
        _fail(f"{manifest}: a {data.get('kind')} manifest; 'scslab rerun' re-runs results of "
              "'scslab run'")
    if "scenario" not in data or "replicates" not in data:
        _fail(f"{manifest}: not a scslab manifest (no 'scenario' or 'replicates')")
    reps = data["replicates"]
    if isinstance(reps, bool) or not isinstance(reps, int) or not 1 <= reps <= 100_000:
        _fail(f"{manifest}: replicates: must be a whole number from 1 to 100000 (got {reps!r})")
    if not isinstance(data["scenario"], dict):
        _fail(f"{manifest}: scenario: must be a mapping")
    try:
        sc = scenario_from_dict(data["scenario"], where=str(manifest))
    except ScenarioError as exc:
        _fail(str(exc))
    diffs = differences(data)
    if diffs and not allow_different_code:
        _fail(f"{manifest}: written under other code or packages ({'; '.join(diffs)}); a "
              "rerun here would not check that result (--allow-different-code to run anyway)")
    if diffs:
        print(f"scslab: warning: re-running under other code or packages: {'; '.join(diffs)}",
              file=sys.stderr)
    check_memory(sc, population_on_disk=population_on_disk, offer_population_on_disk=True)
    folder = open_out(out, force)
    helper = _figure_helper(True, sc, 1, reps, population_on_disk)
    try:
        results, _ = _simulate(sc, reps, 1, quiet, population_on_disk)
        _write_run(results, folder, helper=helper)
    finally:
        if helper is not None:
            helper.close()
        folder.abort()
    stored = {k: v for k, v in (data.get("files") or {}).items() if not k.startswith(DERIVED)}
    new = {k: v for k, v in results.manifest["files"].items() if not k.startswith(DERIVED)}
    console = _console()
    if not stored:
        console.print(f"re-ran {manifest} into {out}/; the manifest records no checksums, "
                      "so there is nothing to compare")
        return
    differ = sorted(k for k in stored.keys() | new.keys() if stored.get(k) != new.get(k))
    if differ:
        console.print(f"re-ran {manifest} into {out}/: DIFFERS — {', '.join(differ)} "
                      "(checksums differ from the manifest's)")
        raise typer.Exit(code=EXIT_FAILED)
    console.print(f"re-ran {manifest} into {out}/: identical ({', '.join(sorted(new))} "
                  "match the manifest's checksums)")


#: commands that live in the cli package's other files: name → command function
COMMANDS = {
    "validate": validate_command,
    "dashboard": dashboard_command,
    "compare": compare_command,
    "explain": explain_command,
    "report": report_command,
    "attribute": attribute_command,
    "calibrate": calibrate_command,
    "card": card_command,
    "answer": answer_command,
}

#: command groups: name → (typer app, help line)
GROUPS = {
    "game": (game_app, "Reputation games and civil violence."),
    "study": (study_app, "Studies: sweeps, sensitivity, robustness."),
    "world": (world_app, "Worlds: societies adopting components."),
}

for _name, _command in COMMANDS.items():
    app.command(name=_name)(_command)
for _name, (_group, _help) in GROUPS.items():
    app.add_typer(_group, name=_name, help=_help)


def _no_options() -> None:
    """The app's own options: none (a callback keeps the one command under its name)."""


def command_name(info: CommandInfo) -> str:
    """The name a registered command is called by (typer's: its ``name``, else its
    function's with dashes)."""
    return info.name or get_command_name(info.callback.__name__)


def app_for(args: list[str]) -> typer.Typer:
    """The app with only the command ``args`` name, else the whole app. Typer builds
    every command's options before it parses the arguments (20 ms for the 20 commands,
    its groups' included: 2 % of a small run); one command's parsing, help and errors
    are the same either way (tested). The whole app serves the rest: no command, the
    app's own help, a group, a name that is no command (whose error lists the commands)."""
    if args:
        for info in app.registered_commands:
            if command_name(info) == args[0]:
                one = typer.Typer(**APP_SETTINGS, callback=_no_options)
                one.registered_commands.append(info)
                return one
    return app


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and return its exit status.

    0 success; 1 a check that failed (a validation case, a rerun that differs); 2 bad
    input (one line on stderr, no traceback); 130 interrupted."""
    from scslab.run.outfolder import OutFolderError

    args = sys.argv[1:] if argv is None else argv
    try:
        status = app_for(args)(args=args, prog_name="scslab", standalone_mode=False)
    except (UserError, OutFolderError) as exc:
        print(f"scslab: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_USAGE
    except cx.UsageError as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None and ctx.command_path else ""
        print(f"scslab: error: {' '.join(exc.format_message().split())}{hint}", file=sys.stderr)
        return EXIT_USAGE
    except _EXIT as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except (*_ABORT, KeyboardInterrupt):
        print("scslab: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except cx.ClickException as exc:
        print(f"scslab: error: {' '.join(exc.format_message().split())}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:
        if isinstance(exc.__context__, BrokenPipeError):
            # click turns a closed stdout (``scslab ... | head -1``) into exit 1; the
            # reader went away having read what it wanted: leave quietly with 0
            _silence_stdout()
            return 0
        raise
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except Exception as exc:
        if _interrupted(exc):
            # Ctrl-C inside compiled code can surface as another error (Numba raises
            # SystemError from the interrupted call): it is still an interruption
            print("scslab: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        if isinstance(exc, MemoryError):
            print("scslab: error: out of memory (try fewer people or days)", file=sys.stderr)
            return EXIT_USAGE
        from scslab.run.mapped import MappedFileError

        if isinstance(exc, MappedFileError):  # the disk filled up or DIR went, mid-build
            print(f"scslab: error: --population-on-disk: {exc}", file=sys.stderr)
            return EXIT_USAGE
        raise
    # with standalone_mode=False click returns a command's typer.Exit code instead of
    # raising it: that value is the exit status (typer turns Ctrl-C into Exit(130))
    if status == EXIT_INTERRUPTED:
        print("scslab: interrupted", file=sys.stderr)
    return status if isinstance(status, int) else 0


def _interrupted(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is somewhere in the chain of causes of ``exc``."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush into a closed pipe is
    silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def entry() -> None:  # pragma: no cover - console script
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        status = 0
    # the interpreter's last collection would walk the start's ~10^5 long-lived objects
    # (Numba's tables, the kernels' wrappers) to free nothing as the process ends: 0.1 s
    # of a small run (``benchmarks/hotspots.md``, thirteenth round)
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    entry()
