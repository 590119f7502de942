"""Result folders, written whole and checked when read back.

Every command that writes a folder (``run``, ``rerun``, ``compare``, ``explain``,
``report``) goes through :class:`OutFolder`:

* **before simulating**, :meth:`OutFolder.open` checks that the folder can be written
  (parent is a folder, writable), takes a lock so two writers cannot interleave, and
  refuses an existing non-empty folder unless ``force`` (which replaces it whole — never
  a merge);
* the command writes its files into a temporary sibling folder (``.NAME.scslab-staging-…``);
* :meth:`OutFolder.commit` writes ``manifest.json`` last, with the SHA-256 of every other
  file and of the manifest itself, then renames the sibling into place. Over an existing
  folder the two are exchanged atomically (``renameat2(RENAME_EXCHANGE)`` on Linux), so at
  any instant — a ``kill -9`` included — the folder is the old complete result or the new
  one, never a mix.

:func:`verify_folder` is the reading side: a folder without a manifest, with a missing,
extra or changed file, or with an edited manifest is refused with one line.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

MANIFEST = "manifest.json"
#: views of the data that ``scslab report`` can redraw: not needed to read a result back
DERIVED = ("report.html", "figures/")
_STAGING = ".scslab-staging-"
_OLD = ".scslab-old-"
_LOCK = ".scslab-lock"
_RENAME_EXCHANGE = 2


class OutFolderError(ValueError):
    """A result folder cannot be written or read back; the message is one line."""


# --------------------------------------------------------------------------- checksums


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(root: Path) -> list[str]:
    """Relative POSIX paths of every regular file below ``root`` except the manifest."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            rel = (Path(dirpath) / name).relative_to(root).as_posix()
            if rel != MANIFEST:
                found.append(rel)
    return sorted(found)


def file_digests(root: Path) -> dict[str, str]:
    """``relative path → sha256`` of every file in a folder except ``manifest.json``."""
    return {rel: sha256_file(root / rel) for rel in _files(root)}


def manifest_digest(manifest: dict) -> str:
    """SHA-256 of the manifest's canonical JSON without its own digest field."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_manifest(path: Path) -> dict:
    """A manifest file as a dict, with one-line errors; its own digest checked when
    present (a manifest edited by hand describes a run that did not happen)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutFolderError(f"{path}: no such manifest file") from None
    except IsADirectoryError:
        raise OutFolderError(f"{path}: is a folder, not a manifest file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutFolderError(f"{path}: not a readable JSON manifest ({exc})") from None
    if not isinstance(data, dict):
        raise OutFolderError(f"{path}: not a scslab manifest (not a JSON object)")
    stored = data.get("manifest_sha256")
    if stored is not None and stored != manifest_digest(data):
        raise OutFolderError(f"{path}: was changed after it was written (its checksum does "
                             "not match); refusing a manifest that describes another run")
    return data


def verify_folder(out: Path, regenerated: Iterable[str] = ()) -> dict:
    """Check a result folder against its manifest and return the manifest.

    Refused (one line): no folder, no manifest (the write did not finish), a manifest
    without checksums, an edited manifest, or a file missing, added or changed since it
    was written. Files under the ``regenerated`` prefixes are not checked: readers of the
    data pass :data:`DERIVED` (figures and report are views they do not read)."""
    out = Path(out)
    if not out.is_dir():
        raise OutFolderError(f"{out}: no such result folder")
    if not (out / MANIFEST).is_file():
        raise OutFolderError(f"{out}: incomplete result folder (no {MANIFEST}: the run that "
                             "wrote it did not finish)")
    manifest = read_manifest(out / MANIFEST)
    listed = manifest.get("files")
    if not isinstance(listed, dict) or "manifest_sha256" not in manifest:
        raise OutFolderError(f"{out}: {MANIFEST} has no checksums (written by an older "
                             "scslab); cannot verify it — rerun it to get a checked folder")
    skip = tuple(regenerated)

    def checked(rel: str) -> bool:
        return not rel.startswith(skip) if skip else True

    present = {rel for rel in _files(out) if checked(rel)}
    for rel in sorted(r for r in listed if checked(r)):
        if rel not in present:
            raise OutFolderError(f"{out}: incomplete result folder ({rel} is missing)")
        if sha256_file(out / rel) != listed[rel]:
            raise OutFolderError(f"{out}: {rel} was changed after the run wrote it "
                                 "(checksum differs from the manifest)")
    extra = sorted(present - set(listed))
    if extra:
        raise OutFolderError(f"{out}: {extra[0]} is not part of the result the manifest "
                             "describes (files were added to the folder)")
    return manifest


# --------------------------------------------------------------------------- writing


def _fsync_tree(root: Path) -> None:
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(Path(dirpath) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the file system cannot
        return False
    raise OSError(err, os.strerror(err), str(b))


class OutFolder:
    """One result folder being written (see the module docstring).

    >>> folder = OutFolder(Path("out/run")).open()      # before the simulation
    >>> ...write files into folder.staging...
    >>> manifest = folder.commit(manifest)              # manifest last, then rename
    """

    def __init__(self, target: Path | str, force: bool = False, option: str = "--out",
                 replace: bool = False) -> None:
        self.target = Path(target)
        self.force = force
        self.option = option
        self.replace = replace  # rewrite an existing result in place (``scslab report``)
        self.staging: Path | None = None
        self._lock_fd: int | None = None
        self._lock_path: Path | None = None

    # -- context manager: abort on any exception

    def __enter__(self) -> OutFolder:
        if self.staging is None:
            self.open()
        return self

    def __exit__(self, kind, exc, tb) -> None:
        self.abort()

    # -- steps

    def open(self) -> OutFolder:
        """Check, lock, clean up after a killed writer, and create the staging folder."""
        t = self.target
        name = t.name
        if not name or name in (".", ".."):
            raise OutFolderError(f"{t}: {self.option} must name a folder")
        if t.exists() and not t.is_dir():
            raise OutFolderError(f"{t}: {self.option} must be a directory, and this is a file")
        parent = t.parent
        for p in (parent, *parent.parents):
            if p.exists():
                if not p.is_dir():
                    raise OutFolderError(f"{t}: cannot create {self.option}: {p} is a file")
                break
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutFolderError(f"{t}: cannot create {self.option}: {exc.strerror}") from None
        self._lock()
        try:
            self._recover()
            if not self.force and not self.replace and t.is_dir() and any(t.iterdir()):
                raise OutFolderError(
                    f"{t}: {self.option} is not empty; choose a new folder or add --force "
                    "to replace it whole")
            try:
                self.staging = Path(tempfile.mkdtemp(prefix=f".{name}{_STAGING}{os.getpid()}-",
                                                     dir=parent))
                probe = self.staging / ".probe"
                probe.write_bytes(b"0" * 4096)
                probe.unlink()
            except OSError as exc:
                raise OutFolderError(f"{t}: cannot write to {self.option}: "
                                     f"{exc.strerror}") from None
            os.chmod(self.staging, 0o777 & ~_umask())
        except BaseException:
            self.abort()
            raise
        return self

    def path(self, rel: str) -> Path:
        assert self.staging is not None, "open() first"
        return self.staging / rel

    def commit(self, manifest: dict) -> dict:
        """Write the manifest (checksums of every file, then its own) last and rename the
        staging folder into place. Returns the manifest as written."""
        assert self.staging is not None, "open() first"
        try:
            manifest = {k: v for k, v in manifest.items()
                        if k not in ("files", "manifest_sha256")}
            manifest["files"] = file_digests(self.staging)
            manifest["manifest_sha256"] = manifest_digest(manifest)
            text = json.dumps(manifest, indent=2, allow_nan=False) + "\n"
            (self.staging / MANIFEST).write_text(text, encoding="utf-8")
            _fsync_tree(self.staging)
            self._swap_into_place()
        except OSError as exc:
            raise OutFolderError(f"{self.target}: could not write the results: "
                                 f"{exc.strerror or exc}") from None
        finally:
            self.abort()
        return manifest

    def abort(self) -> None:
        """Remove the staging folder (if any) and release the lock."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        self._unlock()

    # -- internals

    def _swap_into_place(self) -> None:
        t, staging = self.target, self.staging
        assert staging is not None
        if t.is_dir() and any(t.iterdir()):
            if _exchange(staging, t):
                # staging now holds the old result; the new one is in place
                shutil.rmtree(staging, ignore_errors=True)
            else:
                old = t.parent / f".{t.name}{_OLD}{os.getpid()}"
                os.rename(t, old)  # recovered by the next open() if killed in between
                os.rename(staging, t)
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, t)  # new, or over an empty folder: one atomic rename
        self.staging = None
        _fsync_dir(t.parent)

    def _siblings(self, marker: str) -> list[Path]:
        rx = re.compile(re.escape(f".{self.target.name}{marker}") + r"[0-9]+(-\w+)?$")
        return [p for p in self.target.parent.iterdir() if rx.match(p.name)]

    def _recover(self) -> None:
        """Undo what a killed writer of this folder left (we hold the lock, so no writer of
        it is running): restore a moved-away old result, remove staging folders."""
        olds = self._siblings(_OLD)
        if olds and not self.target.exists():
            os.rename(olds[0], self.target)
        for p in self._siblings(_OLD) + self._siblings(_STAGING):
            shutil.rmtree(p, ignore_errors=True)

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no advisory locks on this platform
            return
        path = self.target.parent / f".{self.target.name}{_LOCK}"
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise OutFolderError(f"{self.target}: cannot write to {self.option}: "
                                     f"{exc.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise OutFolderError(
                    f"{self.target}: another scslab process is writing this folder; wait "
                    f"for it to finish or choose another {self.option}") from None
            # the holder before us may have removed the lock file: lock the current one
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd, self._lock_path = fd, path

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        assert self._lock_path is not None
        try:
            self._lock_path.unlink()
        except OSError:
            pass
        os.close(self._lock_fd)
        self._lock_fd = self._lock_path = None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

