"""Execute a study's runs: in this process, in a pool of local processes, or on Dask.

Every run is one (design sample, scenario, replicate) on common random numbers: every
sample and every scenario use the study's one seed, and replicate r draws population r,
so paired differences between scenarios and elementary effects between samples are
differences of policy and parameters, not of luck. Results come back to this process,
which writes each one to the store as it finishes; the metric tables do not depend on
where a run executed (tested: 1 worker, local processes and Dask give identical tables).
"""

from __future__ import annotations

import functools
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scslab.analysis.studies.spec import StudyError, factor_overrides
from scslab.analysis.studies.store import STATUS_FAILED, STATUS_OK, RunKey
from scslab.run.pool import spawn_pool

if TYPE_CHECKING:
    from scslab.analysis.studies.spec import ResolvedStudy
    from scslab.analysis.studies.store import StudyStore

Progress = Callable[[int, int], None]  # (runs done or skipped, runs in the study)

#: A local pool whose worker dies is restarted this many times before runs count as failed.
POOL_RESTARTS = 3
#: Dask reruns a task whose worker died (on another worker) this many times.
DASK_RETRIES = 2

# A simulation farm needs none of Dask's diagnostics: on a 2-core machine the workers'
# statistical profiler and frequent monitors take CPU from the runs themselves. Applied to
# the LocalCluster we start; workers of an existing scheduler keep their own configuration
# (docs/studies.md gives the same settings for a cluster's dask config).
LEAN_DASK_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.gil.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}


@dataclass
class Execution:
    """What a call to :func:`execute` did."""

    total: int
    skipped: int
    ran: int
    failed: int
    wall_seconds: float
    simulation_seconds: float


def worker_environment() -> dict[str, str]:
    """Environment of worker processes: one Numba thread each (W workers use W cores),
    and this process's Numba cache folder, so compiled kernels are shared, not rebuilt."""
    env = {"NUMBA_NUM_THREADS": "1"}
    if os.environ.get("NUMBA_CACHE_DIR"):
        env["NUMBA_CACHE_DIR"] = os.environ["NUMBA_CACHE_DIR"]
    return env


def plan(study: ResolvedStudy, x: Any) -> list[dict]:
    """Every run of the study as a picklable job (sample-major order), after checking
    that every design point makes a valid scenario (before anything is simulated)."""
    from scslab.analysis.compare import with_overrides
    from scslab.scenario import ScenarioError, scenario_from_dict

    names = study.factor_names
    if study.world is not None:
        return _plan_world(study, x)
    jobs = []
    bases = {lb: scenario_from_dict(study.scenarios[lb], where=lb) for lb in study.labels}
    for s in range(x.shape[0]):
        values = {n: float(x[s, j]) for j, n in enumerate(names)}
        for c, label in enumerate(study.labels):
            overrides = factor_overrides(study, values, label)
            applied = {o.split("=", 1)[0]: _number(o.split("=", 1)[1]) for o in overrides}
            try:
                sc = with_overrides(bases[label], overrides, label)
            except ScenarioError as exc:
                raise StudyError(study.where, f"design sample {s}",
                                 f"{label}: {exc.field}: {exc.reason}") from None
            for r in range(study.spec.replicates):
                jobs.append({"sample": s, "scenario_index": c, "scenario": label,
                             "replicate": r, "seed": sc.seed, "values": applied,
                             "base": study.scenarios[label], "overrides": overrides})
    return jobs


def _plan_world(study: ResolvedStudy, x: Any) -> list[dict]:
    """A world study's runs: one job per (sample, replicate) runs the whole world (its
    societies interact through what each government sees) and yields one run per
    society. Every design point is checked against the world file's schema first."""
    from scslab.analysis.studies.spec import applied_value, world_with

    assert study.world is not None
    spec = study.spec
    jobs = []
    for s in range(x.shape[0]):
        values = {n: applied_value(float(x[s, j]), n in study.integer_factors)
                  for j, n in enumerate(study.factor_names)}
        try:
            world = world_with(study.world, values, study.where)
        except StudyError as exc:
            raise StudyError(study.where, f"design sample {s}",
                             f"{exc.field}: {exc.reason}") from None
        for r in range(spec.replicates):
            jobs.append({"sample": s, "scenario_index": 0, "scenario": "world",
                         "replicate": r, "seed": world.seed, "values": values,
                         "world": world.model_dump(mode="json"), "here": study.world_dir,
                         "labels": study.labels, "people": spec.people,
                         "periods": spec.periods or world.periods})
    return jobs


def _number(text: str) -> float | int:
    v = float(text)
    return int(v) if "." not in text and "e" not in text.lower() and v.is_integer() else v


def job_key(job: dict) -> RunKey:
    return RunKey(job["sample"], job["scenario_index"], job["replicate"])


def job_keys(job: dict) -> list[RunKey]:
    """The runs a job yields: one, or one per society of a world job."""
    if "world" in job:
        return [RunKey(job["sample"], c, job["replicate"]) for c in range(len(job["labels"]))]
    return [job_key(job)]


@functools.cache
def process_revision() -> str:
    """This process's code revision (looked up once per worker process)."""
    from scslab.analysis.studies.store import study_revision

    return study_revision()


def run_job(job: dict, revision: str) -> dict:
    """Simulate one run (in whichever process executes it): the run's row and metrics.
    A worker on another code revision refuses, so a store never mixes revisions."""
    from scslab.analysis.compare import with_overrides
    from scslab.run.runner import run_replicate
    from scslab.scenario import scenario_from_dict

    t0 = time.perf_counter()
    mine = process_revision()
    if mine != revision:
        return {"row": _row(job, revision, 0.0, STATUS_FAILED,
                            f"this worker runs code revision {mine}, the study {revision}"),
                "metrics": {}}
    if "world" in job:
        return _run_world_job(job, revision, t0)
    try:
        sc = with_overrides(scenario_from_dict(job["base"], where=job["scenario"]),
                            job["overrides"], job["scenario"])
        metrics = dict(run_replicate(sc, job["replicate"]).summary)
        status, error = STATUS_OK, None
    except Exception as exc:  # a failed run is recorded, and retried by a rerun
        metrics, status, error = {}, STATUS_FAILED, f"{type(exc).__name__}: {exc}"
    return {"row": _row(job, revision, time.perf_counter() - t0, status, error),
            "metrics": metrics}


def _run_world_job(job: dict, revision: str, t0: float) -> dict:
    """One replicate of a world: a run (row and metrics) per society, in ``parts``."""
    from pathlib import Path

    from scslab.adoption import WorldSpec, run_replicate, society_outputs

    try:
        spec = WorldSpec.model_validate(job["world"])
        here = None if job["here"] is None else Path(job["here"])
        timeline, observed = run_replicate(spec, here, job["replicate"], job["people"],
                                           job["periods"])
        by_society = society_outputs(spec, timeline, observed)
        status, error = STATUS_OK, None
    except Exception as exc:  # a failed run is recorded, and retried by a rerun
        by_society, status, error = {}, STATUS_FAILED, f"{type(exc).__name__}: {exc}"
    duration = (time.perf_counter() - t0) / len(job["labels"])
    parts = []
    for c, label in enumerate(job["labels"]):
        one = {**job, "scenario_index": c, "scenario": label}
        parts.append({"key": (job["sample"], c, job["replicate"]),
                      "row": _row(one, revision, duration, status, error),
                      "metrics": by_society.get(label, {})})
    return {"parts": parts}


def _failed(job: dict, revision: str, error: str) -> dict:
    """A job that never ran (its worker died): every run it would yield, failed."""
    if "world" not in job:
        return {"row": _row(job, revision, 0.0, STATUS_FAILED, error), "metrics": {}}
    return {"parts": [{"key": (job["sample"], c, job["replicate"]),
                       "row": _row({**job, "scenario_index": c, "scenario": label},
                                   revision, 0.0, STATUS_FAILED, error),
                       "metrics": {}} for c, label in enumerate(job["labels"])]}


def _row(job: dict, revision: str, duration: float, status: str, error: str | None) -> dict:
    return {"sample": job["sample"], "scenario_index": job["scenario_index"],
            "scenario": job["scenario"], "replicate": job["replicate"], "seed": job["seed"],
            "values": job["values"], "code_revision": revision,
            "duration_s": round(duration, 6), "status": status, "error": error,
            "worker": f"{socket.gethostname()}:{os.getpid()}",
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _pool_initializer(env: dict[str, str]) -> None:
    os.environ.update(env)


def _run_local(jobs: list[dict], workers: int, revision: str,
               done: Callable[[dict, dict], None]) -> None:
    """In this process (1 worker) or a pool of spawned processes; a pool whose worker
    died is restarted and the runs it lost are submitted again."""
    if workers <= 1:
        for job in jobs:
            done(job, run_job(job, revision))
        return
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    pending = list(jobs)
    for _attempt in range(POOL_RESTARTS + 1):
        finished: set[int] = set()
        try:
            with spawn_pool(min(workers, len(pending)), initializer=_pool_initializer,
                            initargs=(worker_environment(),)) as pool:
                futures = {pool.submit(run_job, job, revision): i
                           for i, job in enumerate(pending)}
                for f in as_completed(futures):
                    i = futures[f]
                    done(pending[i], f.result())
                    finished.add(i)
            return
        except BrokenProcessPool:
            pending = [job for i, job in enumerate(pending) if i not in finished]
            if not pending:
                return
    for job in pending:
        done(job, _failed(job, revision, "worker process died repeatedly"))


def local_cluster_size(address: str) -> int | None:
    """N of ``local:N``; None for a scheduler address; a bad address is a StudyError."""
    if address.startswith("local:"):
        text = address.removeprefix("local:")
        if not text.isdigit() or int(text) < 1:
            raise StudyError("--dask", None, f"expected local:N with N >= 1, got {address!r}")
        return int(text)
    if "://" not in address:
        raise StudyError("--dask", None,
                         f"expected local:N or a scheduler address tcp://HOST:PORT, got {address!r}")
    return None


def dask_client(address: str) -> tuple[Any, Any]:
    """A Dask client for ``local:N`` (a LocalCluster of N one-thread worker processes on
    127.0.0.1) or a scheduler address ``tcp://HOST:PORT``. Returns (client, cluster)."""
    import dask
    from distributed import Client, LocalCluster

    n = local_cluster_size(address)
    if n is not None:
        with dask.config.set(LEAN_DASK_CONFIG):
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None,
                                   env=worker_environment())
            return Client(cluster), cluster
    try:
        return Client(address, timeout="10s"), None
    except (OSError, TimeoutError) as exc:
        raise StudyError("--dask", None, f"cannot reach the scheduler {address}: {exc}") from None


def _run_dask(jobs: list[dict], address: str, revision: str,
              done: Callable[[dict, dict], None]) -> None:
    from distributed import as_completed

    client, cluster = dask_client(address)
    try:
        futures = {}
        for job in jobs:
            k = job_key(job)
            f = client.submit(run_job, job, revision, pure=False, retries=DASK_RETRIES,
                              key=f"scslab-run-s{k.sample}-c{k.scenario}-r{k.replicate}-"
                                  f"{time.time_ns()}")
            futures[f] = job
        for f in as_completed(list(futures)):
            job = futures[f]
            try:
                result = f.result()
            except Exception as exc:  # the worker died more often than retries allow
                result = _failed(job, revision, f"{type(exc).__name__}: {exc}")
            done(job, result)
            f.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def execute(
    study: ResolvedStudy,
    store: StudyStore,
    workers: int = 1,
    dask: str | None = None,
    progress: Progress | None = None,
    x: Any = None,
    revision: str | None = None,
    limit: Iterable[RunKey] | None = None,
) -> Execution:
    """Run every run of ``study`` the store does not hold yet; write each as it ends."""
    from scslab.analysis.studies.design import design_matrix
    from scslab.analysis.studies.store import study_revision

    t0 = time.perf_counter()
    revision = revision or study_revision()
    x = design_matrix(study) if x is None else x
    jobs = plan(study, x)
    finished = store.finished()
    wanted = None if limit is None else set(limit)
    # a world job is done when every society's run is (a partial one runs again whole)
    todo = [j for j in jobs if any(k not in finished for k in job_keys(j))
            and (wanted is None or any(k in wanted for k in job_keys(j)))]
    total = sum(len(job_keys(j)) for j in jobs)
    count = {"done": total - sum(len(job_keys(j)) for j in todo), "failed": 0, "sim": 0.0}
    if progress is not None:
        progress(count["done"], total)

    def done(job: dict, result: dict) -> None:
        parts = result.get("parts") or [{"key": None, **result}]
        for part in parts:
            row = part["row"]
            key = job_key(job) if part["key"] is None else RunKey(*part["key"])
            store.write_run(key, row, part["metrics"])
            count["done"] += 1
            count["sim"] += row["duration_s"]
            if row["status"] != STATUS_OK:
                count["failed"] += 1
        if progress is not None:
            progress(count["done"], total)

    if todo:
        if dask:
            _run_dask(todo, dask, revision, done)
        else:
            _run_local(todo, workers, revision, done)
    store.compact()
    ran = sum(len(job_keys(j)) for j in todo)
    return Execution(total=total, skipped=total - ran, ran=ran,
                     failed=count["failed"], wall_seconds=time.perf_counter() - t0,
                     simulation_seconds=count["sim"])
