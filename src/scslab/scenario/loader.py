"""Load scenarios: YAML files, ``extends:`` deep-merge, ``--set`` overrides, validation.

Every error is a :class:`ScenarioError` whose message is one line naming the file that
set the offending key (under ``extends``), the field path and the reason.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from scslab.core.scenario_schema import Scenario

BUILTIN_PACKAGE = "scslab.scenario.builtin"
DEFAULT_SCENARIO = "baseline"
OVERRIDE_SOURCE = "--set"

Path_ = tuple[str, ...]


class ScenarioError(ValueError):
    """A scenario could not be loaded; the message is one line: ``where: field: reason``."""

    def __init__(self, where: str, field: str | None, reason: str) -> None:
        self.where = where
        self.field = field
        self.reason = reason
        text = f"{where}: {field}: {reason}" if field else f"{where}: {reason}"
        super().__init__(" ".join(text.split()))


# --------------------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that reads ``1e6`` as a number and rejects duplicate keys."""


_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:float"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {mark.line + 1})", mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

if getattr(yaml, "__with_libyaml__", False):
    class _CLoader(yaml.CSafeLoader):
        """``_Loader`` with libyaml's parser and composer (same resolvers, same constructor)."""

    _CLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
    _CLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _FAST_LOADER: type = _CLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _FAST_LOADER = _Loader


#: scenario files are a few KB; these bounds keep a hostile or broken one (e.g. a
#: "billion laughs" of nested aliases) from exhausting memory or time in the loader
MAX_YAML_CHARS = 1_000_000
MAX_YAML_VALUES = 100_000


class YAMLTooLarge(yaml.YAMLError):
    """A YAML text over the size bounds (``problem`` says which)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _expanded_values(node: yaml.Node, memo: dict[int, int], active: set[int]) -> int:
    """Number of values ``node`` stands for once every alias is expanded (each shared
    node is counted once per use; computed once per node)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise YAMLTooLarge("a recursive alias (an anchor used inside itself)")
    active.add(key)
    if isinstance(node, yaml.MappingNode):
        total = 1 + sum(_expanded_values(k, memo, active) + _expanded_values(v, memo, active)
                        for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        total = 1 + sum(_expanded_values(v, memo, active) for v in node.value)
    else:
        total = 1
    active.discard(key)
    memo[key] = min(total, MAX_YAML_VALUES + 1)
    return memo[key]


def safe_load(text: str) -> Any:
    """YAML with the scenario loader, within the size bounds (raises ``yaml.YAMLError``)."""
    if len(text) > MAX_YAML_CHARS:
        raise YAMLTooLarge(f"longer than {MAX_YAML_CHARS:,} characters (a scenario file is "
                           "a few thousand)")
    # one parse: compose the node graph, bound its expansion, construct from the same nodes
    loader = _FAST_LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_values(node, {}, set()) > MAX_YAML_VALUES:
            raise YAMLTooLarge(f"expands to more than {MAX_YAML_VALUES:,} values (aliases "
                               "repeat what their anchor holds)")
        return loader.construct_document(node)
    except RecursionError:
        raise YAMLTooLarge("nested too deeply") from None
    except yaml.YAMLError as exc:  # libyaml bounds the depth itself
        if "nesting depth" in str(getattr(exc, "problem", "")):
            raise YAMLTooLarge("nested too deeply") from None
        raise
    finally:
        loader.dispose()


def parse_yaml_text(text: str, where: str) -> Any:
    try:
        return safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        pos = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        kind = "YAML too large" if isinstance(exc, YAMLTooLarge) else "YAML syntax error"
        raise ScenarioError(where, None, f"{kind}: {pos}{problem}") from None


def parse_value(text: str) -> Any:
    """Parse an override value as YAML (so ``1e6``, ``true``, ``[a, b]`` are typed)."""
    return safe_load(text) if text.strip() else ""


# --------------------------------------------------------------------------- sources


def builtin_names() -> list[str]:
    root = resources.files(BUILTIN_PACKAGE)
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml"))


def _builtin_text(name: str) -> str | None:
    res = resources.files(BUILTIN_PACKAGE).joinpath(f"{name}.yaml")
    return res.read_text(encoding="utf-8") if res.is_file() else None


def _read_source(ref: str, relative_to: Path | None) -> tuple[str, str]:
    """Return (label, text) for a builtin name or a file path."""
    looks_like_path = ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref
    if not looks_like_path:
        text = _builtin_text(ref)
        if text is not None:
            return f"builtin:{ref}", text
    path = Path(ref)
    if not path.is_absolute() and relative_to is not None:
        path = relative_to / path
    if not path.exists():
        hint = "" if looks_like_path else f" (builtin scenarios: {', '.join(builtin_names())})"
        raise ScenarioError(str(ref), None, f"no such scenario file or builtin scenario{hint}")
    if path.is_dir():
        raise ScenarioError(str(path), None, "is a directory, not a scenario file")
    try:
        too_big = path.stat().st_size > 4 * MAX_YAML_CHARS
    except OSError:
        too_big = False
    if too_big:  # refuse before reading it all into memory
        raise ScenarioError(str(path), None, f"YAML too large: longer than "
                                             f"{MAX_YAML_CHARS:,} characters")
    try:
        return str(path), path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), None, f"cannot read: {exc}") from None


# --------------------------------------------------------------------------- merging


def _leaf_paths(data: Any, prefix: Path_ = ()) -> Iterable[Path_]:
    yield prefix
    if isinstance(data, Mapping):
        for k, v in data.items():
            yield from _leaf_paths(v, (*prefix, str(k)))


def deep_merge(
    base: dict, child: Mapping, provenance: dict[Path_, str], label: str, prefix: Path_ = ()
) -> dict:
    """Merge ``child`` into a copy of ``base``: mappings merge key by key, anything else
    replaces. ``null`` for a key whose base value is a mapping removes that catalogue
    entry. ``provenance`` records which source set each path."""
    out = dict(base)
    for key, value in child.items():
        key = str(key)
        path = (*prefix, key)
        if value is None and isinstance(out.get(key), Mapping):
            del out[key]
            for p in [p for p in provenance if p[: len(path)] == path]:
                del provenance[p]
            provenance[path] = label
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            provenance[path] = provenance.get(path, label)
            out[key] = deep_merge(dict(out[key]), value, provenance, label, path)
        else:
            for p in [p for p in provenance if p[: len(path)] == path]:
                del provenance[p]
            for p in _leaf_paths(value, path):
                provenance[p] = label
            out[key] = copy.deepcopy(value)
    return out


def _load_layer(
    ref: str, relative_to: Path | None, chain: tuple[str, ...]
) -> tuple[dict, dict[Path_, str], str]:
    label, text = _read_source(ref, relative_to)
    if label in chain:
        cycle = " -> ".join((*chain, label))
        raise ScenarioError(label, "extends", f"circular extends: {cycle}")
    data = parse_yaml_text(text, label)
    if data is None:
        raise ScenarioError(label, None, "empty scenario file")
    if not isinstance(data, Mapping):
        raise ScenarioError(label, None, f"top level must be a mapping, not {type(data).__name__}")
    data = dict(data)
    parent = data.get("extends")
    here = None if label.startswith("builtin:") else Path(label).parent
    if parent is None:
        base: dict = {}
        provenance: dict[Path_, str] = {}
    else:
        if not isinstance(parent, str) or not parent.strip():
            raise ScenarioError(label, "extends", "must be a scenario name or file path")
        base, provenance, _ = _load_layer(parent, here, (*chain, label))
        if "description" not in data:
            # a parent's description describes the parent, not this variant of it
            base = {k: v for k, v in base.items() if k != "description"}
            provenance.pop(("description",), None)
            data["description"] = f"{parent} with changes from {Path(label).name}"
    merged = deep_merge(base, data, provenance, label)
    return merged, provenance, label


def apply_override(
    data: dict, provenance: dict[Path_, str], assignment: str, label: str | None = None
) -> dict:
    """Apply one ``dotted.path=value`` override (value parsed as YAML). ``label`` names
    the override in errors (default ``--set PATH``)."""
    if "=" not in assignment:
        raise ScenarioError(OVERRIDE_SOURCE, assignment, "expected KEY=VALUE")
    key, _, raw = assignment.partition("=")
    key = key.strip()
    parts = tuple(key.split("."))
    if not key or any(not p for p in parts):
        raise ScenarioError(OVERRIDE_SOURCE, key or assignment, "empty path component")
    try:
        value = parse_value(raw)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        shown = raw if len(raw) <= 60 else raw[:57] + "..."
        raise ScenarioError(f"{OVERRIDE_SOURCE} {key}", None,
                            f"bad value {shown!r}: {problem}") from None
    label = label or f"{OVERRIDE_SOURCE} {key}"
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part) if isinstance(node, Mapping) else None
        if nxt is None:
            # a table the scenario leaves at its default: the override changes one entry
            # of the default table, not the whole table (which would drop the others)
            nxt = default_table(parts[: i + 1])
            if nxt:
                for p in _leaf_paths(nxt, parts[: i + 1]):
                    provenance[p] = label
            node[part] = nxt = nxt or {}
        elif not isinstance(nxt, dict):
            where = ".".join(parts[: i + 1])
            raise ScenarioError(
                f"{OVERRIDE_SOURCE} {key}", where, f"is a {type(nxt).__name__}, not a mapping"
            )
        node = nxt
    child: dict = value
    for part in reversed(parts):
        child = {part: child}
    return deep_merge(data, child, provenance, label)


def default_table(path: Path_) -> dict | None:
    """The default of the table at ``path`` (a mapping-valued parameter whose default is
    not empty, such as ``population.groups`` or ``modules.firms.rates``) as plain data, or
    None when ``path`` is not such a table."""
    from scslab.modules import registry

    if path[:1] == ("modules",):
        cls = registry.module_classes().get(path[1]) if len(path) > 2 else None
        model: Any = getattr(cls, "Params", None)
        rest = path[2:]
    else:
        model, rest = Scenario, path
    value: Any = None
    for part in rest:
        field = model.model_fields.get(part) if model is not None else None
        if field is None or field.is_required():
            return None
        value = field.get_default(call_default_factory=True)
        model = type(value) if isinstance(value, BaseModel) else None
    if not isinstance(value, dict) or not value:
        return None
    return {str(k): v.model_dump(mode="json", by_alias=True) if isinstance(v, BaseModel)
            else copy.deepcopy(v) for k, v in value.items()}


# --------------------------------------------------------------------------- validation

_PATH_IN_MESSAGE = re.compile(r"^([A-Za-z_][\w\-]*(?:\.[\w\-]+)*): (.*)$", re.S)


def _explain(exc: ValidationError, provenance: dict[Path_, str], fallback: str) -> ScenarioError:
    err = exc.errors(include_url=False)[0]
    loc = tuple(str(p) for p in err["loc"])
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    m = _PATH_IN_MESSAGE.match(msg)
    if m:
        loc = (*loc, *m.group(1).split("."))
        msg = m.group(2)
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif "input" in err and err["type"] not in ("model_type", "dict_type"):
        shown = repr(err["input"])
        if len(shown) <= 40:
            msg = f"{msg} (got {shown})"
    return ScenarioError(_locate(loc, provenance, fallback), ".".join(loc) or None, msg)


def _locate(loc: tuple[str, ...], provenance: dict[Path_, str], fallback: str) -> str:
    """The file that last set anything at or below the deepest known prefix of ``loc``.

    Overridden paths are re-inserted into ``provenance``, so dict order is the order in
    which layers set them: the latest one below a mapping is the likeliest culprit."""
    order = {p: i for i, p in enumerate(provenance)}
    for n in range(len(loc), 0, -1):
        prefix = loc[:n]
        if prefix in provenance:
            latest = max((p for p in provenance if p[:n] == prefix), key=order.__getitem__)
            return provenance[latest]
    return fallback


def validate(data: dict, provenance: dict[Path_, str], fallback: str) -> Scenario:
    """Validate merged data into a :class:`Scenario`, module parameters included."""
    from scslab.modules import registry

    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, provenance, fallback) from None
    resolved_modules: dict[str, dict] = {}
    known = registry.module_classes()
    for name in scenario.modules:
        if name not in known:
            raise ScenarioError(
                _locate(("modules", name), provenance, fallback),
                f"modules.{name}",
                f"unknown module; known: {', '.join(sorted(known))}",
            )
    for name, cls in known.items():
        raw = scenario.modules.get(name, {})
        try:
            model = cls.Params.model_validate(raw if raw is not None else {})
        except ValidationError as exc:
            inner = _explain(exc, {}, "")
            path = ("modules", name, *(inner.field.split(".") if inner.field else ()))
            raise ScenarioError(
                _locate(path, provenance, fallback), ".".join(path), inner.reason
            ) from None
        try:
            model = cls.check_params(model, scenario)
        except ValueError as exc:
            m = _PATH_IN_MESSAGE.match(str(exc))
            sub = tuple(m.group(1).split(".")) if m else ()
            path = ("modules", name, *sub)
            raise ScenarioError(
                _locate(path, provenance, fallback), ".".join(path), m.group(2) if m else str(exc)
            ) from None
        resolved_modules[name] = model.model_dump(mode="json")
    resolved = scenario.model_copy(update={"modules": resolved_modules})
    _check_switched_off(resolved, known, provenance, fallback)
    return resolved


def _check_switched_off(scenario: Scenario, known: dict[str, type], provenance: dict[Path_, str],
                        fallback: str) -> None:
    """A module switched off while switched-on ones read what it provides: one line naming
    it and who needs it, instead of the engine's error at build time."""
    on = {name for name, cls in known.items() if cls.enabled_in(scenario)}
    provider = {spec.name: name for name, cls in known.items() for spec in cls.owns}
    needed: dict[str, dict[str, str]] = {}  # switched-off module → {reader: what it reads}
    for reader in sorted(on):
        for read in known[reader].reads:
            base = read.rstrip("?").split("@")[0]
            owner = provider.get(base)
            if not read.endswith("?") and owner is not None and owner not in on:
                needed.setdefault(owner, {}).setdefault(reader, base)
    if not needed:
        return
    owner, readers = next(iter(sorted(needed.items())))
    parent = known[owner].switched_by
    own_flag = scenario.modules.get(owner, {}).get("enabled", True)
    switch = parent if parent is not None and own_flag else owner  # what is really off
    path = ("modules", switch, "enabled")
    who = ", ".join(f"{r} (reads {base})" for r, base in readers.items())
    raise ScenarioError(
        _locate(path, provenance, fallback), ".".join(path),
        f"cannot switch {switch} off: {who} need{'s' if len(readers) == 1 else ''} "
        f"{owner}; switch {'it' if len(readers) == 1 else 'them'} off too, or keep "
        f"{switch} on")


def load_scenario(
    ref: str | Path | None = None,
    overrides: Iterable[str] = (),
    *,
    people: int | None = None,
    days: int | None = None,
    burn_in: int | None = None,
    seed: int | None = None,
) -> Scenario:
    """Load a builtin scenario by name or a YAML file, apply overrides, validate.

    >>> s = load_scenario("baseline", ["population.people=1000"])
    """
    ref = DEFAULT_SCENARIO if ref is None else str(ref)
    data, provenance, label = _load_layer(ref, None, ())
    data.pop("extends", None)
    shortcuts = {
        "population.people": ("--people", people),
        "time.days": ("--days", days),
        "time.burn_in": ("--burn-in", burn_in),
        "seed": ("--seed", seed),
    }
    for assignment in overrides:
        data = apply_override(data, provenance, assignment)
    for key, (option, value) in shortcuts.items():
        if value is not None:
            data = apply_override(data, provenance, f"{key}={value}", label=option)
    return validate(data, provenance, label)


def scenario_from_dict(resolved: dict, where: str = "manifest") -> Scenario:
    """Rebuild a scenario from its resolved form (as written to a manifest)."""
    data = dict(resolved)
    data.pop("extends", None)
    provenance = {p: where for p in _leaf_paths(data)}
    return validate(data, provenance, where)


def resolved_dict(scenario: Scenario) -> dict:
    """The fully resolved scenario as plain data (what manifests and ``show`` print)."""
    return scenario.model_dump(mode="json", by_alias=True)


def resolved_yaml(scenario: Scenario) -> str:
    return yaml.safe_dump(resolved_dict(scenario), sort_keys=False, allow_unicode=True)


def load_scenario_text(
    text: str,
    where: str,
    overrides: Iterable[str] = (),
) -> Scenario:
    """Load a scenario from YAML text that did not come from a file of ours (an upload).

    Parsed with the same safe loader and validated with the same one-line errors as a
    file, but ``extends`` may name only a builtin scenario: text from outside never makes
    the loader read a path on this machine.
    """
    data = parse_yaml_text(text, where)
    if data is None:
        raise ScenarioError(where, None, "empty scenario file")
    if not isinstance(data, Mapping):
        raise ScenarioError(where, None, f"top level must be a mapping, not {type(data).__name__}")
    data = dict(data)
    parent = data.pop("extends", None)
    if parent is None:
        base: dict = {}
        provenance: dict[Path_, str] = {}
    else:
        if not isinstance(parent, str) or parent not in builtin_names():
            raise ScenarioError(where, "extends", "an uploaded scenario may extend only a "
                                f"builtin scenario ({', '.join(builtin_names())})")
        base, provenance, _ = _load_layer(parent, None, ())
        base.pop("extends", None)
    merged = deep_merge(base, data, provenance, where)
    for assignment in overrides:
        merged = apply_override(merged, provenance, assignment)
    return validate(merged, provenance, where)
