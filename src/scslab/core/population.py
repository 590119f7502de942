"""Synthetic people, firms and officials as structure-of-arrays, and a social network.

A new population is drawn for each replicate from the stream ``population`` with
``instance = replicate``; every scenario in a comparison with the same seed and
population block therefore shares it. Equations and defaults: ``docs/model.md``
(Population) and ``docs/parameters.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np

from scslab.core.declarations import ArraySpec
from scslab.core.layouts import dtype
from scslab.core.scenario_schema import PopulationSpec
from scslab.numerics.csr import csr_from_sorted_pairs, gather
from scslab.numerics.logistic import logit, sigmoid_in_place
from scslab.numerics.rng import AliasTable, SlotLayout, Stream
from scslab.numerics.sets import priority_order_by_bucket

OWNER = "population"
LAYOUT = SlotLayout((("attribute", 8), ("part", 8)))

# Semantic slots of the population stream (attribute codes; never renumber).
A_GROUP, A_REGION, A_SEX, A_INCOME, A_HONESTY, A_PRIVACY = 1, 2, 3, 4, 5, 7
# slots 6, 8, 9 were risk aversion, dissent and trust (removed: no mechanism read them);
# they stay unused so that every other attribute keeps its draws
A_AWARE, A_HOUSEHOLD_ORDER, A_HOUSEHOLD_SIZE = 10, 11, 12
A_NET_ORDER, A_NET_REWIRE, A_NET_TARGET = 13, 14, 15
A_FIRM_REGION, A_FIRM_SOE, A_FIRM_SIZE, A_FIRM_PROD, A_FIRM_COMPLIANCE = 20, 21, 22, 23, 24
A_OFF_INTEGRITY, A_OFF_DISCRETION = 30, 31

PEOPLE_ARRAYS: tuple[ArraySpec, ...] = (
    ArraySpec("people.group", "code", "people", False, "group index (scenario order)"),
    ArraySpec("people.sex", "code", "people", False, "0 male, 1 female"),
    ArraySpec("people.region", "code", "people", False, "region index"),
    ArraySpec("people.cell", "cell", "people", False, "group × n_regions + region (metric cell)"),
    ArraySpec("people.income", "money", "people", False, "daily income, median = 1"),
    ArraySpec("people.household", "uid", "people", False, "household id"),
    ArraySpec("people.honesty", "prob", "people", True, "intrinsic honesty (moral cost)"),
    ArraySpec("people.privacy_concern", "prob", "people", True, "privacy concern"),
    ArraySpec("people.aware", "flag", "people", True, "knows the system exists"),
)
NETWORK_ARRAYS: tuple[ArraySpec, ...] = (
    ArraySpec("people.net_offsets", "link_offset", "people+1", True, "CSR offsets of the network"),
    ArraySpec("links.neighbour", "uid", "links", True, "CSR neighbour lists"),
)
FIRM_ARRAYS: tuple[ArraySpec, ...] = (
    ArraySpec("firms.region", "code", "firms", False, "region"),
    ArraySpec("firms.state_owned", "flag", "firms", False, "state-owned enterprise"),
    ArraySpec("firms.size", "money", "firms", False, "size (employees / 10, lognormal)"),
    ArraySpec("firms.productivity", "prob", "firms", True, "productivity (relative, truth)"),
    ArraySpec("firms.compliance", "prob", "firms", True, "compliance propensity"),
)
OFFICIAL_ARRAYS: tuple[ArraySpec, ...] = (
    ArraySpec("officials.region", "code", "officials", False, "region served"),
    ArraySpec("officials.integrity", "prob", "officials", True, "integrity"),
    ArraySpec("officials.discretion", "prob", "officials", False, "discretion of the post"),
)
ALL_ARRAYS = PEOPLE_ARRAYS + NETWORK_ARRAYS + FIRM_ARRAYS + OFFICIAL_ARRAYS


#: the groupings a partition may cut (``restrict``): modules that act on a whole region or
#: household check ``Population.split`` before running on a partition
GROUPINGS = ("people.region", "people.household")


@dataclass
class Population:
    counts: dict[str, int]
    arrays: dict[str, np.ndarray]
    #: a partition's (``restrict``): for each of ``GROUPINGS``, how many of its groups
    #: with people here also have people elsewhere; empty for a whole population
    split: dict[str, int] = field(default_factory=dict)
    #: the replicate it was drawn for: national figures that redo a module's draw over
    #: everyone (``Module.national_figures``) key it as the run does
    replicate: int = 0


def _logistic_normal(stream: Stream, attr: int, uids: np.ndarray, centre, sd: float):
    """sigmoid(centre + sd·z), ``centre`` a logit (per person: an array), computed in place
    (IEEE + and × commute: the same bits) — no float64 temporaries of everyone."""
    z = stream.normal(0, LAYOUT.pack(attribute=attr), uids)
    z *= sd
    z += centre
    return sigmoid_in_place(z).astype(dtype("prob"))


def synthesise(spec: PopulationSpec, seed: int, replicate: int) -> Population:
    """Draw one population. Vectorised; no loop over people."""
    n = spec.people
    people = np.arange(n, dtype=np.int64)
    st = Stream(seed, "population", replicate, LAYOUT)
    names = list(spec.groups)
    groups = list(spec.groups.values())
    R = spec.regions

    group = st.choice(0, LAYOUT.pack(attribute=A_GROUP), people,
                      AliasTable.from_weights([g.share for g in groups])).astype(dtype("code"))
    region = np.empty(n, dtype=dtype("code"))
    for g, gs in enumerate(groups):  # a loop over groups, not people
        members = np.flatnonzero(group == g)
        weights = gs.region_weights or [1.0] * R
        region[members] = st.choice(
            0, LAYOUT.pack(attribute=A_REGION, part=g), members, AliasTable.from_weights(weights)
        )
    sex = st.bernoulli(0, LAYOUT.pack(attribute=A_SEX), people, spec.female_share)
    z = st.normal(0, LAYOUT.pack(attribute=A_INCOME), people)
    log_income = spec.income_sigma * z
    log_income += np.log(np.array([g.income_multiplier for g in groups]))[group]
    if spec.region_income is not None:
        log_income += np.log(np.asarray(spec.region_income))[region]
    income = np.exp(log_income - np.median(log_income)).astype(dtype("money"))

    t = spec.traits
    aware_p = np.array(
        [t.awareness if g.awareness is None else g.awareness for g in groups]
    )[group]
    arrays = {
        "people.group": group,
        "people.sex": sex.astype(dtype("code")),
        "people.region": region,
        "people.cell": (group.astype(np.int64) * R + region).astype(dtype("cell")),
        "people.income": income,
        "people.honesty": _logistic_normal(st, A_HONESTY, people, logit(np.array(
            [t.honesty_mean if g.honesty_mean is None else g.honesty_mean for g in groups]
        ))[group], t.honesty_sd),
        "people.privacy_concern": _logistic_normal(st, A_PRIVACY, people,
                                                   logit(t.privacy_concern_mean), t.trait_sd),
        "people.aware": st.bernoulli(0, LAYOUT.pack(attribute=A_AWARE), people, aware_p),
    }
    del people, log_income, z, aware_p, members  # not needed past the traits: keep the network's peak low
    arrays["people.household"] = _households(st, region, group, spec.household_mean_size)
    offsets, neighbours = _network(st, region, group, spec.network.degree, spec.network.homophily)
    arrays["people.net_offsets"] = offsets
    arrays["links.neighbour"] = neighbours

    n_firms = int(round(n * spec.firms_per_1000 / 1000.0))
    firms = np.arange(n_firms, dtype=np.int64)
    fs = Stream(seed, "population.firms", replicate, LAYOUT)
    arrays.update({
        "firms.region": fs.choice(0, LAYOUT.pack(attribute=A_FIRM_REGION), firms,
                                  AliasTable.from_weights([1.0] * R)).astype(dtype("code")),
        "firms.state_owned": fs.bernoulli(0, LAYOUT.pack(attribute=A_FIRM_SOE), firms,
                                          spec.state_owned_share),
        "firms.size": np.exp(1.0 * fs.normal(0, LAYOUT.pack(attribute=A_FIRM_SIZE), firms))
        .astype(dtype("money")),
        "firms.productivity": _logistic_normal(fs, A_FIRM_PROD, firms, logit(0.5), 1.0),
        "firms.compliance": _logistic_normal(fs, A_FIRM_COMPLIANCE, firms, logit(0.8), 1.0),
    })
    n_off = R * spec.officials_per_region
    officials = np.arange(n_off, dtype=np.int64)
    os_ = Stream(seed, "population.officials", replicate, LAYOUT)
    arrays.update({
        "officials.region": (officials // max(spec.officials_per_region, 1)).astype(dtype("code")),
        "officials.integrity": _logistic_normal(os_, A_OFF_INTEGRITY, officials, logit(0.7),
                                                  1.0),
        "officials.discretion": os_.uniform(0, LAYOUT.pack(attribute=A_OFF_DISCRETION), officials)
        .astype(dtype("prob")),
    })
    counts = {"people": n, "links": int(neighbours.size), "firms": n_firms,
              "officials": n_off, "regions": R, "groups": len(names)}
    return Population(counts=counts, arrays=arrays, replicate=replicate)


def _homophily_order(st: Stream, attr: int, region: np.ndarray, group: np.ndarray) -> np.ndarray:
    """People sorted by region, then group, then a keyed random priority."""
    people = np.arange(region.size, dtype=np.int64)
    key = st.priority(0, LAYOUT.pack(attribute=attr), people)
    return priority_order_by_bucket(key, region.astype(np.int64) * 256 + group)


def _households(st: Stream, region, group, mean_size: float) -> np.ndarray:
    """Cut the homophily order into consecutive households of size 1 + Poisson(mean − 1)."""
    n = region.size
    order = _homophily_order(st, A_HOUSEHOLD_ORDER, region, group)
    n_max = n  # at most n households
    sizes = 1 + st.poisson(0, LAYOUT.pack(attribute=A_HOUSEHOLD_SIZE),
                           np.arange(n_max, dtype=np.int64), mean_size - 1.0)
    # position i belongs to household h when ends[h - 1] <= i < ends[h]: the households
    # that start before n, each number repeated its size, cut at n (what a searchsorted of
    # every position in the ends gives, in one pass)
    ends = np.cumsum(sizes)
    used = int(np.searchsorted(ends, n, side="left")) + 1
    del ends
    position_household = np.repeat(np.arange(used, dtype=np.int64), sizes[:used])[:n]
    household = np.empty(n, dtype=dtype("uid"))
    household[order] = position_household.astype(dtype("uid"))
    return household


@nb.njit(cache=True)
def _link_codes(order, j, rewire, target, pair, m):  # pragma: no cover - compiled
    """Each person's link to the one ``j`` places on in the homophily order (or, rewired,
    to ``target``), both directions as codes ``a × n + b`` from ``pair[m]`` on, self-links
    dropped; returns the new end. One pass, no people-sized temporaries; the codes are
    sorted afterwards, so the order they are written in does not matter."""
    n = order.shape[0]
    for i in range(n):
        a = order[i]
        ahead = i + j  # (i + j) mod n without a division: j < n
        if ahead >= n:
            ahead -= n
        b = target[i] if rewire[i] else order[ahead]
        if a != b:
            pair[m] = a * n + b
            pair[m + 1] = b * n + a
            m += 2
    return m


def _network(st: Stream, region, group, degree: int, homophily: float):
    """Small-world network with homophily, in CSR arrays.

    A ring lattice over the homophily order (people of one region and group are
    neighbours in it) links each person to the next ``degree / 2``; each link is
    rewired to a uniformly random person with probability ``1 − homophily``
    (Watts & Strogatz 1998 rewiring over a sorted ring). Links are then symmetrised
    and de-duplicated.
    """
    n = region.size
    if degree == 0 or n < 2:
        return np.zeros(n + 1, dtype=dtype("link_offset")), np.empty(0, dtype=dtype("uid"))
    order = _homophily_order(st, A_NET_ORDER, region, group)
    half = min(degree // 2, n - 1)
    # Both directions of every kept link as one code ``a × n + b``, written straight into
    # one array (no per-offset lists and concatenations: the build's peak memory is this
    # array plus the CSR it becomes).
    pair = np.empty(2 * half * n, dtype=np.int64)
    m = 0
    for j in range(1, half + 1):  # a loop over link offsets, not people
        # the link ordinal j is the semantic part of the slot; the uid is the person
        rewire = st.bernoulli(0, LAYOUT.pack(attribute=A_NET_REWIRE, part=j), order,
                              1.0 - homophily)
        random_target = st.below(0, LAYOUT.pack(attribute=A_NET_TARGET, part=j), order, n)
        m = _link_codes(order, j, rewire, random_target, pair, m)
        del rewire, random_target
    del order
    pair = pair[:m]
    pair.sort()  # in place; duplicates (a link drawn twice) end up adjacent
    return csr_from_sorted_pairs(pair, n, dtype("link_offset"), dtype("uid"))


def check_uids(uids: np.ndarray, population: int) -> np.ndarray:
    """The global uids of a partition's people, checked — integers, one dimension, each a
    uid of the population (``0 … population − 1``), increasing (rows in uid order) — as
    a read-only int64 array; ``ValueError`` naming the first check that fails."""
    uids = np.asarray(uids)
    if not np.issubdtype(uids.dtype, np.integer) or uids.ndim != 1:
        raise ValueError(f"uids: one dimension of integers expected, got {uids.dtype} of "
                         f"shape {uids.shape}")
    if uids.size and (uids.min() < 0 or uids.max() >= population):
        raise ValueError(f"uids: each must be a uid of the population, 0 … {population - 1:,}")
    if np.any(np.diff(uids) <= 0):
        raise ValueError("uids: must be increasing uids of the population (the partition's "
                         "rows in uid order)")
    out = uids.astype(np.int64)
    out.flags.writeable = False
    return out


def restrict(pop: Population, uids: np.ndarray) -> Population:
    """The people ``uids`` (increasing global uids) of ``pop``, for a partition of a run
    (``Sim(population=..., uids=...)``): their rows of every people array, their network
    rows (every ``links`` array) with the neighbours' *global* uids — a neighbour may live
    in another partition; firms and officials whole; and how many regions and households
    the partition cuts (``Population.split``). No loop over people."""
    uids = check_uids(uids, pop.counts["people"])
    off = pop.arrays["people.net_offsets"]
    arrays, degree = {}, np.zeros(uids.size, dtype=np.int64)
    for spec in ALL_ARRAYS:
        values = pop.arrays[spec.name]
        if spec.entity == "links":
            arrays[spec.name], degree = gather(off, values, uids)
        elif spec.entity == "people":
            arrays[spec.name] = values[uids]
        elif spec.entity != "people+1":  # the CSR offsets, made from the degrees below
            arrays[spec.name] = values
    offsets = np.zeros(uids.size + 1, dtype=off.dtype)
    np.cumsum(degree, out=offsets[1:])
    arrays["people.net_offsets"] = offsets
    counts = dict(pop.counts, people=int(uids.size), links=int(offsets[-1]))
    return Population(counts=counts, arrays=arrays, replicate=pop.replicate,
                      split={name: split_groups(pop.arrays[name], uids) for name in GROUPINGS})


#: what a partition that cuts a grouping should do instead, by grouping
WHOLE = {"people.region": ("region", "partition by whole regions"),
         "people.household": ("household", "cut on household borders")}


def cut_refusal(split: dict[str, int], grouping: str, needs: str,
                otherwise: str = "") -> str | None:
    """A module's refusal of a partition that cuts groups it needs whole
    (``Module.partition_problem``): None if ``split`` (``Population.split``) cuts none of
    ``grouping``'s groups, else one line — what the module ``needs`` them for, how many
    are cut, and what to do (``otherwise``: a setting that avoids the need)."""
    cut = split[grouping]
    if not cut:
        return None
    noun, remedy = WHOLE[grouping]
    return (f"{needs}, and the partition cuts {cut} {noun}(s) ({remedy}"
            f"{', or ' + otherwise if otherwise else ''})")


#: the national figure of the modules that own regions' officials and firms on a
#: partition: every region's number of people (:func:`region_sizes`, ``View.own_regions``)
REGION_SIZES = "regions.size"


def region_sizes(population: Population) -> dict[str, np.ndarray]:
    """Every region's number of people, as the national figure ``REGION_SIZES``
    (``Module.national_figures``)."""
    return {REGION_SIZES: np.bincount(population.arrays["people.region"],
                                      minlength=population.counts["regions"])
            .astype(np.float64)}


def log_incomes(income: np.ndarray) -> np.ndarray:
    """Each person's log income, float64 (a new array, computed in place)."""
    z = income.astype(np.float64)
    np.log(z, out=z)
    return z


def log_income_moments(logs: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation (at least 1e-12) of log incomes — over everyone, in a
    partition's run as in an ordinary one (``Module.national_figures``)."""
    return float(logs.mean()), float(max(logs.std(), 1e-12))


def split_groups(group: np.ndarray, uids: np.ndarray) -> int:
    """How many groups (``group``: each person's, over the whole population) have people
    both among ``uids`` and outside them."""
    everyone = np.bincount(group)
    here = np.bincount(group[uids], minlength=everyone.size)
    return int(np.count_nonzero((here > 0) & (here < everyone)))
