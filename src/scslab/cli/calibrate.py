"""``scslab calibrate TARGETS.yaml --out DIR`` (mounted in :mod:`scslab.cli`).

Heavy imports happen inside the command. A bad target file, a folder of another
calibration or a bad ``--dask`` is one line and exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def calibrate_command(
    out: Annotated[Path, typer.Option(help="The calibration folder (created; a rerun "
                                           "continues it). The result is OUT/result/.")],
    trials: Annotated[int, typer.Option(min=1, help="Optuna trials in all (a rerun with "
                                                    "more trials continues).")] = 20,
    batch: Annotated[int, typer.Option(min=1, help="Trials proposed at once (the fit "
                                                   "depends on it, not on --workers).")] = 4,
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 1,
    dask: Annotated[str | None, typer.Option(
        help="Run on Dask: local:N or tcp://HOST:PORT.")] = None,
    people: Annotated[int | None, typer.Option(
        min=1, help="People per run (default: the target file's).")] = None,
    profile_points: Annotated[int, typer.Option(
        min=0, help="Grid points per parameter profile (0: no profiles).")] = 7,
    polish: Annotated[int, typer.Option(
        min=0, help="Rounds in which a profile point that fits better than the best "
                    "trial becomes a trial and the profiles are redone.")] = 3,
    seed: Annotated[int, typer.Option(min=0, help="Seed of Optuna's sampler (of pyabc's "
                                                  "with --method abc).")] = 0,
    method: Annotated[str, typer.Option(
        help="fit: Optuna point estimate + profiles; abc: ABC-SMC posterior (pyabc), "
             "written to OUT/posterior/.")] = "fit",
    population: Annotated[int, typer.Option(
        min=2, help="--method abc: particles per generation.")] = 20,
    generations: Annotated[int, typer.Option(
        min=1, help="--method abc: generations in all (a rerun with more continues).")] = 4,
    fresh: Annotated[bool, typer.Option(
        help="If OUT holds another calibration or code revision, move its state aside "
             "and start afresh.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
    targets: Annotated[Path | None, typer.Argument(
        help="The target file (YAML); omitted: the builtin one (scslab/data/targets.yaml).")]
        = None,
) -> None:
    """Fit a target file's free parameters to its 'fit' targets and check every target.

    Examples:

      scslab calibrate --out out/cal --trials 24 --workers 2

      scslab calibrate my-targets.yaml --out out/cal --dask local:4 --people 5000

      scslab calibrate --out out/cal --method abc --population 20 --generations 4
    """
    from scslab.analysis.studies.spec import StudyError
    from scslab.calibrate import CalibrationError, calibrate
    from scslab.calibrate.output import write_result
    from scslab.calibrate.store import POSTERIOR, RESULT
    from scslab.cli.options import UserError
    from scslab.run.outfolder import OutFolderError

    if method not in ("fit", "abc"):
        raise UserError(f"--method: {method!r} is not one of fit, abc")
    if dask is not None and workers != 1:
        raise UserError("--workers and --dask exclude each other (Dask sets its own)")
    progress, tick = _progress(quiet)
    try:
        if dask is not None:
            from scslab.analysis.studies.execution import local_cluster_size

            local_cluster_size(dask)
        if method == "abc":
            from scslab.calibrate.abc import abc_posterior, posterior_markdown, write_posterior

            post = abc_posterior(targets, out, population=population, generations=generations,
                                 workers=workers, dask=dask, people=people, fresh=fresh,
                                 seed=seed)
            write_posterior(post, out / POSTERIOR, command=sys.argv)
            if not quiet:
                print(posterior_markdown(post))
            return
        kwargs = dict(trials=trials, batch=batch, workers=workers, dask=dask, people=people,
                      profile_points=profile_points, polish=polish, fresh=fresh,
                      seed=seed)
        if progress is None:
            cal = calibrate(targets, out, **kwargs)
        else:
            with progress:
                cal = calibrate(targets, out, progress=tick, **kwargs)
        write_result(cal, out / RESULT, command=sys.argv)
    except (CalibrationError, StudyError, OutFolderError) as exc:
        raise UserError(str(exc)) from None
    if quiet:
        return
    from rich.console import Console
    from rich.table import Table

    from scslab.calibrate.output import parameter_rows, target_rows

    console = Console(highlight=False)
    for title, (header, rows) in (("fitted parameters", parameter_rows(cal)),
                                  ("fit on every target", target_rows(cal))):
        t = Table(title=title, title_justify="left")
        for h in header:
            t.add_column(h)
        for r in rows:
            t.add_row(*r)
        console.print(t)
    console.print(f"{cal.trials} trials, objective {cal.objective:.4g}; "
                  f"{cal.wall_seconds:.1f} s → {out / RESULT}/")


def _progress(quiet: bool):
    """A rich progress bar per phase; None when quiet or not a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if quiet or not sys.stderr.isatty():
        return None, None
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=True)
    tasks: dict[str, int] = {}

    def tick(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(phase, total=total)
        progress.update(tasks[phase], completed=done, total=total)

    return progress, tick
