"""Readable summary rows for the terminal: metric, overall value, interval, by group."""

from __future__ import annotations


def fmt(value: float | None) -> str:
    """Numbers a reader can scan: 4 significant digits, '—' where undefined."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.3e}"
    return f"{value:.4g}"


def summary_rows(results, groups: list[str]) -> list[tuple[str, ...]]:
    rows = []
    multi = len(results.replicates) > 1
    for name, value in results.summary.items():
        if "[" in name or value is None:
            continue  # breakdowns go in columns; undefined metrics (mechanism off) are hidden
        row = [name, fmt(value)]
        if multi:
            iv = results.intervals.get(name)
            row.append("—" if iv is None else f"[{fmt(iv[0])}, {fmt(iv[1])}]")
        row.extend(fmt(results.summary.get(f"{name}[group={g}]")) for g in groups)
        rows.append(tuple(row))
    return rows
