"""Running a sweep on a `concurrent.futures` executor: a local process pool or a Dask client.

Work is cut into jobs of a few runs of the same design point (so that a worker loads the
point's inputs and calibrates its 2020 level once). The parent keeps a bounded number of jobs
in flight, records each finished run in the Store and skips runs already recorded, so a
sweep can be killed at any moment and resumed.

Failures: a run that raises is recorded with status `failed`, its error message and (in
DIR/errors/) its traceback; the sweep goes on. A local worker process that dies breaks the
pool: the pool is replaced and the runs in flight are retried one by one; a run in flight
at a second death is retried alone, and one that kills its worker alone is recorded failed.
On Dask the scheduler retries tasks of lost workers itself and gives up with KilledWorker,
which is recorded as a failure of that run.

Signals: SIGINT and SIGTERM stop the sweep between two steps of the loop (never in the middle of
writing a part): the runs in flight are abandoned and their workers ended, every finished run
is written, and `Interrupted` tells the command line to exit 130 or 143. Local and LocalCluster
workers ignore SIGINT (a Ctrl-C at the terminal reaches the whole process group; the parent
decides).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections import OrderedDict, deque
from concurrent.futures import FIRST_COMPLETED, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from sim.scenario import Scenario
from sim.sweep import store as st
from sim.sweep.designs import Design, build_design, run_seed
from sim.sweep.experiment import Experiment, point_scenario

ERROR_CHARS = 500


@dataclass
class Job:
    base: Scenario
    point: int
    values: dict
    runs: list[tuple[str, int, int]]          # (run_id, replicate, seed)
    years: list[int]
    metrics: list[str]
    series: str
    attempts: int = 0                          # pool breaks it was in flight for
    alone: bool = False                        # run with nothing else in flight


@dataclass
class Outcome:
    row: dict
    series: pd.DataFrame | None = None
    traceback: str | None = None
    cpu_s: float = 0.0              # the worker's CPU time for this run (not in the rows)


def run_id(point: int, seed: int) -> str:
    return f"p{point:06d}-s{seed:010d}"


# ------------------------------------------------------------------------ in the worker

def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def dask_setup(worker) -> None:
    """Dask's preload hook, run in each LocalCluster worker process: as _worker_init."""
    if threading.current_thread() is threading.main_thread():
        _worker_init()

_INPUTS: OrderedDict = OrderedDict()


def _inputs(sc: Scenario):
    """Inputs depend on a few scenario keys; keying by the whole tree is safe and cheap."""
    from sim.inputs import load_inputs

    key = json.dumps(sc.tree, sort_keys=True, default=str)
    if key not in _INPUTS:
        _INPUTS[key] = load_inputs(sc)
        while len(_INPUTS) > 8:
            _INPUTS.popitem(last=False)
    return _INPUTS[key]


def param_cells(values: dict, kinds: dict[str, str]) -> dict:
    return {k: (json.dumps(v, sort_keys=True) if kinds.get(k) == "json" else v)
            for k, v in values.items()}


def metrics_row(result, sc: Scenario, years: list[int], extras: list[str]) -> dict:
    """Reduce one run to its figures: annual shares, target reached, and the extras."""
    annual = result.annual
    share = dict(zip(annual["year"].astype(int), annual["core_va_share_gdp_pct"].astype(float)))
    row: dict = {}
    for y in years:
        if y not in share or not math.isfinite(share[y]):
            raise FloatingPointError(f"core digital VA share in {y} is {share.get(y)}")
        row[f"share_{y}_pct"] = share[y]
    target, target_year = float(sc["target.share_pct"]), int(sc["target.year"])
    row["target_hit"] = bool(share[target_year] >= target)
    hits = [y for y in years if share[y] >= target]
    row["first_year_hit"] = min(hits) if hits else None
    national = result.national
    last = national.iloc[-1]
    va = dict(zip(annual["year"].astype(int), annual["core_va_bn_yuan"].astype(float)))
    values = {
        "core_va_end_bn_yuan": lambda: va[years[-1]],
        "chip_self_sufficiency_end_pct": lambda: float(last["chip_self_sufficiency_pct"]),
        "firms_end": lambda: float(last["firms"]),
        "employment_end": lambda: float(last["employment"]),
        "direct_loss_bn_yuan": lambda: float(national["direct_loss_bn_yuan"].sum()),
    }
    for m in extras:
        row[m] = values[m]()
    return row


def run_job(job: Job, kinds: dict[str, str]) -> list[Outcome]:
    """Run every run of a job; a run that raises becomes a failed row, never an exception."""
    from sim.runner import run_replicate

    outcomes = []
    sc = None
    for rid, replicate, seed in job.runs:
        cpu0 = time.process_time()
        row = {"run_id": rid, "point": job.point, "replicate": replicate, "seed": seed,
               "status": "ok", "error": None, **param_cells(job.values, kinds)}
        try:
            if sc is None:
                sc = point_scenario(job.base, job.values)
            result = run_replicate(sc, seed, replicate=replicate, inputs=_inputs(sc),
                                   firm_snapshots=False)
            row.update(metrics_row(result, sc, job.years, job.metrics))
            series = None
            if job.series != "none":
                frame = (result.annual if job.series == "annual" else result.national).copy()
                frame.insert(0, "point", job.point)
                frame.insert(0, "run_id", rid)
                series = frame
            outcomes.append(Outcome(row, series, None, time.process_time() - cpu0))
        except Exception as exc:  # isolate the run: record it and go on
            row.update(status="failed", error=_message(exc))
            outcomes.append(Outcome(row, None, traceback.format_exc(),
                                    time.process_time() - cpu0))
    return outcomes


def _message(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text if len(text) <= ERROR_CHARS else text[:ERROR_CHARS - 3] + "..."


# ------------------------------------------------------------------------ signals

class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped the sweep; the exit status is 128 + the signal's number."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def status(self) -> int:
        return 128 + self.signum


class SignalGuard:
    """SIGINT and SIGTERM raise Interrupted in the main thread, or, while `deferred`, are noted
    for `check()` to raise at a safe point. Later signals are ignored so the clean-up finishes."""

    def __init__(self):
        self.signum: int | None = None
        self.deferred = False
        self._old: dict = {}

    def __enter__(self) -> "SignalGuard":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:
            return
        self.signum = signum
        if not self.deferred:
            raise Interrupted(signum)

    def check(self) -> None:
        if self.signum is not None:
            raise Interrupted(self.signum)

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _stop_helper_processes() -> None:
    """The fork server and the resource tracker outlive the pool (and, after a signal, the
    sweep, as orphans); stop them once the workers are gone. Private APIs of multiprocessing,
    hence the guards: at worst a helper exits by itself when this process does."""
    from multiprocessing import forkserver, resource_tracker

    server = getattr(forkserver, "_forkserver", None)
    if getattr(server, "_forkserver_pid", None) is not None:
        try:
            server._stop()
        except (OSError, AttributeError):
            pass
    tracker = getattr(resource_tracker, "_resource_tracker", None)
    fd, pid = getattr(tracker, "_fd", None), getattr(tracker, "_pid", None)
    if fd is None or pid is None:
        return
    with tracker._lock:
        os.close(fd)  # end of file tells it to exit once no other process holds it
        tracker._fd, tracker._pid = None, None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:
            return
        time.sleep(0.02)


# ------------------------------------------------------------------------ backends

class BackendError(Exception):
    """The workers cannot be started or reached (exit status 2)."""


class LocalBackend:
    """A process pool; forkserver workers import the model once, without the parent's threads."""

    def __init__(self, workers: int):
        self.workers = workers
        self.name = f"{workers} local process{'es' if workers != 1 else ''}"
        self.pool = None

    @property
    def slots(self) -> int:
        return self.workers

    def __enter__(self):
        from concurrent.futures import ProcessPoolExecutor

        # one BLAS thread per worker, as Dask's nannies do: workers x threads must not
        # oversubscribe the cores (read when the fork server imports numpy)
        self._environ = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["sim.sweep.runner", "sim.runner"])
        self._new = lambda: ProcessPoolExecutor(self.workers, mp_context=ctx,
                                                initializer=_worker_init)
        self.pool = None
        try:
            self._start()
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def _start(self) -> None:
        """A new pool whose workers answer: if they die before any run, no run is to blame."""
        self.pool = self._new()
        try:
            self.pool.submit(os.getpid).result(timeout=300)
        except (BrokenProcessPool, TimeoutError) as exc:
            main = getattr(sys.modules["__main__"], "__file__", None)
            hint = ("; workers re-import the main program, which Python read from "
                    f"{main}: run it from a file" if main and not os.path.exists(main) else "")
            raise BackendError(f"local worker processes cannot start ({exc or 'timed out'})"
                               f"{hint}; results recorded so far are kept") from None

    def submit(self, fn, *args):
        return self.pool.submit(fn, *args)

    def is_broken(self, exc: BaseException) -> bool:
        return isinstance(exc, BrokenProcessPool)

    def is_worker_death(self, exc: BaseException) -> bool:
        return False

    def restart(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self._start()

    def abort(self) -> None:
        """End the workers now: their runs in flight are unfinished and run again on resume.
        (ProcessPoolExecutor can only wait for them; Python 3.14 adds terminate_workers.)"""
        if self.pool is None:
            return
        workers = list((getattr(self.pool, "_processes", None) or {}).values())
        for w in workers:
            w.terminate()
        for w in workers:
            w.join(5)
            if w.is_alive():
                w.kill()
                w.join(5)
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = None

    def __exit__(self, exc_type=None, *exc):
        if exc_type is not None:  # an error or a signal: do not wait for the runs in flight
            self.abort()
        elif self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = None
        _stop_helper_processes()
        os.environ.clear()
        os.environ.update(self._environ)


class DaskBackend:
    """A Dask client's concurrent.futures executor: a LocalCluster of process workers, or an
    existing scheduler (whose workers must have clustersim installed)."""

    def __init__(self, local_workers: int | None = None, address: str | None = None):
        self.local_workers, self.address = local_workers, address
        self.name = (f"Dask scheduler {address}" if address else
                     f"Dask LocalCluster of {local_workers} process worker(s)")

    def __enter__(self):
        from distributed import Client, LocalCluster

        self.cluster = self.client = self.executor = None
        if self.address:
            try:
                self.client = Client(self.address, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise BackendError(f"cannot reach the Dask scheduler at {self.address}: "
                                   f"{exc}") from None
        else:
            try:
                # errors only: a stop cancels tasks, and each worker would warn about each
                self.cluster = LocalCluster(n_workers=self.local_workers, threads_per_worker=1,
                                            processes=True, dashboard_address=None,
                                            silence_logs=logging.ERROR,
                                            preload=["sim.sweep.runner"])
                self.client = Client(self.cluster)
            except BaseException:
                self.__exit__(*sys.exc_info())
                raise
        self.executor = self.client.get_executor(pure=False)
        self._slots, self._asked = 1, -1e9
        return self

    @property
    def slots(self) -> int:
        """Worker threads, asked again every few seconds: a cluster may scale up or down."""
        if time.monotonic() - self._asked > 5:
            self._slots = max(1, sum(self.client.nthreads().values()))
            self._asked = time.monotonic()
        return self._slots

    def submit(self, fn, *args):
        return self.executor.submit(fn, *args)

    def is_broken(self, exc: BaseException) -> bool:
        return False

    def is_worker_death(self, exc: BaseException) -> bool:
        from distributed.scheduler import KilledWorker
        return isinstance(exc, KilledWorker)

    def restart(self) -> None:  # pragma: no cover - Dask replaces workers itself
        pass

    def abort(self) -> None:
        """Nothing to do: closing the LocalCluster ends its workers with their tasks, and an
        existing cluster's scheduler drops the tasks of a client that leaves."""

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
            _stop_helper_processes()


# ------------------------------------------------------------------------ the sweep

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


def plan_jobs(exp: Experiment, design: Design, done: set[str], slots: int) -> tuple[list[Job], int]:
    """Jobs for the runs not yet recorded, and the total number of runs."""
    common = exp.seeds == "common"
    todo: list[tuple[int, list[tuple[str, int, int]]]] = []
    total = 0
    for point in range(len(design)):
        runs = []
        for r in range(exp.replicates):
            seed = run_seed(exp.seed, point, r, common)
            total += 1
            rid = run_id(point, seed)
            if rid not in done:
                runs.append((rid, r, seed))
        if runs:
            todo.append((point, runs))
    remaining = sum(len(r) for _, r in todo)
    # a few runs per job keep a worker on one point, yet leave ~8 jobs per slot to balance
    size = max(1, min(exp.replicates, math.ceil(remaining / (8 * slots))))
    jobs = [Job(exp.base, point, design.points[point], runs[i:i + size], exp.years,
                exp.metrics, exp.series)
            for point, runs in todo for i in range(0, len(runs), size)]
    return jobs, total


def failed_row(job: Job, rid: str, replicate: int, seed: int, message: str,
               kinds: dict[str, str]) -> dict:
    return {"run_id": rid, "point": job.point, "replicate": replicate, "seed": seed,
            "status": "failed", "error": message, **param_cells(job.values, kinds)}


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
                    msg = "worker died: " + _message(exc)
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


# ------------------------------------------------------------------------ the directory

def design_table(exp: Experiment, design: Design) -> pa.Table:
    kinds = {p.key: p.kind for p in exp.params}
    cols: dict = {"point": list(range(len(design)))}
    for p in exp.params:
        cols[p.key] = [param_cells(pt, kinds)[p.key] for pt in design.points]
    if design.X is not None:
        for j, p in enumerate(exp.params):
            cols[f"sample.{p.key}"] = design.X[:, j].astype(float)
    return pa.table(cols)


def base_inputs(exp: Experiment) -> dict:
    """What the runs read besides the experiment's settings: the resolved base scenario (every
    `extends:` file merged, so an edit that changes no value does not count) and the sha256 of
    every data table a run may read (the built-in ones, the base's own, any a design varies)."""
    from sim.inputs import DATA_DIR
    from sim.parameters import PARAMETERS

    path_keys = {p.key for p in PARAMETERS if p.key.startswith("data.")}  # table paths
    tables = set(DATA_DIR.glob("*.csv"))
    tables.update(f for f in map(exp.base.resolve_path, sorted(path_keys)) if f is not None)
    for p in exp.params:
        if p.key in path_keys:
            tables.update(Path(v) for v in p.values or () if v != "builtin")
    tree = json.dumps(exp.base.tree, sort_keys=True, default=str)
    return {"resolved_scenario_sha256": hashlib.sha256(tree.encode()).hexdigest(),
            "data_tables_sha256": {str(f): _sha256(f) for f in sorted(tables)}}


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:  # reported as a difference, not as a crash
        return f"unreadable ({exc.strerror or exc})"


def _inputs_hash(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def check_directory(exp: Experiment, root: Path, restart: bool) -> None:
    """Refuse DIR before any worker starts or anything is written: a place that cannot be
    written, a directory no sweep made, or one holding results this experiment would not give."""
    root = Path(root)
    st.check_writable(root)
    if st.is_foreign(root):
        raise st.DirectoryError(f"{root} exists and is not a sweep directory (no sweep's "
                                "manifest.json); choose another --out (nothing in it was "
                                "changed)")
    if restart or not (root / "manifest.json").exists():
        return
    what = _mismatch(st.read_manifest(root), exp)
    if what:
        raise st.DirectoryError(f"{root} holds results of {what}. Use --restart to set them "
                                f"aside (moved into {root / (st.ASIDE_PREFIX + '<time>')}/) and "
                                "start over, or choose another --out")


def _mismatch(old: dict, exp: Experiment) -> str:
    """Why results in DIR are not this experiment's, or ''."""
    digest = exp.content_hash()
    if old.get("experiment_hash") != digest:
        what = _differences(old, exp)
        return (f"another experiment ({old.get('experiment_file')}, hash "
                f"{str(old.get('experiment_hash'))[:12]}; this one {digest[:12]}"
                f"{': ' + what if what else ''})")
    recorded = old.get("base_scenario_inputs")
    if recorded is None:  # made before the inputs were recorded: nothing to compare
        return ""
    now = base_inputs(exp)
    if _inputs_hash(recorded) == _inputs_hash(now):
        return ""
    before, after = recorded.get("data_tables_sha256", {}), now["data_tables_sha256"]
    changed = [f"data table {f} " + ("is no longer read" if f not in after else
                                     "is new" if f not in before else "changed")
               for f in sorted(set(before) | set(after)) if before.get(f) != after.get(f)]
    if recorded.get("resolved_scenario_sha256") != now["resolved_scenario_sha256"]:
        changed.insert(0, "the resolved base scenario changed")
    return ("this experiment with different inputs (the experiment file is unchanged): "
            + "; ".join(changed[:5]) + (f"; and {len(changed) - 5} more" if len(changed) > 5
                                        else ""))


def prepare(exp: Experiment, design: Design, root: Path, restart: bool, backend_name: str,
            argv: list[str]) -> dict:
    """Create or reopen DIR (under its lock); with `restart`, set earlier results aside."""
    from sim.outputs import git_commit, package_versions

    root = Path(root)
    check_directory(exp, root, restart)
    manifest_path = root / "manifest.json"
    if restart:
        aside = st.set_aside(root)
        if aside is not None:
            print(f"--restart: the earlier results in {root} were moved to {aside}/ (delete it "
                  "when no longer needed)", file=sys.stderr)
    root.mkdir(parents=True, exist_ok=True)
    session = {"started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "command": argv, "backend": backend_name, "git_commit": git_commit(),
               "versions": package_versions(), "pid": os.getpid()}
    inputs = base_inputs(exp)
    if manifest_path.exists():
        manifest = st.read_manifest(root)
        first = manifest["sessions"][0].get("git_commit")
        if first != session["git_commit"]:
            print(f"warning: {root} holds runs made by code at commit {first}; this session "
                  f"runs {session['git_commit']} (the manifest records each session's)",
                  file=sys.stderr)
        manifest.setdefault("base_scenario_inputs", inputs)
        manifest["sessions"].append(session)
    else:
        manifest = {
            "experiment_name": exp.name, "experiment_file": str(exp.path),
            "experiment_hash": exp.content_hash(), "experiment": exp.spec,
            "description": exp.description, "base_scenario": exp.base.as_dict(),
            "base_scenario_hash": _inputs_hash(inputs), "base_scenario_inputs": inputs,
            "design": exp.design,
            "parameters": [p.key for p in exp.params],
            "parameter_kinds": {p.key: p.kind for p in exp.params},
            "problem": design.problem, "levels": exp.levels, "second_order": exp.second_order,
            "samples": exp.samples, "points": len(design), "replicates": exp.replicates,
            "seed": exp.seed, "seeds": exp.seeds, "years": exp.years,
            "target_share_pct": float(exp.base["target.share_pct"]),
            "target_year": exp.target_year, "metrics": st.metric_columns(exp),
            "series": exp.series, "sessions": [session]}
        st.write_parquet_atomic(design_table(exp, design), root / "design.parquet")
    st.write_manifest(root, manifest)
    return manifest


def _differences(old: dict, exp: Experiment) -> str:
    def flat(d, prefix=""):
        out = {}
        for k, v in (d or {}).items():
            if isinstance(v, dict):
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out
    a = flat(old.get("experiment"))
    b = flat({k: v for k, v in exp.spec.items()})
    keys = sorted(k for k in set(a) | set(b)
                  if k != "description" and json.dumps(a.get(k), default=str) !=
                  json.dumps(b.get(k), default=str))
    if not keys:
        base_old, base_new = flat(old.get("base_scenario")), flat(exp.base.as_dict())
        keys = sorted(k for k in set(base_old) | set(base_new)
                      if k not in ("name", "description") and
                      json.dumps(base_old.get(k), default=str) !=
                      json.dumps(base_new.get(k), default=str))

        def where(key: str) -> str:
            file, line = exp.base.where(key)
            return f"{key} (now {base_new.get(key)!r}, {file}{':' + str(line) if line else ''})"
        return ("the experiment file is unchanged; the base scenario differs in " +
                ", ".join(map(where, keys[:5]))) if keys else ""
    return "differs in " + ", ".join(keys[:5])


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
    from tqdm import tqdm

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
