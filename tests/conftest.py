"""Shared fixtures: small scenarios that run in well under a second."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from helpers import small

HERE = Path(__file__).resolve().parent


@pytest.fixture
def small_scenario():
    return small()


@pytest.fixture
def noisy_scenario():
    """Frequent records with misattribution and fabrication, so the truth matters."""
    return small(sets=["sources.court.coverage=0.9", "sources.court.misattribution=0.2",
                       "sources.court.fabrication_rate=0.001",
                       "sources.court.sees=[fraud, traffic, littering, judgment_unable]"])


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``--dist loadgroup``), the tests that share one of this suite's
    module-scoped fixtures (an expensive run) go to one worker, so the run is made once,
    not once per worker: each gets the group of its test file. A test's own
    ``xdist_group`` mark (e.g. ``pools``, for tests that start their own process pool)
    gives way to that, since the shared run costs more than the overlap."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        shared = any(defs[-1].scope != "function"
                     and Path(inspect.getfile(defs[-1].func)).parent == HERE
                     for name in item.fixturenames
                     if (defs := info.name2fixturedefs.get(name)))
        if shared:
            item.own_markers = [m for m in item.own_markers if m.name != "xdist_group"]
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
