"""The `clustersim` command line (also `python -m sim`).

Core commands live here; the sweep, report, browser, calibration and validation commands
register themselves from their own packages (see PLUGINS), so each stays in one place.
Every bad input ends with a message naming file, line and key, and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from sim.errors import UsageError  # noqa: F401  (re-exported: plugins raise it)
from sim.scenario import ScenarioError

# modules with a `register(subparsers)` function adding their commands
PLUGINS = ("sim.sweep.cli", "sim.viz.cli", "sim.calibration.cli", "sim.validation.cli")


def _scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter, e.g. --set agglomeration.elasticity=0.15 "
                        "(repeatable)")


def cmd_run(args) -> int:
    from tqdm import tqdm

    from sim import outputs
    from sim.runner import replicate_seeds, run_scenario
    from sim.scenario import load_scenario

    config = load_scenario(args.scenario, args.overrides)
    if args.firms is not None:
        config.set("run.firms", args.firms)
    config.validate()
    from sim.inputs import load_inputs
    load_inputs(config)  # unknown regions/firms and missing files fail before any output exists
    seeds = replicate_seeds(config, args.replicates, args.seed)
    out = Path(args.out) if args.out else Path("runs") / config.name
    months = config["run.end"], config["run.start"]
    from sim.scenario import month_index
    steps = (month_index(months[0]) - month_index(months[1]) + 1) * len(seeds)
    t0 = time.perf_counter()
    with tqdm(total=steps, desc=f"{config.name} x{len(seeds)}", unit="month",
              disable=args.quiet, leave=False) as bar:
        result = run_scenario(config, seeds, firm_snapshots=not args.no_firm_snapshots,
                              progress=bar.update)
    summary = outputs.summarise(result.annual, config["target.share_pct"], config["target.year"])
    wall = time.perf_counter() - t0
    outputs.write_run(result, out, summary,
                      outputs.manifest(config, seeds, config["run.firms"], wall),
                      figures=not args.no_figures)
    if not args.quiet:
        print_summary(config, summary, out, wall)
    return 0


def print_summary(config, summary: dict, out: Path, wall: float) -> None:
    target, year = summary["target_share_pct"], summary["target_year"]
    print(f"\n{config.name}: core digital VA share of GDP, {summary['replicates']} replicate(s), "
          f"{config['run.firms']} firm agents")
    print(f"  {'year':>4}  {'median':>7}  {'p05':>6}  {'p95':>6}")
    for y, s in summary["share_by_year"].items():
        mark = "  <- target year" if int(y) == year else ""
        print(f"  {y:>4}  {s['median']:7.2f}  {s['p05']:6.2f}  {s['p95']:6.2f}{mark}")
    p = summary["probability_target_hit"]
    print(f"  target {target:g}% by {year}: reached in {p:.0%} of replicates")
    print(f"  outputs: {out}/ (national, annual, regions, sectors, firms CSV; figures/)  "
          f"[{wall:.1f} s]")


def cmd_validate(args) -> int:
    from sim.inputs import load_inputs
    from sim.scenario import load_scenario

    config = load_scenario(args.scenario, args.overrides)
    inputs = load_inputs(config)
    print(f"OK {args.scenario}: scenario '{config.name}', {len(config.flat())} parameters, "
          f"{inputs.n_regions} regions, {inputs.n_subsectors} sub-sectors, "
          f"{len(inputs.events)} export-control events")
    return 0


def cmd_params(args) -> int:
    from sim.parameters import PARAMETERS
    from sim.scenario import load_scenario

    config = load_scenario(args.scenario, args.overrides)
    rows = []
    for p in PARAMETERS:
        value = config.get(p.key)
        if isinstance(value, dict):
            rows += [(f"{p.key}.{k}", v, p.unit) for k, v in value.items()]
        elif p.kind == "events":
            rows.append((p.key, f"{len(value)} event(s)", p.unit))
        else:
            rows.append((p.key, value, p.unit))
    width = max(len(r[0]) for r in rows)
    for key, value, unit in rows:
        origin = config.origin.get(key, (None,))[0]
        flag = "" if origin is None else "  *"
        print(f"{key:<{width}}  {str(value):<12}  {unit}{flag}")
    print("\n* set by the scenario file or --set; other values are defaults "
          "(meaning and source: docs/parameters.md)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clustersim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run a scenario and write CSV, JSON and figures")
    _scenario_args(p)
    p.add_argument("--out", help="output directory (default: runs/<scenario name>)")
    p.add_argument("--seed", type=int, help="master seed (default: run.seed)")
    p.add_argument("--replicates", type=int, help="replicates (default: run.replicates)")
    p.add_argument("--firms", type=int, help="number of firm agents (default: run.firms)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--no-firm-snapshots", action="store_true",
                   help="skip firms.csv (year-end state of every agent)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("validate", help="check a scenario file without running it")
    _scenario_args(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("params", help="list every parameter's dotted key, value and unit")
    _scenario_args(p)
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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
