"""Truth rows are dropped with the records they back (dossier retention), and dropping them
changes no output: the truth store does not grow for the whole run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import small
from scslab.core.world import TruthStore
from scslab.run.engine import Sim

RETAIN = ["modules.dossier.retention_days=10"]


def _run() -> Sim:
    return Sim(small(people=1000, days=30, burn_in=0, sets=RETAIN)).run()


@pytest.fixture(scope="module")
def kept() -> Sim:
    return _run()


def test_truth_is_dropped_with_the_records_it_backs(kept):
    w = kept.world
    assert w.dossier.first_kept_day > 0
    assert w.truth.chunks and min(w.truth.chunks) >= w.dossier.first_kept_day


def test_dropping_truth_changes_no_output(kept, monkeypatch):
    monkeypatch.setattr(TruthStore, "drop_before", lambda self, day: None)
    grown = _run()
    assert min(grown.world.truth.chunks) < kept.world.dossier.first_kept_day  # ablation
    a, b = kept.results().replicates[0], grown.results().replicates[0]
    assert json.dumps(a.summary, sort_keys=True) == json.dumps(b.summary, sort_keys=True)
    assert a.series.keys() == b.series.keys()
    for k in a.series:
        assert np.asarray(a.series[k]).tobytes() == np.asarray(b.series[k]).tobytes(), k
