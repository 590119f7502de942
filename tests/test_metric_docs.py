"""A metric means one thing: every declared metric has a definition in docs/metrics.md or
in the sections it points to (surveillance.md and markets.md → Metrics)."""

from __future__ import annotations

from pathlib import Path

from scslab.modules.registry import module_classes

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_declared_metric_is_defined_in_the_metric_docs():
    text = "".join((DOCS / f).read_text(encoding="utf-8")
                   for f in ("metrics.md", "surveillance.md", "markets.md"))
    names = {m.name for cls in module_classes().values()
             for m in (getattr(cls, "metrics", ()) or ())}
    assert len(names) > 50
    undefined = sorted(n for n in names if f"`{n}`" not in text and f"`{n}[" not in text)
    assert undefined == []
