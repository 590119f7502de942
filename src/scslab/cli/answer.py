"""``scslab answer`` (a typer command function, mounted in :mod:`scslab.cli`).

Runs the essay's questions (:mod:`scslab.analysis.questions`) and writes, through the atomic writer,
``answers.json`` (the stored results), ``report.html`` (rendered from answers.json only),
``report.pdf`` when a headless Chromium is found, the studies under ``studies/`` and a
manifest whose ``options`` let ``--rerun MANIFEST`` repeat the runs: the rerun's report is
byte-identical (exit 1 and a line saying so otherwise).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Annotated

import typer

#: Browsers tried for the PDF, in order (their --print-to-pdf renders the HTML as shown).
PDF_BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PDF_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-pdf-header-footer")


def write_pdf(html_path: Path, pdf_path: Path) -> str:
    """Print ``html_path`` to ``pdf_path`` with a headless Chromium; a note on what happened."""
    exe = next((p for p in map(shutil.which, PDF_BROWSERS) if p), None)
    if exe is None:
        return "no PDF: no Chromium found (install chromium, or pass --no-pdf)"
    try:
        subprocess.run([exe, *PDF_FLAGS, f"--print-to-pdf={pdf_path}",
                        html_path.resolve().as_uri()], check=True, capture_output=True,
                       timeout=180)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"no PDF: {Path(exe).name} failed ({type(exc).__name__})"
    return "report.pdf written" if pdf_path.is_file() else "no PDF: the browser wrote nothing"


def answer_command(
    quick: Annotated[bool, typer.Option("--quick", help="Same as --budget quick.")] = False,
    budget: Annotated[str | None, typer.Option(
        help="tiny | quick | default (people, days, replicates, study samples).")] = None,
    workers: Annotated[int, typer.Option(help="Local worker processes.")] = 1,
    dask: Annotated[str | None, typer.Option(
        help="Run the studies on Dask: local:N or tcp://HOST:PORT.")] = None,
    seed: Annotated[int | None, typer.Option(help="One seed for every run.")] = None,
    questions: Annotated[str | None, typer.Option(
        help="Answer only these questions (comma-separated ids: market-officials, "
             "privacy-groups, checkpoints, adoption; default: all).")] = None,
    rerun: Annotated[Path | None, typer.Option(
        help="A manifest.json written by 'scslab answer': repeat its runs and check the "
             "report is identical.")] = None,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Skip the PDF.")] = False,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("answers"),
    force: Annotated[bool, typer.Option(help="Replace a non-empty --out whole.")] = False,
) -> None:
    """Answer the essay's questions from runs: one self-contained HTML report (and PDF).

    Example:

      scslab answer --quick --workers 2 --out out/answers
    """
    from rich.console import Console

    from scslab.adoption import WorldError
    from scslab.analysis.compare import CompareError, base_manifest
    from scslab.analysis.questions import (
        ADOPTION_ID,
        BUDGETS,
        DEFAULT_SEED,
        QUESTIONS,
        answers_html,
        run_answers,
    )
    from scslab.analysis.studies import StudyError
    from scslab.cli.options import UserError, open_out
    from scslab.run.outfolder import sha256_file
    from scslab.scenario import ScenarioError

    console = Console(highlight=False, stderr=True)
    original_report: str | None = None
    if rerun is not None:
        try:
            old = json.loads(rerun.read_text(encoding="utf-8"))
            opts = old["options"]
            budget, seed = str(opts["budget"]), int(opts["seed"])
            chosen_before = opts.get("questions")
            questions = None if chosen_before is None else ",".join(chosen_before)
            original_report = old.get("files", {}).get("report.html")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{rerun}: --rerun: not a manifest of 'scslab answer' "
                            f"({type(exc).__name__}: {exc})") from None
    if quick and budget not in (None, "quick"):
        raise UserError(f"--quick and --budget {budget} disagree; give one")
    budget = budget or ("quick" if quick else "default")
    if budget not in BUDGETS:
        raise UserError(f"--budget: {budget!r} is not one of {', '.join(BUDGETS)}")
    if workers < 1:
        raise UserError("--workers must be at least 1")
    seed = DEFAULT_SEED if seed is None else seed
    known = [q.id for q in QUESTIONS] + [ADOPTION_ID]
    chosen = known if questions is None else [x.strip() for x in questions.split(",")
                                               if x.strip()]
    unknown = [x for x in chosen if x not in known]
    if unknown or not chosen:
        raise UserError(f"--questions: {', '.join(unknown) or 'none given'}: not a question; "
                        f"the questions: {', '.join(known)}")
    folder = open_out(out, force)
    try:
        t0 = time.perf_counter()
        try:
            stored = run_answers(budget, seed=seed, workers=workers, dask=dask,
                                 root=folder.staging,
                                 questions=tuple(q for q in QUESTIONS if q.id in chosen),
                                 adoption=ADOPTION_ID in chosen,
                                 progress=lambda q: console.print(f"answering {q} …"))
        except (CompareError, ScenarioError, StudyError, WorldError) as exc:
            raise UserError(" ".join(str(exc).split())) from None
        wall = time.perf_counter() - t0
        folder.path("answers.json").write_text(
            json.dumps(stored, indent=1, sort_keys=True, allow_nan=False) + "\n",
            encoding="utf-8")
        report = folder.path("report.html")
        report.write_text(answers_html(stored), encoding="utf-8")
        note = "no PDF (--no-pdf)" if no_pdf else write_pdf(report, folder.path("report.pdf"))
        manifest = base_manifest("answer", wall, None)
        manifest.update({"options": {"budget": budget, "seed": seed,
                                     "questions": None if chosen == known else chosen}, "workers": workers,
                         "dask": dask, "pdf": note})
        digest = sha256_file(report)
        folder.commit(manifest)
    finally:
        folder.abort()
    Console(highlight=False).print(f"report written to {out}/report.html ({note}); "
                                   f"{wall:.0f} s")
    if rerun is not None:
        if original_report is not None and digest == original_report:
            Console(highlight=False).print("rerun: report.html is identical to the original")
        else:
            console.print("rerun: report.html differs from the original")
            raise typer.Exit(1)
