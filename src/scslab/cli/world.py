"""``scslab world run | list`` (a typer sub-app mounted in :mod:`scslab.cli`).

Bad input (a world file, a scenario a society names, an --out folder) is one line and
exit status 2. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from scslab.cli.options import People, UserError

world_app = typer.Typer(
    help=("Worlds: several societies whose governments adopt, keep or repeal the "
          "components of a scoring system, period by period (docs/adoption.md)."),
    no_args_is_help=True, add_completion=False, rich_markup_mode=None,
)


@world_app.command("list")
def list_command() -> None:
    """List the builtin worlds."""
    from scslab.adoption import builtin_world_names, load_world

    for name in builtin_world_names():
        spec, _, _ = load_world(name)
        typer.echo(f"{name}: {' '.join(spec.description.split())}")


@world_app.command("run")
def run_command(
    world: Annotated[str, typer.Argument(help="Builtin world name or world YAML file.")],
    out: Annotated[Path, typer.Option(help="Output folder (written atomically).")],
    replicates: Annotated[int, typer.Option(min=1, help="Replicates (populations).")] = 3,
    people: People = None,
    periods: Annotated[int | None, typer.Option(min=1, help="Periods (default: the file's).")
                       ] = None,
    period_days: Annotated[int | None, typer.Option(
        help="Days per period (default: the file's; 30-3650).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    force: Annotated[bool, typer.Option(help="Replace an existing non-empty --out folder "
                                        "whole (never merged).")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Run a world: adoption timelines per society × component with intervals over
    replicates (Parquet, a figure and a report in --out)."""
    from scslab.adoption import WorldError, check_world, load_world, run_world, with_period_days
    from scslab.adoption.output import write
    from scslab.run.outfolder import OutFolder
    from scslab.run.provenance import provenance
    from scslab.scenario import ScenarioError

    try:
        spec, where, here = load_world(world)
        spec = with_period_days(spec, where, period_days)
        check_world(spec, where, here)
    except WorldError as exc:
        raise UserError(str(exc)) from None
    if people is not None and people < 100:
        raise UserError(f"--people: {people} is below the minimum of 100")
    n_periods = spec.periods if periods is None else periods
    folder = OutFolder(out, force=force).open()
    try:
        t0 = time.perf_counter()
        progress, tick = _progress(replicates * n_periods, quiet)
        try:
            if progress is not None:
                with progress:
                    result = run_world(world, replicates=replicates, people=people,
                                       periods=periods, period_days=period_days,
                                       workers=workers, progress=tick)
            else:
                result = run_world(world, replicates=replicates, people=people,
                                   periods=periods, period_days=period_days,
                                   workers=workers)
        except ScenarioError as exc:
            raise UserError(f"{world}: {exc}") from None
        write(result, folder.path(""))
        manifest = {"kind": "world", **provenance(), **result.manifest,
                    "seed": spec.seed, "world_spec": spec.model_dump(mode="json"),
                    "wall_seconds": round(time.perf_counter() - t0, 3),
                    "command": sys.argv}
        folder.commit(manifest)
    except BaseException:
        folder.abort()
        raise
    typer.echo(f"wrote {out}/ (timelines.parquet, adoption.parquet, observations.parquet, "
               "adoption.png, report.md)")


def _progress(total: int, quiet: bool):
    """A rich progress bar over replicate-periods; (None, None) when quiet or not a TTY."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    if quiet or not sys.stderr.isatty():
        return None, None
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TextColumn("periods"),
                        console=Console(stderr=True), transient=True)
    task = progress.add_task("world", total=total)
    done: dict[int, int] = {}

    def tick(replicate: int, periods_done: int) -> None:
        done[replicate] = periods_done
        progress.update(task, completed=sum(done.values()))

    return progress, tick
