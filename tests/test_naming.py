"""Public naming: buyers avoid publicly named sellers, so the named sell less.

Ablation on common random numbers: the national blacklist with a market, naming on
(``avoided_by_counterparties: true``) against the same scenario with it false — the
blacklisted (named) sellers' trade falls only when naming is on; with it off no slot is
passed over and the run equals one with ``named_avoidance = 0`` bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from scslab.run.engine import Sim
from scslab.scenario import load_scenario

NAMING = "modules.sanctions.measures.public_naming.avoided_by_counterparties"
# a market with many people sellers, so that enough of them are on the debtors' list
MARKET = ["modules.market.enabled=true", "modules.market.seller_share=0.3",
          "modules.debts.initial_debtor_share=0.3"]


def _run(*sets: str) -> Sim:
    sc = load_scenario("national-blacklist", [*MARKET, *sets], people=6000, days=300,
                       burn_in=0)
    return Sim(sc).run()


def _total(sim: Sim, counter: str) -> float:
    return float(sim.world.counters.totals(counter, slice(None)).sum())


@pytest.fixture(scope="module")
def named_on() -> Sim:
    return _run(f"{NAMING}=true")


@pytest.fixture(scope="module")
def named_off() -> Sim:
    return _run(f"{NAMING}=false")


def test_named_sellers_sell_less_only_when_naming_bites(named_on, named_off):
    on, off = named_on.results().summary, named_off.results().summary
    assert _total(named_on, "market_blacklisted_seller_days") > 1000  # enough named seller-days
    assert _total(named_on, "market_named_avoided") > 100
    # naming on: the named sell well under half as much as with naming off (avoidance
    # 0.5 of each of their candidate slots; the freed buyers go to other sellers)
    assert on["blacklisted_trade_rate"] < 0.75 * off["blacklisted_trade_rate"]
    # and fewer trades than sellers who are not named
    assert on["blacklisted_trade_rate"] < 0.8 * on["seller_trade_rate"]
    # the buyers still buy: total trade volume moves by less than 2 %
    assert on["trade_volume"] == pytest.approx(off["trade_volume"], rel=0.02)


def test_without_naming_no_one_is_avoided(named_off):
    assert _total(named_off, "market_named_avoided") == 0
    # naming also teaches the neighbours (learning); with that channel shut, avoidance 0
    # is naming off, bit for bit
    quiet = ["modules.learning.sanction_network_rate=0",
             "modules.learning.neighbour_awareness=0",
             "modules.attitudes.named_neighbour_shift=0"]
    zero = _run(f"{NAMING}=true", "modules.market.named_avoidance=0", *quiet)
    assert _total(zero, "market_named_avoided") == 0
    off = _run(f"{NAMING}=false", *quiet)
    assert np.array_equal(zero.world.counters.history, off.world.counters.history)
