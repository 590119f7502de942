"""Numba's start without its BLAS probe (scslab.numerics.numba_start)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "scslab"


def test_a_run_does_not_import_scipy_linalg_and_blas_still_works():
    """A run loads its kernels without importing scipy.linalg; the probe is put back, so a
    kernel compiled afterwards on ``np.dot`` still finds the BLAS (and gives the product)."""
    code = textwrap.dedent("""
        import sys
        import numba as nb
        import numba.np.linalg as linalg
        import numpy as np
        probe = linalg.ensure_blas
        from scslab.run.engine import Sim
        from scslab.scenario.loader import load_scenario
        Sim(load_scenario("rongcheng", people=500, days=3, burn_in=0)).run()
        print("scipy.linalg" in sys.modules, "numba.np.arraymath" in sys.modules,
              linalg.ensure_blas is probe)

        @nb.njit
        def dot(a, b):
            return np.dot(a, b)

        a = np.arange(6.0).reshape(2, 3)
        print(np.array_equal(dot(a, a.T), a @ a.T), "scipy.linalg" in sys.modules)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.split("\n")[:2]
    assert first == "False True True"  # no scipy.linalg; arraymath loaded; probe restored
    assert second == "True True"  # np.dot compiled on the BLAS, which imported scipy.linalg


def test_no_kernel_calls_what_the_skipped_probe_decides():
    """The skipped probe only chooses how np.correlate and np.convolve are compiled: no
    scslab source calls them (were one to, it would run on a plain loop, not the BLAS)."""
    calls = re.compile(r"\b(np|numpy)\.(correlate|convolve)\s*\(")
    found = [f"{p.relative_to(SRC)}:{i}" for p in SRC.rglob("*.py")
             for i, line in enumerate(p.read_text().splitlines(), 1) if calls.search(line)]
    assert found == []
