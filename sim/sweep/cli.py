"""`clustersim sweep` and `clustersim report` (registered by sim/cli.py)."""

from __future__ import annotations

import math
import os
import shlex
import signal
import sys
from pathlib import Path

from sim.errors import MachineFault, UsageError

# The sweep machinery (pyarrow.parquet, multiprocessing, tqdm, the modules of sim/sweep/: about
# 50 ms) is imported by the command that uses it, not here: every clustersim command's start
# imports this module to register `sweep` and `report`.

# default --max-runs: about 6 hours of 1,000-agent runs on two cores (docs/sweeps.md); a larger
# design must be confirmed by raising it
MAX_RUNS = 100_000
# design points are built in memory before the first run: beyond this no flag helps
MAX_POINTS = 10_000_000


def register(sub) -> None:
    p = sub.add_parser("sweep", help="run an experiment's design points x seeds, resumably",
                       description="Run every design point of an experiment file with its "
                       "seeds on local processes or a Dask cluster, writing Parquet results to "
                       "DIR; rerunning the same command resumes (docs/sweeps.md).")
    p.add_argument("experiment", help="experiment YAML file (experiments/*.yaml)")
    p.add_argument("--out", help="results directory (default: runs/sweep-<experiment name>)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="local worker processes (default: all cores)")
    where.add_argument("--dask-local", type=int, metavar="N",
                       help="start a Dask LocalCluster with N process workers")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="use an existing Dask cluster (its workers need clustersim)")
    p.add_argument("--restart", action="store_true",
                   help="set the results already in DIR aside (DIR/previous-<time>/) and start "
                        "over")
    p.add_argument("--check", action="store_true",
                   help="validate the experiment and print its size, run nothing")
    p.add_argument("--flush-seconds", type=float, default=5.0, metavar="S",
                   help="write finished runs to disk at least this often (the most work a "
                        "crash can lose; default 5)")
    p.add_argument("--max-runs", type=int, default=MAX_RUNS, metavar="N",
                   help=f"refuse a design of more than N runs (default {MAX_RUNS:,}); raise it "
                        "to confirm a larger sweep")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("report", help="figures, tables and a Markdown report of a sweep",
                       description="Write DIR/report/: probability of reaching the target by "
                       "parameter value, fan charts, Morris/Sobol indices, best and worst "
                       "design points.")
    p.add_argument("dir", help="a sweep results directory")
    p.add_argument("--metric", help="output analysed for sensitivity (default: the share in "
                                    "the target year)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_report)


def describe(exp, design_size: int) -> str:
    lines = [f"OK {exp.path}: experiment '{exp.name}', design {exp.design}, "
             f"base scenario {exp.base.path}"]
    for p in exp.params:
        if p.values is not None:
            shown = ", ".join(str(v) for v in p.values[:8]) + (" ..." if len(p.values) > 8 else "")
            lines.append(f"  {p.key}: {len(p.values)} value(s): {shown}")
        else:
            extra = (f", mode {p.mode:g}" if p.distribution == "triangular" else
                     f", mean {p.mean:g}, sd {p.sd:g}" if p.distribution == "normal" else "")
            lines.append(f"  {p.key}: {p.distribution} on [{p.lo:g}, {p.hi:g}]{extra}")
    D = len(exp.params)
    formula = {"sobol": f"N(2D+2) = {exp.samples} x {2 * D + 2}" if exp.second_order else
               f"N(D+2) = {exp.samples} x {D + 2}",
               "morris": f"N(D+1) = {exp.samples} x {D + 1}",
               "lhs": f"N = {exp.samples}"}.get(exp.design, "")
    lines.append(f"  {design_size:,} design points{' (' + formula + ')' if formula else ''} x "
                 f"{exp.replicates} replicate(s) = {design_size * exp.replicates:,} runs of "
                 f"{exp.base['run.firms']} firm agents, {exp.base['run.start']}..."
                 f"{exp.base['run.end']}; master seed {exp.seed} ({exp.seeds} seeds)")
    lines.append("  kept per run: the annual shares, target_hit, first_year_hit, "
                 f"target_k_reached and target_k_first_year for {len(exp.targets)} target(s)"
                 + "".join(f"\n    {m}: {exp.metric_meanings[m]}" for m in exp.metrics))
    return "\n".join(lines)


def check_size(exp, max_runs: int = MAX_RUNS) -> int:
    """The number of design points, counted without building them; refuse a design too large
    to hold in memory, or larger than `max_runs` runs unless that was raised."""
    from sim.sweep.designs import expected_points

    points = expected_points(exp)
    runs = points * exp.replicates
    size = f"{exp.path}: {points:,} design points x {exp.replicates} replicate(s) = {runs:,} runs"
    if points > MAX_POINTS:
        raise UsageError(f"{size}: more than {MAX_POINTS:,} design points cannot be built in "
                         "memory; use fewer values or samples, or split the experiment")
    if runs > max_runs:
        raise UsageError(f"{size}: more than --max-runs {max_runs:,} (docs/sweeps.md); to run "
                         f"it anyway, confirm with --max-runs {runs}")
    return points


def check_experiment(path, max_runs: int = MAX_RUNS) -> int:
    """Validate an experiment file and print its design (also for `clustersim validate`)."""
    from sim.sweep.designs import build_design, expected_points
    from sim.sweep.experiment import load_experiment

    exp = load_experiment(path)
    print(describe(exp, expected_points(exp)))
    points = check_size(exp, max_runs)
    assert len(build_design(exp)) == points
    return 0


def _check_numbers(args) -> None:
    for flag in ("workers", "dask_local", "max_runs"):
        n = getattr(args, flag)
        if n is not None and n < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be at least 1 (got {n})")
    if not (math.isfinite(args.flush_seconds) and args.flush_seconds > 0):
        raise UsageError(f"--flush-seconds must be a positive number of seconds (got "
                         f"{args.flush_seconds})")


def resume_command(args, out: Path) -> str:
    """The command that continues this sweep (never with --restart, which would start over)."""
    argv = ["clustersim", "sweep", args.experiment, "--out", str(out)]
    for flag in ("workers", "dask_local", "scheduler"):
        if getattr(args, flag) is not None:
            argv += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    if args.flush_seconds != 5.0:
        argv += ["--flush-seconds", f"{args.flush_seconds:g}"]
    if args.max_runs != MAX_RUNS:
        argv += ["--max-runs", str(args.max_runs)]
    return shlex.join(argv)


def kept(out: Path, total: int) -> str:
    from sim.sweep.store import count_runs

    try:
        n = count_runs(out) if out.is_dir() else 0
    except Exception:  # the line must still be printed
        return f"the finished runs are kept in {out}"
    return f"{n} of {total} runs are kept in {out}"


def cmd_sweep(args) -> int:
    from sim.sweep import runner
    from sim.sweep.backends import BackendError, DaskBackend, Interrupted, LocalBackend
    from sim.sweep.experiment import load_experiment
    from sim.sweep.store import DirectoryError

    _check_numbers(args)
    if args.check:
        return check_experiment(args.experiment, args.max_runs)
    exp = load_experiment(args.experiment)
    total = check_size(exp, args.max_runs) * exp.replicates
    if args.scheduler:
        backend = DaskBackend(address=args.scheduler)
    elif args.dask_local:
        backend = DaskBackend(local_workers=args.dask_local)
    else:
        backend = LocalBackend(args.workers or len(os.sched_getaffinity(0)))
    out = Path(args.out) if args.out else Path("runs") / f"sweep-{exp.name}"
    resume = resume_command(args, out)

    def stopped(signum: int) -> int:
        print(f"interrupted by {signal.Signals(signum).name}: {kept(out, total)}; resume with: "
              f"{resume}", file=sys.stderr)
        return 128 + signum

    try:
        summary = runner.sweep(exp, out, backend, restart=args.restart, argv=sys.argv,
                               flush_seconds=args.flush_seconds, progress_bar=not args.quiet)
    except (DirectoryError, BackendError) as exc:
        raise UsageError(str(exc)) from None
    except Interrupted as exc:
        return stopped(exc.signum)
    except MachineFault as exc:
        raise MachineFault(f"{exc}; {kept(out, total)}; once it can be written again, resume "
                           f"with: {resume}") from None
    if summary.interrupted:
        return stopped(summary.interrupted)
    if not args.quiet:
        print_summary(exp, summary, out, backend.name)
    return 1 if summary.failed_total else 0


def print_summary(exp, s, out: Path, backend: str) -> None:
    ran = s.ok + s.failed
    rate = ran / s.wall_s if s.wall_s > 0 else 0.0
    print(f"\nsweep {exp.name}: {ran} run(s) in {s.wall_s:.1f} s ({rate:.2f} runs/s) on "
          f"{backend}")
    print(f"  ok {s.ok}, failed {s.failed}, already done {s.skipped} of {s.total}"
          + (f"; {s.retried} retried after a worker died" if s.retried else ""))
    if s.failed_total:
        print(f"  {s.failed_total} failed run(s) in {out}"
              + (f" ({s.failed_before} from earlier sessions)" if s.failed_before else "")
              + f"; tracebacks in {out / 'errors'}/")
        for rid, err in s.failures[:10]:
            print(f"    {rid}  {err}")
        if len(s.failures) > 10:
            print(f"    ... and {len(s.failures) - 10} more (status == 'failed' in the runs)")
    print(f"  results: {out / 'runs'}/*.parquet; next: clustersim report {out}")


def cmd_report(args) -> int:
    from sim.sweep import store as st
    from sim.sweep.report import completeness, write_report

    root = Path(args.dir)
    try:
        path = write_report(root, metric=args.metric)
    except st.DirectoryError as exc:
        raise UsageError(str(exc)) from None
    status, complete = completeness(st.read_manifest(root), st.read_runs(root), root)
    if not args.quiet:
        print(f"report: {path}\n  {status}")
    elif not complete:
        print(f"warning: {status}", file=sys.stderr)
    return 0
