"""benchmarks/digests.py: the whole-run digests that back "outputs unchanged" claims."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import digests  # noqa: E402

SRC = str(Path(__file__).resolve().parents[1] / "src")
TINY = ("rongcheng", 800, 15, 0, 1)


def test_a_digest_is_the_same_on_one_thread_or_two_and_moves_with_the_run():
    one = digests.digest(TINY)
    assert len(one) == 16
    assert digests.digest((*TINY[:4], 2)) == one  # thread counts give the same bits
    assert digests.digest(("rongcheng", 800, 16, 0, 1)) != one  # one more day: another


def test_against_a_baseline_same_code_agrees_and_a_failed_run_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(digests, "CASES", (TINY,))
    assert digests.main(["--baseline", SRC]) == 0
    out = capsys.readouterr().out
    assert "same" in out and "1 of 1 cases the same" in out
    monkeypatch.setattr(digests, "CASES", (("no-such-scenario", 800, 15, 0, 1),))
    with pytest.raises(RuntimeError, match="no-such-scenario: the run failed"):
        digests.main([])
