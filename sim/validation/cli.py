"""`clustersim validate-model`: stylised facts and mechanism checks written to
docs/validation.md with figures in docs/figures/validation/."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from sim.cli import check_option
from sim.errors import UsageError
from sim.runner import replicate_seeds
from sim.scenario import load_scenario
from sim.validation import docs


def cmd_validate_model(args) -> int:
    from sim.validation import report  # heavy (scipy.stats, ~0.4 s): kept out of every start

    check_option("--replicates", args.replicates, minimum=2,
                 why="uncertainty across replicates")
    check_option("--firms", args.firms, "run.firms")
    check_option("--seed", args.seed, "run.seed")
    config = load_scenario(args.scenario, args.overrides)
    firms = int(args.firms if args.firms is not None else config["run.firms"])
    config.set("run.firms", firms)
    config.validate()
    counterfactual = config.copy()
    counterfactual.set("export_controls.enabled", False)
    counterfactual.name = "no_export_controls"
    counterfactual.validate()
    seeds = replicate_seeds(config, args.replicates, args.seed)
    out = Path(args.out)
    figs = Path(args.figures) if args.figures else out.parent / "figures" / "validation"
    report.check_targets(out, figs)  # before minutes of runs
    backtest = None
    if args.backtest:  # read and checked before the runs too
        try:
            text = Path(args.backtest).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--backtest {args.backtest}: cannot read it: {exc}") from None
        backtest = report.backtest_section(text, args.backtest)
    say = (lambda *a: None) if args.quiet else (lambda msg: print(f"validate-model: {msg}"))
    t0 = time.perf_counter()
    decomposition = None
    if args.decomposition:
        import pandas as pd
        decomposition = pd.read_csv(args.decomposition)
    res = report.run(config, counterfactual, firms, seeds, progress=say,
                     decomposition=decomposition, backtest=backtest)
    command = " ".join(["clustersim validate-model",
                        *(shlex.quote(a) for a in args.argv_for_report)])
    report.write(res, out, figs, command)
    say(f"wrote {out} and {figs}/ [{time.perf_counter() - t0:.0f} s]")
    return 0


def register(subparsers) -> None:
    docs.register(subparsers)
    p = subparsers.add_parser("validate-model",
                              help="check stylised facts and mechanisms; write docs/validation.md")
    p.add_argument("scenario", nargs="?", default="scenarios/baseline.yaml",
                   help="scenario YAML file (default: scenarios/baseline.yaml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter (repeatable)")
    p.add_argument("--firms", type=int, help="firm agents (default: run.firms)")
    p.add_argument("--replicates", type=int, default=8, help="replicates per arm (default 8)")
    p.add_argument("--seed", type=int, help="master seed (default: run.seed)")
    p.add_argument("--out", default="docs/validation.md", help="report file (default: %(default)s)")
    p.add_argument("--figures", help="figure folder (default: figures/validation/ beside --out)")
    p.add_argument("--decomposition", metavar="CSV",
                   help="decomposition.csv of `clustersim decompose` to include in the report")
    p.add_argument("--backtest", metavar="FILE",
                   help="backtest.md of `clustersim backtest` (or docs/backtest.md) whose "
                        "'## Back-test' section to include in the report")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_with_argv(cmd_validate_model))


def _with_argv(func):
    """Keep the arguments as typed (minus output paths) for the report's provenance line."""
    def run(args):
        argv = sys.argv[2:] if len(sys.argv) > 1 and sys.argv[1] == "validate-model" else []
        keep, skip = [], False
        for a in argv:
            if skip:
                skip = False
                continue
            if a in ("--out", "--figures"):
                skip = True
                continue
            if a.startswith(("--out=", "--figures=", "--quiet")):
                continue
            keep.append(a)
        args.argv_for_report = keep
        return func(args)
    return run
