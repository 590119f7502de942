"""Rebuild the report of a stored comparison or explanation (``scslab report``).

Above :mod:`scslab.analysis.compare`, :mod:`scslab.analysis.explain` and :mod:`scslab.analysis.report`: it loads the
stored result with the class that wrote it and redraws the page, running nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scslab.analysis.report import commit_folder, comparison_html, explanation_html
from scslab.analysis.tables import CompareError


def rebuild_report(out: str | Path, figures: bool = True) -> Path:
    """Rebuild ``out/report.html`` (and ``out/figures``) from a stored comparison or
    explanation, without running anything. The data files are checked against the
    manifest first; the folder is rewritten whole (a copy with the new report, renamed
    into place). Returns the report's path."""
    import shutil

    from scslab.analysis.figures import render_figures, save_figures
    from scslab.run.outfolder import (
        DERIVED,
        OutFolder,
        OutFolderError,
        read_manifest,
        verify_folder,
    )
    from scslab.run.results import atomic_write_bytes

    out = Path(out)
    if not out.is_dir():
        raise CompareError(f"{out}: no such directory")
    path = out / "manifest.json"
    if not path.exists():
        raise CompareError(f"{out}: no manifest.json (not a finished compare or explain "
                           "directory)")
    try:
        kind = read_manifest(path).get("kind")
    except OutFolderError as exc:
        raise CompareError(str(exc)) from None
    if kind not in ("compare", "explain"):
        raise CompareError(f"{path}: a {'run' if kind is None else kind} manifest; "
                           "'scslab report' rebuilds compare and explain directories")
    regenerated = ("report.html", "figures/") if figures else ("report.html",)
    try:
        manifest = verify_folder(out, regenerated=DERIVED)
    except OutFolderError as exc:
        raise CompareError(str(exc)) from None
    try:
        if kind == "compare":
            from scslab.analysis.compare import Comparison

            obj: Any = Comparison.load(out)
        else:
            from scslab.analysis.explain import Explanation

            obj = Explanation.load(out)
    except (OSError, ValueError, KeyError) as exc:
        if isinstance(exc, CompareError):
            raise
        raise CompareError(f"{out}: cannot read the stored results ({exc})") from None
    figs = render_figures(obj.plot()) if figures else {}
    page = comparison_html(obj, figs) if kind == "compare" else explanation_html(obj, figs)
    try:
        folder = OutFolder(out, replace=True, option="DIR").open()
    except OutFolderError as exc:
        raise CompareError(str(exc)) from None
    with folder:
        tmp = folder.path("")
        for rel in manifest["files"]:
            if not rel.startswith(regenerated):
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(out / rel, tmp / rel)
        if figs:
            save_figures(figs, tmp / "figures")
        atomic_write_bytes(tmp / "report.html", page.encode("utf-8"))
        commit_folder(folder, manifest)
    return out / "report.html"
