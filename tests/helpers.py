"""Helpers shared by tests (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

from scslab.scenario import load_scenario


def small(people: int = 3000, days: int = 60, burn_in: int = 10, sets=(), seed=None):
    """The baseline scenario, small and short."""
    return load_scenario("baseline", list(sets), people=people, days=days, burn_in=burn_in,
                         seed=seed)
