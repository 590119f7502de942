"""``scslab card`` (a typer command function, mounted in :mod:`scslab.cli`).

One page per scenario: the headline outcomes against a reference (see
:mod:`scslab.analysis.answers`), printed with rich and, with ``--out``, written as ``card.json``,
``card.html``, ``replicates.parquet`` and a manifest through the atomic writer. Bad input is
raised as :class:`scslab.cli.UserError` (one line, exit status 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scslab.cli.options import BurnIn, Days, People


def card_command(
    scenario: Annotated[str, typer.Argument(
        help="Builtin name, YAML file, or NAME:key=value,... variant.", show_default=False)],
    against: Annotated[str, typer.Option(help="The reference scenario.")] = "baseline",
    people: People = None,
    days: Days = None,
    burn_in: BurnIn = None,
    replicates: Annotated[int, typer.Option(help="Replicates (at least 2).")] = 3,
    seed: Annotated[int | None, typer.Option(help="One seed for every run.")] = None,
    workers: Annotated[int, typer.Option(help="Local worker processes.")] = 1,
    study: Annotated[Path | None, typer.Option(
        help="A study folder holding the contrast 'SCENARIO - AGAINST': adds the interval "
             "with parameter uncertainty and the sign-robustness share.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write card.html, card.json here.")] = None,
    force: Annotated[bool, typer.Option(help="Replace a non-empty --out whole.")] = False,
) -> None:
    """The system card of SCENARIO against a reference: compliance, market trust,
    officials, privacy, harms to the wrongly flagged, disparities — each a paired difference
    with its interval and the components that cause it.

    Example:

      scslab card rongcheng --against baseline --people 5000 --days 180
    """
    from rich.console import Console
    from rich.markup import escape

    from scslab.analysis.answers import card_html, make_card, print_card
    from scslab.analysis.compare import CompareError
    from scslab.analysis.studies import StudyError
    from scslab.cli.options import UserError, open_out
    from scslab.scenario import ScenarioError

    if replicates < 2:
        raise UserError(f"--replicates must be at least 2 (got {replicates}): paired "
                        "intervals need two or more replicates")
    if study is not None and not (study / "study.json").is_file():
        raise UserError(f"{study}: --study: not a study folder (no study.json)")
    folder = open_out(out, force)
    try:
        try:
            card, att = make_card(scenario, against, replicates=replicates, people=people,
                                  days=days, burn_in=burn_in, seed=seed, workers=workers,
                                  study=study)
        except (CompareError, ScenarioError, StudyError) as exc:
            raise UserError(" ".join(str(exc).split())) from None
        print_card(card, Console(highlight=False))
        if folder is not None:
            import json

            from scslab.analysis.compare import base_manifest

            (folder.path("card.json")).write_text(
                json.dumps(card.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
            folder.path("card.html").write_text(card_html(card), encoding="utf-8")
            att.summaries.to_parquet(folder.path("replicates.parquet"), index=False)
            manifest = base_manifest("card", float(att.manifest.get("wall_seconds", 0.0)),
                                     None)
            manifest.update({k: att.manifest.get(k) for k in
                             ("scenario", "reference", "replicates", "seed", "people", "days",
                              "burn_in", "components", "refused", "confounds")})
            manifest["study"] = None if study is None else str(study)
            folder.commit(manifest)
            Console(highlight=False).print(escape(f"card written to {out}/card.html"))
    finally:
        if folder is not None:
            folder.abort()
