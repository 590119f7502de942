"""Move scslab's flat package into folders by layer, and rewrite every reference to it.

    python tools/relayout.py            # apply (git mv + rewrite), from the repository root
    python tools/relayout.py --dry-run  # print what would move and which files would change

Layers, bottom first: ``numerics/`` (random streams, sets, sparse rows), ``scenario/``,
``core/`` (engine, world, module contract, counters, population, acts, record layouts),
``modules/`` grouped by concern (``people``, ``apparatus``, ``sensing``, ``economy``,
``observers``), ``run/`` (runner, results, files and manifests), ``analysis/`` (compare,
explain, attribution, figures, report, studies), ``games/``, ``cli/``. Names that said the
wrong thing change with the move: ``dossier.py`` (the record log) becomes
``core/record_log.py``, ``modules/records.py`` (the dossier module) becomes
``modules/apparatus/dossier.py``, ``modules/checkpoints.py`` (the watchlist) becomes
``modules/sensing/watchlist.py``, and the record-layout ``schema.py`` becomes
``core/layouts.py`` (``scenario/schema.py`` keeps its name).

Idempotent: a move whose source is gone and whose target exists is done; the rewrite maps old
dotted names (``scslab.compare``) and file paths (``src/scslab/compare.py``) to new ones in
one pass, and leaves a name that is already new alone, so a second run changes nothing.
It rewrites ``src/``, ``tests/``, ``benchmarks/``, ``docs/``, ``README.md`` and
``pyproject.toml``. No shims are written. Run it on a clean tree, then ``ruff check --fix``
(import order), the pinned-outputs test and the suite.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "scslab"

#: old path → new path, relative to src/scslab (a folder moves whole)
MOVES: dict[str, str] = {
    # numerics
    "rng.py": "numerics/rng.py",
    "rng_reference.py": "numerics/rng_reference.py",
    "sets.py": "numerics/sets.py",
    "csr.py": "numerics/csr.py",
    "prefetch.py": "numerics/prefetch.py",
    # core
    "engine.py": "core/engine.py",
    "world.py": "core/world.py",
    "module.py": "core/module.py",
    "metrics.py": "core/metrics.py",
    "population.py": "core/population.py",
    "acts.py": "core/acts.py",
    "incentives.py": "core/incentives.py",
    "apparatus.py": "core/apparatus.py",
    "calibration.py": "core/calibration.py",
    "dossier.py": "core/record_log.py",
    "schema.py": "core/layouts.py",
    # modules, by concern
    "modules/behaviour.py": "modules/people/behaviour.py",
    "modules/learning.py": "modules/people/learning.py",
    "modules/attitudes.py": "modules/people/attitudes.py",
    "modules/sources.py": "modules/apparatus/sources.py",
    "modules/records.py": "modules/apparatus/dossier.py",
    "modules/evaluations.py": "modules/apparatus/evaluations.py",
    "modules/scoring.py": "modules/apparatus/scoring.py",
    "modules/lists.py": "modules/apparatus/lists.py",
    "modules/sanctions.py": "modules/apparatus/sanctions.py",
    "modules/appeals.py": "modules/apparatus/appeals.py",
    "modules/officials.py": "modules/apparatus/officials.py",
    "modules/surveillance.py": "modules/sensing/surveillance.py",
    "modules/face_recognition.py": "modules/sensing/face_recognition.py",
    "modules/landlord.py": "modules/sensing/landlord.py",
    "modules/checkpoints.py": "modules/sensing/watchlist.py",
    "modules/debts.py": "modules/economy/debts.py",
    "modules/market.py": "modules/economy/market.py",
    "modules/firms.py": "modules/economy/firms.py",
    "modules/lending.py": "modules/economy/lending.py",
    "modules/credit_bureau.py": "modules/economy/credit_bureau.py",
    "modules/core_metrics.py": "modules/observers/core_metrics.py",
    "modules/harm.py": "modules/observers/harm.py",
    "modules/surveillance_metrics.py": "modules/observers/surveillance_metrics.py",
    # run
    "runner.py": "run/runner.py",
    "results.py": "run/results.py",
    "outfolder.py": "run/outfolder.py",
    "provenance.py": "run/provenance.py",
    "memory.py": "run/memory.py",
    # analysis
    "tables.py": "analysis/tables.py",
    "compare.py": "analysis/compare.py",
    "confounds.py": "analysis/confounds.py",
    "explain.py": "analysis/explain.py",
    "attribution.py": "analysis/attribution.py",
    "figures.py": "analysis/figures.py",
    "report.py": "analysis/report.py",
    "rebuild.py": "analysis/rebuild.py",
    "summary.py": "analysis/summary.py",
    "studies": "analysis/studies",
    "answers.py": "analysis/answers.py",
    "questions.py": "analysis/questions.py",
    # cli
    "cli.py": "cli/__init__.py",
    "options.py": "cli/options.py",
    "compare_cli.py": "cli/compare.py",
    "attribution_cli.py": "cli/attribute.py",
    "study_cli.py": "cli/study.py",
    "dashboard_cli.py": "cli/dashboard.py",
    "calibrate_cli.py": "cli/calibrate.py",  # (issue 19; absent before its merge)
    "world_cli.py": "cli/world.py",  # (issue 20; absent before its merge)
    "card_cli.py": "cli/card.py",
    "answer_cli.py": "cli/answer.py",
    # calibrate/ and adoption/ stay where they are (layer "analysis" by the architecture
    # test's table): calibrate/targets.py finds src/scslab/data by its own path
}

#: docstrings of the new packages
PACKAGES: dict[str, str] = {
    "numerics": "Numerics: counter-based random streams, set operations, sparse rows.",
    "core": "The core: engine, World, the module contract, counters, population, acts, "
            "record layouts.",
    "modules/people": "Mechanisms of the people: behaviour, learning, attitudes.",
    "modules/apparatus": "The scoring apparatus: sources, dossier, evaluations, scores, lists, "
                         "sanctions, appeals, officials.",
    "modules/sensing": "Surveillance: sensors, face recognition, the watchlist, landlords.",
    "modules/economy": "The economy: debts, market, firms, lending, the credit bureau.",
    "modules/observers": "Observers: the metrics of a run (they read the truth).",
    "run": "Running scenarios: runner, results, output folders, provenance, memory.",
    "analysis": "Analysis: compare, explain, attribute, figures, reports, studies.",
}

#: folders and files rewritten (relative to the repository root)
REWRITE = ("src", "tests", "benchmarks", "docs", "README.md", "pyproject.toml", "tools")
SUFFIXES = (".py", ".md", ".toml", ".yaml", ".yml", ".txt", ".html", ".cfg")


def _dotted(rel: str) -> str:
    parts = rel.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["scslab", *parts])


def name_map() -> dict[str, str]:
    """Old dotted module name → new one (a moved folder maps as a prefix)."""
    out = {_dotted(old): _dotted(new) for old, new in MOVES.items()}
    new_names = set(out.values())
    clash = {o for o in out if o in new_names and out[o] != o and o not in out.values()}
    if clash:
        raise SystemExit(f"relayout: old names reused as new names: {sorted(clash)}")
    return out


def path_map() -> dict[str, str]:
    return {f"scslab/{old}": f"scslab/{new}" for old, new in MOVES.items()}


def _pattern(keys: list[str]) -> re.Pattern[str]:
    alts = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    return re.compile(rf"(?<![\w.])({alts})(?![\w])")


def rewrite_text(text: str, names: dict[str, str], paths: dict[str, str]) -> str:
    """Map old names and paths to new ones; new names (and their extensions) stay."""
    keep = set(names.values()) | set(paths.values())
    dotted = _pattern(list(names) + list(keep - set(paths.values())))
    slashed = re.compile(
        r"(?<![\w.])(" + "|".join(re.escape(k) for k in sorted(
            set(paths) | set(paths.values()), key=len, reverse=True)) + r")(?![\w])")

    def sub_name(m: re.Match[str]) -> str:
        s = m.group(1)
        if s in keep:  # already a new name: leave it (and what follows) alone
            return s
        return names[s]

    def sub_path(m: re.Match[str]) -> str:
        s = m.group(1)
        return s if s in set(paths.values()) else paths[s]

    text = dotted.sub(sub_name, text)
    text = slashed.sub(sub_path, text)
    # ``from scslab.pkg import mod`` where pkg.mod moved
    def sub_from(m: re.Match[str]) -> str:
        pkg, mod, alias, rest = m.group(1), m.group(2), m.group(3), m.group(4)
        old = f"{pkg}.{mod}"
        if old not in names or names[old] == old:
            return m.group(0)
        new_pkg, _, new_mod = names[old].rpartition(".")
        if not alias:
            alias = "" if new_mod == mod else f" as {mod}"
        return f"from {new_pkg} import {new_mod}{alias}{rest}"

    return re.sub(r"from (scslab(?:\.\w+)*) import (\w+)(\s+as\s+\w+)?(\s*(?:$|#))",
                  sub_from, text, flags=re.M)


def _git(*args: str) -> None:
    subprocess.run(["git", *args], cwd=ROOT, check=True)


def move(dry_run: bool) -> list[tuple[str, str]]:
    done = []
    for old, new in MOVES.items():
        src, dst = PKG / old, PKG / new
        if not src.exists():
            if not dst.exists():
                print(f"relayout: skipped (absent): {old}", file=sys.stderr)
            continue
        if dst.exists() and not (old.endswith(".py") and new.endswith("__init__.py")):
            raise SystemExit(f"relayout: both {src} and {dst} exist; resolve by hand")
        done.append((old, new))
        if dry_run:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        _git("mv", str(src.relative_to(ROOT)), str(dst.relative_to(ROOT)))
    for folder, doc in PACKAGES.items():
        init = PKG / folder / "__init__.py"
        if not init.exists() and not dry_run:
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_text(f'"""{doc}"""\n', encoding="utf-8")
            _git("add", str(init.relative_to(ROOT)))
    return done


def rewrite(dry_run: bool) -> list[Path]:
    names, paths = name_map(), path_map()
    changed = []
    for top in REWRITE:
        base = ROOT / top
        files = [base] if base.is_file() else sorted(base.rglob("*")) if base.is_dir() else []
        for f in files:
            if not f.is_file() or f.suffix not in SUFFIXES or f.resolve() == Path(__file__):
                continue
            if any(p in f.parts for p in ("__pycache__", ".numba_cache", "scslab.egg-info")):
                continue
            text = f.read_text(encoding="utf-8")
            new = rewrite_text(text, names, paths)
            if new != text:
                changed.append(f)
                if not dry_run:
                    f.write_text(new, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="only print what would change")
    args = ap.parse_args(argv)
    moved = move(args.dry_run)
    changed = rewrite(args.dry_run)
    for old, new in moved:
        print(f"move    src/scslab/{old} -> src/scslab/{new}")
    for f in changed:
        print(f"rewrite {f.relative_to(ROOT)}")
    print(f"relayout: {len(moved)} moves, {len(changed)} files rewritten"
          + (" (dry run)" if args.dry_run else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
