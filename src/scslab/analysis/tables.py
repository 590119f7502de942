"""Tidy tables shared by compare, explain, figures and report.

Long frames of replicate summaries and series, the mean and 95 % interval of a metric over
replicates, the metric names the twin analysis reads, and the error bad input raises. They
sit below :mod:`scslab.analysis.compare` so that figures and reports need not import the comparison
they draw (``scslab.analysis.compare`` re-exports every name): what figures and reports read
of a comparison or an explanation is declared here as a :class:`ComparisonLike` and an
:class:`ExplanationLike`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from scslab.core.metrics import THEMES, FinalMetricDef, MetricDef

if TYPE_CHECKING:
    import pandas as pd

    from scslab.run.results import ReplicateResult

EXPRESSION_METRIC = "expression_rate"
DIRECT_CHILLING_METRIC = "chilled_expression"


class ComparisonLike(Protocol):
    """What figures and reports read of a :class:`scslab.analysis.compare.Comparison`."""

    labels: list[str]
    scenarios: dict[str, dict]
    summaries: pd.DataFrame
    series: pd.DataFrame
    twins: dict[str, str]
    manifest: dict

    @property
    def replicates(self) -> int: ...

    @property
    def people(self) -> int: ...

    def shown_metrics(self, metrics: Sequence[str] | None = None,
                      groups: bool | None = None) -> list[str]: ...

    def table(self, metrics: Sequence[str] | None = None,
              groups: bool | None = None) -> pd.DataFrame: ...

    def chilling(self) -> pd.DataFrame: ...

    def plot(self, out: Any = None) -> dict[str, Any]: ...


class ExplanationLike(Protocol):
    """What figures and reports read of a :class:`scslab.analysis.explain.Explanation`."""

    label: str
    metric: str
    group_a: str
    group_b: str
    summaries: pd.DataFrame
    scenarios: dict[str, dict]
    manifest: dict

    @property
    def replicates(self) -> int: ...

    @property
    def people(self) -> int: ...

    @property
    def measure(self) -> str: ...

    def values(self) -> pd.DataFrame: ...

    def table(self) -> pd.DataFrame: ...

    def base_text(self) -> str: ...

    def unstable(self) -> bool: ...

    def plot(self, out: Any = None) -> dict[str, Any]: ...


#: the order comparisons show themes in
THEME_ORDER = THEMES


@cache
def metric_declarations() -> dict[str, MetricDef | FinalMetricDef]:
    """Every metric the registered modules declare (``metrics`` and
    ``final_metric_defs``), by name; the first declaration of a name wins."""
    from scslab.modules.registry import module_classes

    out: dict[str, MetricDef | FinalMetricDef] = {}
    for cls in module_classes().values():
        for m in (*getattr(cls, "metrics", ()), *getattr(cls, "final_metric_defs", ())):
            out.setdefault(m.name, m)
    return out


def base_metric(name: str) -> str:
    """``metric[group=x]`` → ``metric``."""
    return name.split("[", 1)[0]


def theme_of(metric: str) -> str:
    """The theme a metric is shown under, as its module declares it; "other" if none does."""
    decl = metric_declarations().get(base_metric(metric))
    return decl.theme if decl is not None and decl.theme else "other"


def unit_of(metric: str) -> str:
    """Axis label unit of a metric, as its module declares it (``metrics.md`` has the exact
    definitions)."""
    decl = metric_declarations().get(base_metric(metric))
    return decl.unit if decl is not None and decl.unit else "value (see docs/metrics.md)"


class CompareError(ValueError):
    """Bad input to a comparison or an explanation (shown as one line by the CLI)."""


def summaries_frame(label: str, reps: Sequence[ReplicateResult]) -> pd.DataFrame:
    import pandas as pd

    rows = [(label, r.replicate, k, float("nan") if v is None else float(v))
            for r in reps for k, v in r.summary.items()]
    return pd.DataFrame(rows, columns=["scenario", "replicate", "metric", "value"])


#: rows per Arrow chunk of a string column (32-bit offsets: 2^24 rows of names < 2 GB)
CHUNK_ROWS = 1 << 24


def series_frame(label: str, reps: Sequence[ReplicateResult]) -> pd.DataFrame:
    """Tidy per-day series of one scenario's replicates (see :func:`series_frames`)."""
    return series_frames([(label, reps)])


def series_frames(runs: Sequence[tuple[str, Sequence[ReplicateResult]]]) -> pd.DataFrame:
    """Tidy per-day series (scenario, replicate, day, metric, value) of several scenarios'
    replicates, in the order given. Built column by column in one pass: a comparison of
    10 scenarios × 10 replicates × 400 metrics × 1825 days is 7·10^7 rows, and one small
    frame per series concatenated twice took 44 s and a peak 5.9 GB above the replicates'
    arrays (the frame itself is 4.1 GB); this takes 6.6 s and 4.6 GB."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    labels: list[str] = []
    replicates: list[int] = []
    names: list[str] = []
    values: list[np.ndarray] = []
    for label, reps in runs:
        for r in reps:
            for name, arr in r.series.items():
                labels.append(label)
                replicates.append(r.replicate)
                names.append(name)
                values.append(np.asarray(arr, dtype=np.float64))
    if not values:
        return pd.DataFrame(columns=["scenario", "replicate", "day", "metric", "value"])
    n = np.fromiter((v.size for v in values), dtype=np.int64, count=len(values))
    starts = np.cumsum(n) - n
    day = (np.arange(int(n.sum()), dtype=np.int64) - np.repeat(starts, n)).astype(np.int32)

    def repeated(items: list[str]) -> pa.ChunkedArray:
        """Each series' string repeated over its days, taken from the distinct strings by
        code in Arrow (no Python object per row), in chunks of at most 2^24 rows."""
        cats, codes = np.unique(np.array(items, dtype=object), return_inverse=True)
        rows = np.repeat(codes.astype(np.int32), n)
        dictionary = pa.array(list(cats), type=pa.string())
        return pa.chunked_array([dictionary.take(pa.array(rows[i:i + CHUNK_ROWS]))
                                 for i in range(0, rows.size, CHUNK_ROWS)], type=pa.string())

    table = pa.table({"scenario": repeated(labels),
                      "replicate": np.repeat(np.asarray(replicates, dtype=np.int32), n),
                      "day": day, "metric": repeated(names), "value": np.concatenate(values)})
    return table.to_pandas(split_blocks=True, self_destruct=True)


def mean_stats(values: Any, metric: str | None = None) -> tuple[float, float, float]:
    """Mean and 95 % t-interval over replicates (NaN where undefined); with ``metric``,
    kept within that metric's range (``results.metric_bounds``)."""
    from scslab.run.results import mean_interval, metric_bounds

    m, iv = mean_interval(values, None if metric is None else metric_bounds(metric))
    nan = float("nan")
    return (nan if m is None else m, nan if iv is None else iv[0], nan if iv is None else iv[1])


def slug(label: str) -> str:
    """A file-name-safe form of a scenario label."""
    s = re.sub(r"[^A-Za-z0-9._=-]+", "-", label).strip("-")
    return s[:80] or "scenario"
