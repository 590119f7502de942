"""Every builtin scenario's summary and series, pinned by hash.

Refactors must keep outputs byte-identical (issue #17). A change that is *meant* to move
outputs (a new mechanism, a recalibration) updates the pins in a commit of its own, with
the reason in its message:

    python tests/test_pinned_outputs.py        # prints the new PINNED table

Pinned at 2000 people, 60 days, burn-in 10, seed 17.
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np
import pytest

from scslab.core.engine import Sim
from scslab.run.results import replicate_result
from scslab.scenario import load_scenario

PEOPLE, DAYS, BURN_IN, SEED = 2000, 60, 10, 17

PINNED: dict[str, str] = {
    # calibrated = national-blacklist at the fitted values, which are its defaults today
    "calibrated": "40116777ba79da268e05d5ba5cd1e6eabdd730db125b17c3b58dab58aa5c9498",
    "baseline": "5bfc88d0dd3cdb55aa08cbeb23f8e9b86c88e2c92d4c7994d927108b62b7be65",
    "checkpoint-region": "cf307b040872139c54e5797be64307f8eace1f0be00aa87f7b32e7fbf207e9b0",
    "corporate": "64d0904bf5671727e20c64c9e62d8d8b9a2acad1b1cc447806f31a46ba2d371a",
    "credit-bureau": "c66a30c63352eb49b137af86a5a20c1bcb4c928ae5260d97ebab4dac1b573372",
    "eu-ai-act": "7cdc8e1992ebccd5c3ec80b4fd8db27c8f048e02a2fd776ae208198d6857fc4a",
    "export": "adc8917d2209360ace1aa8e31e3f55c04be506dd109100f14169e53f7fc3cdb7",
    "national-blacklist": "40116777ba79da268e05d5ba5cd1e6eabdd730db125b17c3b58dab58aa5c9498",
    "rongcheng": "c5ccf87182156df87a63ddcf943dbf0ca3ba056985e3f5be2a23cd2bf086c97b",
    "transparent-officials": "5bcb8eaf3dc980b3d573747437be9910d51bcf730b22a27a75ae51b12b124592",
    "western-fragmented": "04a4e3d7f982c95fb9394f8752a2e839fc671e4afbe59821e3eabe1493bff73d",
}


def output_digest(name: str) -> str:
    """sha256 over the summary (sorted, exact float reprs) and every series' bytes."""
    sim = Sim(load_scenario(name, people=PEOPLE, days=DAYS, burn_in=BURN_IN, seed=SEED)).run()
    rep = replicate_result(sim)
    h = hashlib.sha256()
    h.update(json.dumps({k: (None if v is None else repr(float(v)))
                         for k, v in sorted(rep.summary.items())}).encode())
    for key in sorted(rep.series):
        h.update(key.encode())
        h.update(np.ascontiguousarray(rep.series[key], dtype=np.float64).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("name", sorted(PINNED))
def test_builtin_outputs_are_pinned(name: str) -> None:
    assert output_digest(name) == PINNED[name], (
        f"{name}: outputs changed; if intended, regenerate with "
        "`python tests/test_pinned_outputs.py` in a commit that says why")


def test_every_builtin_is_pinned() -> None:
    from scslab.scenario import builtin_names

    assert sorted(PINNED) == sorted(builtin_names())


if __name__ == "__main__":
    from scslab.scenario import builtin_names

    names = sys.argv[1:] or sorted(builtin_names())
    print("PINNED: dict[str, str] = {")
    for n in names:
        print(f'    "{n}": "{output_digest(n)}",')
    print("}")
