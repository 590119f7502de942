"""Worker processes end with the process that started them, however it ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from scslab.run.pool import spawn_pool

KILLED_PARENT = """
import os, signal, sys
from scslab.run.pool import spawn_pool
pool = spawn_pool(1)
print(pool.submit(os.getpid).result(), flush=True)
os.kill(os.getpid(), signal.{signal})
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:  # a zombie is not running
        return fh.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signal", ["SIGKILL", "SIGTERM"])
def test_a_worker_ends_when_its_parent_is_killed(signal, tmp_path):
    out = tmp_path / "worker"
    with out.open("w") as fh:  # a file, not a pipe: an orphan holding a pipe stalls run()
        done = subprocess.run([sys.executable, "-c", KILLED_PARENT.format(signal=signal)],
                              stdout=fh, stderr=fh, timeout=120)
    assert done.returncode < 0, out.read_text()  # the parent died of the signal
    worker = int(out.read_text().split()[0])
    deadline = time.monotonic() + 20
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _alive(worker)
    if alive:
        os.kill(worker, 9)
    assert not alive, f"worker {worker} outlived its parent"


def test_the_pool_initializer_still_runs():
    with spawn_pool(1, initializer=os.chdir, initargs=("/",)) as pool:
        assert pool.submit(os.getcwd).result() == "/"
