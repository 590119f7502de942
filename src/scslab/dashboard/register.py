"""The parameter register (docs/parameters.md) as a lookup: dotted path → default and source.

The register is the single place where each default's meaning and source is written, so the
dashboard shows that text beside a form field instead of keeping a second copy. Tables
whose first column is ``parameter`` name fields in backticks (``traits.honesty_mean`` /
``honesty_sd``); catalogue tables (acts, sources) have one row per entry and one column
per field, with the source in the last column.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: where the register lives in a source checkout (src/scslab/dashboard → repo root)
REGISTER_PATH = Path(__file__).resolve().parents[3] / "docs" / "parameters.md"

_PREFIX = re.compile(r"`((?:population|time|acts|sources|modules)(?:\.[A-Za-z_]\w*)?)(?:\.\*)?`")
_NAME = re.compile(r"`([A-Za-z_*][\w.*]*)`")
_MARKUP = re.compile(r"\*\*|`")


@dataclass(frozen=True)
class RegisterEntry:
    default: str
    source: str


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _clean(text: str) -> str:
    return _MARKUP.sub("", text).strip()


def parse_register(text: str) -> dict[str, RegisterEntry]:
    """Dotted path (may hold ``*``) → entry, from the register's markdown."""
    out: dict[str, RegisterEntry] = {}
    prefix = ""
    header: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("#"):
            m = _PREFIX.search(line)
            if m:
                prefix = m.group(1)
            header = None
            continue
        if not line.startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        if not prefix:
            continue
        source = _clean(cells[-1])
        if header[0] == "parameter":
            names = _NAME.findall(cells[0])
            parent = ""
            for n in names:
                if "." in n:
                    parent = n.rsplit(".", 1)[0]
                    full = n
                else:
                    full = f"{parent}.{n}" if parent else n
                default = _clean(cells[1]) if len(cells) > 2 else ""
                out[f"{prefix}.{full}"] = RegisterEntry(default, source)
        else:
            entry = _clean(cells[0]).split(",")[0].strip()
            for col, value in zip(header[1:-1], cells[1:-1], strict=False):
                out[f"{prefix}.{entry}.{col}"] = RegisterEntry(_clean(value), source)
    return out


@lru_cache(maxsize=1)
def register() -> dict[str, RegisterEntry]:
    """The register of this checkout; empty when the docs are not installed beside the code."""
    try:
        return parse_register(REGISTER_PATH.read_text(encoding="utf-8"))
    except OSError:
        return {}


def lookup(path: str) -> RegisterEntry | None:
    """The register's entry for a dotted path (exact, then wildcard rows such as
    ``population.groups.*.honesty_mean``)."""
    reg = register()
    if path in reg:
        return reg[path]
    for key, entry in reg.items():
        if "*" in key and fnmatch.fnmatchcase(path, key):
            return entry
    return None
