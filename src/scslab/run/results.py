"""Results: tidy per-day series, final summary, intervals, and their files.

Files written by :meth:`Results.save` (the whole folder atomically, see ``outfolder.py``):

* ``series.parquet``     — long table: replicate, day, metric, value (NaN = undefined);
* ``summary.json``       — flat mapping metric → number (mean over replicates), ``null``
  where undefined (never NaN);
* ``intervals.json``     — with more than one replicate: metric → [low, high], a 95 %
  Student-t interval over replicates;
* ``replicates.parquet`` — with more than one replicate: replicate, metric, value;
* ``manifest.json``      — resolved scenario, seed, replicates, provenance (code revision,
  source digest, package versions, platform), wall time and the SHA-256 of every other
  file; written last (see :mod:`scslab.run.outfolder`).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from scslab.core.metrics import MetricDef, log_ratios, metric_breakdown

if TYPE_CHECKING:
    import pandas as pd

    from scslab.core.scenario_schema import Scenario
    from scslab.core.world import World


class FinishedRun(Protocol):
    """What results read of a run: an :class:`~scslab.run.engine.Sim` is one. Declared
    here, below the engine's user, so results need not import the engine."""

    scenario: Scenario
    world: World
    replicate: int
    final_metrics: dict[str, float | None]
    build_seconds: float
    run_seconds: float

    def metric_defs(self) -> list[MetricDef]: ...

    def bytes_per_person(self, owner: str | None = None) -> float: ...

# Two-sided 95 % Student-t quantiles, df = 1..30.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t_quantile_975(df: int) -> float:
    """0.975 quantile of Student's t (table to 30 df, Cornish–Fisher expansion beyond)."""
    if df < 1:
        raise ValueError("df must be >= 1")
    if df <= 30:
        return _T975[df - 1]
    z = 1.959963984540054
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def metric_bounds(name: str) -> tuple[float, float]:
    """The range a metric's values can take, by the naming rules of ``docs/metrics.md``:
    rates, shares, ``_fpr`` and ``chilled_expression`` lie in [0, 1]; days, trips, appeals,
    income lost and per-person-day quantities in [0, ∞); log ratios and any other name are
    unbounded."""
    if "log_ratio" in name:
        return -math.inf, math.inf
    base = name.split("[")[0]
    if base.endswith(("_rate", "_share", "_fpr")) or base == "chilled_expression":
        return 0.0, 1.0
    if base.endswith(("_days", "_trips", "_filed", "_won", "_per_person_day")) or \
            base.startswith("income_lost"):
        return 0.0, math.inf
    return -math.inf, math.inf


def mean_interval(
    values: np.ndarray, bounds: tuple[float, float] | None = None
) -> tuple[float | None, list[float] | None]:
    """Mean and 95 % t-interval of finite values; None where undefined (fewer than two).

    With ``bounds`` (the metric's range, see :func:`metric_bounds`) the interval is
    intersected with it — a rate's interval never goes below 0 — which cannot lower its
    coverage, since the true value lies in the range. Bounds that some value breaks are
    taken to be wrong and ignored."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None, None
    m = float(v.mean())
    if v.size < 2:
        return m, None
    half = t_quantile_975(v.size - 1) * float(v.std(ddof=1)) / math.sqrt(v.size)
    low, high = m - half, m + half
    if bounds is not None and bool(((v >= bounds[0]) & (v <= bounds[1])).all()):
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return m, [low, high]


def _clean(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _usual_mode(tmp: str) -> None:
    """Temporary files are private (0600); give the result the mode a plain write would."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _usual_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, allow_nan=False) + "\n").encode())


def atomic_write_parquet(path: Path, table: Any) -> None:
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        _usual_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class ReplicateResult:
    """What one replicate produced: daily metric series and its summary."""

    replicate: int
    series: dict[str, np.ndarray]  # metric name → value per day
    summary: dict[str, float | None]
    build_seconds: float = 0.0
    run_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def replicate_result(sim: FinishedRun) -> ReplicateResult:
    w = sim.world
    c = w.counters
    burn = sim.scenario.time.burn_in
    days_run = w.day
    series: dict[str, np.ndarray] = {}
    summary: dict[str, float | None] = {}
    names = [*w.group_names]
    for m in sim.metric_defs():
        if m.numerator not in c.index or (m.denominator and m.denominator not in c.index):
            # the mechanism behind this metric is switched off: undefined, not absent, so
            # every scenario of a comparison reports the same metric names
            summary[m.name] = None
            for g in names:
                summary[f"{m.name}[group={g}]"] = None
            for r in range(c.n_regions):
                summary[f"{m.name}[region={r}]"] = None
            continue
        num = c.history[:days_run, c.index[m.numerator], :]
        den = None if m.denominator is None else c.history[:days_run, c.index[m.denominator], :]
        series.update(metric_breakdown(c, m, num, den, w.group_names))
        measured = slice(burn, days_run)
        tnum = num[measured].sum(axis=0)
        tden = None if den is None else den[measured].sum(axis=0)
        for name, value in metric_breakdown(c, m, tnum, tden, w.group_names).items():
            summary[name] = _clean(float(value))
        if m.disparity and tden is not None:
            ref = sim.scenario.population.reference_group
            summary.update(log_ratios(c, m, tnum, tden, w.group_names, ref))
    summary.update({k: _clean(v) if v is not None else None
                    for k, v in sim.final_metrics.items()})
    return ReplicateResult(
        replicate=sim.replicate, series=series, summary=summary,
        build_seconds=sim.build_seconds, run_seconds=sim.run_seconds,
        extra={"bytes_per_person": sim.bytes_per_person(),
               "dossier_records": w.dossier.total_records()},
    )


def _joined(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


# Arrow arrays made from their buffers: ``pa.array`` checks whether what it is given is a
# pandas object, which imports pandas (0.2 s) into a run that writes its files and draws
# no figures. The same arrays, so the same Parquet bytes (tested).

def arrow_numbers(values: np.ndarray):
    """An Arrow array over a NumPy array of numbers (no nulls), without copying."""
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values),
                                 [None, pa.py_buffer(values)])


def arrow_floats(values: list[float | None]):
    """A float64 Arrow array of Python floats, ``None`` as null."""
    import pyarrow as pa

    valid = np.array([v is not None for v in values], dtype=bool)
    data = np.array([0.0 if v is None else v for v in values], dtype=np.float64)
    if valid.all():
        return arrow_numbers(data)
    bits = np.packbits(valid, bitorder="little")
    return pa.Array.from_buffers(pa.float64(), len(values),
                                 [pa.py_buffer(bits), pa.py_buffer(data)],
                                 null_count=int((~valid).sum()))


def arrow_strings(values: list[str]):
    """A UTF-8 Arrow string array of Python strings."""
    import pyarrow as pa

    encoded = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(encoded),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])


class Results:
    """Series, summary and (with replicates) intervals of one scenario."""

    def __init__(
        self,
        scenario: dict,
        replicates: list[ReplicateResult],
        manifest: dict | PendingManifest | None = None,
    ) -> None:
        if not replicates:
            raise ValueError("no replicates")
        self.scenario = scenario
        self.replicates = sorted(replicates, key=lambda r: r.replicate)
        names = list(self.replicates[0].summary)
        self.summary: dict[str, float | None] = {}
        self.intervals: dict[str, list[float] | None] = {}
        for name in names:
            vals = np.array([np.nan if r.summary.get(name) is None else r.summary[name]
                             for r in self.replicates])
            mean, interval = mean_interval(vals, metric_bounds(name))
            self.summary[name] = _clean(mean) if mean is not None else None
            self.intervals[name] = interval
        self._manifest = {} if manifest is None else manifest

    @property
    def manifest(self) -> dict:
        """The run's manifest; one still pending (``run_scenario``'s) is made when first
        read — its provenance asks git and hashes the source, 15 ms that a run writing no
        folder never spends."""
        if isinstance(self._manifest, PendingManifest):
            self._manifest = self._manifest.build()
        return self._manifest

    @manifest.setter
    def manifest(self, manifest: dict) -> None:
        self._manifest = manifest

    @classmethod
    def from_sim(cls, sim: FinishedRun) -> Results:
        from scslab.scenario import resolved_dict

        return cls(resolved_dict(sim.scenario), [replicate_result(sim)])

    @property
    def name(self) -> str:
        return str(self.scenario.get("name", "scenario"))

    # ------------------------------------------------------------------ tables

    def series_table(self):
        """Long Arrow table: replicate, day, metric (dictionary-encoded), value."""
        import pyarrow as pa

        codes = {name: code for code, name in enumerate(dict.fromkeys(  # first seen first
            name for r in self.replicates for name, a in r.series.items() if a.shape[0]))}
        reps, days, metrics, values = [], [], [], []
        for r in self.replicates:
            for name, arr in r.series.items():
                n = arr.shape[0]
                reps.append(np.full(n, r.replicate, dtype=np.int32))
                days.append(np.arange(n, dtype=np.int32))
                metrics.append(np.full(n, codes.get(name, 0), dtype=np.int32))
                values.append(np.asarray(arr, dtype=np.float64))
        return pa.table({
            "replicate": arrow_numbers(_joined(reps, np.int32)),
            "day": arrow_numbers(_joined(days, np.int32)),
            "metric": pa.DictionaryArray.from_arrays(arrow_numbers(_joined(metrics, np.int32)),
                                                     arrow_strings(list(codes))),
            "value": arrow_numbers(_joined(values, np.float64)),
        })

    def replicates_table(self):
        import pyarrow as pa

        rows = [(r.replicate, k, v) for r in self.replicates for k, v in r.summary.items()]
        return pa.table({
            "replicate": arrow_numbers(np.array([x[0] for x in rows], dtype=np.int32)),
            "metric": arrow_strings([x[1] for x in rows]),
            "value": arrow_floats([x[2] for x in rows]),
        })

    def to_pandas(self) -> pd.DataFrame:
        """The per-day series as a tidy DataFrame (replicate, day, metric, value)."""
        return self.series_table().to_pandas()

    def summary_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {"metric": list(self.summary), "value": list(self.summary.values()),
             "low": [None if self.intervals.get(k) is None else self.intervals[k][0]
                     for k in self.summary],
             "high": [None if self.intervals.get(k) is None else self.intervals[k][1]
                      for k in self.summary]}
        )

    # ------------------------------------------------------------------ files

    def write_files(self, folder: Path | str) -> None:
        """Write the data files (no manifest) into ``folder`` — a staging folder of
        :class:`scslab.run.outfolder.OutFolder`."""
        import pyarrow.parquet as pq

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(self.series_table(), folder / "series.parquet")
        _write_json(folder / "summary.json", self.summary)
        if len(self.replicates) > 1:
            _write_json(folder / "intervals.json", self.intervals)
            pq.write_table(self.replicates_table(), folder / "replicates.parquet")

    def save(self, out: Path | str, manifest: dict, force: bool = False) -> Path:
        """Write the result folder whole: files into a temporary sibling, the manifest
        (with every file's checksum) last, then renamed into place. An existing non-empty
        folder is refused unless ``force`` (then replaced whole)."""
        from scslab.run.outfolder import OutFolder

        with OutFolder(out, force=force, option="folder") as folder:
            self.write_files(folder.staging)
            self.manifest = folder.commit(manifest)
        return Path(out)

    @classmethod
    def load(cls, out: Path | str) -> Results:
        """Read a result folder back (series and per-replicate summaries), after checking
        every file against the manifest's checksums (one-line OutFolderError if not)."""
        import pyarrow.parquet as pq

        from scslab.run.outfolder import DERIVED, OutFolderError, verify_folder

        out = Path(out)
        manifest = verify_folder(out, regenerated=DERIVED)
        if "scenario" not in manifest or "series.parquet" not in manifest["files"]:
            raise OutFolderError(f"{out}: not a 'scslab run' result folder")
        try:
            series = pq.read_table(out / "series.parquet").to_pandas()
            reps = (pq.read_table(out / "replicates.parquet").to_pandas()
                    if "replicates.parquet" in manifest["files"] else None)
        except (OSError, ValueError) as exc:
            raise OutFolderError(f"{out}: unreadable Parquet file ({exc})") from None
        by_rep: dict[int, dict[str, np.ndarray]] = {}
        for (rep, metric), g in series.groupby(["replicate", "metric"], sort=False,
                                               observed=True):
            by_rep.setdefault(int(rep), {})[str(metric)] = g.sort_values("day")["value"].to_numpy()
        if reps is not None:
            summaries = {int(r): {str(k): _clean(v) for k, v in zip(g.metric, g.value,
                                                                    strict=True)}
                         for r, g in reps.groupby("replicate")}
        else:
            summary = json.loads((out / "summary.json").read_text())
            summaries = {next(iter(by_rep)): summary}
        reps_ = [ReplicateResult(r, by_rep.get(r, {}), summaries[r]) for r in sorted(summaries)]
        return cls(manifest["scenario"], reps_, manifest)


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class PendingManifest:
    """What :func:`build_manifest` makes a run's manifest of, kept until the manifest is
    read (:attr:`Results.manifest`)."""

    scenario: dict
    replicates: int
    wall_seconds: float
    command: list[str] | None = None
    extra: dict | None = None

    def build(self) -> dict:
        return build_manifest(self.scenario, self.replicates, self.wall_seconds,
                              self.command, self.extra)


def build_manifest(
    scenario: dict,
    replicates: int,
    wall_seconds: float,
    command: list[str] | None = None,
    extra: dict | None = None,
) -> dict:
    from scslab.run.provenance import provenance

    manifest = {
        "kind": "run",
        **provenance(),
        "seed": scenario.get("seed"),
        "replicates": replicates,
        "scenario": scenario,
        "wall_seconds": round(wall_seconds, 3),
        "command": command,
    }
    if extra:
        manifest.update(extra)
    return manifest
