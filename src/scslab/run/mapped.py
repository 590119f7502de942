"""Arrays kept in files and mapped into memory, so the OS can page them out.

A run bigger than the machine's memory can still go ahead when part of what it holds never
changes: the population's traits and network are drawn once and only read afterwards.
Mapped from a file, those pages are the operating system's *page cache*: kept resident
while memory is free, dropped under pressure and read back from disk when touched again,
instead of counting against the anonymous memory that, without swap, ends in the OOM
killer. The values are the same bytes, so the run's results are bit-identical.

The file is unlinked as soon as it is created, before it is written: nothing is left on
disk when the process ends, however it ends. The mapping is private (copy-on-write): a
write would copy the page into anonymous memory, never reach the file (the World keeps
the population's arrays read-only anyway, and modules get read-only views of them either
way, so the kernels compiled for in-memory arrays are reused unchanged). A directory in
memory (tmpfs, ramfs) is refused: its pages cannot be dropped, so mapping from it would
save nothing the estimate counts on.
``Sim.snapshot()`` shares the population's arrays instead of copying them (they are
read-only), so a snapshot and a restored World keep them mapped.
"""

from __future__ import annotations

import mmap
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from scslab.run.memory import gigabytes

#: filesystems whose files are memory: mapping from them frees nothing
IN_MEMORY = frozenset({"tmpfs", "ramfs", "hugetlbfs"})
#: free space kept on the directory's disk beyond the arrays themselves
MARGIN = 64 * 2**20


class MappedFileError(RuntimeError):
    """The arrays could not be written to or mapped from the directory (a full disk, a
    directory removed meanwhile): one line for the user, not a traceback."""


def map_from_file(values: np.ndarray, directory: Path) -> np.ndarray:
    """The same array, its bytes written to a file in ``directory`` and mapped back."""
    if not values.flags.c_contiguous:
        values = values.copy(order="C")
    if values.nbytes == 0:
        return values
    try:
        fd, path = tempfile.mkstemp(prefix="scslab-", suffix=".bin", dir=directory)
        os.unlink(path)  # at once: a process killed while writing leaves nothing behind
        with os.fdopen(fd, "r+b") as fh:
            fh.write(memoryview(values.reshape(-1)).cast("B"))
            fh.flush()
            mapping = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY)
    except OSError as exc:
        raise MappedFileError(f"{directory}: cannot keep the population's arrays there "
                              f"({exc.strerror or exc})") from None
    return np.frombuffer(mapping, dtype=values.dtype).reshape(values.shape)


def filesystem_type(directory: Path) -> str | None:
    """The type of the filesystem ``directory`` is on (Linux ``/proc/self/mounts``: the
    longest mount point above it), or None where it cannot be read."""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as fh:
            mounts = [line.split()[1:3] for line in fh if len(line.split()) >= 3]
    except OSError:
        return None
    real = os.path.realpath(directory)
    best, kind = "", None
    for point, fs in mounts:
        point = point.replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fs
    return kind


def directory_problem(directory: Path, need: int) -> str | None:
    """Why ``directory`` cannot take ``need`` bytes of mapped arrays (one line), or None."""
    if not directory.exists():
        return f"{directory}: does not exist"
    if not directory.is_dir():
        return f"{directory}: not a directory"
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        return f"{directory}: cannot create a file there ({exc.strerror or exc})"
    kind = filesystem_type(directory)
    if kind in IN_MEMORY:
        return (f"{directory}: on a {kind} filesystem, which is memory: the population "
                "would take as much memory there; choose a directory on a disk")
    free = shutil.disk_usage(directory).free
    if free < need + MARGIN:
        return (f"{directory}: {gigabytes(free)} free on its disk, the population's arrays "
                f"need {gigabytes(need + MARGIN)}")
    return None
