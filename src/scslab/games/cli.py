"""CLI for the games: ``scslab game reputation``, ``scslab game civil-violence`` and the
``validate_command`` the main app registers as ``scslab validate``.

Heavy imports (numba, the game modules) happen inside the commands so ``--help`` is fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

game_app = typer.Typer(
    name="game",
    help="Classic games: indirect reciprocity and Epstein's civil violence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str) -> None:
    """One-line error, exit status 2, no traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _config_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = []
        for e in errors():
            loc = ".".join(str(x) for x in e.get("loc", ()) if x != "__root__")
            msg = str(e.get("msg", "")).removeprefix("Value error, ")
            parts.append(f"{loc}: {msg}" if loc else msg)
        return "; ".join(parts)
    return str(exc)


@game_app.command(
    "reputation",
    epilog=(
        "Examples:\n\n"
        "  scslab game reputation --norm stern-judging --assessment institution "
        "--observers 50 --strictness 0.7 --execution-error 0.02 --assessment-error 0.02\n\n"
        "  scslab game reputation --norm stern-judging --assessment private --empathy 1 "
        "--generations 5000 --burn-in 1000 --replicates 4\n\n"
        "  scslab game reputation --reputation score --norm image-scoring --assessment public "
        "--population 100 --pairings 125 --benefit 1 --cost 0.1 --update proportional "
        "--strategies=-5,-4,-3,-2,-1,0,1,2,3,4,5,6"
    ),
)
def reputation(
    population: Annotated[int, typer.Option(help="Number of agents N.")] = 50,
    benefit: Annotated[float, typer.Option(help="Benefit b to the recipient.")] = 2.0,
    cost: Annotated[float, typer.Option(help="Cost c to the donor.")] = 1.0,
    norm: Annotated[str, typer.Option(help="stern-judging, simple-standing, image-scoring, shunning, L1..L8.")] = "stern-judging",
    reputation_model: Annotated[str, typer.Option("--reputation", help="binary or score (Nowak-Sigmund).")] = "binary",
    assessment: Annotated[str, typer.Option(help="private, institution or public.")] = "private",
    empathy: Annotated[float, typer.Option(help="E: chance of judging with the donor's view.")] = 0.0,
    observers: Annotated[int, typer.Option(help="Q institutional observers.")] = 1,
    strictness: Annotated[float, typer.Option(help="Good iff more than strictness*Q observers say good.")] = 0.5,
    execution_error: Annotated[float, typer.Option(help="Intended C becomes D.")] = 0.0,
    assessment_error: Annotated[float, typer.Option(help="A judgement is flipped.")] = 0.0,
    knowledge: Annotated[float, typer.Option(help="q: chance the donor knows the recipient's image.")] = 1.0,
    mutation: Annotated[float, typer.Option(help="Mutation probability mu.")] = 0.0,
    mutation_mode: Annotated[str, typer.Option(help="individual or single.")] = "individual",
    selection: Annotated[float, typer.Option(help="Selection intensity w.")] = 1.0,
    imitations: Annotated[int, typer.Option(help="Imitation events per generation.")] = 1,
    update: Annotated[str, typer.Option(help="pairwise, proportional or none.")] = "pairwise",
    self_interaction: Annotated[bool, typer.Option(help="Include i->i interactions.")] = False,
    payoff: Annotated[str, typer.Option(help="sum or mean (divided by N).")] = "sum",
    pairings: Annotated[int | None, typer.Option(help="Random pairings per generation (default all ordered pairs).")] = None,
    strategies: Annotated[str, typer.Option(help="Comma list: ALLC,ALLD,DISC or thresholds k.")] = "ALLC,ALLD,DISC",
    generations: Annotated[int, typer.Option(help="Generations per replicate.")] = 1000,
    burn_in: Annotated[int, typer.Option(help="Generations excluded from the mean.")] = 0,
    replicates: Annotated[int, typer.Option(help="Replicates (instance = replicate index).")] = 1,
    workers: Annotated[int, typer.Option(help="Processes for replicates.")] = 1,
    seed: Annotated[int, typer.Option(help="Master seed.")] = 0,
) -> None:
    """Play the donation game with indirect reciprocity and print a summary."""
    from pydantic import ValidationError

    from scslab.games.reputation import ReputationConfig, simulate

    try:
        cfg = ReputationConfig(
            population=population, benefit=benefit, cost=cost, norm=norm,
            reputation=reputation_model, assessment=assessment, empathy=empathy,
            observers=observers, strictness=strictness, execution_error=execution_error,
            assessment_error=assessment_error, knowledge=knowledge, mutation=mutation,
            mutation_mode=mutation_mode, selection=selection,
            imitations_per_generation=imitations, update=update,
            self_interaction=self_interaction, payoff=payoff, pairings=pairings,
            strategies=[s for s in strategies.split(",") if s.strip()],
            generations=generations, burn_in=burn_in, replicates=replicates,
            workers=workers, seed=seed,
        )
    except (ValidationError, ValueError) as exc:
        _fail(_config_error(exc))
        return
    result = simulate(cfg)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Donation game: {cfg.norm if isinstance(cfg.norm, str) else 'custom'}, "
                  f"{cfg.assessment} assessment, N={cfg.population}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    lo, hi = result.interval
    table.add_row("cooperation (after burn-in)", f"{result.cooperation:.4f}")
    table.add_row("95 % interval over replicates",
                  f"[{lo:.4f}, {hi:.4f}]" if cfg.replicates > 1 else "n/a (one replicate)")
    table.add_row("share seen as good", f"{result.good:.4f}")
    for name, share in result.frequencies.items():
        table.add_row(f"frequency {name}", f"{share:.4f}")
    Console().print(table)


@game_app.command(
    "civil-violence",
    epilog=(
        "Examples:\n\n"
        "  scslab game civil-violence --ticks 500\n\n"
        "  scslab game civil-violence --legitimacy 0.7 --cop-vision 10 --arrest-rule epstein"
    ),
)
def civil_violence(
    width: Annotated[int, typer.Option(help="Grid width.")] = 40,
    height: Annotated[int, typer.Option(help="Grid height.")] = 40,
    agent_density: Annotated[float, typer.Option(help="Share of patches with agents.")] = 0.7,
    cop_density: Annotated[float, typer.Option(help="Share of patches with cops.")] = 0.04,
    vision: Annotated[float, typer.Option(help="Agents' vision radius.")] = 7.0,
    cop_vision: Annotated[float | None, typer.Option(help="Cops' vision radius (default: vision).")] = None,
    legitimacy: Annotated[float, typer.Option(help="Government legitimacy L.")] = 0.82,
    max_jail_term: Annotated[int, typer.Option(help="Maximum jail term.")] = 30,
    k: Annotated[float, typer.Option(help="Arrest probability constant k.")] = 2.3,
    arrest_rule: Annotated[str, typer.Option(help="netlogo (floored) or epstein.")] = "netlogo",
    ticks: Annotated[int, typer.Option(help="Ticks to run.")] = 500,
    seed: Annotated[int, typer.Option(help="Master seed.")] = 0,
) -> None:
    """Run Epstein's civil violence model and print a summary of actives/jailed/quiet."""
    from pydantic import ValidationError

    from scslab.games.civil_violence import CivilViolenceConfig, simulate

    try:
        cfg = CivilViolenceConfig(
            width=width, height=height, agent_density=agent_density, cop_density=cop_density,
            vision=vision, cop_vision=cop_vision, legitimacy=legitimacy,
            max_jail_term=max_jail_term, k=k, arrest_rule=arrest_rule, ticks=ticks, seed=seed,
        )
    except (ValidationError, ValueError) as exc:
        _fail(_config_error(exc))
        return
    result = simulate(cfg)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Civil violence ({cfg.arrest_rule} rule), {cfg.ticks} ticks")
    for col in ("series", "mean", "max", "last"):
        table.add_column(col, justify="right" if col != "series" else "left")
    for name, arr in (("actives", result.actives), ("jailed", result.jailed), ("quiet", result.quiet)):
        table.add_row(name, f"{arr.mean():.1f}", str(int(arr.max())), str(int(arr[-1])))
    Console().print(table)
    Console().print(f"outbursts: {result.bursts()}")


def validate_command(
    quick: Annotated[bool, typer.Option("--quick", help="Run the CI subset (< ~60 s).")] = False,
    out: Annotated[Path | None, typer.Option(
        help="Output path stem: also write OUT.md and OUT.json (default: print only).")] = None,
) -> None:
    """Reproduce published results and write the validation table (exit 1 on any failure).

    Examples:

      scslab validate --quick

      scslab validate --out results/validation
    """
    from rich.console import Console
    from rich.table import Table

    from scslab.games.validate import run_validation, write_table

    results = run_validation(quick=quick)
    table = Table(title="Validation")
    for col in ("case", "target", "ours", "pass"):
        table.add_column(col)
    for r in results:
        table.add_row(r.id, r.target_text, f"{r.value:.4g}", "yes" if r.passed else "NO")
    console = Console()
    console.print(table)
    if out is not None:
        md, js = write_table(results, out)
        console.print(f"wrote {md} and {js}")
    if not all(r.passed for r in results):
        raise typer.Exit(code=1)


__all__ = ["game_app", "validate_command"]
