"""Fuzz the scenario loader (Hypothesis): random YAML files and random ``--set`` values.

Every outcome is a success or one line on stderr with exit status 2 — never a traceback
— within a time bound per example and a bound on memory growth over the whole run.
In-process through the CLI's ``main`` (fast), plus subprocess cases in
``test_exit_codes.py`` / ``test_fail_early.py`` for the real entry point.
"""

from __future__ import annotations

import resource
import time

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scslab.cli import main

KEYS = ["extends", "name", "description", "seed", "population", "people", "groups",
        "minority", "majority", "share", "network", "degree", "time", "days", "burn_in",
        "acts", "traffic", "fraud", "rate", "code", "sources", "court", "coverage", "sees",
        "modules", "learning", "behaviour", "enabled", "dossier", "visibility", "x"]
PATHS = ["population.people", "population.network.degree", "time.days", "time.burn_in",
         "seed", "acts.traffic.rate", "acts.fraud.code", "sources.court.coverage",
         "sources.court.sees", "modules.learning.enabled", "modules.dossier.visibility",
         "population.groups.minority.share", "name", "extends", "modules.nope.x",
         "population", "acts", "acts.traffic", ".", "a..b", ""]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["baseline", "rongcheng", "1e6", "-1", "0", "opaque", "[fraud]", "{}"]),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=5)),
    max_leaves=25,
)
documents = st.one_of(
    st.dictionaries(st.sampled_from(KEYS), trees, max_size=6).map(
        lambda d: yaml.safe_dump(d, allow_unicode=True)),
    st.text(alphabet=st.sampled_from(list("abc:{}[]-&*!|>'\"#%@ \n\t,.0123456789e")),
            max_size=200),
    st.tuples(st.sampled_from(["extends: baseline\n", "extends: s.yaml\n", ""]),
              st.dictionaries(st.sampled_from(KEYS), trees, max_size=4)).map(
        lambda t: t[0] + yaml.safe_dump(t[1], allow_unicode=True)),
)
values = st.one_of(
    scalars.map(lambda v: yaml.safe_dump(v, default_flow_style=True).split("\n...")[0]
                .strip()),
    st.text(max_size=30),
)

FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _check(code: int, capsys, started: float) -> None:
    out = capsys.readouterr()
    assert code in (0, 2), (code, out.err)
    if code == 2:
        lines = out.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("scslab: error:"), out.err
    assert "Traceback" not in out.err
    assert time.perf_counter() - started < 10


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@FUZZ
@given(text=documents)
def test_random_scenario_files_never_crash(tmp_path, capsys, text):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    before = _rss_mb()
    started = time.perf_counter()
    _check(main(["show", str(path)]), capsys, started)
    assert _rss_mb() - before < 500


@settings(FUZZ, max_examples=25)
@given(path=st.sampled_from(PATHS), value=values, people=st.sampled_from([None, "1e3", "x"]))
def test_random_overrides_never_crash(capsys, path, value, people):
    started = time.perf_counter()
    args = ["show", "--set", f"{path}={value}"]
    _check(main(args), capsys, started)
    if people is not None:
        started = time.perf_counter()
        _check(main(["run", "--people", people, "--days", "0", "--set", f"{path}={value}"]),
               capsys, started)
