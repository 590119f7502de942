"""Helpers shared by tests (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import numpy as np

from scslab.core.module import Role
from scslab.core.population import OWNER as POPULATION
from scslab.run.engine import Sim
from scslab.scenario import load_scenario


def tiny_targets(metric: str = "approval", people: int = 300, days: int = 3) -> dict:
    """A one-parameter, one-target file (the approval median against baseline's
    ``metric``) small enough for a calibration test to run in seconds."""
    return {"name": "tiny", "people": people, "days": days, "burn_in": 0, "seed": 2,
            "replicates": 1,
            "parameters": {"modules.attitudes.approval_median": {"low": 0.5, "high": 0.98}},
            "targets": [{"name": "approval", "metric": metric, "scenario": "baseline",
                         "value": 0.8, "uncertainty": 0.03, "role": "fit", "source": "x"}]}


#: Baseline's market, firms and officials switched off: the lean society the mechanism
#: tests were written on (they test people, records and sanctions, not the institutions,
#: which have their own tests), at a third of baseline's run time.
NO_INSTITUTIONS = ("modules.market.enabled=false", "modules.firms.enabled=false",
                   "modules.officials.enabled=false")


def small(people: int = 3000, days: int = 60, burn_in: int = 10, sets=(), seed=None,
          institutions: bool = False):
    """The baseline scenario, small and short; without its market, firms and officials
    unless ``institutions``."""
    lean = () if institutions else NO_INSTITUTIONS
    return load_scenario("baseline", [*lean, *sets], people=people, days=days,
                         burn_in=burn_in, seed=seed)


def dossier_fingerprint(sim: Sim) -> list[tuple]:
    """Everything the apparatus wrote: the record log and every system-owned array."""
    d = sim.world.dossier
    out = []
    for day in sorted(d.chunks):
        c = d.chunks[day]
        out.append((day, c["subject"].tobytes(), c["act"].tobytes(), c["source"].tobytes(),
                    d.obs_refs(day, c).tobytes(), c["prev"].tobytes(),
                    d.tombstones[day].tobytes()))
    w = sim.world
    system = {m.name for m in sim.modules if m.role is Role.SYSTEM}
    for name in sorted(w.arrays):
        if w.owner[name] in system:
            out.append((name, w.arrays[name].tobytes()))
    return out


def system_output_survives_scrambled_truth(scenario, modules=None) -> bool:
    """Around every system module step, shuffle all truth (truth arrays, today's acts,
    the truth store, the act each observation saw) and scramble the references the system
    sees (a record's ``obs_ref``, an observation's ``ref``), then put it back so people
    behave the same. If a system module read truth, or told records apart by their
    reference, its output (the dossier) would change."""
    plain = Sim(scenario, modules=modules).run()
    sim = Sim(scenario, modules=modules)
    w = sim.world
    truth_names = [n for n, s in w.specs.items() if s.truth]
    assert "people.honesty" in truth_names and "links.neighbour" in truth_names
    gen = np.random.default_rng(0)  # test-only perturbation, not a model draw
    system = [m for m in sim.modules if m.role is Role.SYSTEM]
    assert system

    # the references are scrambled too, by a bijection (XOR with a key whose top bit is
    # set): every one turns negative and unlike any day or row, so a system module that
    # branched on a reference, or decoded it, would change
    key = np.int64(-0x5A5A_5A5A_5A5A_5A5B)
    assert key < 0 and ~key > (1 << 62)  # ~key is no real reference
    # a day's records may keep their observations as rows of the day (``obs_row``): those
    # are scrambled too, to rows above 2^31 that no day's observations reach
    row_key = np.uint32(0xA5A5_A5A5)

    def refs():
        cols = [c["obs_ref"] for c in w.dossier.chunks.values() if "obs_ref" in c.columns]
        obs = w.events["observations"]
        cols += [obs["ref"]] if len(obs) else []
        unique_cols = {id(c): c for c in cols}  # a record column may be the observations'
        return list(unique_cols.values())

    def rows():
        return [c["obs_row"] for c in w.dossier.chunks.values() if "obs_row" in c.columns]

    def scramble(cols, k) -> np.ndarray:
        seen = np.unique(np.concatenate(cols)) if cols else np.empty(0, np.int64)
        for col in cols:
            col ^= k
        return seen

    def unscramble(cols, k, seen: np.ndarray) -> None:
        # every reference that was scrambled (or copied from one during the step) goes
        # back; one filed fresh during the step (an evaluation's −1) is left as it is
        # (``seen`` is sorted and unique, so membership is a binary search: np.isin
        # would sort it again for every column, every step, and dominated the run time)
        if not len(seen):
            return
        for col in cols:
            back = col ^ k
            at = np.minimum(np.searchsorted(seen, back), len(seen) - 1)
            scrambled_one = seen[at] == back
            col[scrambled_one] = back[scrambled_one]

    def scramble_refs():
        return scramble(refs(), key), scramble(rows(), row_key)

    def unscramble_refs(seen) -> None:
        unscramble(refs(), key, seen[0])
        unscramble(rows(), row_key, seen[1])

    def scrambled(step):
        def run(view, day):
            # (the store is saved first: its keys may be the very column scrambled next)
            store = {d: {k: v.copy() for k, v in c.items()} for d, c in w.truth.chunks.items()}
            seen = scramble_refs()
            saved = {n: w.arrays[n].copy() for n in truth_names}
            acts = {k: v.copy() for k, v in w.events["acts"].columns.items()}
            for n in truth_names:
                w.arrays[n].flags.writeable = True  # the population's are read-only
                flat = w.arrays[n].reshape(-1)
                flat[...] = gen.permutation(flat)
            for col in w.events["acts"].columns.values():
                col[...] = gen.permutation(col)
            for chunk in w.truth.chunks.values():
                for col in ("true_actor", "lawful", "true_act", "act_ref"):
                    chunk[col] = gen.permutation(chunk[col])
            try:
                step(view, day)
            finally:
                unscramble_refs(seen)
                for n, v in saved.items():
                    w.arrays[n][...] = v
                    w.arrays[n].flags.writeable = w.owner[n] != POPULATION
            w.events["acts"].columns.update(acts)
            w.truth.chunks = store
        return run

    for m in system:
        m.step = scrambled(m.step)
    sim.run()
    assert len(dossier_fingerprint(sim)) > 20
    return dossier_fingerprint(plain) == dossier_fingerprint(sim)




def child_outlives_killed_parent(script: str, workdir, wait: float) -> bool:
    """Run ``script`` (Python) in a process that prints the pid of a child it started,
    then kills itself; whether that child is still running ``wait`` seconds on (killed
    then, so a failing test leaves nothing behind). Linux: reads /proc."""
    import os
    import subprocess
    import sys
    import time

    out = workdir / "child"
    with out.open("w") as fh:  # a file, not a pipe: an orphan holding a pipe stalls run()
        done = subprocess.run([sys.executable, "-c", script], stdout=fh, stderr=fh,
                              timeout=120)
    assert done.returncode < 0, out.read_text()  # the parent died of its signal
    pid = int(out.read_text().split()[0])
    deadline = time.monotonic() + wait
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _running(pid)
    if alive:
        os.kill(pid, 9)
    return alive


def _running(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:  # a zombie is not running
        return fh.read().split(")")[-1].split()[0] != "Z"
