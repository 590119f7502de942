"""Metric counters and metric definitions.

Counters are accumulated per (chunk, cell) — a cell is one (group, region) pair — inside
kernels or from the day's event batches, never by a full-population pass per metric per
day. At the end of a day the chunks are reduced in chunk order (so results do not depend
on thread count) and the day's cell vector is stored. Group and region figures are
marginal sums of cells. Metrics are ratios of counter totals, defined in ``docs/metrics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scslab.core.declarations import CounterSpec

#: cells counted per ``bincount`` call when a batch has no weights (see ``add_cells``)
COUNT_CHUNK = 1 << 16

#: the themes metrics are shown under, in the order comparisons show them
THEMES = ("compliance", "harm", "fairness", "privacy", "economy", "governance", "acceptance",
          "other")


@dataclass(frozen=True)
class MetricDef:
    """metric = scale × sum(numerator) / sum(denominator) over the days in question.

    ``theme`` (one of :data:`THEMES`) is where comparisons show it; ``unit`` labels its axis
    (``docs/metrics.md`` has the exact definitions)."""

    name: str
    numerator: str
    denominator: str | None
    doc: str
    scale: float = 1.0
    complement: bool = False  # report 1 − ratio (e.g. chilling = 1 − taken / shadow)
    disparity: bool = False  # also report log ratios of each group to the reference group
    theme: str = ""
    unit: str = ""


@dataclass(frozen=True)
class FinalMetricDef:
    """A figure a module reports once, at the end of a run (its ``final_metrics`` hook,
    read on the last day, not summed over days), overall and, with ``breakdown``, as
    ``name[group=…]`` and ``name[region=…]``. The declarations are the one list of final
    metric names: the engine refuses a hook that reports a name not declared, and
    ``compare.metric_names(..., final=True)`` lists them before anything runs."""

    name: str
    doc: str
    theme: str
    unit: str
    breakdown: bool = False


class Counters:
    """Per-day counter history: ``history[day, counter, cell]``."""

    def __init__(self, n_groups: int, n_regions: int, n_days: int, n_chunks: int = 1) -> None:
        self.n_groups = n_groups
        self.n_regions = n_regions
        self.n_cells = n_groups * n_regions
        self.n_days = n_days
        self.n_chunks = n_chunks
        self.specs: dict[str, CounterSpec] = {}
        self.index: dict[str, int] = {}
        self.acc = np.zeros((0, n_chunks, self.n_cells))
        self.history = np.zeros((n_days, 0, self.n_cells))

    def register(self, spec: CounterSpec) -> int:
        if spec.name in self.index:
            raise ValueError(f"counter {spec.name!r} is declared by two modules")
        self.specs[spec.name] = spec
        self.index[spec.name] = len(self.index)
        k = len(self.index)
        self.acc = np.zeros((k, self.n_chunks, self.n_cells))
        self.history = np.zeros((self.n_days, k, self.n_cells))
        return self.index[spec.name]

    def slot(self, name: str) -> np.ndarray:
        """The (chunk, cell) accumulator of one counter, for kernels to add into."""
        return self.acc[self.index[name]]

    def add_cells(self, name: str, cells: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Accumulate an event batch: one entry per event, ``cells`` its cell index."""
        if cells.size == 0:
            return
        if weights is None and cells.size > COUNT_CHUNK:
            # bincount widens its input to int64: counted a slice at a time, a batch of
            # everyone (a final count) costs 0.5 MB, not 8 B per person (the same integers)
            total = np.zeros(self.n_cells, dtype=np.int64)
            for lo in range(0, cells.size, COUNT_CHUNK):
                total += np.bincount(cells[lo:lo + COUNT_CHUNK], minlength=self.n_cells)
            self.acc[self.index[name], 0] += total
            return
        self.acc[self.index[name], 0] += np.bincount(
            cells, weights=weights, minlength=self.n_cells
        )

    def add_vector(self, name: str, per_cell: np.ndarray) -> None:
        self.acc[self.index[name], 0] += per_cell

    def close_day(self, day: int) -> None:
        """Reduce chunks in chunk order into the day's row and reset the accumulators."""
        row = self.history[day]
        row[...] = self.acc[:, 0, :]
        for c in range(1, self.n_chunks):
            row += self.acc[:, c, :]
        self.acc[:] = 0.0

    # ------------------------------------------------------------------ reading

    def totals(self, name: str, days: slice) -> np.ndarray:
        """Sum over days of one counter, per cell."""
        return self.history[days, self.index[name], :].sum(axis=0)

    def daily(self, name: str, days: slice) -> np.ndarray:
        return self.history[days, self.index[name], :]

    def by_group(self, per_cell: np.ndarray) -> np.ndarray:
        return per_cell.reshape(*per_cell.shape[:-1], self.n_groups, self.n_regions).sum(-1)

    def by_region(self, per_cell: np.ndarray) -> np.ndarray:
        return per_cell.reshape(*per_cell.shape[:-1], self.n_groups, self.n_regions).sum(-2)

    def snapshot(self) -> dict:
        return {"acc": self.acc.copy(), "history": self.history.copy()}

    def restore(self, snap: dict) -> None:
        self.acc = snap["acc"].copy()
        self.history = snap["history"].copy()


def ratio(num: np.ndarray, den: np.ndarray | None, scale: float = 1.0) -> np.ndarray:
    """Elementwise ratio with NaN where the denominator is zero (reported as null)."""
    num = np.asarray(num, dtype=np.float64)
    if den is None:
        return num * scale
    den = np.asarray(den, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, scale * num / np.where(den > 0, den, 1.0), np.nan)


def metric_breakdown(
    counters: Counters,
    metric: MetricDef,
    num: np.ndarray,
    den: np.ndarray | None,
    group_names: list[str],
) -> dict[str, np.ndarray]:
    """``metric``, ``metric[group=NAME]`` and ``metric[region=K]`` from per-cell sums
    (the last axis of ``num``/``den`` is the cell)."""
    def value(n, d):
        v = ratio(n, d, metric.scale)
        return 1.0 - v if metric.complement else v

    out = {metric.name: value(num.sum(-1), None if den is None else den.sum(-1))}
    gnum = counters.by_group(num)
    gden = None if den is None else counters.by_group(den)
    for g, gname in enumerate(group_names):
        out[f"{metric.name}[group={gname}]"] = value(
            gnum[..., g], None if gden is None else gden[..., g])
    rnum = counters.by_region(num)
    rden = None if den is None else counters.by_region(den)
    for r in range(counters.n_regions):
        out[f"{metric.name}[region={r}]"] = value(
            rnum[..., r], None if rden is None else rden[..., r])
    return out


def log_ratios(
    counters: Counters,
    metric: MetricDef,
    num: np.ndarray,
    den: np.ndarray,
    group_names: list[str],
    reference: str,
) -> dict[str, float | None]:
    """Disparate impact: ``metric[log_ratio:group=G]`` = log(rate_G / rate_ref), 0.5 added
    to each numerator (a continuity correction) so that a zero count on one side gives a
    finite value; undefined (None) when both counts are zero or a denominator is zero.
    ``num``/``den`` are per-cell totals."""
    gnum = counters.by_group(num)
    gden = counters.by_group(den)
    r = group_names.index(reference)
    out: dict[str, float | None] = {}
    for i, g in enumerate(group_names):
        if i == r:
            continue
        key = f"{metric.name}[log_ratio:group={g}]"
        if gden[i] <= 0 or gden[r] <= 0 or (gnum[i] == 0 and gnum[r] == 0):
            out[key] = None
        else:
            out[key] = float(np.log((gnum[i] + 0.5) / gden[i]) - np.log((gnum[r] + 0.5) / gden[r]))
    return out
