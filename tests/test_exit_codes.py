"""Exit statuses through the real ``scslab`` entry point (a subprocess): 0 success, 1 a
check that failed, 2 bad input (one line, no traceback), 130 interrupted; a closed pipe
is a quiet exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scslab.cli import main


def scslab_exe() -> list[str]:
    exe = Path(sys.executable).parent / "scslab"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "scslab"]


def run(args: list[str], cwd: Path | None = None, timeout: float = 300):
    return subprocess.run([*scslab_exe(), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def one_line_error(proc) -> bool:
    err = proc.stderr.strip()
    return (len(err.splitlines()) == 1 and err.startswith("scslab: error:")
            and "Traceback" not in proc.stderr)


@pytest.mark.parametrize("args", [
    ["run", "--people", "abc"],
    ["run", "no-such-scenario"],
    ["run", "--days", "0"],
    ["show", "--set", "population.people=-5"],
    ["nonsense"],
])
def test_bad_input_is_one_line_and_exit_2(args):
    proc = run(args)
    assert proc.returncode == 2, proc.stderr
    assert one_line_error(proc), proc.stderr


@pytest.mark.parametrize("args", [
    ["game", "reputation", "--norm", "kindness"],
    ["game", "reputation", "--population", "-3"],
    ["game", "civil-violence", "--legitimacy", "2"],
])
def test_bad_game_arguments_exit_2(args):
    proc = run(args)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_success_is_0_and_game_runs():
    proc = run(["game", "reputation", "--population", "10", "--generations", "20"])
    assert proc.returncode == 0, proc.stderr
    assert "cooperation" in proc.stdout


def test_failing_validation_is_exit_1_and_writes_nothing(tmp_path, monkeypatch):
    import scslab.games.validate as v

    results = v.run_validation(quick=True, only=["oi2004-leading-eight"])
    failing = [type(results[0])(**{**results[0].__dict__, "passed": False})]
    monkeypatch.setattr(v, "run_validation", lambda quick: failing)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--quick"]) == 1
    monkeypatch.setattr(v, "run_validation", lambda quick: results)
    assert main(["validate", "--quick"]) == 0
    assert list(tmp_path.iterdir()) == []  # no files unless --out


def test_closed_pipe_exits_quietly():
    """``scslab show baseline | head -0``: the reader is gone before the first write."""
    proc = subprocess.Popen([*scslab_exe(), "show", "baseline"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert err == ""


def test_broken_pipe_through_head(tmp_path):
    proc = subprocess.run(
        ["bash", "-c", "set -o pipefail; " + " ".join(scslab_exe())
         + " run --people 1000 --days 5 --burn-in 0 | head -1"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_interrupt_is_130_and_one_line(tmp_path):
    proc = subprocess.Popen([*scslab_exe(), "run", "--people", "200000", "--days", "20000",
                             "--burn-in", "0", "--quiet", "--out", str(tmp_path / "o")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # a shell's background job starts with SIGINT ignored, and a
                            # child would inherit that: give it the default disposition
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(6)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip() == "scslab: interrupted"
    assert os.listdir(tmp_path) == []  # no partial folder, no staging, no lock left


def test_interrupt_inside_compiled_code_is_still_130(monkeypatch, capsys):
    """Numba turns a Ctrl-C inside a compiled call into SystemError (cause: the
    KeyboardInterrupt): still an interruption, not a traceback."""
    import scslab.run.runner

    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("returned a result with an exception set") from exc

    monkeypatch.setattr(scslab.run.runner, "run_scenario", interrupted)
    assert main(["run", "--people", "1000", "--days", "2", "--burn-in", "0"]) == 130
    assert capsys.readouterr().err.strip() == "scslab: interrupted"
