"""Where a sweep's jobs run: a local process pool or a Dask client, behind one small interface
(start and stop as a context manager, `slots`, `submit`, `is_broken`, `is_worker_death`,
`restart`, `abort`), and the signal handling that stops a sweep cleanly.

Failures: a local worker process that dies breaks the pool; `restart` replaces it (the loop in
sim/sweep/runner.py decides what to retry). On Dask the scheduler retries tasks of lost
workers itself and gives up with KilledWorker, which the loop records as that run's failure.

Signals: SIGINT and SIGTERM stop the sweep between two steps of the loop (never in the middle of
writing a part): the runs in flight are abandoned and their workers ended, every finished run
is written, and `Interrupted` tells the command line to exit 130 or 143. Local and LocalCluster
workers ignore SIGINT (a Ctrl-C at the terminal reaches the whole process group; the parent
decides).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver, resource_tracker


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def dask_setup(worker) -> None:
    """Dask's preload hook, run in each LocalCluster worker process: as _worker_init."""
    if threading.current_thread() is threading.main_thread():
        _worker_init()


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
        # one BLAS thread per worker, as Dask's nannies do: workers x threads must not
        # oversubscribe the cores (read when the fork server imports numpy)
        self._environ = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["sim.sweep.jobs"])  # the model, imported once
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
        from distributed import Client, LocalCluster  # heavy: only Dask sweeps need it

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
                                            preload=["sim.sweep.backends"])
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
        from distributed.scheduler import KilledWorker  # heavy: as in __enter__
        return isinstance(exc, KilledWorker)

    def restart(self) -> None:  # pragma: no cover - Dask replaces workers itself
        pass

    def abort(self) -> None:
        """Nothing to do: closing the LocalCluster ends its workers with their tasks, and an
        existing cluster's scheduler drops the tasks of a client that leaves."""

    def __exit__(self, exc_type=None, *exc):
        if exc_type is not None:
            # A stop (signal or error) closes connections under gathers still in flight; Tornado
            # would log each one's CommClosedError with a traceback that says nothing new.
            for name in ("tornado.application", "distributed", "asyncio"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
            _stop_helper_processes()
