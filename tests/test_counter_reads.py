"""Counter reads are declared like array reads, and the system reads no counters.

Counters are the observers' tallies of the truth (fabricated records, false alarms …): a
system module that could read one would learn what the firewall hides. A module adds only
to the counters it declares and reads only those it declares as ``counters.NAME`` reads;
the engine refuses a counter read declared by a system module before day 0.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import small
from scslab.core.metrics import Counters
from scslab.core.module import CounterSpec, Module, Phase, Role
from scslab.core.world import CounterView, TruthFirewallError
from scslab.run.engine import EngineError, default_module_classes, order_modules


def _counters() -> Counters:
    c = Counters(n_groups=2, n_regions=2, n_days=3)
    c.register(CounterSpec("mine", "a module's own counter"))
    c.register(CounterSpec("theirs", "another module's counter"))
    return c


def test_a_module_adds_only_to_its_declared_counters_and_reads_only_declared_ones():
    c = _counters()
    v = CounterView(c, "m", frozenset({"mine"}), frozenset({"theirs"}), True, True)
    v.add_cells("mine", np.array([0, 1, 1]))
    assert c.acc[c.index["mine"], 0].tolist() == [1, 2, 0, 0]
    with pytest.raises(PermissionError, match="adds to counter 'theirs'"):
        v.add_cells("theirs", np.array([0]))
    with pytest.raises(PermissionError, match="reads counter 'mine'"):
        v.totals("mine", slice(None))
    v.totals("theirs", slice(None))  # declared: allowed
    loose = CounterView(c, "m", frozenset(), frozenset(), False, True)  # strict views off
    loose.add_vector("theirs", np.ones(4))


def test_a_system_module_reads_no_counter_even_declared():
    v = CounterView(_counters(), "scoring", frozenset(), frozenset({"theirs"}), True, False)
    with pytest.raises(TruthFirewallError):
        v.totals("theirs", slice(None))
    with pytest.raises(TruthFirewallError):
        v.daily("theirs", slice(None))


def _peeker(role: Role, phase: Phase, read: str) -> type[Module]:
    class Peek(Module):
        name = "peek"
        reads = (read,)

        def setup(self, world) -> None:  # pragma: no cover - never built
            pass

        def step(self, world, day: int) -> None:  # pragma: no cover
            pass

    Peek.role, Peek.phase = role, phase
    return Peek


def test_engine_checks_counter_reads_before_day_zero():
    classes = default_module_classes(small(people=500, days=5, burn_in=0))
    counter = next(k.name for c in classes for k in c.counters)
    with pytest.raises(EngineError, match="system module peek declares a counter read"):
        order_modules([*classes, _peeker(Role.SYSTEM, Phase.SCORE, f"counters.{counter}")])
    with pytest.raises(EngineError, match="which nothing counts"):
        order_modules([*classes, _peeker(Role.OBSERVER, Phase.OBSERVE, "counters.nothing")])
    order_modules([*classes, _peeker(Role.OBSERVER, Phase.OBSERVE, f"counters.{counter}")])
