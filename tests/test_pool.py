"""Worker processes end with the process that started them, however it ends."""

from __future__ import annotations

import os
import sys

import pytest

from helpers import child_outlives_killed_parent
from scslab.run.pool import spawn_pool

KILLED_PARENT = """
import os, signal, sys
from scslab.run.pool import spawn_pool
pool = spawn_pool(1)
print(pool.submit(os.getpid).result(), flush=True)
os.kill(os.getpid(), signal.{signal})
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signal", ["SIGKILL", "SIGTERM"])
def test_a_worker_ends_when_its_parent_is_killed(signal, tmp_path):
    assert not child_outlives_killed_parent(KILLED_PARENT.format(signal=signal), tmp_path,
                                            wait=20)


def test_the_pool_initializer_still_runs():
    with spawn_pool(1, initializer=os.chdir, initargs=("/",)) as pool:
        assert pool.submit(os.getcwd).result() == "/"
