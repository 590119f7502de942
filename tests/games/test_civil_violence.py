"""Epstein civil violence: bursts at NetLogo defaults, cop vision, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from scslab.games.civil_violence import CivilViolenceConfig, count_bursts, simulate


def test_bursts_at_defaults_floored():
    """Punctuated equilibrium: at least 3 outbursts (> 5 % of agents active after < 1 %)
    in 300 ticks, peaks above 15 % of agents, and a quiet median."""
    r = simulate(ticks=300, seed=2002)
    n = r.n_agents
    assert n == 1120
    assert r.bursts() >= 3
    assert r.actives.max() > 0.15 * n
    assert np.median(r.actives) < 0.02 * n
    assert np.all(r.actives + r.jailed + r.quiet == n)


def test_more_cop_vision_fewer_actives():
    near = np.mean([simulate(ticks=200, cop_vision=3, seed=s).mean_actives for s in (1, 2)])
    far = np.mean([simulate(ticks=200, cop_vision=10, seed=s).mean_actives for s in (1, 2)])
    assert far < 0.8 * near


def test_determinism():
    a = simulate(ticks=50, seed=9)
    b = simulate(ticks=50, seed=9)
    c = simulate(ticks=50, seed=10)
    assert np.array_equal(a.actives, b.actives) and np.array_equal(a.jailed, b.jailed)
    assert not np.array_equal(a.actives, c.actives)


def test_epstein_rule_runs_and_legitimacy_matters():
    calm = simulate(ticks=100, arrest_rule="epstein", legitimacy=0.95, seed=1)
    assert calm.actives.max() == 0
    assert simulate(ticks=100, arrest_rule="epstein", legitimacy=0.3, seed=1).actives.max() > 0


def test_count_bursts_hysteresis():
    assert count_bursts(np.array([0, 10, 0, 10, 5, 10, 0]), high=8, low=1, n_agents=100) == 2


def test_config_errors():
    with pytest.raises(ValidationError, match="exceed"):
        CivilViolenceConfig(agent_density=0.9, cop_density=0.2)
    with pytest.raises(ValidationError, match="arrest_rule"):
        CivilViolenceConfig(arrest_rule="floor")
