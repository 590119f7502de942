"""Option parsers and helpers shared by the commands (the bottom of the ``cli`` layer)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer


def whole_number(text: str | int) -> int:
    """``20000``, ``1e6`` or ``1_000_000`` as an int — the spellings a scenario file and
    ``--set`` accept for a count, so ``--people 1e6`` works too."""
    if isinstance(text, int):
        return text
    raw = str(text).strip().replace("_", "")
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a whole number (e.g. 20000 or 1e6)") from None
    if not math.isfinite(value) or not value.is_integer() or abs(value) >= 2**63:
        raise typer.BadParameter(f"{text!r} is not a whole number (e.g. 20000 or 1e6)")
    return int(value)


#: The size and length options every simulating command takes, spelled as in scenario
#: files (``--people 1e6``); one definition so the commands cannot drift apart.
People = Annotated[int | None, typer.Option(
    parser=whole_number, metavar="INTEGER", help="Number of people (20000, 1e6).")]
Days = Annotated[int | None, typer.Option(
    parser=whole_number, metavar="INTEGER", help="Days measured after the burn-in.")]
BurnIn = Annotated[int | None, typer.Option(
    parser=whole_number, metavar="INTEGER", help="Burn-in days (not measured).")]


class UserError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


def console(stderr: bool = False):
    """A rich console on stdout (or stderr) without syntax highlighting."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def check_memory(scenario, workers: int = 1, replicates: int = 1, held: int = 0, *,
                 population_on_disk: Path | None = None,
                 offer_population_on_disk: bool = False, runs: int | None = None) -> None:
    """Refuse, before building anything, a run that cannot fit in the available memory
    (``held``: what the gathering process keeps besides, see ``run.memory``).
    ``population_on_disk``: the directory of ``--population-on-disk``, checked (a
    directory on a disk, where files can be made, with room for the arrays) and its
    arrays left out of the need; ``offer_population_on_disk``: the command has the option,
    so a refusal says whether it would make the run fit; ``runs``: how many runs the
    command makes in all (default ``replicates``), ``min(workers, runs)`` at once."""
    from scslab.run.mapped import directory_problem
    from scslab.run.memory import concurrent_runs, estimate_bytes, memory_problem

    if population_on_disk is not None:
        parallel = concurrent_runs(workers, replicates if runs is None else runs)
        need = estimate_bytes(scenario, population_on_disk=True)["population"] * parallel
        problem = directory_problem(population_on_disk, need)
        if problem:
            raise UserError(f"--population-on-disk: {problem}")
    problem = memory_problem(scenario, workers, replicates, held,
                             population_on_disk=population_on_disk is not None,
                             offer_population_on_disk=offer_population_on_disk, runs=runs)
    if problem:
        raise UserError(problem)


def _expand_user(path: Path | None) -> Path | None:
    """``--opt=~/x``: the shell leaves the ``~`` after ``=`` as it is."""
    return None if path is None else path.expanduser()


#: ``--population-on-disk`` of the commands that run scenarios (run, rerun, compare, explain).
PopulationOnDisk = Annotated[Path | None, typer.Option(
    callback=_expand_user, metavar="DIR",
    help="Keep the population's traits and network in files in DIR (on a disk, not tmpfs), "
    "mapped into memory: the OS pages them out when memory runs short, so a run bigger than "
    "the machine's memory can go ahead (slower when pages are read back). Same results; "
    "nothing is left in DIR (the files are deleted as they are made).")]


#: ``--figures/--no-figures`` of the commands that write a report (compare, explain).
ReportFigures = Annotated[bool, typer.Option(
    help="With --out, draw the figures (report.html then embeds them); the data files, "
         "report and manifest are written either way.")]


def open_out(out: Path | None, force: bool):
    """Check --out and take it (lock, staging folder) before anything is simulated; None
    without --out. See :mod:`scslab.run.outfolder`."""
    from scslab.run.outfolder import OutFolder

    return None if out is None else OutFolder(out, force=force).open()
