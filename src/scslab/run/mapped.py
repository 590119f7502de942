"""Arrays kept in files and mapped into memory, so the OS can page them out.

A run bigger than the machine's memory can still go ahead when part of what it holds never
changes: the population's traits and network are drawn once and only read afterwards.
Mapped from a file, those pages are the operating system's *page cache*: kept resident
while memory is free, dropped under pressure and read back from disk when touched again,
instead of counting against the anonymous memory that, without swap, ends in the OOM
killer. The values are the same bytes, so the run's results are bit-identical.

The file is unlinked as soon as it is mapped: nothing is left on disk when the process
ends, however it ends. The mapping is private (copy-on-write), so the array is writable as
NumPy and the compiled kernels expect — a write would copy the page into anonymous memory,
never reach the file — and kernels compiled for in-memory arrays are reused unchanged.
"""

from __future__ import annotations

import mmap
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np


def map_from_file(values: np.ndarray, directory: Path) -> np.ndarray:
    """The same array, its bytes written to a file in ``directory`` and mapped back."""
    values = np.ascontiguousarray(values)
    if values.nbytes == 0:
        return values
    fd, path = tempfile.mkstemp(prefix="scslab-", suffix=".bin", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(memoryview(values.reshape(-1)).cast("B"))
        with open(path, "rb") as fh:
            mapping = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY)
    finally:
        os.unlink(path)
    return np.frombuffer(mapping, dtype=values.dtype).reshape(values.shape)


def directory_problem(directory: Path, need: int) -> str | None:
    """Why ``directory`` cannot take ``need`` bytes of mapped arrays (one line), or None."""
    if not directory.is_dir():
        return f"{directory}: not a directory"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"{directory}: not writable"
    free = shutil.disk_usage(directory).free
    if free < need:
        return (f"{directory}: {free / 1e9:.1f} GB free on its disk, the population's "
                f"arrays need {need / 1e9:.1f} GB")
    return None
