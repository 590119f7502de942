"""A world through the study machinery (docs/studies.md, Worlds): `scslab study run` with
`world:` instead of `scenarios:` — societies are the study's scenarios, factors are paths
of the world file, one run is one replicate of the whole world; resumable, analysed like
any study, and the same numbers as `run_world` (common random numbers)."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from scslab.adoption import society_outputs
from scslab.adoption.run import run_replicate
from scslab.adoption.schema import load_world
from scslab.analysis.studies import Study, open_study
from test_exit_codes import one_line_error, run

WORLD = """
name: tiny
periods: 2
period_days: 30
people: 300
societies:
  told:
    scenario: baseline
    set: ["modules.learning.campaigns.c={day: 5, reach: 0.5, framing: balanced}"]
    government: {control_taste: 1.0, approval_weight: 2.0}
  not_told:
    scenario: baseline
    set: ["modules.learning.campaigns.c={day: 5, reach: 0.5, framing: none}"]
    government: {control_taste: 1.0, approval_weight: 2.0}
"""

STUDY = """
name: tiny-world-study
world: w.yaml
people: 300
replicates: 2
design: {method: grid, levels: 2}
factors:
  societies.told.government.approval_weight: {low: 2.0, high: 4.0}
outputs: ["in_force[component=joint_lists]", components_in_force, approval]
contrasts: ["told - not_told"]
"""


def _files(tmp_path, study=STUDY, world=WORLD):
    (tmp_path / "w.yaml").write_text(textwrap.dedent(world))
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(study))
    return path


def test_a_world_study_runs_resumes_analyses_and_matches_run_world(tmp_path):
    study = _files(tmp_path)
    out = tmp_path / "out"
    first = run(["study", "run", str(study), "--out", str(out)])
    assert first.returncode == 0, first.stderr
    assert "8 runs, 0 already done, 8 run now (0 failed)" in first.stdout
    again = Study.from_yaml(study).run(out).execution  # resumed: nothing runs again
    assert (again.total, again.skipped, again.ran) == (8, 8, 0)
    open_study(out).analyze(figures=False)

    m = pd.read_parquet(out / "metrics.parquet")
    assert set(m.scenario) == {"told", "not_told"} and set(m["sample"]) == {0, 1}
    # sample 0 is the world file as written (approval_weight 2.0): the study's numbers are
    # those of the world run directly (replicate 1: its population and draws)
    spec, _, here = load_world(tmp_path / "w.yaml")
    for r in (1,):
        expected = society_outputs(spec, *run_replicate(spec, here, r, 300, 2))
        got = m[(m["sample"] == 0) & (m.replicate == r)]
        for society, outputs in expected.items():
            mine = got[got.scenario == society].set_index("metric").value
            for name, value in outputs.items():
                assert mine[name] == pytest.approx(value, rel=0, abs=0), (society, name)
    # and the framing experiment reads as a contrast: the told public approves less in
    # every sample
    rob = pd.read_parquet(out / "analysis" / "robustness.parquet")
    told = m[(m.metric == "approval") & (m.scenario == "told")].set_index(
        ["sample", "replicate"]).value
    not_told = m[(m.metric == "approval") & (m.scenario == "not_told")].set_index(
        ["sample", "replicate"]).value
    assert (told < not_told - 0.05).all()
    row = rob[(rob.contrast == "told - not_told") & (rob.output == "approval")]
    assert row.share_same_sign.iloc[0] == 1.0 and row["mean"].iloc[0] < 0


BAD = {
    "unknown factor path": ("factors:\n  societies.told.government.colour: {low: 0, high: 1}",
                            "factors.societies.told.government.colour"),
    "factor not a number": ("factors:\n  societies.told.scenario: {low: 0, high: 1}",
                            "factors.societies.told.scenario"),
    "factor out of range": ("factors:\n  vendor.discount: {low: 0.5, high: 2.0}",
                            "factors.vendor.discount.high"),
    "unknown output": ("outputs: [adoption_rate]", "outputs[0]"),
    "unknown society in a contrast": ("contrasts: ['told - eu']", "contrasts[0]"),
    "days with a world": ("days: 30", "days"),
    "both scenarios and a world": ("scenarios: [baseline]", "scenarios"),
    "bad world file": ("world: broken.yaml", "world"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_world_study_is_one_line_exit_2(tmp_path, case):
    change, field = BAD[case]
    key = change.split(":", 1)[0]
    lines = [ln for ln in textwrap.dedent(STUDY).splitlines()
             if not ln.startswith(key) and not (key == "factors" and ln.startswith("  "))]
    study = _files(tmp_path, "\n".join(lines) + "\n" + change + "\n")
    (tmp_path / "broken.yaml").write_text("name: x\nsocieties: {a: {colour: red}}\n")
    out = tmp_path / "out"
    proc = run(["study", "run", str(study), "--out", str(out)])
    assert proc.returncode == 2, proc.stderr
    assert one_line_error(proc), proc.stderr
    assert field in proc.stderr, proc.stderr
    assert not (out / "parts").exists()
