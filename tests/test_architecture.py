"""The import graph of ``src/scslab``: no circles, no private names across files, layers in order.

The graph is read from the source (``ast``), not by importing it, so it counts every import:
at the top of a file, inside functions, *and* under ``if TYPE_CHECKING:`` (they never run,
but a type named from a higher layer is a dependence all the same: a small ``Protocol`` in
the lower layer says what it needs instead). ``from scslab.a import b`` is an arrow to
``scslab.a.b`` when that is a module, else to ``scslab.a``; the implicit import of a parent
package (``scslab.a`` before ``scslab.a.b``) is not an arrow.

Layers are named by their folders (:data:`ORDER`, from the bottom up): ``scslab.run.engine``
is in ``core``. The few files and folders outside a layer folder are named in :data:`LAYERS`.
An arrow may point to the same layer or one below, never up. Upward arrows that the code still has are listed in :data:`UPWARD_DEBT`; the list may
only shrink (a debt that is paid must be struck from the list, or the test fails).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "scslab"

#: layers, bottom first
ORDER = ("numerics", "core", "modules", "scenario", "run", "analysis", "games", "cli")

#: the layers that a file's folder cannot say: a file in a layer folder (``scslab.core.x``)
#: belongs to that folder's layer; these are the files and folders outside them
#: (longest dotted prefix wins)
LAYERS: dict[str, str] = {
    "scslab._version": "numerics",
    "scslab.calibrate": "analysis",  # a study: fits parameters to targets (issue 19)
    "scslab.adoption": "analysis",  # a study: adoption of the system by regions (issue 20)
    "scslab.dashboard": "cli",
    "scslab.__main__": "cli",
    "scslab": "cli",
}

#: upward arrows the code still has (importer, imported); may only shrink
UPWARD_DEBT: set[tuple[str, str]] = set()


def _module_files() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, str, str]]]:
    """Arrows between files of the package, and private names imported across files."""
    files = _module_files()
    arrows: dict[str, set[str]] = {}
    private: list[tuple[str, str, str]] = []
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        out: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if source.split(".")[0] != PACKAGE:
                    continue
                for alias in node.names:
                    full = f"{source}.{alias.name}"
                    if full in files:
                        out.add(full)
                        continue
                    out.add(source)
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        private.append((name, source, alias.name))
        arrows[name] = {t for t in out if t in files and t != name}
    return arrows, private


def circles(arrows: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one file (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(arrows):
        if root in index:
            continue
        work = [(root, iter(sorted(arrows[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(arrows.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def layer_of(name: str) -> str:
    """The layer folder's name (``scslab.core.x`` is in ``core``); outside the layer folders,
    the layer of the longest prefix in :data:`LAYERS`."""
    parts = name.split(".")
    if len(parts) > 1 and parts[1] in ORDER:
        return parts[1]
    for i in range(len(parts), 0, -1):
        layer = LAYERS.get(".".join(parts[:i]))
        if layer is not None:
            return layer
    raise KeyError(name)


def upward_arrows(arrows: dict[str, set[str]]) -> set[tuple[str, str]]:
    rank = {layer: i for i, layer in enumerate(ORDER)}
    return {(a, b) for a, targets in arrows.items() for b in targets
            if rank[layer_of(b)] > rank[layer_of(a)]}


def test_circle_finder_finds_a_planted_circle() -> None:
    arrows = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(arrows) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles() -> None:
    arrows, _ = import_graph()
    assert len(arrows) > 50  # the walk found the package
    assert circles(arrows) == []


def test_no_private_names_imported_across_files() -> None:
    _, private = import_graph()
    assert private == []


def test_every_file_has_a_layer() -> None:
    arrows, _ = import_graph()
    missing = []
    for name in arrows:
        try:
            layer_of(name)
        except KeyError:
            missing.append(name)
    assert missing == [], "add these files to LAYERS"
    assert set(LAYERS.values()) <= set(ORDER)
    said_by_folder = [n for n in LAYERS if n.count(".") and n.split(".")[1] in ORDER]
    assert said_by_folder == [], "the folder already names their layer: strike them from LAYERS"


def test_layers_import_only_downward() -> None:
    arrows, _ = import_graph()
    up = upward_arrows(arrows)
    assert up - UPWARD_DEBT == set(), "new upward imports"
    assert UPWARD_DEBT - up == set(), "paid debts: strike them from UPWARD_DEBT"


def test_the_version_is_written_in_one_place() -> None:
    """pyproject.toml reads the version from ``_version.py`` (dynamic), and states none."""
    import tomllib

    project = tomllib.loads((SRC.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == f"{PACKAGE}._version.__version__"
    assert (SRC / PACKAGE / "_version.py").read_text(encoding="utf-8").count("__version__ =") == 1
