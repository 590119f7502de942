"""``scslab dashboard``: serve the browser dashboard (registered in :mod:`scslab.cli`).

Panel and the page are imported inside the command, so other commands never load them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DEFAULT_PORT = 5006


def dashboard_command(
    port: Annotated[int, typer.Option(min=0, max=65535, help=(
        "Port to listen on (0: any free port)."))] = DEFAULT_PORT,
    address: Annotated[str, typer.Option(help=(
        "Address to listen on. The default serves this machine only; anything else lets "
        "others on the network start simulations here."))] = "127.0.0.1",
    results: Annotated[Path, typer.Option(help=(
        "Folder where runs, comparisons and explanations are stored (and the only folder "
        "the dashboard serves files from)."))] = Path("dashboard-results"),
    show: Annotated[bool, typer.Option(help="Open a browser tab.")] = False,
) -> None:
    """Serve the dashboard in the browser: pick or upload a scenario, edit it, run it with
    live series, compare systems, explain a disparity, open stored reports.

    Examples:

      scslab dashboard                       # http://127.0.0.1:5006

      scslab dashboard --port 8080 --results out/dashboard
    """
    from scslab.cli.options import UserError

    if results.exists() and not results.is_dir():
        raise UserError(f"{results}: --results must be a directory, and this is a file")
    try:
        from scslab.dashboard.app import serve
    except ImportError as exc:
        raise UserError(f"the dashboard needs its extra: pip install 'scslab[dashboard]' "
                        f"({exc})") from None

    def ready(bound: int) -> None:
        print(f"scslab dashboard: http://{address}:{bound}/ (results in {results}/; "
              "Ctrl-C to stop)", flush=True)

    try:
        serve(port=port, address=address, results_dir=results, show=show, ready=ready)
    except OSError as exc:
        raise UserError(f"cannot listen on {address}:{port}: {exc.strerror or exc}") from None
