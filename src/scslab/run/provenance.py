"""What produced a result: code revision, a digest of the source, package versions, platform.

Every manifest carries :func:`provenance`; ``scslab rerun`` compares it with the running
environment (:func:`differences`) before re-running, because a rerun under other code or
other numerical libraries is not a check of the stored result.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

#: packages whose version can change a result's numbers or files
PACKAGES = ("numpy", "numba", "llvmlite", "pyarrow", "pandas", "pydantic", "PyYAML")


def package_dir() -> Path:
    """The folder of the ``scslab`` package, wherever this file sits inside it."""
    here = Path(__file__).resolve().parent
    while (here.parent / "__init__.py").is_file():
        here = here.parent
    return here


def code_revision() -> str | None:
    """The git commit of the source tree, ``-dirty`` if modified (None outside a checkout)."""
    here = package_dir()
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        )
        if out.returncode != 0 or not out.stdout.strip():
            return None
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() + ("-dirty" if dirty else "")


@cache
def source_digest() -> str:
    """SHA-256 over the package's own source files (``.py`` and builtin ``.yaml``), by
    relative path: identifies the code exactly, in a checkout or an installed copy, dirty
    or not."""
    root = package_dir()
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".yaml")
                       and "__pycache__" not in p.parts):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance() -> dict:
    """The manifest's ``scslab_version``, ``code_revision``, ``source_sha256`` and
    ``environment`` (Python, packages, platform)."""
    from scslab._version import __version__

    return {
        "scslab_version": __version__,
        "code_revision": code_revision() or f"scslab {__version__} (not a git checkout)",
        "source_sha256": source_digest(),
        "environment": {
            "python": platform.python_version(),
            **package_versions(),
            "machine": platform.machine(),
            "system": platform.system(),
            "platform": platform.platform(),
        },
    }


def differences(stored: dict) -> list[str]:
    """What differs between a stored manifest's provenance and this environment, as
    ``"what: stored → here"`` lines. Only what can change results is compared: the source
    digest, Python and package versions, machine and operating system (not the kernel's
    release)."""
    here = provenance()
    diffs = []
    if stored.get("source_sha256") is None:
        diffs.append("code: not recorded (manifest from an older scslab)")
    elif stored["source_sha256"] != here["source_sha256"]:
        diffs.append(f"code: {stored.get('code_revision')} → {here['code_revision']} "
                     "(the source files differ)")
    env = stored.get("environment") or {}
    for key in ("python", *PACKAGES, "machine", "system"):
        if env.get(key) != here["environment"].get(key):
            diffs.append(f"{key}: {env.get(key, 'not recorded')} → {here['environment'][key]}")
    return diffs
