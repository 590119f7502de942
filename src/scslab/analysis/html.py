"""The HTML pieces every self-contained report is built from: a page, a table, a figure.

Used by the comparison and explanation reports (:mod:`scslab.analysis.report`), the study
report (:mod:`scslab.analysis.studies.report`), the system card and the questions report
(:mod:`scslab.analysis.answers`, :mod:`scslab.analysis.questions`). Each page keeps its
own style sheet; the markup is the same.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence


def page_html(title: str, body: str, css: str) -> str:
    """One self-contained page: ``title`` (escaped), the style sheet ``css`` and ``body``."""
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{css}</style></head><body>\n"
            f"{body}\n</body></html>\n")


def table_html(header: Sequence[str], rows: Sequence[Sequence[str]],
               cls: str = "data") -> str:
    """A table of text cells (every cell escaped)."""
    e = html.escape
    head = "".join(f"<th>{e(str(h))}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>"
                     for row in rows)
    return (f'<table class="{cls}">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n'
            "</tbody>\n</table>")


def figure_html(png: bytes, alt: str, caption: str) -> str:
    """A PNG embedded as base64 with its caption (``alt`` and ``caption`` escaped)."""
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")
