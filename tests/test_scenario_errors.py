"""Bad scenario input: one line naming file, field and reason; exit status 2; no traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from scslab.cli import main

GOOD_PARENT = "extends: baseline\nname: parent\n"


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


# (case id, files {name: text}, argv after 'show', expected fragments in the message)
CASES = [
    ("unknown top-level key", {"s.yaml": "extends: baseline\npopluation: {people: 10}\n"},
     ["s.yaml"], ["s.yaml", "popluation", "unknown key"]),
    ("unknown nested key", {"s.yaml": "extends: baseline\npopulation: {peeple: 10}\n"},
     ["s.yaml"], ["s.yaml", "population.peeple", "unknown key"]),
    ("wrong type", {"s.yaml": "extends: baseline\npopulation: {people: many}\n"},
     ["s.yaml"], ["s.yaml", "population.people", "integer"]),
    ("zero population", {"s.yaml": "extends: baseline\npopulation: {people: 0}\n"},
     ["s.yaml"], ["s.yaml", "population.people", "greater than 0"]),
    ("negative population", {"s.yaml": "extends: baseline\npopulation: {people: -5}\n"},
     ["s.yaml"], ["population.people", "greater than 0"]),
    ("group shares do not sum to 1",
     {"s.yaml": "extends: baseline\npopulation:\n  groups: {majority: {share: 0.5}, minority: {share: 0.3}}\n"},
     ["s.yaml"], ["s.yaml", "population.groups", "sum to 0.8"]),
    ("unknown act named in a source rule",
     {"s.yaml": "extends: baseline\nsources: {court: {sees: [fraudd]}}\n"},
     ["s.yaml"], ["s.yaml", "sources.court.sees", "unknown act 'fraudd'"]),
    ("unknown venue of an act",
     {"s.yaml": "extends: baseline\nacts: {traffic: {venue: moon}}\n"},
     ["s.yaml"], ["s.yaml", "acts.traffic.venue", "unknown venue 'moon'"]),
    ("unknown module", {"s.yaml": "extends: baseline\nmodules: {scoringg: {}}\n"},
     ["s.yaml"], ["s.yaml", "modules.scoringg", "unknown module"]),
    ("unknown module parameter", {"s.yaml": "extends: baseline\nmodules: {behaviour: {speed: 3}}\n"},
     ["s.yaml"], ["s.yaml", "modules.behaviour.speed", "unknown key"]),
    ("probability above one", {"s.yaml": "extends: baseline\nsources: {court: {coverage: 1.5}}\n"},
     ["s.yaml"], ["s.yaml", "sources.court.coverage", "less than or equal to 1"]),
    ("duplicate act code", {"s.yaml": "extends: baseline\nacts: {littering: {code: 1}}\n"},
     ["s.yaml"], ["s.yaml", "acts.", "code 1 is also used"]),
    ("odd network degree", {"s.yaml": "extends: baseline\npopulation: {network: {degree: 7}}\n"},
     ["s.yaml"], ["population.network.degree", "even"]),
    ("network too large for int32 offsets",
     {"s.yaml": "extends: baseline\npopulation: {people: 1e8, network: {degree: 22}}\n"},
     ["s.yaml"], ["population", "network.degree", "2^31"]),
    ("reference group not a group",
     {"s.yaml": "extends: baseline\npopulation: {reference_group: nobody}\n"},
     ["s.yaml"], ["population.reference_group", "nobody"]),
    ("horizon beyond the 16-bit day field",
     {"s.yaml": "extends: baseline\ntime: {days: 65000, burn_in: 1000}\n"},
     ["s.yaml"], ["time", "16-bit day field"]),
    ("YAML syntax error", {"s.yaml": "name: x\npopulation: [1, 2\n"},
     ["s.yaml"], ["s.yaml", "YAML syntax error", "line"]),
    ("duplicate YAML key", {"s.yaml": "name: x\nname: y\n"},
     ["s.yaml"], ["s.yaml", "duplicate key 'name'"]),
    ("empty file", {"s.yaml": ""}, ["s.yaml"], ["s.yaml", "empty scenario file"]),
    ("top level not a mapping", {"s.yaml": "- a\n- b\n"}, ["s.yaml"], ["s.yaml", "mapping"]),
    ("missing file", {}, ["nothere.yaml"], ["nothere.yaml", "no such scenario file"]),
    ("unknown builtin", {}, ["nothere"], ["nothere", "builtin scenarios: baseline"]),
    ("circular extends", {"a.yaml": "extends: b.yaml\n", "b.yaml": "extends: a.yaml\n"},
     ["a.yaml"], ["extends", "circular extends"]),
    ("error in the parent names the parent file",
     {"p.yaml": "extends: baseline\nsources: {court: {coverage: -1}}\n",
      "c.yaml": "extends: p.yaml\nname: child\n"},
     ["c.yaml"], ["p.yaml", "sources.court.coverage"]),
    ("error in the child names the child file",
     {"p.yaml": GOOD_PARENT, "c.yaml": "extends: p.yaml\ntime: {days: 0}\n"},
     ["c.yaml"], ["c.yaml", "time.days", "greater than 0"]),
    ("bad override path", {}, ["baseline", "--set", "population.people.x=3"],
     ["--set population.people.x", "not a mapping"]),
    ("bad override value", {}, ["baseline", "--set", "population.people=abc"],
     ["--set population.people", "population.people", "integer"]),
    ("override of an unknown key", {}, ["baseline", "--set", "acts.traffic.rat=0.1"],
     ["--set acts.traffic.rat", "unknown key"]),
    ("override without '='", {}, ["baseline", "--set", "population.people"],
     ["--set", "KEY=VALUE"]),
    ("override that adds an incomplete act", {}, ["baseline", "--set", "acts.new.rate=0.1"],
     ["--set acts.new.rate", "acts.new", "missing"]),
    ("override of a firm domain that does not exist", {},
     ["corporate", "--set", "modules.firms.rates.enviroment=0.1"],
     ["--set modules.firms.rates.enviroment", "modules.firms.rates",
      "unknown entry enviroment; known: tax, environment"]),
    ("firm domain table in a file with a key that is no domain",
     {"s.yaml": "extends: corporate\nmodules: {firms: {fines: {taxes: 3}}}\n"},
     ["s.yaml"], ["s.yaml", "modules.firms.fines", "unknown entry taxes"]),
    ("override of a default group's share that breaks the sum",
     {"s.yaml": "extends: baseline\npopulation: {groups: null}\n"},
     ["s.yaml", "--set", "population.groups.minority.share=0.3"],
     ["--set population.groups.minority.share", "population.groups", "sum to 1.2"]),
]


@pytest.mark.parametrize("case,files,argv,fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_input_one_line_exit_2(tmp_path, monkeypatch, capsys, case, files, argv, fragments):
    for name, text in files.items():
        _write(tmp_path, name, text)
    monkeypatch.chdir(tmp_path)
    code = main(["show", *argv])
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2, (case, err)
    assert captured.out == ""
    assert "\n" not in err, err
    assert err.startswith("scslab: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_at_least_fifteen_cases():
    assert len(CASES) >= 15


def test_numbers_like_1e6_are_numbers(tmp_path, capsys):
    p = _write(tmp_path, "s.yaml", "extends: baseline\npopulation: {people: 1e6}\n")
    assert main(["show", str(p), "--set", "acts.traffic.rate=2.5e-3"]) == 0
    out = capsys.readouterr().out
    assert "people: 1000000" in out and "rate: 0.0025" in out


def test_null_removes_a_catalogue_entry_under_extends(tmp_path, capsys):
    p = _write(tmp_path, "s.yaml", "extends: baseline\nacts: {heroic_act: null}\n")
    assert main(["show", str(p)]) == 0
    out = capsys.readouterr().out
    assert "heroic_act:" not in out and "rail_trip:" in out


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["run", "nothere.yaml"], "no such scenario file"),
        (["run", "baseline", "--people", "0"], "--people: population.people"),
        (["run", "--people", "abc"], "Invalid value for '--people'"),
        (["bogus"], "No such command"),
    ],
)
def test_cli_errors_through_a_subprocess(tmp_path, argv, fragment):
    proc = subprocess.run([sys.executable, "-m", "scslab", *argv], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert fragment in lines[0]
    assert "Traceback" not in proc.stderr


def test_out_pointing_to_a_file_is_refused(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["run", "--people", "100", "--days", "2", "--burn-in", "0", "--out", str(f)]) == 2
    assert "must be a directory" in capsys.readouterr().err


# One entry of a table the scenario leaves at its default, set by --set: the other entries
# keep their defaults (before, the override replaced the whole table, so a firm domain, a
# score grade or a population group silently vanished from the run).
@pytest.mark.parametrize("scenario,assignment,path,changed", [
    ("corporate", "modules.firms.rates.tax=0.1", ("modules", "firms", "rates"), "tax"),
    ("corporate", "modules.firms.points.judgment=3", ("modules", "firms", "points"), "judgment"),
    ("checkpoint-region", "modules.scoring.grades.A=900", ("modules", "scoring", "grades"), "A"),
    ("plain.yaml", "population.groups.minority.income_multiplier=0.5",
     ("population", "groups"), "minority"),
])
def test_override_of_one_entry_keeps_the_default_table(tmp_path, monkeypatch, scenario,
                                                       assignment, path, changed):
    from scslab.scenario.loader import default_table, load_scenario

    # baseline without its own groups: the default groups apply
    _write(tmp_path, "plain.yaml", "extends: baseline\npopulation: {groups: null}\n")
    monkeypatch.chdir(tmp_path)

    def table(sc):
        node = sc.model_dump(mode="json", by_alias=True)
        for part in path:
            node = node[part]
        return node

    before = table(load_scenario(scenario))
    after = table(load_scenario(scenario, overrides=[assignment]))
    default = default_table(path)
    assert default is not None and len(default) > 1
    assert set(after) == set(before) == set(default)
    assert after[changed] != before[changed]
    assert {k: v for k, v in after.items() if k != changed} == \
        {k: v for k, v in before.items() if k != changed}


def test_firm_domain_table_given_in_part_in_a_file_keeps_the_other_domains(tmp_path):
    from scslab.scenario.loader import load_scenario

    p = _write(tmp_path, "s.yaml", "extends: corporate\nmodules: {firms: {fines: {tax: 11}}}\n")
    fines = load_scenario(str(p)).modules["firms"]["fines"]
    assert fines == {"tax": 11.0, "environment": 20.0, "product_safety": 20.0, "labour": 5.0}


def test_default_table_is_none_where_there_is_no_table():
    from scslab.scenario.loader import default_table

    for path in [("population",), ("modules", "firms"), ("modules", "firms", "apply_rate"),
                 ("modules", "nosuch", "rates"), ("population", "nosuch"),
                 ("modules", "watchlist", "groups")]:  # a table whose default is empty
        assert default_table(path) is None, path
