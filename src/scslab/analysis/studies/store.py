"""The result store of a study: one folder, every write atomic, resumable.

Layout (``docs/studies.md``)::

    DIR/study.json        the resolved study and its fingerprint (written first)
    DIR/store.json        identity: fingerprint, code revision, scslab version
    DIR/design.parquet    sample, one column per factor (design values)
    DIR/parts/S-C-R.parquet  one file per finished run: its metric rows, and the run's
                          row (sample, scenario, replicate, seed, values, revision,
                          duration, status) in the file's metadata
    DIR/runs.parquet      compacted: one row per run          (rebuilt from parts/)
    DIR/metrics.parquet   compacted: sample, scenario, replicate, metric, value

A part file appears by ``os.replace`` once its run has finished, so a run killed
halfway (or the whole process, ``kill -9``) leaves either a complete part or none; a
rerun skips every run that has a part with status ``ok``. The compacted tables are
derived from ``parts/`` and rebuilt atomically; the parts stay as the journal.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scslab.analysis.studies.spec import StudyError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from scslab.analysis.studies.spec import ResolvedStudy

RUN_METADATA_KEY = b"scslab.run"
PARTS = "parts"
STATUS_OK = "ok"
STATUS_FAILED = "failed"
RUN_COLUMNS = ("sample", "scenario", "replicate", "seed", "code_revision", "duration_s",
               "status", "error", "worker", "finished")


@dataclass(frozen=True)
class RunKey:
    """One run: design sample × scenario (index in the study) × replicate."""

    sample: int
    scenario: int
    replicate: int

    @property
    def part_name(self) -> str:
        return f"s{self.sample:06d}-c{self.scenario:02d}-r{self.replicate:04d}.parquet"


def study_revision() -> str:
    """The code revision runs are tagged with (git commit, or the version outside a
    checkout): a store refuses runs of another revision."""
    from scslab._version import __version__
    from scslab.run.provenance import code_revision

    return code_revision() or f"scslab-{__version__}"


class StudyStore:
    """A study's folder. Open it with :meth:`open_for` (checks it holds this study)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # ---------------------------------------------------------------- identity

    @property
    def parts(self) -> Path:
        return self.root / PARTS

    def identity(self) -> dict | None:
        path = self.root / "store.json"
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise StudyError(str(path), None, f"unreadable store identity ({exc})") from None

    @classmethod
    def open_for(cls, root: str | Path, study: ResolvedStudy, revision: str | None = None,
                 fresh: bool = False) -> StudyStore:
        """See :meth:`_open_for`; a folder that cannot be written is a one-line error."""
        try:
            return cls._open_for(root, study, revision, fresh)
        except OSError as exc:
            raise StudyError(str(root), None, f"cannot write the study folder: "
                             f"{exc.strerror or exc}") from None

    @classmethod
    def _open_for(cls, root: str | Path, study: ResolvedStudy, revision: str | None,
                  fresh: bool) -> StudyStore:
        """Open (or create) the store of ``study``. A folder holding runs of another study
        definition or another code revision is refused; ``fresh=True`` moves it aside to
        ``DIR.stale-TIMESTAMP`` first (nothing is deleted)."""
        from scslab.run.results import atomic_write_json

        store = cls(root)
        revision = revision or study_revision()
        if store.root.exists() and not store.root.is_dir():
            raise StudyError(str(store.root), None, "--out must be a directory, and this is a file")
        ident = store.identity()
        if ident is None and store.root.exists() and any(store.root.iterdir()):
            if not fresh:
                raise StudyError(str(store.root), None,
                                 "not empty and not a study store; choose another --out "
                                 "(or --fresh to move it aside)")
            store.move_aside()
            ident = None
        if ident is not None:
            problem = None
            if ident.get("fingerprint") != study.fingerprint():
                problem = "holds runs of a different study definition (the study file changed)"
            elif ident.get("code_revision") != revision:
                problem = (f"holds runs of code revision {ident.get('code_revision')}, this is "
                           f"{revision}")
            if problem:
                if not fresh:
                    raise StudyError(str(store.root), None,
                                     f"{problem}; results are not mixed — use another --out, "
                                     "or --fresh to move this store aside and start afresh")
                store.move_aside()
                ident = None
        store.root.mkdir(parents=True, exist_ok=True)
        store.parts.mkdir(exist_ok=True)
        store.remove_temporaries()
        if ident is None:
            from scslab._version import __version__

            atomic_write_json(store.root / "study.json", study.to_dict())
            store.write_design(study)
            atomic_write_json(store.root / "store.json", {
                "kind": "scslab-study", "name": study.spec.name,
                "fingerprint": study.fingerprint(), "code_revision": revision,
                "scslab_version": __version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        else:
            # outputs and contrasts may change without invalidating runs: keep the latest
            atomic_write_json(store.root / "study.json", study.to_dict())
        return store

    def move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = self.root.with_name(f"{self.root.name}.stale-{stamp}")
        self.root.rename(target)
        return target

    def remove_temporaries(self) -> None:
        """Temporary files of writes cut short by a kill (never a finished part)."""
        for folder in (self.root, self.parts):
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp"):
                    tmp.unlink(missing_ok=True)

    def study_dict(self) -> dict:
        path = self.root / "study.json"
        if not path.exists():
            raise StudyError(str(self.root), None, "not a study store (no study.json)")
        return json.loads(path.read_text(encoding="utf-8"))

    # ---------------------------------------------------------------- design

    def write_design(self, study: ResolvedStudy) -> None:
        import pyarrow as pa

        from scslab.analysis.studies.design import design_frame
        from scslab.run.results import atomic_write_parquet

        atomic_write_parquet(self.root / "design.parquet",
                             pa.Table.from_pandas(design_frame(study), preserve_index=False))

    def design(self) -> pd.DataFrame:
        import pandas as pd

        return pd.read_parquet(self.root / "design.parquet")

    # ---------------------------------------------------------------- runs

    def write_run(self, key: RunKey, row: dict[str, Any], metrics: dict[str, float | None]) -> None:
        """Write one finished run as one part file, atomically."""
        import pyarrow as pa

        from scslab.run.results import atomic_write_parquet

        names = list(metrics)
        n = len(names)
        table = pa.table({
            "sample": pa.array([key.sample] * n, type=pa.int32()),
            "scenario": pa.array([row["scenario"]] * n, type=pa.string()),
            "replicate": pa.array([key.replicate] * n, type=pa.int32()),
            "metric": pa.array(names, type=pa.string()),
            "value": pa.array([float("nan") if metrics[k] is None else float(metrics[k])
                               for k in names], type=pa.float64()),
        })
        meta = json.dumps(row, allow_nan=False).encode()
        table = table.replace_schema_metadata({RUN_METADATA_KEY: meta})
        atomic_write_parquet(self.parts / key.part_name, table)

    def _part_files(self) -> list[Path]:
        return sorted(p for p in self.parts.glob("s*.parquet")) if self.parts.is_dir() else []

    def run_rows(self) -> list[dict]:
        import pyarrow.parquet as pq

        rows = []
        for p in self._part_files():
            meta = pq.read_schema(p).metadata or {}
            rows.append(json.loads(meta[RUN_METADATA_KEY]))
        return rows

    def finished(self) -> set[RunKey]:
        """Runs with a part of status ok (a rerun skips them)."""
        return {RunKey(r["sample"], r["scenario_index"], r["replicate"])
                for r in self.run_rows() if r["status"] == STATUS_OK}

    def runs_frame(self) -> pd.DataFrame:
        """One row per run (finished or failed), sorted by sample, scenario, replicate."""
        import pandas as pd

        rows = self.run_rows()
        if not rows:
            return pd.DataFrame(columns=["sample", "scenario_index", *RUN_COLUMNS[1:]])
        flat = []
        for r in rows:
            values = r.pop("values", {})
            flat.append({**r, **values})
        frame = pd.DataFrame(flat)
        return frame.sort_values(["sample", "scenario_index", "replicate"],
                                 kind="stable").reset_index(drop=True)

    def metrics_table(self) -> pa.Table:
        """Every finished run's metric rows, sorted (sample, scenario, replicate, metric)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        tables = []
        for p in self._part_files():
            t = pq.read_table(p)
            if t.num_rows:
                tables.append(t.replace_schema_metadata(None))
        if not tables:
            return pa.table({"sample": pa.array([], pa.int32()),
                             "scenario": pa.array([], pa.string()),
                             "replicate": pa.array([], pa.int32()),
                             "metric": pa.array([], pa.string()),
                             "value": pa.array([], pa.float64())})
        table = pa.concat_tables(tables)
        order = self.study_dict()["labels"]
        rank = {lb: i for i, lb in enumerate(order)}
        idx = pa.array([rank[s] for s in table.column("scenario").to_pylist()], pa.int32())
        table = table.append_column("_order", idx)
        table = table.sort_by([("sample", "ascending"), ("_order", "ascending"),
                               ("replicate", "ascending"), ("metric", "ascending")])
        return table.drop_columns(["_order"])

    def compact(self) -> tuple[Path, Path]:
        """Rebuild ``runs.parquet`` and ``metrics.parquet`` from the parts, atomically."""
        import pyarrow as pa

        from scslab.run.results import atomic_write_parquet

        runs = pa.Table.from_pandas(self.runs_frame(), preserve_index=False)
        atomic_write_parquet(self.root / "runs.parquet", runs)
        atomic_write_parquet(self.root / "metrics.parquet", self.metrics_table())
        return self.root / "runs.parquet", self.root / "metrics.parquet"
