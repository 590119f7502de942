"""The partitioned prototype (issue #21): one simulation split by region — in process
and over 2 local Dask workers — equals the single-process run bit for bit, and only
because the day's exchange carries what crosses the cut."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.partitioned import model  # noqa: E402
from benchmarks.partitioned import run as prun  # noqa: E402

from scslab.core.population import restrict, synthesise  # noqa: E402
from scslab.run.engine import Sim  # noqa: E402

PEOPLE, DAYS = 100_000, 200


@pytest.fixture(scope="module")
def single():
    state, _ = prun.run_single(PEOPLE, DAYS)
    assert state["counters"][:, 3].sum() > 1000  # people are listed: learning has work
    return state


def test_two_partitions_in_process_equal_the_single_run(single):
    merged, sent = prun.run_in_process(PEOPLE, DAYS)
    assert sent > 1000  # listings do cross the cut
    assert prun.identical(merged, single)


def test_three_uneven_partitions_equal_the_single_run(single):
    merged, _ = prun.run_in_process(PEOPLE, DAYS, blocks=([0], [3], [1, 2]))
    assert prun.identical(merged, single)


def test_without_the_exchange_the_partitioned_run_differs(single):
    """The ablation: drop the inboxes and the neighbours' listings across the cut are
    not learnt from — the run is no longer the single one."""
    merged, _ = prun.run_in_process(PEOPLE, DAYS, exchange=False)
    assert not np.array_equal(merged["people.pd_anchor"], single["people.pd_anchor"])
    assert not np.array_equal(merged["counters"], single["counters"])


def test_two_dask_workers_equal_the_single_run(single):
    from dask.distributed import Client

    with prun.local_cluster(2) as cluster, Client(cluster) as client:
        merged, timing = prun.run_on_dask(client, PEOPLE, DAYS)
        with pytest.raises(ValueError, match="3 partitions need as many Dask workers"):
            prun.run_on_dask(client, PEOPLE, DAYS, blocks=([0], [1], [2, 3]))
    assert timing["sent"] > 1000
    assert prun.identical(merged, single)


def test_restrict_keeps_rows_and_global_neighbours():
    sc = model.scenario(3000, 5)
    pop = synthesise(sc.population, sc.seed, 0)
    uids = model.partition_uids(pop, [1, 3])
    part = restrict(pop, uids)
    off, nb = pop.arrays["people.net_offsets"], pop.arrays["links.neighbour"]
    poff, pnb = part.arrays["people.net_offsets"], part.arrays["links.neighbour"]
    assert part.counts["people"] == uids.size and part.counts["links"] == pnb.size
    for k in (0, 7, uids.size // 2, uids.size - 1):
        u = uids[k]
        assert np.array_equal(pnb[poff[k]:poff[k + 1]], nb[off[u]:off[u + 1]])
    assert np.array_equal(part.arrays["people.cell"], pop.arrays["people.cell"][uids])
    assert (np.isin(pnb, uids) == False).any()  # noqa: E712 - some neighbours live elsewhere


def test_sim_refuses_uids_that_do_not_fit():
    sc = model.scenario(3000, 5)
    pop = synthesise(sc.population, sc.seed, 0)
    uids = model.partition_uids(pop, [0])
    with pytest.raises(ValueError, match="one increasing global uid per person"):
        Sim(sc, modules=model.MODULES, population=restrict(pop, uids), uids=uids[::-1])
    with pytest.raises(ValueError, match="one increasing global uid per person"):
        Sim(sc, modules=model.MODULES, population=restrict(pop, uids), uids=uids[:-1])
