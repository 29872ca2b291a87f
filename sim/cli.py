"""The `clustersim` command line (also `python -m sim`).

Core commands live here; the sweep, report, browser, calibration and validation commands
register themselves from their own packages (see PLUGINS), so each stays in one place.
Every bad input ends with a message naming file, line and key, and exit status 2; the other
statuses are in sim/errors.py.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import importlib
import json
import os
import signal
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

from tqdm import tqdm

# modules, not their functions, so that replacing sim.scenario.load_scenario or
# sim.runner.run_scenario (as tests do) reaches the commands
from sim import atomic, outputs, runner, scenario, targets
from sim.atomic import MACHINE_ERRNOS
from sim.errors import (MachineFault, NumericalError, Terminated, UsageError, checkpointed,
                        note_termination)
from sim.inputs import load_inputs
from sim.parameters import BY_KEY, PARAMETERS
from sim.scenario import ScenarioError, month_index, parse_set

# the status of a command stopped by a signal: 128 + its number, as a shell reports it
SIGNAL_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}
BROKEN_PIPE_STATUS = 128 + signal.SIGPIPE  # what `yes | head -1` gives `yes`


STAGED_NOTE = "nothing was published"  # commands that stage their output (sim.atomic)



# modules with a `register(subparsers)` function adding their commands
PLUGINS = ("sim.sweep.cli", "sim.viz.cli", "sim.calibration.cli", "sim.validation.cli",
           "sim.decompose", "sim.compare")


def _scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter, e.g. --set agglomeration.elasticity=0.15 "
                        "(repeatable)")


def check_option(option: str, value: int | None, param: str | None = None,
                 minimum: int | None = None, why: str = "") -> None:
    """UsageError naming `option` if `value` is outside the range of parameter `param`
    (sim/parameters.py) or below `minimum`."""
    if value is None:
        return
    low, high = minimum, None
    if param is not None:
        low = BY_KEY[param].min if low is None else low
        high = BY_KEY[param].max
    if (low is not None and value < low) or (high is not None and value > high):
        def num(x):
            return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"
        span = f"at least {num(low)}" if high is None else f"{num(low)} to {num(high)}"
        raise UsageError(f"{option} {value}: expected {span}" + (f" ({why})" if why else
                                                                 f" ({param})" if param else ""))


def run_options_tag(overrides: list[str], **options) -> str:
    """8 hex digits that tell apart runs of one scenario with different --set and options
    (the same ones give the same tag on any machine)."""
    sets = dict(parse_set(item) for item in overrides)  # last --set of a key wins
    given = {k: v for k, v in options.items() if v is not None}
    text = json.dumps({"set": sorted(sets.items()), **given}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def default_run_dir(config, args) -> Path:
    """runs/<name> for the scenario as written, runs/<name>-<tag> when the command changes it."""
    options = dict(seed=args.seed, firms=args.firms, replicates=args.replicates)
    if not args.overrides and all(v is None for v in options.values()):
        return Path("runs") / config.name
    return Path("runs") / f"{config.name}-{run_options_tag(args.overrides, **options)}"


def cmd_run(args) -> int:
    check_option("--seed", args.seed, "run.seed")
    check_option("--replicates", args.replicates, "run.replicates")
    check_option("--firms", args.firms, "run.firms")
    config = scenario.load_scenario(args.scenario, args.overrides)
    if args.firms is not None:
        config.set("run.firms", args.firms)
    config.validate()
    load_inputs(config)  # unknown regions/firms and missing files fail before any output exists
    seeds = runner.replicate_seeds(config, args.replicates, args.seed)
    check_option("--seed", seeds[-1], "run.seed", why="the last replicate's seed, seed + "
                 "replicates - 1, must be a valid seed too")
    out = Path(args.out) if args.out else default_run_dir(config, args)
    steps = (month_index(config["run.end"]) - month_index(config["run.start"]) + 1) * len(seeds)
    t0 = time.perf_counter()
    with atomic.staged_directory(out, outputs.OUTPUT_OF, outputs.RUN_FILES,
                                 args.overwrite) as staging:
        with tqdm(total=steps, desc=f"{config.name} x{len(seeds)}", unit="month",
                  disable=args.quiet, leave=False) as bar:
            with checkpointed():
                result = runner.run_scenario(config, seeds,
                                             firm_snapshots=args.firm_snapshots,
                                             panels=not args.no_figures,
                                             progress=bar.update)
        summary = outputs.summarise(result.annual, targets.targets_of(config),
                                    targets.horizon_notes(config, load_inputs(config)))
        if result.parameters is not None:
            summary["posterior"] = posterior_summary(summary, len(seeds), result)
        wall = time.perf_counter() - t0
        manifest = outputs.manifest(config, seeds, config["run.firms"], wall)
        if result.parameters is not None:
            manifest["posterior"] = {"file": str(config.resolve_path("calibration.posterior")),
                                     "draws": result.parameters.to_dict("records")}
        outputs.write_run(result, staging, summary, manifest, figures=not args.no_figures,
                          fmt=args.format, scenario=config.name,
                          figure_format=args.figure_format)
    if not args.quiet:
        print_summary(config, summary, out, wall)
    return 0


def posterior_summary(summary: dict, n: int, result) -> dict:
    """With a posterior each replicate is one (parameter draw, seed) pair, so the bands of
    share_by_year are posterior-predictive and every P(target) integrates over both; the
    headline's 90% interval is the Jeffreys interval for a binomial proportion over the n
    replicates. Each judged target's variance and probability are split into what parameter
    uncertainty and what replicate noise contribute (targets.uncertainty_split)."""
    k = round(summary["probability_target_hit"] * n)
    out = {"draws": n, "probability_target_hit_90pct_interval": targets.jeffreys_interval(k, n)}
    a = result.annual
    x = result.parameters.drop(columns=["replicate", "seed", "posterior_row"]).to_numpy(float)
    splits = {}
    for t in summary["targets"]:
        if not t.get("judged"):
            continue
        target = targets.Target(t["indicator"], t["value"], t["year"], t["source"])
        y = a[a["year"] == t["year"]].sort_values("replicate")[targets.column(a, target)]
        split = targets.uncertainty_split(y.to_numpy(float), x, t["value"])
        if split is None:
            continue
        splits[t["name"]] = split
        if t["indicator"] == targets.SHARE and t["year"] == summary["target_year"] \
                and "target_year_share_variance" not in out:
            out["target_year_share_variance"] = split["variance"]  # the headline's
    if splits:
        out["targets"] = splits
    return out


def print_summary(config, summary: dict, out: Path, wall: float) -> None:
    year = summary.get("target_year")
    marked = {t["year"] for t in summary["targets"] if t["indicator"] == targets.SHARE}
    internal = summary["internal_share_by_year"]
    print(f"\n{config.name}: core digital VA share of GDP, {summary['replicates']} replicate(s), "
          f"{config['run.firms']} firm agents")
    print(f"  {'':4}  {'internal':>8}  {'official (as the NBS publishes)':^25}")
    print(f"  {'year':>4}  {'median':>8}  {'median':>7}  {'p05':>6}  {'p95':>6}")
    for y, s in summary["share_by_year"].items():
        mark = "  <- target year" if int(y) in marked else ""
        print(f"  {y:>4}  {internal[y]['median']:8.2f}  {s['median']:7.2f}  {s['p05']:6.2f}  "
              f"{s['p95']:6.2f}{mark}")
    print("  targets (as published; P = share of replicates reaching it in its year, 90% "
          "interval):")
    for t in summary["targets"]:
        print("    " + target_line(t))
    if "posterior" in summary:  # replicates drawn from a posterior: say how sure that is
        lo, hi = summary["posterior"]["probability_target_hit_90pct_interval"]
        v = summary["posterior"].get("target_year_share_variance")
        print(f"  posterior-predictive P(target): 90% interval {lo:.0%}..{hi:.0%}"
              + (f"; {year} share variance {v['total']:.3g} pp^2 = parameters "
                 f"{v['parameters']:.3g} + stochastic {v['stochastic_and_nonlinear']:.3g}"
                 if v else ""))
        for name, split in summary["posterior"].get("targets", {}).items():
            pr = split["probability"]
            print(f"    {name}: P {pr['both']:.0%}; with only the parameters uncertain "
                  f"{pr['parameters_only']:.0%}, with only replicate noise "
                  f"{pr['stochastic_only']:.0%}")
    for note in summary["horizon"]:
        print(f"  horizon: {note}")
    # the files as written, not a fixed list: firms is there only with --firm-snapshots, the
    # tables are .parquet with --format parquet, and figures/ is absent with --no-figures
    written = sorted(p.name for p in out.iterdir() if p.is_file())
    figures = "; figures/" if (out / "figures").is_dir() else ""
    print(f"  outputs: {out}/ ({', '.join(written)}{figures})  [{wall:.1f} s]")


def target_line(t: dict) -> str:
    """One target of summary.json as a line of the printed table."""
    firsts = ", ".join(f"{y} {p:.0%}" for y, p in t["first_year_reached"].items() if p > 0)
    if not t["judged"]:
        return f"{t['name']}: not judged, {t['note']}; first reached: {firsts}"
    lo, hi = t["probability_90pct_interval"]
    v = {k: f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.2f}" for k, x in t["value_in_year"].items()}
    return (f"{t['name']}: P {t['probability']:.0%} ({lo:.0%}-{hi:.0%}); {t['year']} value "
            f"{v['median']} ({v['p05']}-{v['p95']}); first reached: {firsts}")


def cmd_validate(args) -> int:
    config = scenario.load_scenario(args.scenario, args.overrides)
    inputs = load_inputs(config)
    print(f"OK {args.scenario}: scenario '{config.name}', {len(config.flat())} parameters, "
          f"{inputs.n_regions} regions, {inputs.n_subsectors} sub-sectors, "
          f"{len(inputs.events)} export-control events")
    return 0


def cmd_params(args) -> int:
    config = scenario.load_scenario(args.scenario, args.overrides)
    rows = []  # (key, value, unit, set by the scenario or --set)
    for p in PARAMETERS:
        value = config.get(p.key)
        if isinstance(value, dict):
            items = [(f"{p.key}.{k}", v) for k, v in value.items()]
        elif p.kind == "events":
            items = [(p.key, f"{len(value)} event(s)")]
        else:
            items = [(p.key, value)]
        rows += [(key, v, p.unit, config.origin.get(key, (None,))[0] is not None)
                 for key, v in items]
    if args.format == "json":
        print(json.dumps([{"key": k, "value": v, "unit": u, "set": s} for k, v, u, s in rows],
                         indent=2, default=str))
    elif args.format == "csv":
        import csv
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["key", "value", "unit", "set"])
        writer.writerows(rows)
    else:
        width = max(len(r[0]) for r in rows)
        for key, value, unit, is_set in rows:
            print(f"{key:<{width}}  {str(value):<12}  {unit}{'  *' if is_set else ''}")
        print("\n* set by the scenario file or --set; other values are defaults "
              "(meaning and source: docs/parameters.md)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clustersim", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version",
                        version=f"clustersim {metadata.version('clustersim')}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run a scenario and write CSV, JSON and figures")
    _scenario_args(p)
    p.add_argument("--out", help="output directory (default: runs/<scenario name>, or "
                   "runs/<scenario name>-<8 hex> when --set, --seed, --firms or --replicates "
                   "change the run)")
    p.add_argument("--seed", type=int, help="master seed (default: run.seed)")
    p.add_argument("--replicates", type=int, help="replicates (default: run.replicates)")
    p.add_argument("--firms", type=int, help="number of firm agents (default: run.firms)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument("--figure-format", choices=("png", "svg", "pdf"), default="png",
                   help="file format of the figures (default png; svg and pdf are vector)")
    p.add_argument("--firm-snapshots", action="store_true",
                   help="also write firms.csv: the year-end state of every agent (large: a row "
                        "per agent and year)")
    p.add_argument("--format", choices=outputs.FORMATS, default="csv",
                   help="table format of the outputs (default csv; parquet: NAME.parquet)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --out if it holds an earlier output of `clustersim run` (or is "
                        "empty); any other directory is never touched")
    p.set_defaults(func=cmd_run, interrupt_note=STAGED_NOTE)

    p = sub.add_parser("validate", help="check a scenario file without running it")
    _scenario_args(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("params", help="list every parameter's dotted key, value and unit")
    _scenario_args(p)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table",
                   help="table for reading (default); csv or json (key, value, unit, set) for "
                        "other programs")
    p.set_defaults(func=cmd_params)

    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):  # plugin not built yet
                continue
            raise
        module.register(sub)
    return parser


@contextlib.contextmanager
def signals_raise():
    """While the command runs, SIGTERM raises Terminated and SIGINT KeyboardInterrupt in the
    main thread, and both are noted for `raise_if_terminated` (a forked child that inherited
    the handler dies of the signal as if there were none)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()

    def handler(signum, frame):
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        note_termination(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with signals_raise():
            return int(args.func(args) or 0)
    except (ScenarioError, UsageError) as exc:
        return _fail(exc, 2)
    except NumericalError as exc:
        return _fail(exc, 3)
    except BrokenPipeError:
        # the reader (`| head`) has gone: say nothing more, and let the interpreter's final
        # flush of stdout go nowhere instead of into a second traceback
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_STATUS
    except OSError as exc:
        if isinstance(exc, MachineFault) or exc.errno in MACHINE_ERRNOS:
            return _fail(_os_message(exc), 4)
        # last resort: the loaders turn unreadable input files into ScenarioError
        return _fail(_os_message(exc), 2)
    except KeyboardInterrupt as exc:
        sig = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
        note = getattr(args, "interrupt_note", "")
        lead = "\n" if sys.stdout.isatty() else ""  # end a progress line first
        print(f"{lead}{args.command}: stopped by {sig.name}" + (f"; {note}" if note else ""),
              file=sys.stderr)
        return SIGNAL_STATUS[sig]


def _os_message(exc: OSError) -> str:
    if isinstance(exc, MachineFault):
        return str(exc.strerror or exc)
    code = errno.errorcode.get(exc.errno or 0, "")
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}" + (f" ({code})" if code else "")


def _fail(message, status: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
