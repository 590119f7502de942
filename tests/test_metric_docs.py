"""A metric means one thing: every declared metric (final ones included) has a definition in docs/metrics.md or
in the sections it points to (surveillance.md and markets.md → Metrics)."""

from __future__ import annotations

from pathlib import Path

from scslab.modules.registry import module_classes

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_declared_metric_is_defined_in_the_metric_docs():
    text = "".join((DOCS / f).read_text(encoding="utf-8")
                   for f in ("metrics.md", "surveillance.md", "markets.md"))
    names = {m.name for cls in module_classes().values()
             for m in (*cls.metrics, *cls.final_metric_defs)}
    assert len(names) > 50

    def defined(name: str) -> bool:
        # a labelled final metric, approval[income_quintile=3], is defined by its pattern
        stem = name.rsplit("=", 1)[0] + "=" if "[" in name else name
        return f"`{name}`" in text or f"`{name}[" in text or f"`{stem}" in text

    undefined = sorted(n for n in names if not defined(n))
    assert undefined == []
