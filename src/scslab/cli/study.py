"""``scslab study run | analyze | status`` (a typer sub-app mounted in :mod:`scslab.cli`).

Heavy imports happen inside the commands. Bad input (a study file, a store of another
study or code revision, a bad ``--dask``) is one line and exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from scslab.cli.options import UserError

study_app = typer.Typer(
    help=("Studies: a design over scenario parameters, run on common random numbers, "
          "analysed for sensitivity and sign-robustness (docs/studies.md)."),
    no_args_is_help=True, add_completion=False, rich_markup_mode=None,
)


def _progress(quiet: bool):
    """A rich progress bar over runs with an ETA; None when quiet or not a terminal."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if quiet or not sys.stderr.isatty():
        return None, None
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TextColumn("runs"), TimeElapsedColumn(),
                        TimeRemainingColumn(), console=Console(stderr=True), transient=True)
    task = progress.add_task("study", total=None)
    first: dict[str, int] = {}

    def tick(done: int, total: int) -> None:
        if "skipped" not in first:  # runs already in the store do not count for the ETA
            first["skipped"] = done
            progress.update(task, total=total - done, completed=0)
            return
        progress.update(task, completed=done - first["skipped"])

    return progress, tick


@study_app.command("run")
def run_command(
    study: Annotated[Path, typer.Argument(help="The study YAML file.")],
    out: Annotated[Path, typer.Option(help="The study folder (created; resumed if it "
                                           "holds this study).")],
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 1,
    dask: Annotated[str | None, typer.Option(
        help="Run on Dask: local:N (a local cluster of N processes) or tcp://HOST:PORT "
             "(an existing scheduler).")] = None,
    fresh: Annotated[bool, typer.Option(
        help="If --out holds another study or code revision, move it aside to "
             "OUT.stale-TIME and start afresh.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar or summary.")] = False,
) -> None:
    """Run a study; rerunning the same command skips the runs already finished.

    Examples:

      scslab study run blacklist.yaml --out out/blacklist --workers 2

      scslab study run blacklist.yaml --out out/blacklist --dask local:4

      scslab study run blacklist.yaml --out out/blacklist --dask tcp://10.0.0.5:8786
    """
    from scslab.analysis.studies import Study, StudyError

    if dask is not None and workers != 1:
        raise UserError("--workers and --dask exclude each other (Dask sets its own)")
    try:
        st = Study.from_yaml(study)
        progress, tick = _progress(quiet)
        if progress is None:
            result = st.run(out, workers=workers, dask=dask, fresh=fresh)
        else:
            with progress:
                result = st.run(out, workers=workers, dask=dask, fresh=fresh, progress=tick)
    except StudyError as exc:
        raise UserError(str(exc)) from None
    if not quiet:
        e = result.execution
        typer.echo(f"{st.name}: {e.total} runs, {e.skipped} already done, {e.ran} run now "
                   f"({e.failed} failed) in {e.wall_seconds:.1f} s → {out}/")
        if e.failed:
            typer.echo("failed runs are retried by rerunning the same command", err=True)


@study_app.command("analyze")
def analyze_command(
    folder: Annotated[Path, typer.Argument(help="A study folder (study run --out).")],
    figures: Annotated[bool, typer.Option(help="Draw the figures.")] = True,
    quiet: Annotated[bool, typer.Option(help="No table.")] = False,
) -> None:
    """Compact the runs and compute Morris/Sobol indices, sign-robustness, figures and
    report.html (works on a partial study: indices need every sample).

    Example:

      scslab study analyze out/blacklist
    """
    from scslab.analysis.studies import StudyError, open_study

    try:
        analysis = open_study(folder).analyze(figures=figures)
    except StudyError as exc:
        raise UserError(str(exc)) from None
    if quiet:
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if len(analysis.robustness):
        t = Table(title="sign-robustness of contrasts", title_justify="left")
        for col in ("contrast", "output", "mean", "same sign", "excludes 0", "95 % combined"):
            t.add_column(col)
        for r in analysis.robustness.itertuples(index=False):
            t.add_row(r.contrast, r.output, f"{r.mean:.4g}", f"{r.share_same_sign:.0%}",
                      f"{r.share_excludes_zero:.0%}", f"[{r.low:.4g}, {r.high:.4g}]")
        console.print(t)
    for note in analysis.notes:
        console.print(f"note: {note}")
    console.print(f"tables, figures and report.html written to {folder}/")


@study_app.command("status")
def status_command(
    folder: Annotated[Path, typer.Argument(help="A study folder (study run --out).")],
) -> None:
    """How far a study is: runs finished, failed, remaining.

    Example:

      scslab study status out/blacklist
    """
    from scslab.analysis.studies import StudyError, open_study

    try:
        s = open_study(folder).status()
    except StudyError as exc:
        raise UserError(str(exc)) from None
    typer.echo(f"{s.name}: {s.finished}/{s.total} runs finished, {s.failed} failed, "
               f"{s.remaining} remaining; {s.simulation_seconds:.1f} s simulated; "
               f"code revision {s.code_revision}")
