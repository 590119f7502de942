"""CLI pieces and the validation table writer."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from scslab.games.cli import game_app, validate_command
from scslab.games.validate import CASES, run_validation, write_table

runner = CliRunner()


def test_help_has_examples():
    for cmd in ("reputation", "civil-violence"):
        res = runner.invoke(game_app, [cmd, "--help"])
        assert res.exit_code == 0
        assert "Examples" in res.output


def test_reputation_command_runs():
    res = runner.invoke(game_app, ["reputation", "--norm", "stern-judging", "--assessment",
                                   "institution", "--observers", "5", "--strictness", "0.7",
                                   "--generations", "20", "--population", "10"])
    assert res.exit_code == 0, res.output
    assert "cooperation" in res.output


def test_bad_option_one_line_exit_2():
    res = runner.invoke(game_app, ["reputation", "--norm", "kindness"])
    assert res.exit_code == 2
    assert "unknown norm" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(game_app, ["civil-violence", "--legitimacy", "2"])
    assert res.exit_code == 2 and "legitimacy" in res.output


def test_validate_command_and_table(tmp_path, monkeypatch):
    results = run_validation(quick=True, only=["oi2004-leading-eight"])
    assert len(results) == 1 and results[0].passed
    md, js = write_table(results, tmp_path / "val")
    assert "oi2004-leading-eight" in md.read_text()
    assert json.loads(js.read_text())[0]["passed"] is True
    assert not list(tmp_path.glob("*.tmp"))
    assert all(c.source and c.claim for c in CASES)

    import scslab.games.validate as v

    monkeypatch.setattr(v, "run_validation", lambda quick: results)
    app = typer.Typer()
    app.command()(validate_command)
    res = runner.invoke(app, ["--quick", "--out", str(tmp_path / "cli")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cli.md").exists()
    failing = [type(results[0])(**{**results[0].__dict__, "passed": False})]
    monkeypatch.setattr(v, "run_validation", lambda quick: failing)
    res = runner.invoke(app, ["--out", str(tmp_path / "cli2")])
    assert res.exit_code == 1
