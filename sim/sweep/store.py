"""Sweep results on disk: small Parquet parts that a crash never leaves half written.

DIR/
  manifest.json        the experiment (settings, resolved base scenario, content hash), code
                       versions and commit of every session that wrote here
  design.parquet       one row per design point: the values run (and SALib's raw sample)
  runs/part-*.parquet  one row per run: run_id, point, replicate, seed, status, error,
                       parameter values, metrics
  series/part-*.parquet  the annual or monthly series, if the experiment asks for them
  errors/<run_id>.txt  the traceback of each failed run

Each part is written to a temporary name, flushed to disk and renamed, so a reader (or a
resumed sweep) sees whole parts only; a run is done exactly when its row is in a part. A
series part is renamed before the runs part of the same number, and series parts whose runs
part is missing (a crash between the two renames) are removed on resume.

A write that fails (disk full, I/O error) raises sim.errors.MachineFault naming the path; its
temporary file is removed, and the store writes nothing more, so DIR stays resumable.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.atomic import staged_file
from sim.errors import MachineFault

if TYPE_CHECKING:  # the store reads an experiment's columns; it never loads one
    from sim.sweep.experiment import Experiment

LOCK_NAME = ".lock"
SWEEP_FILES = ("runs", "series", "errors", "report", "design.parquet", "manifest.json")
ASIDE_PREFIX = "previous-"
ID_COLUMNS = ["run_id", "point", "replicate", "seed", "status", "error"]
PART_RE = re.compile(r"^part-(\d{6})\.parquet$")


class DirectoryError(Exception):
    """The output directory cannot be used as asked (exit status 2)."""


def reason(exc: OSError) -> str:
    return os.strerror(exc.errno).lower() if exc.errno else str(exc)


def fault(path: Path, exc: OSError) -> MachineFault:
    """An OSError while writing, as the one-line message a user sees (exit status 4)."""
    return MachineFault(f"cannot write {path}: {reason(exc)}")


@contextmanager
def _atomic(path: Path, mode: str):
    """atomic.staged_file, with a failed write worded as a MachineFault naming `path`."""
    try:
        with staged_file(path, mode) as fh:
            yield fh
    except OSError as exc:
        if isinstance(exc, MachineFault):
            raise
        raise fault(path, exc) from None


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    with _atomic(path, "wb") as fh:
        pq.write_table(table, fh, compression="zstd")


def write_text_atomic(path: Path, text: str) -> None:
    with _atomic(path, "w") as fh:
        fh.write(text)


def _parts(folder: Path) -> dict[int, Path]:
    if not folder.is_dir():
        return {}
    return {int(m.group(1)): p for p in folder.iterdir() if (m := PART_RE.match(p.name))}


class Store:
    """Buffers finished runs and writes them as numbered parts."""

    def __init__(self, root: Path, exp: Experiment, flush_seconds: float = 5.0,
                 flush_rows: int = 500):
        self.root = Path(root)
        self.exp = exp
        self.schema = exp.runs_schema()
        self.runs_dir, self.series_dir = self.root / "runs", self.root / "series"
        self.errors_dir = self.root / "errors"
        self.flush_seconds, self.flush_rows = flush_seconds, flush_rows
        self.rows: list[dict] = []
        self.series: list[pd.DataFrame] = []
        self.tracebacks: list[tuple[str, str]] = []
        self.last_flush = time.monotonic()
        self.done: set[str] = set()
        self.failed_before = 0
        self.faulted = False            # a write failed: write nothing more this session

    # ---------------------------------------------------------------- open / close
    def open(self) -> "Store":
        for d in (self.runs_dir, self.series_dir, self.errors_dir):
            try:
                d.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise fault(d, exc) from None
        for d in (self.runs_dir, self.series_dir, self.errors_dir):
            for tmp in d.glob(".*.tmp"):  # a part being written when a run was killed
                tmp.unlink()
        runs = _parts(self.runs_dir)
        for seq, path in _parts(self.series_dir).items():
            if seq not in runs:
                path.unlink()
        ids, failed = [], 0
        for seq, path in sorted(runs.items()):
            try:
                t = pq.read_table(path, columns=["run_id", "status"])
            except (pa.ArrowInvalid, OSError) as exc:
                # unreadable after a power cut: set it aside, its runs run again
                aside = path.with_name(f"corrupt-{path.name}")
                print(f"warning: {path} is unreadable ({exc}); moved to {aside.name}, its runs "
                      "will run again", file=sys.stderr)
                path.rename(aside)
                series = self.series_dir / path.name
                if series.exists():
                    series.unlink()
                continue
            ids += t.column("run_id").to_pylist()
            failed += sum(s == "failed" for s in t.column("status").to_pylist())
        self.done = set(ids)
        if len(self.done) != len(ids):
            raise DirectoryError(f"{self.runs_dir}: a run id appears twice; the directory was "
                                 "changed by hand")
        self.failed_before = failed
        self.seq = max(runs, default=0) + 1
        return self

    def close(self) -> None:
        self.flush()

    # ---------------------------------------------------------------- writing
    def add(self, row: dict, series: pd.DataFrame | None = None,
            traceback: str | None = None) -> None:
        if row["run_id"] in self.done:
            raise AssertionError(f"run {row['run_id']} recorded twice")
        self.done.add(row["run_id"])
        self.rows.append(row)
        if series is not None:
            self.series.append(series)
        if traceback:
            self.tracebacks.append((row["run_id"], traceback))

    def maybe_flush(self) -> None:
        if self.rows and (len(self.rows) >= self.flush_rows or
                          time.monotonic() - self.last_flush >= self.flush_seconds):
            self.flush()

    def flush(self) -> None:
        self.last_flush = time.monotonic()
        if not self.rows or self.faulted:
            return
        name = f"part-{self.seq:06d}.parquet"
        try:
            for run_id, text in self.tracebacks:
                write_text_atomic(self.errors_dir / f"{run_id}.txt", text)
            if self.series:
                frame = pd.concat(self.series, ignore_index=True)
                write_parquet_atomic(pa.Table.from_pandas(frame, preserve_index=False),
                                     self.series_dir / name)
            write_parquet_atomic(pa.Table.from_pylist(self.rows, schema=self.schema),
                                 self.runs_dir / name)
        except MachineFault:
            # no series part without its runs part (this write's own file); these runs run
            # again on resume
            self.faulted = True
            with suppress(OSError):
                (self.series_dir / name).unlink(missing_ok=True)
            raise
        self.seq += 1
        self.rows, self.series, self.tracebacks = [], [], []


class DirLock:
    """One sweep at a time per directory (an advisory lock the kernel drops if we die)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.fh = None

    def __enter__(self) -> "DirLock":
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.fh = open(self.root / LOCK_NAME, "w")
        except OSError as exc:
            raise fault(self.root / LOCK_NAME, exc) from None
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self.fh.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise DirectoryError(f"{self.root}: another sweep is writing to this "
                                     "directory") from None
            raise
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def is_foreign(root: Path) -> bool:
    """A non-empty directory that no sweep made: never write into it."""
    root = Path(root)
    if not root.is_dir():
        return False
    if (root / "manifest.json").exists():
        return not is_sweep_manifest(root)
    # a restart that stopped between setting results aside and writing the manifest left these
    return any(p.name != LOCK_NAME and not p.name.startswith(ASIDE_PREFIX)
               for p in root.iterdir())


def is_sweep_manifest(root: Path) -> bool:
    """manifest.json written by a sweep (`clustersim run` writes one too, of another kind)."""
    try:
        manifest = json.loads((Path(root) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and {"experiment_hash", "sessions"} <= set(manifest)


def check_writable(root: Path) -> None:
    """Refuse an --out that cannot be a sweep directory before anything runs or is written:
    an existing file, a path through a file, the working directory or one above it, a place
    this user cannot create files in."""
    root = Path(root)
    here = Path.cwd().resolve()
    full = root.resolve()
    if full == here or full in here.parents:
        raise DirectoryError(f"--out {root}: the working directory or one above it cannot be a "
                             "sweep directory; name a new one, e.g. runs/sweep-NAME")
    existing = full
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        what = "is an existing file" if existing == full else f"goes through the file {existing}"
        raise DirectoryError(f"--out {root}: {what}, not a directory")
    try:  # the one sure test, also for root and read-only mounts: create a file, remove it
        fd, probe = tempfile.mkstemp(prefix=".clustersim-probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise DirectoryError(f"--out {root}: cannot create files in {existing} "
                             f"({reason(exc)})") from None


def count_runs(root: Path) -> int:
    """Runs recorded in DIR (from the parts' metadata, without reading the rows)."""
    return sum(pq.read_metadata(p).num_rows for p in _parts(Path(root) / "runs").values())


# -------------------------------------------------------------------- reading

def read_runs(root: Path) -> pd.DataFrame:
    """Every recorded run, one row each, in design order (point, replicate)."""
    parts = [p for _, p in sorted(_parts(Path(root) / "runs").items())]
    if not parts:
        return pd.DataFrame(columns=ID_COLUMNS)
    df = pa.concat_tables([pq.read_table(p) for p in parts]).to_pandas()
    return df.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)


def read_series(root: Path) -> pd.DataFrame:
    parts = [p for _, p in sorted(_parts(Path(root) / "series").items())]
    if not parts:
        return pd.DataFrame()
    df = pa.concat_tables([pq.read_table(p) for p in parts]).to_pandas()
    order = [c for c in ("point", "replicate", "year", "date") if c in df.columns]
    return df.sort_values(order, kind="stable").reset_index(drop=True)


def read_manifest(root: Path) -> dict:
    path = Path(root) / "manifest.json"
    if not path.exists():
        raise DirectoryError(f"{root}: no manifest.json; not a sweep directory")
    if not is_sweep_manifest(root):
        raise DirectoryError(f"{path}: unreadable or not written by a sweep; not a sweep "
                             "directory (nothing in it was changed)")
    return json.loads(path.read_text(encoding="utf-8"))


def write_manifest(root: Path, obj: dict) -> None:
    write_text_atomic(Path(root) / "manifest.json", json.dumps(obj, indent=2, default=str) + "\n")


def read_design(root: Path) -> pd.DataFrame:
    return pq.read_table(Path(root) / "design.parquet").to_pandas()


def set_aside(root: Path) -> Path | None:
    """Move what a sweep wrote (and nothing else) into DIR/previous-<UTC time>/ for --restart;
    return where it went (None when there was nothing)."""
    root = Path(root)
    present = [root / name for name in SWEEP_FILES if (root / name).exists()]
    if not present:
        return None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = root / f"{ASIDE_PREFIX}{stamp}"
    n = 1
    while aside.exists():
        n += 1
        aside = root / f"{ASIDE_PREFIX}{stamp}-{n}"
    try:
        aside.mkdir()
        for path in present:
            path.rename(aside / path.name)  # same file system: nothing is copied or lost
    except OSError as exc:
        raise fault(aside, exc) from None
    return aside
