"""The Python face of studies, mirroring ``scslab study run / analyze / status``::

    from scslab.analysis.studies import Study

    result = Study.from_yaml("blacklist.yaml").run("out/blacklist", workers=2)
    result.runs           # one row per run (DataFrame)
    result.metrics        # sample, scenario, replicate, metric, value
    analysis = result.analyze()   # tables, figures, report.html
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scslab.analysis.studies.spec import ResolvedStudy, StudyError, load_study, parse_study
from scslab.analysis.studies.store import STATUS_OK, StudyStore

if TYPE_CHECKING:
    import pandas as pd

    from scslab.analysis.studies.analysis import StudyAnalysis
    from scslab.analysis.studies.execution import Execution, Progress


@dataclass
class StudyStatus:
    total: int
    finished: int
    failed: int
    simulation_seconds: float
    code_revision: str | None
    name: str

    @property
    def remaining(self) -> int:
        return self.total - self.finished


class Study:
    """A validated study, ready to run."""

    def __init__(self, resolved: ResolvedStudy) -> None:
        self.resolved = resolved

    @classmethod
    def from_yaml(cls, path: str | Path) -> Study:
        return cls(load_study(path))

    @classmethod
    def from_dict(cls, data: dict, where: str = "<study>") -> Study:
        return cls(parse_study(data, where))

    @property
    def name(self) -> str:
        return self.resolved.spec.name

    def design(self) -> pd.DataFrame:
        from scslab.analysis.studies.design import design_frame

        return design_frame(self.resolved)

    def run(self, out: str | Path, workers: int = 1, dask: str | None = None,
            fresh: bool = False, progress: Progress | None = None) -> StudyResult:
        """Run every run the folder ``out`` does not hold yet (resumable)."""
        from scslab.analysis.studies.execution import execute, local_cluster_size

        if dask is not None:
            local_cluster_size(dask)  # a bad address fails before anything is written
        store = StudyStore.open_for(out, self.resolved, fresh=fresh)
        x = store.design().drop(columns="sample").to_numpy()
        execution = execute(self.resolved, store, workers=workers, dask=dask,
                            progress=progress, x=x)
        return StudyResult(store.root, execution)


class StudyResult:
    """A study folder read back: runs, metrics, design, status and analysis."""

    def __init__(self, root: str | Path, execution: Execution | None = None) -> None:
        from pydantic import ValidationError

        self.store = StudyStore(root)
        try:
            self.study = ResolvedStudy.from_dict(self.store.study_dict())
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            if isinstance(exc, StudyError):
                raise
            raise StudyError(str(self.store.root / "study.json"), None,
                             f"not readable by this scslab (written by another version? "
                             f"{type(exc).__name__}: {exc}); run the study into a new "
                             "folder") from None
        self.execution = execution

    @property
    def root(self) -> Path:
        return self.store.root

    @property
    def runs(self) -> pd.DataFrame:
        return self.store.runs_frame()

    @property
    def metrics(self) -> pd.DataFrame:
        return self.store.metrics_table().to_pandas()

    @property
    def design(self) -> pd.DataFrame:
        return self.store.design()

    def status(self) -> StudyStatus:
        runs = self.runs
        ident = self.store.identity() or {}
        total = len(self.design) * len(self.study.labels) * self.study.spec.replicates
        ok = runs[runs["status"] == STATUS_OK] if len(runs) else runs
        return StudyStatus(total=total, finished=len(ok),
                           failed=int((runs["status"] != STATUS_OK).sum()) if len(runs) else 0,
                           simulation_seconds=float(ok["duration_s"].sum()) if len(ok) else 0.0,
                           code_revision=ident.get("code_revision"), name=self.study.spec.name)

    def analyze(self, figures: bool = True) -> StudyAnalysis:
        """Compact the store, compute every table and write tables, figures, report."""
        import pandas as pd

        from scslab.analysis.studies.analysis import analyze
        from scslab.analysis.studies.report import write_analysis

        self.store.remove_temporaries()
        _, metrics_path = self.store.compact()
        design = self.design
        x = design.drop(columns="sample").to_numpy()
        analysis = analyze(self.study, x, pd.read_parquet(metrics_path))
        write_analysis(self.root, self.study, analysis, self.runs, len(design), figures)
        return analysis


def open_study(root: str | Path) -> StudyResult:
    """A study folder written by ``Study.run`` / ``scslab study run``."""
    root = Path(root)
    if not (root / "study.json").exists() or not (root / "design.parquet").exists():
        raise StudyError(str(root), None, "not a study folder (no study.json or design.parquet)")
    return StudyResult(root)



