"""`clustersim calibrate SCENARIO --targets FILE.csv`: fit free parameters to target moments
(sim/calibration/fit.py) and write a fitted scenario that extends the input, a fit report and
every trial."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from sim import atomic
from sim.cli import STAGED_NOTE, check_option
from sim.errors import checkpointed, terminated
from sim.outputs import git_commit, package_versions
from sim.runner import replicate_seeds
from sim.scenario import ScenarioError, load_scenario


def _nested(values: dict[str, float]) -> dict:
    tree: dict = {}
    for key, value in values.items():
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return tree


def fitted_yaml(config, result, out_dir: Path, command: str) -> str:
    rel = os.path.relpath(Path(config.path).resolve(), out_dir.resolve())
    header = [
        f"# {config.name} with parameters fitted to target moments.",
        f"# Written by: {command}",
        f"# Method: {result.method}.",
        f"# Objective (sum of squared standardised moment errors): {result.j_start:.3f} at the "
        f"values of {Path(config.path).name}, {result.j_best:.3f} fitted.",
        "# Targets, simulated moments with their spread across seeds, and caveats: fit_report.md "
        "beside this file.",
    ]
    body = {"extends": rel, "name": f"{config.name}_fitted",
            "description": f"{config.description} Free parameters fitted by clustersim calibrate."}
    body.update(_nested(result.best))
    return "\n".join(header) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def report_frame(result) -> pd.DataFrame:
    rows = []
    for k, t in enumerate(result.targets):
        rows.append({
            "target": t.name, "value": t.value, "sd": t.sd, "grade": t.grade,
            "sim_start_mean": result.sim_start[:, k].mean(),
            "sim_start_sd": result.sim_start[:, k].std(ddof=1),
            "sim_fit_mean": result.sim_best[:, k].mean(),
            "sim_fit_sd": result.sim_best[:, k].std(ddof=1),
            "z_start": (result.sim_start[:, k].mean() - t.value) / t.sd,
            "z_fit": (result.sim_best[:, k].mean() - t.value) / t.sd,
            "check_start_mean": result.check_start[:, k].mean(),
            "check_fit_mean": result.check_best[:, k].mean()})
    return pd.DataFrame(rows)


def fit_report(config, result, command: str) -> str:
    from sim.calibration import fit as fitmod  # heavy, see cmd_calibrate
    from sim.calibration.moments import moment

    df = report_frame(result)
    j_cs = fitmod.objective(result.check_start, result.targets)
    j_cb = fitmod.objective(result.check_best, result.targets)
    lines = [
        f"# Calibration of `{config.name}`",
        "",
        f"Written by `{command}`.",
        "",
        f"**Method.** {result.method}; {result.firms:,} firm agents. Objective J = sum over "
        "targets of ((simulated mean - target) / sigma)^2, sigma^2 = target sd^2 + across-seed "
        "variance of the simulated moment / seeds. The scenario's own values are trial 0.",
        "",
        f"**Objective.** J = {result.j_start:.3f} at the scenario's values, {result.j_best:.3f} at "
        f"the fitted values (seeds {result.seeds[0]}..{result.seeds[-1]}). On held-out seeds "
        f"({result.check_seeds[0]}..{result.check_seeds[-1]}): {j_cs:.3f} and {j_cb:.3f}"
        + (" - the search found nothing better than the scenario's values." if result.best ==
           result.start else " - the improvement holds out of sample." if j_cb < j_cs else
           " - the improvement does NOT hold on held-out seeds: treat the fit as seed luck.")
        + f" Degrees of freedom: {len(result.targets)} targets, {len(result.frees)} free "
        "parameters.",
        "",
        "## Free parameters",
        "",
        "| parameter | bounds | scenario value | fitted |",
        "|---|---|---|---|",
    ]
    for f in result.frees:
        lines.append(f"| `{f.key}` | {f.low:g} .. {f.high:g} | {result.start[f.key]:g} | "
                     f"{result.best[f.key]:g} |")
    lines += ["", "## Targets and simulated moments", "",
              "Simulated: mean +/- sd across seeds. z = (simulated mean - target) / target sd.", "",
              "| target | unit | target | sd | grade | at scenario values | z | fitted | z | "
              "fitted, held-out seeds |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in df.iterrows():
        unit = moment(r["target"]).unit
        lines.append(f"| {r['target']} | {unit} | {r['value']:g} | {r['sd']:g} | {r['grade']} | "
                     f"{r['sim_start_mean']:.3f} +/- {r['sim_start_sd']:.3f} | {r['z_start']:+.2f} | "
                     f"{r['sim_fit_mean']:.3f} +/- {r['sim_fit_sd']:.3f} | {r['z_fit']:+.2f} | "
                     f"{r['check_fit_mean']:.3f} |")
    lines += ["", "## What each target measures, and how loosely the model maps onto it", ""]
    for t in result.targets:
        lines += [f"- **{t.name}** ({moment(t.name).definition}). Source: {t.source}. {t.note}"]
    lines += ["", "Files: `fitted.yaml` (the fitted scenario, extends the input), "
              "`fit_report.csv` (this table), `trials.csv` (every trial: parameters, objective, "
              "simulated moment means).", ""]
    return "\n".join(lines)


OUTPUT_OF = "clustersim calibrate"  # manifest.json's `output_of`: what may replace the folder
CALIBRATION_FILES = frozenset({"fitted.yaml", "fit_report.md", "fit_report.csv", "trials.csv",
                               "manifest.json"})


def manifest(config, result, command: str, wall_s: float) -> dict:
    return {"output_of": OUTPUT_OF,
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": command, "scenario_file": str(config.path), "seeds": list(result.seeds),
            "firm_agents": result.firms, "versions": package_versions(),
            "git_commit": git_commit(), "wall_time_s": round(wall_s, 3)}


def cmd_calibrate(args) -> int:
    # heavy (scipy.stats through the moments, ~0.4 s): kept out of every command's start
    from sim.calibration import fit as fitmod

    check_option("--seeds", args.seeds, minimum=2,
                 why="the objective uses the across-seed variance")
    check_option("--budget", args.budget, minimum=1, why="trials")
    check_option("--firms", args.firms, "run.firms")
    check_option("--seed", args.seed, "run.seed")
    check_option("--search-seed", args.search_seed, minimum=0, why="seed of the TPE sampler")
    config = load_scenario(args.scenario, args.overrides)
    targets, frees = fitmod.read_targets(args.targets)
    extra = fitmod.parse_free(args.free)
    by_key = {f.key: f for f in frees}
    by_key.update({f.key: f for f in extra})  # --free overrides the file's bounds
    frees = list(by_key.values())
    firms = int(args.firms)
    seeds = replicate_seeds(config, args.seeds, args.seed)
    out = Path(args.out) if args.out else Path("calibration") / f"{config.name}_fit"
    command = "clustersim calibrate " + " ".join(shlex.quote(a) for a in _argv())
    say = (lambda *a: None) if args.quiet else print
    if args.method == "abc":
        from sim.calibration.abc_cli import cmd_abc  # heavy (pyabc): only this method

        check_option("--population", args.population, minimum=2, why="particles per generation")
        check_option("--predictive", args.predictive, minimum=2, why="predictive draws")
        if not frees:
            raise ScenarioError(args.targets, None, None, "no free parameters")
        return cmd_abc(args, config, targets, frees, command, say)
    t0 = time.perf_counter()

    def progress(i, j):
        if not args.quiet:
            print(f"\r  trial {i + 1}/{args.budget}  J = {j:9.3f}", end="", flush=True)

    say(f"calibrate {config.name}: {len(targets)} targets, {len(frees)} free parameters, "
        f"{len(seeds)} seeds x {firms} agents, {args.budget} trials")
    with atomic.staged_directory(out, OUTPUT_OF, CALIBRATION_FILES, args.overwrite) as tmp, \
            _quiet_interrupted_trials():
        with checkpointed():
            result = fitmod.fit(config, targets, frees, seeds, firms, args.budget,
                                args.search_seed, progress)
        say("")
        (tmp / "fitted.yaml").write_text(fitted_yaml(config, result, out, command),
                                         encoding="utf-8")
        (tmp / "fit_report.md").write_text(fit_report(config, result, command), encoding="utf-8")
        report_frame(result).to_csv(tmp / "fit_report.csv", index=False, float_format="%.10g",
                                    lineterminator="\n")
        result.trials.to_csv(tmp / "trials.csv", index=False, float_format="%.10g",
                             lineterminator="\n")
        (tmp / "manifest.json").write_text(json.dumps(
            manifest(config, result, command, time.perf_counter() - t0), indent=2) + "\n",
            encoding="utf-8")
        # the fitted file must load (a sibling of `out`, so its relative `extends` resolves)
        load_scenario(tmp / "fitted.yaml")
    load_scenario(out / "fitted.yaml")
    say(f"J = {result.j_start:.3f} at the scenario's values -> {result.j_best:.3f} fitted; "
        f"wrote {out}/ (fitted.yaml, fit_report.md) [{time.perf_counter() - t0:.0f} s]")
    for f in result.frees:
        say(f"  {f.key:<40} {result.start[f.key]:>10g} -> {result.best[f.key]:g}")
    return 0


@contextlib.contextmanager
def _quiet_interrupted_trials():
    """Optuna logs a trial stopped by Ctrl-C or SIGTERM as a failure with its traceback; the
    command says in one line that it stopped (sim.cli.main)."""
    def keep(record) -> bool:
        exc = record.exc_info[1] if record.exc_info else sys.exc_info()[1]
        return not (isinstance(exc, KeyboardInterrupt) or terminated())

    logger = logging.getLogger("optuna.study._optimize")
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def _argv(name: str = "calibrate") -> list[str]:
    argv = sys.argv[1:]
    return argv[1:] if argv and argv[0] == name else argv


def _argv_of(name: str) -> str:
    """The command line after `clustersim NAME`, quoted for a shell."""
    return " ".join(shlex.quote(a) for a in _argv(name))


def register(subparsers) -> None:
    p = subparsers.add_parser("calibrate", help="fit free parameters to target moments "
                              "(method of simulated moments)")
    p.add_argument("scenario", help="scenario YAML file to start from")
    p.add_argument("--targets", required=True, help="targets CSV (e.g. calibration/"
                   "targets_baseline.csv): target moments and free parameters with bounds")
    p.add_argument("--free", action="append", default=[], metavar="KEY=MIN:MAX",
                   help="free parameter with bounds (repeatable; adds to or overrides the file)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter before fitting (repeatable)")
    p.add_argument("--out", help="output folder (default: calibration/<scenario>_fit)")
    p.add_argument("--seeds", type=int, default=4, help="seeds per trial (default 4)")
    p.add_argument("--seed", type=int, help="first seed (default: run.seed)")
    p.add_argument("--budget", type=int, default=60, help="trials (default 60)")
    p.add_argument("--firms", type=int, default=2000, help="firm agents per run (default 2000)")
    p.add_argument("--search-seed", type=int, default=0, help="seed of the TPE sampler")
    p.add_argument("--method", choices=("smm", "abc"), default="smm",
                   help="smm: simulated moments, Optuna TPE point estimate (default); abc: "
                        "ABC-SMC posterior with pyabc (sim/calibration/abc.py)")
    p.add_argument("--dask-local", type=int, metavar="N",
                   help="abc: run simulations on a local Dask cluster of N workers")
    p.add_argument("--scheduler", metavar="ADDR", help="abc: run on the Dask scheduler ADDR")
    p.add_argument("--population", type=int, default=100,
                   help="abc: particles per generation (default 100); --budget is then the "
                        "total number of simulations")
    p.add_argument("--predictive", type=int, default=40,
                   help="abc: posterior-predictive draws in the report (default 40)")
    p.add_argument("--size-bias", type=int, metavar="AGENTS",
                   help="abc: first measure each target moment's small-size bias (mean at "
                        "--firms minus mean at AGENTS agents, at the scenario's values) and "
                        "judge every particle as if it had AGENTS agents (size_bias.csv)")
    p.add_argument("--size-bias-seeds", type=int, default=16,
                   help="abc: seeds per size for --size-bias (default 16)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --out if it holds an earlier output of `clustersim calibrate` "
                        "(or is empty); any other folder is never touched")
    p.set_defaults(func=cmd_calibrate, interrupt_note=STAGED_NOTE)
    from sim.calibration import backtest  # the back-test fits by ABC too: one family
    backtest.register(subparsers)
