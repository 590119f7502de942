"""System cards and the questions report (scslab card, scslab answer)."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest

from scslab.analysis.answers import HEADLINES, headline_values, make_card
from scslab.analysis.attribution import FULL_RUN, REFERENCE_RUN
from scslab.analysis.compare import paired_stats
from scslab.analysis.questions import ADOPTION_MISSING, QUESTIONS, cited_text, pct
from scslab.cli import main

SMALL = {"people": 2000, "days": 60, "burn_in": 10}
#: The question the default suite answers (all three run in the slow test).
ONE = "privacy-groups"


#: rongcheng without its market (every builtin system runs one): a headline to be missing
NO_MARKET = "rongcheng:modules.market.enabled=false"


@pytest.fixture(scope="module")
def rongcheng_card():
    return make_card("rongcheng", "baseline", replicates=2, seed=5, **SMALL)


def test_card_rows_come_from_the_paired_runs(rongcheng_card):
    card, att = rongcheng_card
    row = card.row("records_per_person_day")
    assert row.measured
    h = next(h for h in HEADLINES if h.key == "records_per_person_day")
    d, lo, hi = paired_stats(headline_values(att.summaries, FULL_RUN, h),
                             headline_values(att.summaries, REFERENCE_RUN, h))
    assert (row.diff, row.low, row.high) == pytest.approx((d, lo, hi), rel=0, abs=0)
    # rongcheng adds sources: more records per person-day, caused by named components
    assert row.diff > 0
    assert row.components and all(c["component"] in {x.name for x in att.components}
                                  for c in row.components)
    assert row.robustness is None and row.robustness_note == "no study given"


def test_card_says_why_a_metric_is_not_measured():
    # against rongcheng itself: no system component differs, so only the two runs
    card, att = make_card(NO_MARKET, "rongcheng", replicates=2, seed=5, people=1000,
                          days=20, burn_in=0)
    assert att.components == []
    market = card.row("fraud_rate")
    assert not market.measured and market.diff is None
    assert market.reason == f"not measured here: module market is off in {NO_MARKET}"


def test_card_against_itself_is_zero_with_no_components():
    card, att = make_card("baseline:seed=5", "baseline", replicates=2, seed=5, **SMALL)
    assert att.components == []
    measured = [r for r in card.rows if r.measured]
    assert measured
    assert all(r.diff == 0 and r.components == [] for r in measured)


def test_card_cli_writes_html_and_refuses_bad_input(tmp_path, capsys):
    assert main(["card", "nosuchscenario"]) == 2
    assert "nosuchscenario" in capsys.readouterr().err
    assert main(["card", "baseline", "--replicates", "1"]) == 2
    assert main(["card", "baseline", "--study", str(tmp_path)]) == 2
    assert "not a study folder" in capsys.readouterr().err
    out = tmp_path / "card"
    assert main(["card", "national-blacklist", "--people", "2000", "--days", "60",
                 "--burn-in", "10", "--replicates", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "harms to the wrongly flagged" in text and "What this does not show" in text
    card = json.loads((out / "card.json").read_text())
    assert card["scenario"] == "national-blacklist"
    assert "not measured here" in (out / "card.html").read_text()


@pytest.fixture(scope="module")
def answered(tmp_path_factory):
    root = tmp_path_factory.mktemp("answers")
    out = root / "a"
    assert main(["answer", "--budget", "tiny", "--questions", f"{ONE},adoption", "--no-pdf",
                 "--out", str(out)]) == 0
    return root, out


def test_each_sentence_number_is_the_stored_result_it_cites(answered):
    _, out = answered
    stored = json.loads((out / "answers.json").read_text())
    assert [a["id"] for a in stored["answers"]] == [ONE]
    # every number is a citation of a stored value (no number that is not cited)
    assert _check_sentences(stored, (out / "report.html").read_text()) >= 3 + 12


def _check_sentences(stored: dict, report: str) -> int:
    n_cites = 0
    answered = [(a, {r["key"]: r for r in a["card"]["rows"]}, cited_text)
                for a in stored["answers"]]
    if stored.get("adoption", {}).get("answered"):
        ad = stored["adoption"]
        answered.append((ad, {f"{r['society']}/{r['component']}": r for r in ad["shares"]},
                         lambda v, _: pct(v)))
    for a, rows, written in answered:
        for c in a["cites"]:
            value = rows[c["key"]][c["field"]]
            assert value is not None
            assert c["text"] == written(value, c["field"])
            assert c["text"] in a["sentence"]
            n_cites += 1
        plain = a["sentence"].replace("95 % interval", "interval")
        numbers = re.findall(r"(?<![\w.=-])-?\d[\d.e+-]*%?", plain)
        assert sorted(numbers) == sorted(c["text"] for c in a["cites"])
        assert html.escape(a["sentence"]) in report
    return n_cites


@pytest.mark.slow
def test_every_question_answers_at_the_tiny_budget(tmp_path):
    out = tmp_path / "all"
    assert main(["answer", "--budget", "tiny", "--no-pdf", "--out", str(out)]) == 0
    stored = json.loads((out / "answers.json").read_text())
    assert [a["id"] for a in stored["answers"]] == [q.id for q in QUESTIONS]
    assert _check_sentences(stored, (out / "report.html").read_text()) >= 4


def test_adoption_is_answered_from_the_world_run(answered):
    """The adoption answer is run_world's result at the budget's size: the stored series
    is WorldResult.adoption(0.95) of a rerun, the sentence cites its last period, and the
    report draws the timeline."""
    from scslab.adoption import run_world
    from scslab.analysis.questions import ADOPTION_WORLD, BUDGETS, WESTERN

    _, out = answered
    ad = json.loads((out / "answers.json").read_text())["adoption"]
    assert ad["answered"] and ad["world"] == ADOPTION_WORLD
    b = BUDGETS["tiny"]
    periods = b["world_periods"]
    assert {r["period"] for r in ad["series"]} == set(range(periods))
    assert {r["society"] for r in ad["shares"]} >= set(WESTERN)
    res = run_world(ADOPTION_WORLD, replicates=b["world_replicates"],
                    people=b["world_people"], periods=periods,
                    period_days=b["world_period_days"])
    table = res.adoption(0.95)
    last = table[table.period == periods - 1]
    for r in ad["shares"]:
        row = last[(last.society == r["society"]) & (last.component == r["component"])]
        assert (r["share"], r["low"], r["high"]) == (
            float(row.share.iloc[0]), float(row.low.iloc[0]), float(row.high.iloc[0]))
    report = (out / "report.html").read_text()
    assert 'alt="adoption-timeline"' in report
    assert ADOPTION_MISSING not in report


def test_rerun_from_the_manifest_reproduces_the_report(answered):
    root, out = answered
    again = root / "b"
    assert main(["answer", "--rerun", str(out / "manifest.json"), "--no-pdf",
                 "--out", str(again)]) == 0
    assert (again / "report.html").read_bytes() == (out / "report.html").read_bytes()
    assert (again / "answers.json").read_bytes() == (out / "answers.json").read_bytes()


def test_answer_refuses_bad_options(tmp_path, capsys):
    assert main(["answer", "--budget", "huge", "--out", str(tmp_path / "x")]) == 2
    assert "--budget" in capsys.readouterr().err
    assert main(["answer", "--quick", "--budget", "tiny", "--out", str(tmp_path / "x")]) == 2
    bad = tmp_path / "m.json"
    bad.write_text("{}")
    assert main(["answer", "--rerun", str(bad), "--out", str(tmp_path / "y")]) == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_disparity_gap_is_the_group_difference(rongcheng_card):
    card, att = rongcheng_card
    h = next(h for h in HEADLINES if h.groups is not None and h.metric == "false_sanction_rate")
    s = att.summaries
    a = s[(s.scenario == FULL_RUN) & (s.metric == "false_sanction_rate[group=minority]")]
    b = s[(s.scenario == FULL_RUN) & (s.metric == "false_sanction_rate[group=majority]")]
    np.testing.assert_array_equal(headline_values(s, FULL_RUN, h),
                                  a.sort_values("replicate")["value"].to_numpy()
                                  - b.sort_values("replicate")["value"].to_numpy())


def test_card_with_a_study_uses_its_mixture_interval_and_robustness(tmp_path, rongcheng_card):
    from scslab.analysis.answers import build_card
    from scslab.analysis.studies import Study, open_study
    from scslab.analysis.studies.analysis import mixture_interval, per_sample_effects

    _, att = rongcheng_card
    spec = {"name": "card-study", "scenarios": ["rongcheng", "baseline"], **SMALL,
            "seed": 5, "replicates": 2, "design": {"method": "lhs", "samples": 2, "seed": 1},
            "factors": {"population.traits.awareness": {"low": 0.05, "high": 0.4}},
            "outputs": ["records_per_person_day"], "contrasts": ["rongcheng - baseline"]}
    Study.from_dict(spec).run(tmp_path / "st")
    card = build_card(att, study=tmp_path / "st")
    row = card.row("records_per_person_day")
    res = open_study(tmp_path / "st")
    eff = per_sample_effects(res.study, res.metrics)
    lo, hi = mixture_interval(eff["mean"].to_numpy(), eff["se"].to_numpy())
    assert (row.combined_low, row.combined_high) == (lo, hi)
    assert row.robustness == float((eff["mean"] > 0).mean()) == 1.0
    assert row.robustness_note == "over 2 study samples"
    # a headline the study does not hold says so
    assert card.row("detection_rate").robustness_note.startswith("the study has no output")
