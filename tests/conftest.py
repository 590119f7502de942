"""Shared fixtures: small scenarios that run in well under a second."""

from __future__ import annotations

import pytest

from helpers import small


@pytest.fixture
def small_scenario():
    return small()


@pytest.fixture
def noisy_scenario():
    """Frequent records with misattribution and fabrication, so the truth matters."""
    return small(sets=["sources.court.coverage=0.9", "sources.court.misattribution=0.2",
                       "sources.court.fabrication_rate=0.001",
                       "sources.court.sees=[fraud, traffic, littering, judgment_unable]"])
