"""Population synthesis: joint distribution, households, network, memory."""

from __future__ import annotations

import numpy as np

from scslab.core.population import PEOPLE_ARRAYS, synthesise
from scslab.scenario import load_scenario


def _pop(people=50_000, replicate=0, sets=()):
    sc = load_scenario("baseline", list(sets), people=people)
    return sc, synthesise(sc.population, sc.seed, replicate)


def test_group_shares_regions_and_income():
    sc, pop = _pop()
    a = pop.arrays
    n = sc.population.people
    share = np.bincount(a["people.group"], minlength=2) / n
    se = np.sqrt(0.9 * 0.1 / n)
    assert abs(share[0] - 0.9) < 5 * se
    minority = a["people.group"] == 1
    region_share = np.bincount(a["people.region"][minority], minlength=4) / minority.sum()
    assert np.allclose(region_share, [0.1, 0.1, 0.2, 0.6], atol=0.03)
    assert abs(np.median(a["people.income"]) - 1.0) < 1e-3  # money unit: median income
    ratio = np.median(a["people.income"][minority]) / np.median(a["people.income"][~minority])
    assert 0.74 < ratio < 0.86  # income_multiplier 0.8
    assert np.array_equal(a["people.cell"], a["people.group"].astype(int) * 4 + a["people.region"])
    honesty = a["people.honesty"]
    assert honesty.dtype == np.float32 and 0 < honesty.min() and honesty.max() < 1
    assert abs(np.median(honesty) - 0.8) < 0.01  # logistic-normal median = mean parameter
    assert abs(a["people.aware"].mean() - 0.11) < 0.01


def test_households_are_small_and_mostly_within_region():
    sc, pop = _pop()
    hh = pop.arrays["people.household"]
    sizes = np.bincount(hh)
    sizes = sizes[sizes > 0]
    assert abs(sizes.mean() - 2.8) < 0.1
    region = pop.arrays["people.region"]
    mixed = np.zeros(hh.max() + 1, dtype=bool)
    first_region = np.full(hh.max() + 1, -1)
    first_region[hh] = region
    mixed[hh[region != first_region[hh]]] = True
    assert mixed.mean() < 0.01  # only households cut at a region boundary


def test_network_is_symmetric_simple_and_homophilous():
    sc, pop = _pop()
    off = pop.arrays["people.net_offsets"]
    nb = pop.arrays["links.neighbour"]
    n = sc.population.people
    src = np.repeat(np.arange(n), np.diff(off))
    assert np.all(src != nb)  # no self-loops
    pairs = set(zip(src.tolist(), nb.tolist(), strict=True))
    assert all((b, a) in pairs for a, b in list(pairs)[:20000])  # symmetric
    assert len(pairs) == nb.size  # no duplicates
    assert 9 < nb.size / n < 11  # mean degree ≈ 10
    group = pop.arrays["people.group"]
    within = (group[src] == group[nb]).mean()
    random_mixing = 0.9**2 + 0.1**2
    assert within > random_mixing + 0.05  # homophily
    same_region = (pop.arrays["people.region"][src] == pop.arrays["people.region"][nb]).mean()
    assert same_region > 0.8


def test_new_population_per_replicate_and_reproducible():
    _, a = _pop(people=5000, replicate=0)
    _, b = _pop(people=5000, replicate=0)
    _, c = _pop(people=5000, replicate=1)
    for k in a.arrays:
        assert np.array_equal(a.arrays[k], b.arrays[k])
    assert not np.array_equal(a.arrays["people.honesty"], c.arrays["people.honesty"])


def test_state_bytes_per_person_before_modules():
    sc, pop = _pop(people=10_000)
    per_person = sum(pop.arrays[s.name].nbytes for s in PEOPLE_ARRAYS) / sc.population.people
    assert per_person <= 64, per_person


def test_firms_and_officials():
    sc, pop = _pop(people=100_000)
    assert pop.counts["firms"] == 1000
    assert pop.counts["officials"] == 4 * 20
    assert abs(pop.arrays["firms.state_owned"].mean() - 0.3) < 0.05
    assert np.array_equal(np.bincount(pop.arrays["officials.region"]), [20, 20, 20, 20])
