"""Running a sweep: plan, prepare DIR, keep a bounded number of jobs in flight on a backend
(sim/sweep/backends.py), record each finished run in the Store and skip runs already recorded,
so a sweep can be killed at any moment and resumed.

Failures: a run that raises is recorded with status `failed`, its error message and (in
DIR/errors/) its traceback; the sweep goes on. A local worker process that dies breaks the
pool: the pool is replaced and the runs in flight are retried one by one; a run in flight
at a second death is retried alone, and one that kills its worker alone is recorded failed.
A worker that Dask gives up on (KilledWorker) is recorded as a failure of its runs.
"""

from __future__ import annotations

import signal
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from sim.sweep import store as st
from sim.sweep.backends import SignalGuard
from sim.sweep.designs import Design, build_design
from sim.sweep.experiment import Experiment
from sim.sweep.jobs import Job, Outcome, error_message, failed_row, plan_jobs, run_job
from sim.sweep.manifest import check_directory, prepare

@dataclass
class Summary:
    total: int
    skipped: int                    # already recorded before this session
    ok: int = 0
    failed: int = 0                 # in this session
    failed_before: int = 0
    retried: int = 0                # runs resubmitted after a worker died
    wall_s: float = 0.0
    worker_cpu_s: float = 0.0       # CPU time the workers spent in runs
    interrupted: int = 0            # the signal that stopped the sweep, 0 if none
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def failed_total(self) -> int:
        return self.failed + self.failed_before

    @property
    def complete(self) -> bool:
        return self.skipped + self.ok + self.failed == self.total


def execute(exp: Experiment, design: Design, store: st.Store, backend, progress=None,
            stop: SignalGuard | None = None) -> Summary:
    """Run every run not yet in the store; return counts. Safe to interrupt at any time: a
    signal noted by `stop` (or a KeyboardInterrupt) ends it with every finished run written."""
    kinds = {p.key: p.kind for p in exp.params}
    jobs, total = plan_jobs(exp, design, store.done, backend.slots)
    summary = Summary(total, total - sum(len(j.runs) for j in jobs),
                      failed_before=store.failed_before)
    queue = deque(jobs)
    inflight: dict = {}
    t0 = time.perf_counter()

    def record(outcomes: list[Outcome]) -> None:
        for o in outcomes:
            store.add(o.row, o.series, o.traceback)
            summary.worker_cpu_s += o.cpu_s
            if o.row["status"] == "ok":
                summary.ok += 1
            else:
                summary.failed += 1
                summary.failures.append((o.row["run_id"], o.row["error"]))
        if progress is not None:
            progress(len(outcomes), summary.failed_total)

    def check() -> None:
        if stop is not None:
            stop.check()

    try:
        while queue or inflight:
            check()
            limit = 2 * backend.slots
            broken: list[Job] = []
            pool_broke = False
            # a suspect runs with nothing else in flight, so a death can be pinned on it
            while (queue and len(inflight) < limit and
                   not any(j.alone for j in inflight.values()) and
                   not (queue[0].alone and inflight)):
                job = queue.popleft()
                try:
                    inflight[backend.submit(run_job, job, kinds)] = job
                except Exception as exc:  # the pool broke since the last look
                    if not backend.is_broken(exc):
                        raise
                    queue.appendleft(job)  # it never ran: no strike against it
                    pool_broke = True
                    break
            done, _ = wait(list(inflight), timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                job = inflight.pop(fut)
                exc = fut.exception()
                if exc is None:
                    record(fut.result())
                elif backend.is_broken(exc):
                    broken.append(job)
                elif backend.is_worker_death(exc):
                    msg = "worker died: " + error_message(exc)
                    record([Outcome(failed_row(job, rid, r, s, msg, kinds), None,
                                    msg + "\n(no Python traceback: the worker process died)\n")
                            for rid, r, s in job.runs])
                else:
                    raise exc
            if broken or pool_broke:
                # every job in flight on a broken pool ends; keep the ones that finished
                while inflight:
                    check()
                    for fut in wait(list(inflight), timeout=0.5).done:
                        job = inflight.pop(fut)
                        if fut.exception() is None:
                            record(fut.result())
                        else:
                            broken.append(job)
                backend.restart()
                retry = []
                for job in broken:
                    if job.alone:
                        msg = ("worker process died while running this run (it was retried "
                               "alone and killed its worker again)")
                        record([Outcome(failed_row(job, rid, r, s, msg, kinds), None,
                                        msg + "\n(no Python traceback: the process died)\n")
                                for rid, r, s in job.runs])
                        continue
                    for run in job.runs:  # retry one run per job to find the culprit
                        retry.append(Job(job.base, job.point, job.values, [run], job.years,
                                         job.metrics, job.series, job.attempts + 1,
                                         alone=job.attempts + 1 >= 2))
                summary.retried += len(retry)
                queue.extendleft(reversed(retry))
            store.maybe_flush()
    except KeyboardInterrupt as exc:
        summary.interrupted = getattr(exc, "signum", signal.SIGINT)
    finally:
        store.flush()
        summary.wall_s = time.perf_counter() - t0
    return summary


def finish_manifest(root: Path, summary: Summary) -> None:
    manifest = st.read_manifest(root)
    manifest["sessions"][-1].update(
        finished_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        wall_time_s=round(summary.wall_s, 3), worker_cpu_s=round(summary.worker_cpu_s, 3),
        runs_ok=summary.ok, runs_failed=summary.failed,
        runs_skipped=summary.skipped, runs_retried=summary.retried,
        interrupted=signal.Signals(summary.interrupted).name if summary.interrupted else False)
    manifest["complete"] = summary.complete
    st.write_manifest(root, manifest)


def sweep(exp: Experiment, root: Path, backend, restart: bool = False, argv=(),
          flush_seconds: float = 5.0, progress_bar: bool = True) -> Summary:
    """Plan, prepare DIR, run what is missing, and record the session. Raises Interrupted if
    a signal comes before the runs start, MachineFault if DIR cannot be written."""
    root = Path(root)
    check_directory(exp, root, restart)  # before the lock file, a worker or a design exists
    design = build_design(exp)
    with SignalGuard() as guard, backend, st.DirLock(root):
        prepare(exp, design, root, restart, backend.name, list(argv))
        store = st.Store(root, exp, flush_seconds=flush_seconds).open()
        try:
            total = len(design) * exp.replicates
            with tqdm(total=total, initial=len(store.done), unit="run", desc=exp.name,
                      disable=not progress_bar, dynamic_ncols=True, smoothing=0.1) as bar:
                bar.set_postfix(failed=store.failed_before)

                def progress(n, failed):
                    bar.update(n)
                    bar.set_postfix(failed=failed, refresh=False)

                guard.deferred = True  # from here a signal stops the loop between writes
                summary = execute(exp, design, store, backend, progress, stop=guard)
        finally:
            store.close()
        if summary.interrupted:
            backend.abort()
        finish_manifest(root, summary)
    return summary
