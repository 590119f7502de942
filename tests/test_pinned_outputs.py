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
    "baseline": "4792a1027f8e54839a756fbc419c5104e52fcf68bc18ea03940cf1a1a053c39f",
    "checkpoint-region": "72c713d4e625d4e2a9379e7041f5330c6b1de073e6844f345f11cd320efaf318",
    "corporate": "af6b1eff671f9d71b1d37e724641e51ed64c82e9cd0d56285e6e509970975f88",
    "credit-bureau": "c35568759f90d046c2b87c35283407beba21cfe7fc785ae3d1ac47d5ec25a3ac",
    "eu-ai-act": "4c0049c9f7976773d5bcf79d0915655d16b98d2a5d90b6035274ed780470e349",
    "export": "9e1b8f31d25226cef8485b89145eac3d44ec4c28e96e637fe36e0493cebcd19c",
    "national-blacklist": "5017c11c7419f25dc0d33793d369eee1083483e098401a7f3bdcbdc43d1e8a53",
    "rongcheng": "86f6ce703872b01bbc201d40fd4888db7c0a44bb356dd3baaa834705371d1c6f",
    "transparent-officials": "5d2774bc7dbcca585013c2107dce4ddeafb6f1d31488ecad27900e480e395c81",
    "western-fragmented": "81b2e5631eac749f5616300b2ebdcefb241540237e94e2666c092f169b5614c0",
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
