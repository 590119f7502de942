"""Simulations of the dashboard, each in its own worker process.

A page asks for a job (a run, a comparison or an explanation) and polls it; the job runs
in a spawned process so the server stays responsive and a cancelled job can simply be ended.
The worker sends messages on a queue: ``progress`` (days or runs done, and for a run the
new days of the live series), then ``done`` (the result, as plain data) or ``error`` (one
line). A job writes into a temporary folder under the results folder and renames it into
place when finished; its folder name is made here, never taken from the page.

A run advances ``Sim.run(until=...)`` in pieces: every draw is keyed by day, so the pieces
give the same series as one run (README, "From Python").
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: base metric names drawn live during a run (those the scenario reports)
LIVE_METRICS = ("violation_rate", "detection_rate", "listed_share", "approval_rate",
                "approval", "detentions")
#: metrics drawn by group too
LIVE_BY_GROUP = ("detentions",)
#: pieces a run is cut into for progress and live series
PIECES = 40

TEMP_PREFIX = ".running-"


def live_names(series_names: list[str]) -> list[str]:
    """The series a run draws live: overall values of LIVE_METRICS, and by group for
    LIVE_BY_GROUP."""
    out = []
    for m in LIVE_METRICS:
        if m in series_names:
            out.append(m)
        if m in LIVE_BY_GROUP:
            out.extend(n for n in series_names if n.startswith(m + "[group="))
    return out


def _finite(values: Any) -> list[float | None]:
    import math

    return [None if not math.isfinite(float(v)) else float(v) for v in values]


# --------------------------------------------------------------------------- worker side


def _run(payload: dict, out: Path, send) -> dict:
    from scslab.run.engine import Sim
    from scslab.run.results import Results, build_manifest, replicate_result
    from scslab.scenario import scenario_from_dict

    resolved = payload["scenario"]
    sc = scenario_from_dict(resolved, where="dashboard")
    t0 = time.perf_counter()
    sim = Sim(sc)
    total = sim.total_days
    step = max(1, -(-total // PIECES))
    sent = 0
    rr = None
    while sim.day < total:
        sim.run(until=sim.day + step)
        rr = replicate_result(sim)
        names = live_names(list(rr.series))
        new = {n: _finite(rr.series[n][sent:sim.day]) for n in names}
        send(("progress", {"done": sim.day, "total": total, "start": sent, "series": new}))
        sent = sim.day
    wall = time.perf_counter() - t0
    results = Results(resolved, [rr], None)
    manifest = build_manifest(resolved, 1, wall, ["scslab", "dashboard"])
    results.save(out, manifest)
    return {"summary": results.summary, "groups": list(sc.population.groups),
            "people": sc.population.people, "days": sc.time.days,
            "burn_in": sc.time.burn_in, "wall": wall}


def _progress(send):
    def tick(done: int, total: int) -> None:
        send(("progress", {"done": done, "total": total}))
    return tick


def _compare(payload: dict, out: Path, send) -> dict:
    from scslab.analysis.compare import compare
    from scslab.analysis.report import comparison_rows
    from scslab.scenario import scenario_from_dict

    scenarios = [scenario_from_dict(r, where="dashboard") for r in payload["scenarios"]]
    comp = compare(scenarios, replicates=payload["replicates"], groups=False,
                   progress=_progress(send), command=["scslab", "dashboard"])
    comp.save(out)
    header, rows = comparison_rows(comp.table(), comp.labels)
    return {"header": header, "rows": rows, "labels": comp.labels,
            "people": comp.people, "replicates": comp.replicates,
            "days": comp.manifest.get("days"), "scenario": payload["scenarios"][0]}


def _explain(payload: dict, out: Path, send) -> dict:
    from scslab.analysis.explain import explain
    from scslab.analysis.report import explanation_rows
    from scslab.scenario import scenario_from_dict

    sc = scenario_from_dict(payload["scenario"], where="dashboard")
    exp = explain(sc, payload["metric"], payload["group_a"], payload["group_b"],
                  replicates=payload["replicates"], progress=_progress(send),
                  command=["scslab", "dashboard"])
    exp.save(out)
    header, rows = explanation_rows(exp)
    figure = out / "figures" / "decomposition.png"
    return {"header": header, "rows": rows, "unstable": exp.unstable(),
            "base": exp.base_text(), "figure": figure.name if figure.exists() else None,
            "people": exp.people, "replicates": exp.replicates, "scenario": payload["scenario"]}


WORKS = {"run": _run, "compare": _compare, "explain": _explain}


def work(kind: str, payload: dict, temp: str, final: str, messages: Any) -> None:
    """Entry point of a worker process: run the job, move its folder into place, report."""
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    from scslab.analysis.compare import CompareError
    from scslab.scenario import ScenarioError

    def send(msg: tuple) -> None:
        messages.put(msg)

    out = Path(temp)
    try:
        result = WORKS[kind](payload, out, send)
        os.replace(out, final)
        result["folder"] = Path(final).name
        send(("done", result))
    except (CompareError, ScenarioError, ValueError) as exc:
        shutil.rmtree(out, ignore_errors=True)
        send(("error", " ".join(str(exc).split())))
    except Exception as exc:  # noqa: BLE001 - reported on the page, one line
        shutil.rmtree(out, ignore_errors=True)
        send(("error", f"{type(exc).__name__}: {' '.join(str(exc).split())}"))


# --------------------------------------------------------------------------- server side


@dataclass
class Job:
    """One job of one browser tab, polled by that tab's page."""

    kind: str
    process: Any
    messages: Any
    temp: Path
    status: str = "running"  # running, done, failed, cancelled
    done: int = 0
    total: int = 0
    series: dict[str, list[float | None]] = field(default_factory=dict)
    result: dict | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)

    def poll(self) -> bool:
        """Take every waiting message; True if anything changed."""
        changed = False
        while True:
            try:
                kind, body = self.messages.get_nowait()
            except queue.Empty:
                break
            except (EOFError, OSError):
                break
            changed = True
            if kind == "progress":
                self.done, self.total = body["done"], body["total"]
                for name, values in body.get("series", {}).items():
                    s = self.series.setdefault(name, [])
                    del s[body["start"]:]
                    s.extend(values)
            elif kind == "done":
                self.status, self.result = "done", body
                self.done = self.total
            elif kind == "error":
                self.status, self.error = "failed", body
        if self.status == "running" and not self.process.is_alive() and not changed:
            self.status = "failed"
            self.error = f"the worker process ended unexpectedly (exit {self.process.exitcode})"
            shutil.rmtree(self.temp, ignore_errors=True)
            changed = True
        if self.status != "running" and not self.process.is_alive():
            self.process.join(timeout=0)
        return changed

    def cancel(self) -> None:
        if self.status != "running":
            return
        self.process.terminate()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        shutil.rmtree(self.temp, ignore_errors=True)
        self.status = "cancelled"


class JobRunner:
    """Starts jobs in spawned worker processes; results go under ``results_dir``."""

    def __init__(self, results_dir: Path) -> None:
        self.results_dir = Path(results_dir).resolve()
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self._ctx = multiprocessing.get_context("spawn")

    def start(self, kind: str, payload: dict) -> Job:
        if kind not in WORKS:
            raise ValueError(f"unknown job kind {kind!r}")
        name = f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"
        temp = self.results_dir / f"{TEMP_PREFIX}{name}"
        final = self.results_dir / name
        messages = self._ctx.Queue()
        process = self._ctx.Process(target=work, args=(kind, payload, str(temp), str(final),
                                                       messages), daemon=True)
        process.start()
        return Job(kind, process, messages, temp)

    def stored(self) -> list[tuple[str, str]]:
        """(folder, kind) of finished results, newest first."""
        import json

        out = []
        folders = [d for d in self.results_dir.iterdir() if d.is_dir()]
        for d in sorted(folders, key=lambda d: d.stat().st_mtime, reverse=True):
            m = d / "manifest.json"
            if d.name.startswith(".") or not m.is_file():
                continue
            try:
                kind = json.loads(m.read_text(encoding="utf-8")).get("kind", "run")
            except (OSError, ValueError, AttributeError):
                continue
            out.append((d.name, kind))
        return out

    def folder(self, name: str) -> Path | None:
        """A stored result folder by its name, only if it is directly under results_dir."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None
        path = (self.results_dir / name).resolve()
        if path.parent != self.results_dir or not path.is_dir():
            return None
        return path
