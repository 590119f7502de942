"""Engine contracts: determinism, run(until=), snapshots, the truth firewall, declarations."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from helpers import dossier_fingerprint as _dossier_fingerprint
from helpers import small
from helpers import (
    system_output_survives_scrambled_truth as _system_output_survives_scrambled_truth,
)
from scslab.core.module import ArraySpec, Module, Phase, Role
from scslab.core.world import TruthFirewallError
from scslab.modules.apparatus.dossier import DossierModule
from scslab.numerics.rng import StreamSpec
from scslab.run.engine import EngineError, Sim, default_module_classes, order_modules
from scslab.scenario import load_scenario


def _series_bytes(sim: Sim) -> bytes:
    return sim.world.counters.history.tobytes()


def test_same_seed_identical_different_seed_different(small_scenario):
    a = Sim(small_scenario).run()
    b = Sim(small_scenario).run()
    assert _series_bytes(a) == _series_bytes(b)
    assert _dossier_fingerprint(a) == _dossier_fingerprint(b)
    c = Sim(small(seed=99)).run()
    assert _series_bytes(a) != _series_bytes(c)


def test_run_until_then_continue_equals_one_run(noisy_scenario):
    one = Sim(noisy_scenario).run()
    two = Sim(noisy_scenario)
    two.run(until=23)
    assert two.day == 23
    two.run()
    assert _series_bytes(one) == _series_bytes(two)
    assert _dossier_fingerprint(one) == _dossier_fingerprint(two)


def test_snapshot_restore_forks_identically(noisy_scenario):
    sim = Sim(noisy_scenario)
    sim.run(until=20)
    snap = sim.snapshot()
    sim.run()
    first = (_series_bytes(sim), _dossier_fingerprint(sim),
             sim.world.arrays["people.perceived_detection"].tobytes())
    sim.restore(snap)
    assert sim.day == 20
    sim.run()
    second = (_series_bytes(sim), _dossier_fingerprint(sim),
              sim.world.arrays["people.perceived_detection"].tobytes())
    assert first == second


def test_truth_firewall_permuting_truth_leaves_system_output_identical(noisy_scenario):
    assert _system_output_survives_scrambled_truth(noisy_scenario)


class SmugglingSystem(Module):
    """Bypasses its view (private attribute) to read honesty: the test must catch it."""

    name = "smuggler"
    role = Role.SYSTEM
    phase = Phase.APPEAL
    reads = ("dossier",)

    def step(self, world, day):
        honesty = world._world.arrays["people.honesty"]
        chunk, live = world.dossier.day_records(day)
        if len(chunk):
            drop = honesty[chunk["subject"]] > 0.9
            refs = (np.int64(day) << 32) | np.flatnonzero(drop & live)
            world.dossier.remove(refs)


def test_truth_firewall_test_catches_a_module_that_smuggles_truth(noisy_scenario):
    classes = [*default_module_classes(noisy_scenario), SmugglingSystem]
    assert not _system_output_survives_scrambled_truth(noisy_scenario, classes)


class CheatingSystem(Module):
    name = "cheat"
    role = Role.SYSTEM
    phase = Phase.SCORE
    reads = ("observations",)

    def step(self, world, day):
        world.array("people.honesty")


class CheatingViaEvents(Module):
    name = "cheat_events"
    role = Role.SYSTEM
    phase = Phase.SCORE
    reads = ("observations",)

    def step(self, world, day):
        world.events("acts")


class CheatingViaTruthStore(Module):
    name = "cheat_truth"
    role = Role.SYSTEM
    phase = Phase.SCORE
    reads = ("observations",)

    def step(self, world, day):
        _ = world.truth


@pytest.mark.parametrize("cheat", [CheatingSystem, CheatingViaEvents, CheatingViaTruthStore])
def test_system_module_cannot_reach_truth(small_scenario, cheat):
    classes = [*default_module_classes(small_scenario), cheat]
    sim = Sim(small_scenario, modules=classes, strict_views=False)
    with pytest.raises(TruthFirewallError):
        sim.step()


def test_system_module_declaring_a_truth_read_is_refused(small_scenario):
    class Declares(Module):
        name = "declares"
        role = Role.SYSTEM
        phase = Phase.SCORE
        reads = ("people.honesty",)

        def step(self, world, day):
            pass

    with pytest.raises(EngineError, match="truth read"):
        order_modules([*default_module_classes(small_scenario), Declares])


def test_two_writers_are_refused(small_scenario):
    class Second(Module):
        name = "second"
        role = Role.BEHAVIOUR
        phase = Phase.LEARN
        owns: ClassVar = (ArraySpec("people.perceived_day", "day_u16", "people", True, "dup"),)

        def step(self, world, day):
            pass

    with pytest.raises(EngineError, match="two writers"):
        order_modules([*default_module_classes(small_scenario), Second])


def test_reading_what_a_later_phase_writes_needs_prev(small_scenario):
    class Learner(Module):
        name = "learner"
        role = Role.BEHAVIOUR
        phase = Phase.LEARN
        owns: ClassVar = (ArraySpec("people.perceived", "prob", "people", True, "x"),)

        def step(self, world, day):
            pass

    class Decider(Module):
        name = "decider"
        role = Role.BEHAVIOUR
        phase = Phase.DECIDE
        reads = ("people.perceived",)

        def step(self, world, day):
            pass

    with pytest.raises(EngineError, match="@prev"):
        order_modules([Learner, Decider])

    class DeciderPrev(Decider):
        name = "decider_prev"
        reads = ("people.perceived@prev",)

    order = order_modules([Learner, DeciderPrev])
    assert [c.name for c in order] == ["decider_prev", "learner"]


def test_role_phase_mismatch_and_unknown_reads(small_scenario):
    class Wrong(Module):
        name = "wrong"
        role = Role.OBSERVER
        phase = Phase.SCORE

        def step(self, world, day):
            pass

    with pytest.raises(EngineError, match="may not run"):
        order_modules([Wrong])

    class Unknown(Module):
        name = "unknown"
        role = Role.SYSTEM
        phase = Phase.SCORE
        reads = ("people.nothing",)

        def step(self, world, day):
            pass

    with pytest.raises(EngineError, match="nothing provides"):
        order_modules([Unknown])


def test_day_order_is_by_phase():
    classes = order_modules(default_module_classes(small()))
    phases = [c.phase for c in classes]
    assert phases == sorted(phases)
    assert [c.name for c in classes] == ["behaviour", "debts", "sources", "dossier", "learning",
                                         "attitudes", "core_metrics", "harm"]


def test_views_hand_out_read_only_arrays_and_refuse_undeclared_reads(small_scenario):
    sim = Sim(small_scenario)
    view = sim.views[[m.name for m in sim.modules].index("dossier")]
    with pytest.raises(PermissionError):
        view.array("people.income")  # not declared by the dossier module
    acts_view = sim.views[0]
    honesty = acts_view.array("people.honesty")
    with pytest.raises(ValueError):
        honesty[0] = 0.5  # read-only: the population owns it
    learning = sim.views[[m.name for m in sim.modules].index("learning")]
    assert learning.array("people.perceived_detection").flags.writeable


def test_people_are_conserved_and_records_only_of_real_people(noisy_scenario):
    sim = Sim(noisy_scenario).run()
    w = sim.world
    n = w.counts["people"]
    assert all(a.shape[0] == n for k, a in w.arrays.items() if w.specs[k].entity == "people")
    person_days = w.counters.totals("person_days", slice(None)).sum()
    assert person_days == n * sim.total_days
    for chunk in w.dossier.chunks.values():
        assert chunk["subject"].min() >= 0 and chunk["subject"].max() < n


def test_dossier_module_is_a_system_module():
    assert DossierModule.role is Role.SYSTEM


class ExtraDraws(Module):
    """A module with its own stream that draws every day (and discards the draws)."""

    name = "extra_draws"
    role = Role.BEHAVIOUR
    phase = Phase.LEARN
    streams = (StreamSpec("noise"),)

    def step(self, world, day):
        world.stream("noise").uniform(day, 0, np.arange(world.counts["people"]))


def test_an_extra_stream_leaves_every_other_draw_bit_identical(noisy_scenario):
    base = Sim(noisy_scenario).run()
    more = Sim(noisy_scenario, modules=[*default_module_classes(noisy_scenario), ExtraDraws]).run()
    assert _dossier_fingerprint(base) == _dossier_fingerprint(more)
    assert _series_bytes(base) == _series_bytes(more)


def test_adding_an_act_leaves_other_acts_opportunities_identical():
    n, days = 2000, 40
    a = Sim(small(people=n, days=days))
    b = Sim(small(people=n, days=days, sets=[
        "acts.jaywalking={code: 6, class: violation, venue: street, rate: 0.05, lawful_ref: false}"
    ]))
    clock_a, clock_b = a.modules[0].clock, b.modules[0].clock
    assert clock_b.codes.size == clock_a.codes.size + 1
    code_a = a.modules[0].catalogue.code
    code_b = b.modules[0].catalogue.code
    new = 0
    for day in range(days):
        pa, qa = clock_a.due(a.world.stream("behaviour.clock"), day, n)
        pb, qb = clock_b.due(b.world.stream("behaviour.clock"), day, n)
        old = code_b[qb] != 6
        # the same opportunities for every pre-existing act (slots keyed by act code)
        assert np.array_equal(pa, pb[old])
        assert np.array_equal(code_a[qa], code_b[qb][old])
        new += int((~old).sum())
    expected = 0.05 * n * days  # the new act's own opportunities, at its rate
    assert abs(new - expected) < 4 * np.sqrt(expected)


def test_views_keep_refusing_truth_and_follow_restored_arrays(small_scenario):
    sim = Sim(small_scenario)
    system = next(v for m, v in zip(sim.modules, sim.views, strict=True)
                  if m.role is Role.SYSTEM)
    for _ in range(2):  # refused every time, not only before something was cached
        with pytest.raises(TruthFirewallError):
            system.array("people.honesty")
    learning = sim.views[[m.name for m in sim.modules].index("learning")]
    before = learning.array("people.perceived_detection")
    snap = sim.snapshot()
    sim.restore(snap)
    after = learning.array("people.perceived_detection")
    assert after is sim.world.arrays["people.perceived_detection"] and after is not before


class WithdrawingSystem(Module):
    name = "bad_gate"
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    reads = ("observations",)
    withdraws = ("observations",)

    def step(self, world, day):
        pass


class UndeclaredGate(Module):
    name = "undeclared_gate"
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    reads = ("acts",)

    def step(self, world, day):
        acts = world.events("acts")
        world.withdraw("acts", np.zeros(len(acts), dtype=bool))


class DropAllActs(Module):
    """A gate that withdraws every act: nobody downstream sees any."""

    name = "drop_all"
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    reads = ("acts",)
    withdraws = ("acts",)

    def step(self, world, day):
        acts = world.events("acts")
        world.withdraw("acts", np.zeros(len(acts), dtype=bool))


def test_a_gate_runs_after_producers_before_consumers_and_must_declare(small_scenario):
    with pytest.raises(EngineError, match="can be gated"):
        order_modules([*default_module_classes(small_scenario), WithdrawingSystem])
    sim = Sim(small_scenario, modules=[*default_module_classes(small_scenario), UndeclaredGate])
    with pytest.raises(PermissionError, match="without declaring"):
        sim.step()
    classes = order_modules([*default_module_classes(small_scenario), DropAllActs])
    names = [c.name for c in classes]
    assert names.index("behaviour") < names.index("drop_all") < names.index("debts")
    gated = Sim(small_scenario, modules=classes).run(until=5)
    plain = Sim(small_scenario).run(until=5)
    for counter in ("expression_acts", "movement_acts"):  # acts of the behaviour module
        assert gated.world.counters.totals(counter, slice(0, 5)).sum() == 0
        assert plain.world.counters.totals(counter, slice(0, 5)).sum() > 0


def test_small_runs_keep_their_kernels_on_one_thread(monkeypatch):
    """Below PARALLEL_FROM people the parallel kernels run on the calling thread (a second
    thread only spins there, and on a busy machine costs 10x); the caller's thread count is
    restored after the run, even when a step fails."""
    import numba as nb

    from scslab.run import engine
    from scslab.scenario import load_scenario

    seen: list[int] = []
    sim = Sim(load_scenario("baseline", people=2000, days=3, burn_in=0))
    step = sim.modules[0].step

    def spy(view, day):
        seen.append(nb.get_num_threads())
        step(view, day)

    monkeypatch.setattr(sim.modules[0], "step", spy)
    before = nb.get_num_threads()
    sim.run(until=2)
    assert seen == [1, 1] and nb.get_num_threads() == before
    monkeypatch.setattr(engine, "PARALLEL_FROM", 0)
    sim.run(until=3)
    assert seen[-1] == before

    def boom(view, day):
        raise RuntimeError("a failing module")

    sim2 = Sim(load_scenario("baseline", people=2000, days=3, burn_in=0))
    monkeypatch.setattr(engine, "PARALLEL_FROM", 10**9)
    monkeypatch.setattr(sim2.modules[0], "step", boom)
    with pytest.raises(RuntimeError):
        sim2.run()
    assert nb.get_num_threads() == before


def test_the_population_s_arrays_are_read_only(small_scenario):
    """Drawn once and never written: a snapshot shares them instead of copying, which is
    only safe because nothing can write them."""
    from scslab.core.population import OWNER

    sim = Sim(small_scenario)
    owned = [n for n, o in sim.world.owner.items() if o == OWNER]
    assert "people.income" in owned
    for name in owned:
        with pytest.raises(ValueError, match="read-only"):
            sim.world.arrays[name][...] = 0
    assert all(sim.world.arrays[n].flags.writeable
               for n, o in sim.world.owner.items() if o != OWNER)


def test_a_snapshot_restores_into_another_scenario_s_sim_and_keeps_the_population_locked():
    """Forking after a shared burn-in (docs/engine.md): a snapshot of one Sim restores into
    a Sim of another scenario on the same population, even one with fewer modules; the
    population's arrays stay shared and read-only — also from a pickled snapshot."""
    import pickle

    from scslab.core.population import OWNER

    full = load_scenario("rongcheng", people=1500, days=20, burn_in=0, seed=4)
    fewer = load_scenario("rongcheng", people=1500, days=20, burn_in=0, seed=4,
                          overrides=["modules.attitudes.enabled=false"])
    a = Sim(full)
    a.run(until=8)
    snap = a.snapshot()
    assert snap["arrays"]["people.income"] is a.world.arrays["people.income"]  # shared
    b = Sim(fewer)
    b.restore(pickle.loads(pickle.dumps(snap)))
    assert b.day == 8
    for name, owner in b.world.owner.items():
        assert b.world.arrays[name].flags.writeable == (owner != OWNER), name
    b.run()
    assert b.day == 20
