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

from scslab.engine import Sim
from scslab.results import replicate_result
from scslab.scenario import load_scenario

PEOPLE, DAYS, BURN_IN, SEED = 2000, 60, 10, 17

PINNED: dict[str, str] = {
    # calibrated = national-blacklist at the fitted values, which are its defaults today
    "calibrated": "d1a0c465f4583476365716c36830c9e11307a445ab6d2b65572ae5060d302b50",
    "baseline": "6f85a6265c40a858747ee7afb83ba4d1ac6e5db5b423fdd421487d3d7d176f5a",
    "checkpoint-region": "1d8121b0f9d06d731455fd376b251dd9d05ec9c6111122dda49aa63b4fc9ac0b",
    "corporate": "39c14b750ab9e8717a6857d6c383835e3fe215608a634bd1f049a3bf2af43b40",
    "credit-bureau": "ba2949db432f1f0e568d5ccbdc66b7d31412d31f5712b197b1b9e460a34eabed",
    "eu-ai-act": "d566d1792363790210d472055befb86c59e6355260bafc2d71d405bbff73672b",
    "export": "28492902990b208b4621accfd18b3c81e792c1a7364bcea2250c1217b616b9be",
    "national-blacklist": "d1a0c465f4583476365716c36830c9e11307a445ab6d2b65572ae5060d302b50",
    "rongcheng": "b8ad7fbfef561d521964f70d1f6a6d7e597f14540cd8fc4172b778410eacde4f",
    "transparent-officials": "0f64495dced0214a68cd6a3e54f75b3b636c7f09a49a993ebf05b79a180a9b3b",
    "western-fragmented": "0c57c10f38da417a426ce3b84174112e011258b5f685fccba3f12a4c6740514e",
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
