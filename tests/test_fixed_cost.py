"""What a small run costs besides the simulation: nothing it does not use is imported, and
``run --out --no-figures`` writes the same data files and a valid manifest without figures."""

from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq

from scslab.cli import main
from scslab.run.outfolder import verify_folder

RUN = ["run", "rongcheng", "--people", "1000", "--days", "20", "--burn-in", "0", "--quiet"]


def test_a_quiet_run_imports_neither_scipy_stats_nor_plotting_nor_pandas():
    # a fresh interpreter: the CLI's own path from arguments to summary, no --out
    code = ("import sys; from scslab.cli import main; "
            f"rc = main({RUN!r}); "
            "heavy = [m for m in ('scipy.stats', 'matplotlib', 'pandas', 'rich.progress') "
            "if m in sys.modules]; print(rc, *heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=True)
    assert proc.stdout.split() == ["0"], proc.stdout


def test_no_figures_writes_the_same_data_and_a_valid_manifest(tmp_path):
    with_figs, without = tmp_path / "a", tmp_path / "b"
    assert main([*RUN, "--out", str(with_figs)]) == 0
    assert main([*RUN, "--out", str(without), "--no-figures"]) == 0
    assert (with_figs / "figures" / "timeseries.png").exists()
    assert not (without / "figures").exists()
    assert verify_folder(without)["replicates"] == 1
    a, b = pq.read_table(with_figs / "series.parquet"), pq.read_table(without / "series.parquet")
    assert a.to_pandas().equals(b.to_pandas())  # NaN where a ratio is undefined, both
    assert (with_figs / "summary.json").read_text() == (without / "summary.json").read_text()


def command_names() -> list[str]:
    from scslab.cli import app, command_name
    return [command_name(info) for info in app.registered_commands]


def test_a_command_is_built_alone_and_parses_as_in_the_whole_app(capsys):
    """``scslab CMD ...`` builds only CMD's options (all 20 of the app's commands, its
    groups' included, cost 20 ms to build); its help and its usage errors are the whole
    app's, word for word."""
    import pytest
    import typer

    from scslab.cli import app, app_for

    names = command_names()
    assert len(names) >= 10 and "run" in names and "validate" in names
    for name in names:
        alone = app_for([name])
        assert alone is not app and len(alone.registered_commands) == 1
        for args in ([name, "--help"], [name, "--no-such-option"]):
            out = []
            for which in (alone, app):
                try:
                    which(args=args, prog_name="scslab", standalone_mode=False)
                    got = "ok"
                except typer.Exit:
                    got = "exit"
                except Exception as exc:  # the usage error, as main() words it
                    got = f"{type(exc).__name__}: {exc.format_message()}"
                out.append((got, capsys.readouterr().out))
            assert out[0] == out[1], (args, out)
            assert args[1] != "--help" or f"Usage: scslab {name} " in out[0][1]
    for args in ([], ["--help"], ["study", "--help"], ["no-such-command"]):
        assert app_for(args) is app
    with pytest.raises(Exception, match="No such command 'runn'. Did you mean 'run'"):
        app(args=["runn"], prog_name="scslab", standalone_mode=False)
