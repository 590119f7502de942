"""The partitioned prototype (issue #21): one simulation split by region — in process
and over 2 local Dask workers — equals the single-process run bit for bit, and only
because the day's exchange carries what crosses the cut."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.partitioned import model  # noqa: E402
from benchmarks.partitioned import run as prun  # noqa: E402

from scslab.core.population import restrict, synthesise  # noqa: E402
from scslab.run.engine import (  # noqa: E402
    EngineError,
    Sim,
    default_module_classes,
    national_figures,
)
from scslab.scenario import load_scenario  # noqa: E402

PEOPLE, DAYS = 100_000, 200


@pytest.fixture(scope="module")
def single():
    part = prun.Partition(2000, 2, None, 20261127)  # where the counters sit
    listed = part.sim.world.counters.index["listed"]
    state, _ = prun.run_single(PEOPLE, DAYS)
    assert state["counters"][:, listed].sum() > 1000  # people are listed: learning has work
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
    """The prototype's model, baseline and rongcheng, and export watching every region
    (the day-start national counts, redeployment, kin, households, detainees), split
    by region over 2 local Dask workers: bit-identical to the single process."""
    from benchmarks.partitioned import builtin
    from dask.distributed import Client

    with prun.local_cluster(2) as cluster, Client(cluster) as client:
        merged, timing = prun.run_on_dask(client, PEOPLE, DAYS)
        with pytest.raises(ValueError, match="3 partitions need as many Dask workers"):
            prun.run_on_dask(client, PEOPLE, DAYS, blocks=([0], [1], [2, 3]))
        on_dask = builtin.run_on_dask(client, PEOPLE, 60, ([0, 1], [2, 3]))
        apparatus = builtin.run_on_dask(client, 30_000, 60, ([0, 1], [2, 3]), "rongcheng")
        watched = builtin.run_on_dask(client, 20_000, 30, ([0, 1], [2, 3]), "export-stress")
    assert timing["sent"] > 1000
    assert prun.identical(merged, single)
    assert prun.identical(on_dask, builtin.run_whole(PEOPLE, 60))
    assert prun.identical(apparatus, builtin.run_whole(30_000, 60, "rongcheng"))
    assert prun.identical(watched, builtin.run_whole(20_000, 30, "export-stress"))


def test_a_listing_across_the_cut_moves_a_neighbour_the_next_day_only():
    """The model's crossing mechanism: a uid in the inbox (put on the list yesterday in
    another partition) steps each local neighbour's pd once, on that day — not again the
    day after (a listing is news once)."""
    part = prun.Partition(3000, 20, [0, 1], 7)
    sim, uids = part.sim, part.learn.uids
    w = sim.world
    off, nb = w.arrays["people.net_offsets"], w.arrays["links.neighbour"]
    remote = [(i, int(u)) for i in range(uids.size) for u in nb[off[i]:off[i + 1]]
              if not np.isin(u, uids)]
    assert remote  # some links cross the cut
    for _ in range(10):  # nobody is listed this early (five detections needed)
        assert part.step(np.empty(0, dtype=np.int64)).size == 0
    qpow = part.learn.qpow

    def moved_today(day: int) -> set[int]:
        return set(np.flatnonzero(w.arrays["people.pd_day"] == day).tolist())

    day = sim.day
    seen = set(w.events["observations"]["subject"].tolist())
    target, u = next((i, u) for i, u in remote if i not in seen)
    pd0 = model.spec.PD0
    anchor, last = float(w.arrays["people.pd_anchor"][target]), int(w.arrays["people.pd_day"][target])
    before = pd0 + (anchor - pd0) * qpow[max(day - 1 - last, 0)]
    part.step(np.array([u], dtype=np.int64))
    detected = set(w.events["observations"]["subject"].tolist())
    k = int(np.count_nonzero(nb[off[target]:off[target + 1]] == u))
    assert target not in detected  # (seed 7) so the neighbour step alone is checked
    want = before
    for _ in range(k):
        want = want + model.ETA_NEIGHBOUR * (1.0 - want)
    assert w.arrays["people.pd_anchor"][target] == np.float32(want)  # stored as float32
    assert target in moved_today(day)
    part.step(np.empty(0, dtype=np.int64))
    detected_next = set(w.events["observations"]["subject"].tolist())
    assert moved_today(day + 1) == detected_next  # no neighbour effect on the day after


def test_a_partition_without_its_national_figures_is_refused():
    sc = load_scenario("baseline", people=2000, days=3, burn_in=0)
    pop = synthesise(sc.population, sc.seed, 0)
    uids = model.partition_uids(pop, [0])
    with pytest.raises(EngineError, match="cannot run on a partition — .*needs the "
                                          "national figure 'regions.size'"):
        Sim(sc, modules=default_module_classes(sc), population=restrict(pop, uids), uids=uids)


def test_blocks_must_cover_every_region_once():
    """Before anything is built, in the reduced model's prototype and the builtins' (each
    with its scenario's regions), in process or on Dask: a block short of a worker, or
    a region in no block or two, would leave people out of the run or run them twice."""
    from benchmarks.partitioned import builtin

    for blocks in (([0, 1], [2]), ([0, 1], [1, 2, 3]), ([0, 1, 2, 3], [])):
        with pytest.raises(ValueError, match="exactly one non-empty block"):
            prun.run_in_process(2000, 2, blocks=blocks)
        with pytest.raises(ValueError, match="each of the 4 regions must be in exactly one"):
            builtin.run_in_process(2000, 2, blocks)

    class TwoWorkers:  # what run_on_dask asks of a Dask client before it submits
        def scheduler_info(self) -> dict:
            return {"workers": {"tcp://b": {}, "tcp://a": {}}}

    assert prun.worker_per_block(TwoWorkers(), ([0, 1], [2, 3])) == ["tcp://a", "tcp://b"]
    for run_on_dask in (prun.run_on_dask, builtin.run_on_dask):
        with pytest.raises(ValueError, match="3 partitions need as many Dask workers; the "
                                             "cluster has 2"):
            run_on_dask(TwoWorkers(), 2000, 2, ([0], [1], [2, 3]))


def test_merged_partitions_must_hold_everyone_once():
    """The merge puts each partition's rows back at their uids: a partition missing or
    held twice stops it (its rows would be left unset, or overwritten)."""
    from benchmarks.partitioned import builtin

    parts = [builtin.Partition(2000, 1, b) for b in ([0, 1], [2, 3])]
    builtin.run_days(parts, 1)
    states = [p.state() for p in parts]
    assert builtin.merge(states, 2000)["counters"].shape[0] == 1
    for wrong in ([states[0]], [states[0], states[0], states[1]]):
        with pytest.raises(ValueError, match="they must hold each of the 2,000 once"):
            builtin.merge(wrong, 2000)


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
    part = restrict(pop, uids)
    for bad, reason in ((uids[::-1], "must be increasing"), (uids[:-1], "one per person"),
                        (uids.astype(float), "integers expected"),
                        (uids + 3000, "each must be a uid of the population")):
        with pytest.raises(ValueError, match=reason):
            Sim(sc, modules=model.MODULES, population=part, uids=bad)
    with pytest.raises(ValueError, match="increasing uids of the population"):
        restrict(pop, uids[::-1])
    assert not Sim(sc, modules=model.MODULES, population=part, uids=uids).world.uids.flags.writeable


def test_builtin_modules_split_by_region_equal_the_whole_run():
    """baseline's partitionable modules (behaviour, sources with misattribution, dossier
    with lost files, learning, core_metrics, harm), network learning on: 2 and 3
    partitions exchanging each day's routed records and network events give the whole
    run's counters and people bit for bit; without the network exchange they do not."""
    from benchmarks.partitioned import builtin

    people, days = 30_000, 90
    whole = builtin.run_whole(people, days)
    assert whole["counters"].sum() > 0
    for blocks in (([0, 1], [2, 3]), ([0], [3], [1, 2])):
        split, sent = builtin.run_in_process(people, days, blocks)
        assert sent > 100  # network events and records do cross
        assert prun.identical(split, whole), blocks
    alone, _ = builtin.run_in_process(people, days, ([0, 1], [2, 3]), exchange=False,
                                      only=("network",))
    assert not np.array_equal(alone["people.perceived_detection"],
                              whole["people.perceived_detection"])


@pytest.mark.parametrize("variant", ["national-blacklist", "corporate", "calibrated",
                                     "transparent-officials"])
def test_builtins_with_household_measures_split_by_region_equal_the_whole_run(variant):
    """The builtins whose school restriction reaches housemates run unmodified in 3
    partitions, bit for bit (households on the regions' borders exchanged)."""
    from benchmarks.partitioned import builtin

    people, days = 10_000, 30
    whole = builtin.run_whole(people, days, variant)
    split, sent = builtin.run_in_process(people, days, ([0], [1, 2], [3]), variant=variant)
    assert whole["counters"].sum() > 0 and sent > 0
    assert prun.identical(split, whole)


def test_the_credit_bureau_split_by_region_equals_the_whole_run_on_the_nation_s_calibration():
    """credit-bureau (furnishers, bureau, lender, loan applications) in 3 partitions is
    the whole run bit for bit; a partition that calibrated the credit-invisible share on
    its own people instead of everyone's (the national figure) would give other people
    no file."""
    from benchmarks.partitioned import builtin

    from scslab.modules.economy.credit_bureau import (
        INVISIBILITY,
        bureau_params,
        invisibility_calibration,
    )

    people, days, variant = 10_000, 40, "credit-bureau"
    whole = builtin.run_whole(people, days, variant)
    split, _ = builtin.run_in_process(people, days, ([0], [1, 2], [3]), variant=variant)
    assert whole["counters"].sum() > 0 and prun.identical(split, whole)
    sc = builtin.scenario(people, days, variant)
    pop = synthesise(sc.population, sc.seed, 0)
    uids = model.partition_uids(pop, [3])
    national = national_figures(sc, pop)
    p = bureau_params(sc)
    log_income = np.log(pop.arrays["people.income"][uids].astype(np.float64))
    offset = np.array([p.group_offset.get(g, 0.0) for g in sc.population.groups])
    national[INVISIBILITY] = invisibility_calibration(
        log_income, offset[pop.arrays["people.group"][uids]], p.invisible_share,
        p.income_slope)
    assert not np.array_equal(national[INVISIBILITY], national_figures(sc, pop)[INVISIBILITY])
    own = Sim(sc, population=restrict(pop, uids), uids=uids, national=national)
    files = own.world.arrays["people.credit_file"]
    assert 0 < (files != whole["people.credit_file"][uids]).sum() < uids.size // 10


def test_every_builtin_scenario_is_a_partition_variant():
    """A new builtin scenario joins the partitioned benchmark (and, through it, the
    checks that it runs split by region)."""
    from benchmarks.partitioned import builtin

    from scslab.scenario.loader import builtin_names

    assert set(builtin_names()) == set(builtin.BUILTINS) - {"every-module"}
    for name in builtin.BUILTINS:
        assert builtin.VARIANTS[name][1:] == ((), ())  # unmodified


@pytest.mark.parametrize("variant", ["checkpoint-region", "export", "western-fragmented",
                                     "eu-ai-act", "every-module", "kin-households"])
def test_surveillance_builtins_split_by_region_equal_the_whole_run(variant):
    """Cameras, informants, checkpoints with detention, the watchlist (kin, a share of
    the minority by design), in export feedback deployment, in the Western two the
    landlord's camera and smart speakers; all 31 modules at once (every-module); and
    checkpoint-region with the kin and households exchanges after the same module
    (kin-households): 3 partitions, bit for bit."""
    from benchmarks.partitioned import builtin

    people, days = 10_000, 30
    whole = builtin.run_whole(people, days, variant)
    split, _ = builtin.run_in_process(people, days, ([0], [1, 2], [3]), variant=variant)
    assert whole["counters"].sum() > 0 and prun.identical(split, whole)


def test_surveillance_crosses_partitions_only_through_its_exchanges():
    """export watching every region (variant export-stress), 3 partitions: with every
    exchange the whole run's; without one, what it carries moves — the nation's watchlist
    size (a checkpoint's gallery: false alarms), every region's records (redeployment:
    the perceived detection), today's record entries of cut households (kin listed) and
    today's detainees (their neighbours' approval)."""
    from benchmarks.partitioned import builtin

    people, days, blocks, variant = 20_000, 30, ([0], [1, 2], [3]), "export-stress"
    whole = builtin.run_whole(people, days, variant)
    split, _ = builtin.run_in_process(people, days, blocks, variant=variant)
    assert prun.identical(split, whole)
    moves = {"national": "people.false_alarms", "surveillance": "people.perceived_detection",
             "kin": "people.watchlisted", "listings": "people.approval"}
    for only, array in moves.items():
        alone, _ = builtin.run_in_process(people, days, blocks, exchange=False,
                                          variant=variant, only=(only,))
        assert not np.array_equal(alone[array], whole[array]), only


def test_the_landlord_s_complaint_crosses_partitions_only_through_its_exchanges():
    """western-fragmented with tenants quick to complain (variant landlord-stress), 3
    partitions: the whole run's with the day's national counts (the nation's tenants, the
    threshold's base; its enrolled tenants, the gallery a face is searched in) and the
    tenants who joined exchanged; without either, the complaint (so the camera's removal
    and what it watches) and the false matches move."""
    from benchmarks.partitioned import builtin

    people, days, blocks, variant = 20_000, 30, ([0], [1, 2], [3]), "landlord-stress"
    whole = builtin.run_whole(people, days, variant)
    split, _ = builtin.run_in_process(people, days, blocks, variant=variant)
    assert whole["people.tenant"].sum() > 1000 and prun.identical(split, whole)
    for only in ("national", "surveillance"):
        alone, _ = builtin.run_in_process(people, days, blocks, exchange=False,
                                          variant=variant, only=(only,))
        assert not np.array_equal(alone["counters"], whole["counters"]), only


def test_the_landlord_s_approval_link_and_displaced_acts_are_refused_on_a_partition():
    for name, overrides, says in (
            ("western-fragmented", ["modules.surveillance.landlord.approval_weight=1.0"],
             "landlord.approval_weight > 0"),
            ("checkpoint-region", ["modules.behaviour.displacement=0.5"],
             "behaviour.displacement > 0")):
        sc = load_scenario(name, overrides, people=3000, days=3, burn_in=0)
        pop = synthesise(sc.population, sc.seed, 0)
        uids = model.partition_uids(pop, [0, 1])
        with pytest.raises(EngineError, match="surveillance: .*" + re.escape(says)):
            Sim(sc, population=restrict(pop, uids), uids=uids,
                national=national_figures(sc, pop))


def test_the_merged_network_events_come_in_the_whole_run_s_order():
    """Day by day, the partitions' events merged by (appending module, uid) are the
    whole run's violation actors in the order its learning steps their neighbours —
    behaviour's, then debts' (a merge without the sort, or by uid alone, would differ)."""
    from benchmarks.partitioned import builtin

    people, days = 30_000, 30
    whole = builtin.Partition(people, days, None, "rongcheng-stress")
    parts = [builtin.Partition(people, days, b, "rongcheng-stress") for b in ([0, 1], [2, 3])]
    learning = whole.learning
    unsorted, by_uid, two_modules = 0, 0, 0
    for _ in range(days):
        whole.sim.step()
        acts = whole.sim.world.events["acts"]
        want = acts["actor"][learning.is_violation[acts["act"]]].astype(np.int64)
        two_modules += int((np.diff(want) < 0).any())  # debts' acts after behaviour's
        handed: list = [None, None]
        for point in parts[0].points:
            got = [p.advance(h, point) for p, h in zip(parts, handed, strict=True)]
            handed = [(point, builtin.GATHER[point](got))] * 2
            if point == "network":
                assert np.array_equal(handed[0][1][0], want)
                uid = np.concatenate([e[0] for e in got])
                unsorted += int(not np.array_equal(uid, want))
                by_uid += int(not np.array_equal(np.sort(uid, kind="stable"), want))
        for p, h in zip(parts, handed, strict=True):
            p.advance(h, None)
    assert unsorted > 0 and by_uid > 0 and two_modules > 0  # each way would be wrong


def test_summed_figures_sent_as_nonzeros_add_up_as_the_dense_parts():
    """A summed exchange sends each figure's nonzero entries; put together they are the
    dense parts' ``np.sum`` exactly: values, dtype (small integers widen as ``np.sum``
    widens them) and shape, with integer entries from one partition, several or none.
    A float entry several partitions add to is refused (its bits hang on the order)."""
    from benchmarks.partitioned import builtin

    rng = np.random.default_rng(7)
    for dtype in (np.int32, np.int64, np.float32, np.float64):
        owner = rng.integers(0, 3, (4, 6))  # each entry's partition
        parts = []
        for p in range(3):
            dense = np.zeros((4, 6), dtype=dtype)
            owned = (owner == p) & (rng.random((4, 6)) < 0.6)
            dense[owned] = (rng.normal(size=int(owned.sum())) * 100).astype(dtype)
            if np.issubdtype(dtype, np.integer):
                dense[0, 0] += p + 1  # an entry every partition adds to
            parts.append(dense)
        dense_sum = np.sum(parts, axis=0)
        got = builtin.summed([{"f": builtin.Nonzeros.of(d)} for d in parts])["f"]
        assert got.dtype == dense_sum.dtype and got.shape == dense_sum.shape
        assert np.array_equal(got, dense_sum)
    scalar = builtin.summed([{"n": builtin.Nonzeros.of(np.int64(v))} for v in (0, 5, 2)])
    assert scalar["n"] == 7 and np.ndim(scalar["n"]) == 0
    shared = [{"x": builtin.Nonzeros.of(np.array([0.5, 0.0]))},
              {"x": builtin.Nonzeros.of(np.array([0.25, 1.0]))}]
    with pytest.raises(ValueError, match="several partitions"):
        builtin.summed(shared)


def test_a_partition_that_skips_an_exchange_stops():
    """Each exchange is due every day, with or without entries of the partition's own:
    a day run through without one stops at the central authority's turn (the officials'
    reports), at learning's turn (listings, and the previous day's network events) or
    the next day at the market's (its counts), the officials' (their figures for firms)
    or the sources' turn (records)."""
    from benchmarks.partitioned import builtin

    part = builtin.Partition(3000, 5, [0, 1])
    assert part.points == ["officials", "market", "records", "network"]
    with pytest.raises(RuntimeError, match="reports of every region were not handed in"):
        for _ in part.sim.day_steps():
            pass  # the day run through, no exchange

    def to_records(part: builtin.Partition) -> Any:
        reported = builtin.summed([part.advance(None, "officials")])
        market = builtin.summed([part.advance(("officials", reported), "market")])
        return part.advance(("market", market), "records")

    part = builtin.Partition(3000, 5, [0, 1])
    to_records(part)
    part.advance(None, None)  # the records exchange skipped
    with pytest.raises(RuntimeError, match="records naming people elsewhere were not exchanged"):
        part.sim.step()
    part = builtin.Partition(3000, 5, [0, 1])
    mine = to_records(part)
    part.advance(("records", mine), None)  # the network exchange skipped
    mine = to_records(part)  # the next day
    with pytest.raises(RuntimeError, match="network events were not exchanged"):
        part.advance(("records", mine), "network")
    part = builtin.Partition(3000, 5, [0, 1], "rongcheng")
    mine = to_records(part)
    with pytest.raises(RuntimeError, match="were not handed in"):
        part.advance(("records", mine), "network")  # learning's turn, no listings
    part = builtin.Partition(3000, 5, [0, 1])
    mine = to_records(part)
    with pytest.raises(RuntimeError, match="exchange 'officials': the day ended without"):
        part.advance(("records", mine), "officials")  # already past the officials' step
    part = builtin.Partition(3000, 5, [0, 1])
    run_a_day_without_the_firms_figures(part)
    with pytest.raises(RuntimeError, match="figures for other partitions' firms were not"):
        part.sim.step()


def run_a_day_without_the_firms_figures(part: Any) -> None:
    """A partition's day with every exchange handed in but the officials' figures for
    other partitions' firms (the central authority's reports handed in)."""
    from benchmarks.partitioned import builtin

    figures = builtin.summed([part.advance(None, "officials")])
    part.module["central_authority"].receive_reports(figures["regions.reported_violations"])
    handed = ("market", builtin.GATHER["market"]([part.advance(None, "market")]))
    for point in ("records", "network"):
        handed = (point, builtin.GATHER[point]([part.advance(handed, point)]))
    part.advance(handed, None)


def test_the_officials_figures_skipped_on_the_last_day_stop_the_run():
    """The officials' figures for firms of other partitions, skipped on the last day,
    stop the run as the day ends: no step follows to notice."""
    from benchmarks.partitioned import builtin

    with pytest.raises(RuntimeError, match="officials on a partition: the last day's "
                                           "figures for other partitions' firms"):
        run_a_day_without_the_firms_figures(builtin.Partition(3000, 1, [0, 1]))


@pytest.mark.parametrize(("variant", "skipped", "days", "says"), [
    ("blacklist-households", "households", 4, "sanctions on a partition: the households "
                                              "exchange was not handed in"),
    ("blacklist-households", "shadows", 4, "harm on a partition: the shadows (the "
                                           "previous day's)"),
    ("blacklist-households", "shadows", 1, "harm on a partition: the last day's shadows "
                                           "exchange was not handed in"),
    ("export-stress", "kin", 4, "watchlist on a partition: the kin (the previous day's)"),
    ("export-stress", "kin", 1, "watchlist on a partition: the last day's kin exchange "
                                "was not handed in"),
    ("export-stress", "national", 4, "today's national counts were not handed in"),
    ("landlord-stress", "surveillance", 4, "the previous day's figures were not exchanged"),
    ("landlord-stress", "surveillance", 1, "surveillance on a partition: the last day's "
                                           "figures were not exchanged"),
    ("baseline", "market", 1, "market on a partition: the last day's counts were not "
                              "exchanged"),
    ("baseline", "records", 1, "sources on a partition: the last day's records naming "
                               "people elsewhere were not exchanged"),
    ("baseline", "network", 1, "learning on a partition: the last day's network events "
                               "were not exchanged"),
])
def test_skipping_an_exchange_stops(variant, skipped, days, says):
    """A partition handed its own part of every exchange but one stops within a day —
    on the last day, which no step follows, as the day ends — naming what is missing (a
    skipped exchange would run on local figures, or leave the last day's records or
    counts out, silently)."""
    from benchmarks.partitioned import builtin

    part = builtin.Partition(5000, days, [0, 1], variant)
    assert skipped in part.points
    with pytest.raises(RuntimeError, match=re.escape(says)):
        for _ in range(days):
            handed = None
            for point in part.points:
                got = part.advance(handed, point)
                handed = None if point == skipped else (point, builtin.GATHER[point]([got]))
            part.advance(handed, None)


def test_attitudes_stops_without_the_detainees_of_every_partition(monkeypatch):
    """Beside surveillance, a partition's attitudes needs the day's detainees of every
    partition (their neighbours here move), even on a day it detained no one itself."""
    from benchmarks.partitioned import builtin

    part = builtin.Partition(5000, 2, [0, 1], "export-stress")
    monkeypatch.setattr(part.module["attitudes"], "receive_detentions", lambda uids: None)
    with pytest.raises(RuntimeError, match="today's detainees of every partition were not "
                                           "handed in"):
        handed = None
        for point in part.points:
            handed = (point, builtin.GATHER[point]([part.advance(handed, point)]))
        part.advance(handed, None)


def test_a_partition_with_no_records_to_route_files_its_own_people_s():
    """With no source misattributing or fabricating there is no records exchange, and
    each partition files its observations under its own people's rows (the sources'
    subjects are uids until then): 2 partitions equal the whole run."""
    from benchmarks.partitioned import builtin

    part = builtin.Partition(3000, 2, [0, 1], "baseline-exact")
    assert "records" not in part.points
    people, days = 30_000, 40
    whole = builtin.run_whole(people, days, "baseline-exact")
    index = part.sim.world.counters.index
    assert whole["counters"][:, index["records"]].sum() > 100
    split, _ = builtin.run_in_process(people, days, ([0, 1], [2, 3]), variant="baseline-exact")
    assert prun.identical(split, whole)


def test_the_apparatus_split_by_region_equals_the_whole_run():
    """rongcheng's point score, lists, joint sanctions, appeals and harm observer on
    partitions (with behaviour, sources, dossier with lost files, learning with
    neighbours' listings seen, core_metrics): 2 and 3 partitions give the whole run's
    counters and every person's score, grade, listings, bans, lost files and perceptions
    bit for bit — with every one of those mechanisms at work, so a partition that drew or
    decided otherwise would show."""
    from benchmarks.partitioned import builtin

    people, days = 30_000, 90
    whole = builtin.run_whole(people, days, "rongcheng")
    part = builtin.Partition(2000, 2, None, "rongcheng")  # where the counters sit
    index = part.sim.world.counters.index
    for counter in ("appeals_heard", "appeals_won", "sanction_days", "listed_days",
                    "informed_by_neighbour", "sanction_learning_events"):
        assert whole["counters"][:, index[counter]].sum() > 0, counter
    assert whole["people.file_lost"].any()  # lost files, drawn over everyone
    assert whole["people.listed"].any() and whole["people.bans"].any()
    assert np.unique(whole["people.score"]).size > 10
    for blocks in (([0, 1], [2, 3]), ([0], [3], [1, 2])):
        split, _ = builtin.run_in_process(people, days, blocks, variant="rongcheng")
        assert prun.identical(split, whole), blocks


def test_a_partition_says_which_regions_and_households_it_cuts():
    sc = load_scenario("national-blacklist", people=3000, days=3, burn_in=0)
    pop = synthesise(sc.population, sc.seed, 0)
    by_region = restrict(pop, model.partition_uids(pop, [0, 1]))
    assert by_region.split["people.region"] == 0
    household = pop.arrays["people.household"]
    here = np.isin(household, household[model.partition_uids(pop, [0, 1])])
    cut = np.unique(household[here & ~np.isin(pop.arrays["people.region"], [0, 1])])
    assert by_region.split["people.household"] == cut.size  # those on the border
    halves = restrict(pop, np.arange(1500))
    assert halves.split["people.region"] == 4 and halves.split["people.household"] > 100
    assert restrict(pop, np.arange(3000)).split == {"people.region": 0, "people.household": 0}


def test_modules_that_need_whole_regions_or_households_refuse_a_cut():
    sc = load_scenario("national-blacklist", [
        "modules.dossier.kin_spread_acts=[judgment_refusal]",
        "modules.dossier.kin_spread_probability=0.5"], people=3000, days=3, burn_in=0)
    pop = synthesise(sc.population, sc.seed, 0)
    uids = np.arange(1500)
    with pytest.raises(EngineError) as err:
        Sim(sc, population=restrict(pop, uids), uids=uids)
    message = str(err.value)
    for fragment in ("appeals: each region's board serves the whole region, and the "
                     "partition cuts 4 region(s)",
                     "sanctions: household measures reach housemates, exchanged only for "
                     "households cut by a region boundary, and the partition cuts",
                     "harm: household measures reach housemates (harm's shadow E), "
                     "exchanged only",
                     "dossier: records spread to kin, and the partition cuts",
                     "attitudes: each region's mean approval is over the whole region",
                     "attitudes: needs the national figure 'attitudes.log_income_mean'",
                     "officials: each region's officials serve and report on the whole "
                     "region",
                     "central_authority: needs the national figure 'regions.size'",
                     "firms: each firm is counted by the partition holding its region",
                     "market: a buyer's candidates are the sellers of the buyer's region",
                     "firm_metrics: needs the national figure 'regions.size'"):
        assert fragment in message, message
    everyone = np.arange(3000)  # a partition that cuts nothing: the same settings run
    sim = Sim(sc, population=restrict(pop, everyone), uids=everyone,
              national=national_figures(sc, pop))
    assert sim.world.national["attitudes.log_income_sd"] > 0
    assert sim.world.national["regions.size"].sum() == 3000
    whole = synthesise(sc.population, sc.seed, 0)
    whole.counts["people"] = 1500  # a partition's size, but not made by restrict
    with pytest.raises(ValueError, match="must say how many people.region, people.household"):
        Sim(sc, population=whole, uids=uids)


def test_every_region_is_owned_by_exactly_one_partition_even_an_empty_one():
    """Regions' officials and firms are run for the record by the partition holding the
    region; a region with no one in it goes with the partition holding uid 0 — else its
    officials' and firms' figures would be counted by none (or by all)."""
    sc = load_scenario("baseline", [
        "modules.market.enabled=false", "population.regions=6",
        "population.groups.majority.region_weights=[1,0,1,1,1,0]",
        "population.groups.minority.region_weights=[1,0,1,1,1,0]"],
        people=3000, days=2, burn_in=0)
    pop = synthesise(sc.population, sc.seed, 0)
    region = pop.arrays["people.region"]
    assert (np.bincount(region, minlength=6)[[1, 5]] == 0).all()
    national = national_figures(sc, pop)
    owned, holds_first = [], []
    for block in ([0, 1, 5], [2], [3, 4]):
        uids = np.flatnonzero(np.isin(region, block))
        sim = Sim(sc, population=restrict(pop, uids), uids=uids, national=national)
        view = sim.views[[m.name for m in sim.modules].index("officials")]
        owned.append(view.own_regions())
        holds_first.append(uids[0] == 0)
    assert (np.sum(owned, axis=0) == 1).all()
    first = owned[holds_first.index(True)]
    assert first[1] and first[5]


def test_a_partition_keeps_its_own_people_of_a_national_draw():
    from benchmarks.partitioned import builtin

    part = builtin.Partition(3000, 2, [1, 3])
    view = part.sim.views[0]
    uids = part.uids
    asked = np.array([0, uids[0], uids[0] + 1, uids[5], uids[-1], 2999])
    rows = view.rows_here(asked)
    assert np.array_equal(uids[rows], asked[np.isin(asked, uids)])
    assert view.rows_here(np.empty(0, dtype=np.int64)).size == 0
    whole = builtin.Partition(3000, 2, None)
    assert np.array_equal(whole.sim.views[0].rows_here(asked), asked)


def test_straddling_households_are_those_with_members_in_two_regions():
    from scslab.core.housemates import STRADDLING, straddling_households

    sc = load_scenario("national-blacklist", ["population.household_mean_size=6"],
                       people=5000, days=1, burn_in=0)
    pop = synthesise(sc.population, sc.seed, 0)
    household, region = pop.arrays["people.household"], pop.arrays["people.region"]
    pairs = np.unique(np.stack([household, region]), axis=1)
    ids, regions = np.unique(pairs[0], return_counts=True)
    expected = ids[regions > 1]
    got = straddling_households(pop)[STRADDLING]
    assert expected.size >= 2 and np.array_equal(got[0], expected)
    assert np.array_equal(got[1], np.bincount(household)[expected])


def test_household_measures_reach_housemates_across_the_cut_only_through_the_exchange():
    """A school restriction reaches a listed person's housemates; the households a region
    boundary cuts (2 here, one at each of the cuts between regions 0|1 and 2|3) have
    members in two partitions. With their list membership exchanged (``households``,
    for the apparatus; ``shadows``, for harm's error-free shadow E) the run is the whole
    run's; without, the sanction-day counts of exactly those households' cells differ —
    and without ``shadows`` the bans still agree (only harm's counts move)."""
    from benchmarks.partitioned import builtin

    people, days, blocks = 20_000, 28, ([0], [1, 2], [3])  # a cut household listed at the end
    variant = "blacklist-households"
    whole = builtin.run_whole(people, days, variant)
    split, _ = builtin.run_in_process(people, days, blocks, variant=variant)
    assert prun.identical(whole, split)
    sc = builtin.scenario(people, days, variant)
    pop = synthesise(sc.population, sc.seed, 0)
    cut = np.isin(pop.arrays["people.household"],
                  national_figures(sc, pop)["households.straddling"][0])
    cells = np.unique(Sim(sc, population=pop).world.arrays["people.cell"][cut])
    for only in ("households", "shadows"):
        alone, _ = builtin.run_in_process(people, days, blocks, exchange=False,
                                          variant=variant, only=(only,))
        moved = np.flatnonzero((alone["counters"] != whole["counters"]).any(axis=(0, 1)))
        assert moved.size and set(moved) <= set(cells), (only, moved, cells)
        assert (alone["people.bans"] == whole["people.bans"]).all() == (only == "shadows")


def test_neighbours_listings_cross_partitions_only_through_the_exchange():
    """Handing each partition only its own people's listings (records and network
    events still exchanged) changes the perceived sanction (learning) and the approval
    (attitudes: a publicly named neighbour) of people whose listed neighbour lives
    across the cut (and, through their trades, of a few more): a small share."""
    from benchmarks.partitioned import builtin

    people, days = 30_000, 60
    whole = builtin.run_whole(people, days, "rongcheng-stress")
    alone, _ = builtin.run_in_process(people, days, ([0, 1], [2, 3]), exchange=False,
                                      variant="rongcheng-stress", only=("listings",))
    differ = alone["people.perceived_sanction"] != whole["people.perceived_sanction"]
    assert 0 < differ.sum() < 1000  # the neighbours across the cut, and through the
    named = alone["people.approval"] != whole["people.approval"]  # market a few more
    assert 0 < named.sum() < 1000


def _filed(part, day: int) -> list[np.ndarray]:
    """The records a partition filed on ``day``, in filing order: subject uid, act,
    source, kind."""
    chunk, _ = part.sim.world.dossier.day_records(day)
    return [part.uids[chunk["subject"].astype(np.int64)], chunk["act"], chunk["source"],
            chunk["kind"]]


@pytest.mark.parametrize("variant", ["rongcheng", "rongcheng-stress"])
def test_records_naming_people_elsewhere_are_routed_and_filed_in_the_whole_run_s_order(variant):
    """Misattributed and fabricated records name people anywhere, and a fabricating
    source's day is shuffled over its whole batch: each partition files exactly the
    whole run's records about its people, day by day, in the whole run's order — routed
    and fabricated ones included (without the records exchange some are missing)."""
    from benchmarks.partitioned import builtin

    people, days = 30_000, 40
    whole = builtin.Partition(people, days, None, variant)
    parts = [builtin.Partition(people, days, b, variant) for b in ([0, 1], [2, 3])]
    assert parts[0].points == ["officials", "market", "records", "listings", "network"]
    routed = 0
    for day in range(days):
        whole.sim.step()
        want = _filed(whole, day)
        handed = [None, None]
        for point in parts[0].points:
            got = [p.advance(h, point) for p, h in zip(parts, handed, strict=True)]
            routed += sum(builtin.size(point, g) for g in got) if point == "records" else 0
            handed = [(point, builtin.GATHER[point](got))] * 2
        for p, h in zip(parts, handed, strict=True):
            p.advance(h, None)
        for p in parts:
            mine = np.isin(want[0], p.uids)
            for column, have in zip(want, _filed(p, day), strict=True):
                assert np.array_equal(column[mine], have), day
    assert routed > 5
    split, _ = builtin.run_in_process(people, days, ([0, 1], [2, 3]), exchange=False,
                                      variant=variant, only=("records",))
    index = whole.sim.world.counters.index["records_misattributed"]
    assert split["counters"][:, index].sum() < whole.sim.world.counters.history[:, index].sum()


def test_many_wrong_records_split_by_region_equal_the_whole_run():
    """rongcheng with hundreds of fabricated records (two sources, each day's batch
    shuffled) and more misattribution: 2 and 3 partitions equal the whole run."""
    from benchmarks.partitioned import builtin

    people, days = 30_000, 90
    whole = builtin.run_whole(people, days, "rongcheng-stress")
    part = builtin.Partition(2000, 2, None, "rongcheng-stress")  # where the counters sit
    index = part.sim.world.counters.index
    assert whole["counters"][:, index["records_fabricated"]].sum() > 200
    assert whole["counters"][:, index["false_sanction_days"]].sum() > 0
    # officials at work: corrupt acts, detections, suspensions, rewards on reports; firms
    # with records dropped for bribes, loans and contracts
    for counter in ("corrupt_acts", "corrupt_acts_detected", "region_rewards",
                    "firm_records_dropped", "credit_lent", "procurement_contracts"):
        assert whole["counters"][:, index[counter]].sum() > 0, counter
    assert (whole["officials.suspended_until"] != whole["officials.suspended_until"].max()).any()
    for blocks in (([0, 1], [2, 3]), ([0], [3], [1, 2])):
        split, _ = builtin.run_in_process(people, days, blocks, variant="rongcheng-stress")
        assert prun.identical(split, whole), blocks


def test_every_partition_holds_every_firm_as_the_whole_run_does(monkeypatch):
    """Firms are run in every partition alike (draws keyed by firm; the national credit
    rationing over all firms) and counted by the one holding their region: at the end
    each partition's every firm — score, listing, loan, last violation — is the whole
    run's, and so are the corporate score's AUCs over all firms. What other partitions'
    officials did to them comes only through the officials exchange: each partition's
    own reckoning of other regions' officials (who are suspended differs, as their
    residents' bribes are elsewhere) drops other records and presses the banks otherwise
    (here the pressure flips no loan; kept, the dropped records move scores)."""
    from benchmarks.partitioned import builtin

    from scslab.modules.apparatus.officials import Officials

    people, days = 30_000, 90
    whole = builtin.Partition(people, days, None, "rongcheng-stress")
    whole.run()
    names = builtin.OWNED["firms"][2]
    want = {name: whole.sim.world.arrays[name] for name in names}
    suspended = whole.sim.world.arrays["officials.suspended_until"]
    parts = [builtin.Partition(people, days, b, "rongcheng-stress") for b in ([0, 1], [2, 3])]
    builtin.run_days(parts, days)
    aucs = {k: whole.sim.final_metrics[k]
            for k in ("corporate_score_auc", "corporate_score_auc_misconduct")}
    assert all(v is not None for v in aucs.values())  # loans matured, windows closed
    history, index = whole.sim.world.counters.history, whole.sim.world.counters.index
    for counter in ("firm_listed_days", "firm_loans_matured", "firm_loans_defaulted",
                    "procurement_blocked"):  # firms listed, loans repaid and defaulted
        assert history[:, index[counter]].sum() > 0, counter
    for p in parts:
        for name in names:
            assert np.array_equal(p.sim.world.arrays[name], want[name]), name
        assert {k: p.sim.final_metrics[k] for k in aucs} == aucs  # over every firm
        # other regions' officials: not the whole run's (so the exchange is needed)
        assert (p.sim.world.arrays["officials.suspended_until"] != suspended).any()
    receive = Officials.receive_firm_figures
    differ = {"regions.lending_pressure": 0, "firms.withdrawn_bits": 0}

    def seen(self, world, figures):  # each partition's own reckoning against the owners'
        for name, own in (("regions.lending_pressure", self.own),
                          ("firms.withdrawn_bits", self.own_firm)):
            differ[name] += int((world.array(name)[~own] != figures[name][~own]).sum())
        receive(self, world, figures)

    def own_reckoning_of_dropped_records(self, world, figures):
        kept = np.where(self.own_firm, 0, world.array("firms.withdrawn_bits"))
        receive(self, world, {**figures, "firms.withdrawn_bits": kept})

    monkeypatch.setattr(Officials, "receive_firm_figures", seen)
    builtin.run_days([builtin.Partition(people, days, b, "rongcheng-stress")
                      for b in ([0, 1], [2, 3])], days)
    assert all(count > 0 for count in differ.values()), differ  # both must cross
    monkeypatch.setattr(Officials, "receive_firm_figures", own_reckoning_of_dropped_records)
    parts = [builtin.Partition(people, days, b, "rongcheng-stress") for b in ([0, 1], [2, 3])]
    builtin.run_days(parts, days)  # other regions' firms get other points back
    assert any(not np.array_equal(p.sim.world.arrays["firms.cscore"], want["firms.cscore"])
               for p in parts)


def test_the_market_learns_from_the_nation_s_day_only_through_the_exchange(monkeypatch):
    """Buyers check the public score by market-wide beliefs learned from every trade of
    the day, and a firm's complaints come from its region's buyers: handed only its own
    counts and complaints, a partition checks, trades and scores otherwise. Its fraud
    acts come in queue order (the buyers' keyed priority), not by uid: merged by module
    and uid alone, the network events are not the whole run's."""
    from benchmarks.partitioned import builtin

    people, days = 30_000, 60
    whole = builtin.run_whole(people, days, "rongcheng-stress")
    index = builtin.Partition(2000, 2, None, "rongcheng-stress").sim.world.counters.index
    for counter in ("market_trades", "market_frauds", "market_checks", "market_complaints",
                    "market_complaints_malicious"):
        assert whole["counters"][:, index[counter]].sum() > 0, counter
    alone, _ = builtin.run_in_process(people, days, ([0, 1], [2, 3]), exchange=False,
                                      variant="rongcheng-stress", only=("market",))
    column = index["market_checks"]
    assert not np.array_equal(alone["counters"][:, column], whole["counters"][:, column])
    assert not np.array_equal(alone["firms.cscore"], whole["firms.cscore"])
    def by_uid(events):
        uid, slot, target, rank, _, _ = (np.concatenate(col) for col in zip(*events,
                                                                              strict=True))
        order = np.lexsort((uid, rank))
        return uid[order], slot[order], target[order]

    monkeypatch.setitem(builtin.GATHER, "network", by_uid)
    unordered, _ = builtin.run_in_process(people, days, ([0, 1], [2, 3]),
                                          variant="rongcheng-stress")
    assert not prun.identical(unordered, whole)


@pytest.mark.parametrize("share", [1e-4, 0.0])
def test_a_partition_with_no_sellers_of_its_own_counts_its_buyers(share, monkeypatch):
    """Whether anyone sells is a national figure: a partition whose regions have no
    seller (firms not selling, few people) still serves — and counts — its buyers when
    the nation has sellers, and none when it has none, as the whole run does."""
    from benchmarks.partitioned import builtin

    monkeypatch.setitem(builtin.VARIANTS, "few-sellers", ("baseline", (), (
        "modules.market.firms_sell=false", f"modules.market.seller_share={share}")))
    people, days = 30_000, 30
    whole = builtin.run_whole(people, days, "few-sellers")
    parts = [builtin.Partition(people, days, b, "few-sellers") for b in ([0, 1], [2, 3])]
    sellers = [int(p.sim.world.arrays["people.seller"].sum()) for p in parts]
    assert min(sellers) == 0 and (max(sellers) > 0) == (share > 0)
    split, _ = builtin.run_in_process(people, days, ([0, 1], [2, 3]), variant="few-sellers")
    assert prun.identical(split, whole)


def test_the_market_refuses_what_crosses_and_is_not_exchanged():
    sc = load_scenario("baseline", ["modules.market.local=false",
                                    "modules.market.complaint_misattribution=0.1"],
                       people=3000, days=2, burn_in=0)
    pop = synthesise(sc.population, sc.seed, 0)
    uids = np.flatnonzero(pop.arrays["people.region"] < 2)
    with pytest.raises(EngineError) as err:
        Sim(sc, population=restrict(pop, uids), uids=uids, national=national_figures(sc, pop))
    message = str(err.value)
    assert "market: candidates come from the whole nation (local: false)" in message
    assert "market_complaints: a misattributed complaint names a seller anywhere" in message


def test_regions_are_rewarded_on_everyone_s_reports_only_through_the_exchange(monkeypatch):
    """The central authority rewards a region on its reported rate against the national
    mean of every region's reports: a partition handed only its own regions' reports
    (0 elsewhere) pays other rewards (and one handed none stops at the authority's turn:
    test_a_partition_that_skips_an_exchange_stops)."""
    from benchmarks.partitioned import builtin

    from scslab.modules.apparatus.officials import CentralAuthority

    people, days = 30_000, 30
    whole = builtin.run_whole(people, days, "rongcheng-stress")
    index = builtin.Partition(2000, 2, None, "rongcheng-stress").sim.world.counters.index
    column = index["region_rewards"]
    receive = CentralAuthority.receive_reports
    monkeypatch.setattr(CentralAuthority, "receive_reports",
                        lambda self, reported: receive(self, np.where(self.own, reported, 0)))
    split, _ = builtin.run_in_process(people, days, ([0, 1], [2, 3]),
                                      variant="rongcheng-stress")
    assert not np.allclose(split["counters"][:, column], whole["counters"][:, column])
    # regions.reward is read by no module: nothing else moves
    assert all(np.array_equal(split["counters"][:, i], whole["counters"][:, i])
               for k, i in index.items() if k != "region_rewards")
