"""Speed and memory of ClusterModel by number of firm agents, side by side with the reference.

    python -m benchmarks.scale --sizes 10000,100000,1000000 --steps 12 --reference
    python -m benchmarks.scale --national --steps 72
    python -m benchmarks.scale --profile --firms 1000000 --steps 12   (where the time goes)

Every measurement runs in a fresh Python process (so the peak resident memory is that size's
own, and no cache or heap from a previous size helps the next), and the parent prints a table
and, as its last line, one JSON object with the figures:

  sizes mode:    per_step_s, reference_per_step_s, ratio_vs_reference, init_s, peak_rss_mb
                 (each by size), scaling_exponent (least-squares slope of log per-step time on
                 log firms), reference_scaling_exponent, conditions.
  national mode: firms (firm agents at the start, each a Mesa agent), wall_s (model set-up
                 including the 2020 level calibration, every step, the Recorder's region and
                 sector records, the collected data frames: what `clustersim run` does for one
                 replicate before writing files), peak_rss_mb, per_step_s, init_s,
                 agents_end (Mesa agents at the end, checked equal to the live rows),
                 cpu_s and init_cpu_s (the CPU time of wall_s and init_s: under load from
                 other jobs it stays near the quiet machine's wall time, wall_s does not).

The model's time per step is ClusterModel.step() (all mechanisms, entry and exit with their
Mesa agents, the DataCollector); the reference's is ReferenceModel.step() (the same rules, one
agent at a time through AgentSet.shuffle_do, and its DataCollector). Set-up (population,
calibration pilot, agent creation) is timed separately as init_s. Both use the same scenario,
seed and initial population. Wall time (per_step_s) is what the targets refer to; CPU time
(per_step_cpu_s) is reported too because other jobs on the machine disturb it far less.

The reference is run for sizes up to --reference-max-firms (default 100,000). Above that it
would take minutes per step; its entries are then null, never extrapolated.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

NATIONAL_FIRMS = 2_920_000  # core digital economy legal entities, 2023 census (MODEL_BRIEF.md)
DEFAULT_SCENARIO = "scenarios/baseline.yaml"


def peak_rss_mb() -> float:
    """Peak resident set size of this process (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _config(scenario: str, steps: int, seed: int | None):
    from sim.model import month_label
    from sim.scenario import load_scenario, month_index

    config = load_scenario(scenario)
    start = month_index(config["run.start"])
    end = start + steps - 1
    config.set("run.end", month_label(end))
    # the 10%-target year only labels summaries; keep it inside a short benchmark run
    config.set("target.year", min(int(config["target.year"]), end // 12))
    config.validate()
    return config, int(config["run.seed"] if seed is None else seed)


def worker_model(firms: int, steps: int, scenario: str, seed: int | None) -> dict:
    from sim.runner import build_model

    config, seed = _config(scenario, steps, seed)
    t0 = time.perf_counter()
    model = build_model(config, seed=seed, firms=firms)
    t1, c1 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        model.step()
    t2, c2 = time.perf_counter(), time.process_time()
    agents = len(model.agents)
    assert agents == len(model.firms.rows), "every live firm row must be a Mesa agent"
    return {"kind": "model", "firms": firms, "steps": steps, "init_s": t1 - t0,
            "per_step_s": (t2 - t1) / steps, "per_step_cpu_s": (c2 - c1) / steps,
            "agents_end": agents,
            "core_va_share_gdp_pct": model.core_va_share_gdp_pct, "peak_rss_mb": peak_rss_mb()}


def worker_reference(firms: int, steps: int, scenario: str, seed: int | None) -> dict:
    from benchmarks.reference import ReferenceModel
    from sim.runner import build_model

    config, seed = _config(scenario, steps, seed)
    t0 = time.perf_counter()
    model = build_model(config, seed=seed, firms=firms, model_class=ReferenceModel)
    t1, c1 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        model.step()
    t2, c2 = time.perf_counter(), time.process_time()
    return {"kind": "reference", "firms": firms, "steps": steps, "init_s": t1 - t0,
            "per_step_s": (t2 - t1) / steps, "per_step_cpu_s": (c2 - c1) / steps,
            "agents_end": len(model.agents),
            "core_va_share_gdp_pct": model.core_va_share_gdp_pct, "peak_rss_mb": peak_rss_mb()}


def worker_national(firms: int, steps: int, scenario: str, seed: int | None,
                    firm_snapshots: bool) -> dict:
    """What `clustersim run` does for one replicate (sim.runner.run_replicate), timed whole."""
    from sim.runner import build_model
    from sim.outputs import Recorder

    config, seed = _config(scenario, steps, seed)
    t0, c0 = time.perf_counter(), time.process_time()
    model = build_model(config, seed=seed, firms=firms)
    t1, c1 = time.perf_counter(), time.process_time()
    agents_start = len(model.agents)
    mean_weight = model.real_firms / agents_start  # real firms per agent
    recorder = Recorder(0, firm_snapshots)
    model.observers.append(recorder)
    model.run()
    national = model.datacollector.get_model_vars_dataframe()
    regions, sectors, firm_df = recorder.frames()
    t2, c2 = time.perf_counter(), time.process_time()
    agents = len(model.agents)
    assert agents == len(model.firms.rows), "every live firm row must be a Mesa agent"
    return {"kind": "national", "firms": agents_start, "firms_requested": firms,
            "mean_weight": mean_weight, "steps": len(national), "wall_s": t2 - t0,
            "init_s": t1 - t0, "per_step_s": (t2 - t1) / len(national), "agents_end": agents,
            "cpu_s": c2 - c0, "init_cpu_s": c1 - c0,
            "real_firms_end": model.real_firms, "firm_snapshot_rows": len(firm_df),
            "core_va_share_gdp_pct_end": model.core_va_share_gdp_pct,
            "peak_rss_mb": peak_rss_mb()}


def profile_parts(firms: int, steps: int, scenario: str, seed: int | None) -> dict:
    """CPU time of each part of ClusterModel.step, of its DataCollector and of the runner's
    Recorder, per month, measured by wrapping them (in this process)."""
    from sim.runner import build_model
    from sim.outputs import Recorder

    config, seed = _config(scenario, steps, seed)
    model = build_model(config, seed=seed, firms=firms)
    spent: dict[str, float] = {}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - start
        return wrapper

    class Timed:
        """A mechanism whose step is timed under its name."""

        def __init__(self, mechanism):
            self.name, self.step = mechanism.name, timed(mechanism.name, mechanism.step)

    model.STEPS = tuple(Timed(m) for m in model.STEPS)
    model.datacollector.collect = timed("datacollector", model.datacollector.collect)
    model.observers.append(timed("recorder (runner)", Recorder(0, False)))
    start = time.process_time()
    for _ in range(steps):
        model.step()
    total = time.process_time() - start
    parts = {k: round(v / steps * 1e3, 2) for k, v in sorted(spent.items(), key=lambda x: -x[1])}
    print(f"{firms:,} firm agents, CPU ms per month over {steps} months: {total / steps * 1e3:.1f}")
    for name, ms in parts.items():
        print(f"  {name:20s} {ms:8.1f}")
    return {"mode": "profile", "firms": firms, "steps": steps,
            "cpu_ms_per_step": round(total / steps * 1e3, 2), "parts_cpu_ms": parts}


def run_worker(args: list[str]) -> dict:
    """One measurement in a fresh interpreter; its last stdout line is the JSON result."""
    cmd = [sys.executable, "-m", "benchmarks.scale", "--worker", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=os.getcwd())
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark worker failed: {' '.join(cmd)}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def scaling_exponent(sizes, times) -> float | None:
    """Least-squares slope of log(time per step) on log(firms)."""
    pairs = [(n, t) for n, t in zip(sizes, times) if t]
    if len(pairs) < 2:
        return None
    x, y = np.log([p[0] for p in pairs]), np.log([p[1] for p in pairs])
    return float(np.polyfit(x, y, 1)[0])


def conditions() -> dict:
    return {"machine": platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            "load_average_start": [round(x, 2) for x in os.getloadavg()]}


def main_sizes(args) -> dict:
    sizes = [int(s) for s in args.sizes.split(",")]
    common = ["--steps", str(args.steps), "--scenario", args.scenario]
    if args.seed is not None:
        common += ["--seed", str(args.seed)]
    cond = conditions()
    model, ref = {}, {}
    for n in sizes:
        model[n] = run_worker(["model", "--firms", str(n), *common])
        if args.reference and n <= args.reference_max_firms:
            ref[n] = run_worker(["reference", "--firms", str(n), *common])
    cond["load_average_end"] = [round(x, 2) for x in os.getloadavg()]

    print(f"{'firms':>10} {'init s':>8} {'model s/step':>13} {'reference s/step':>17} "
          f"{'ratio':>8} {'model MB':>9} {'ref MB':>8}")
    for n in sizes:
        m, r = model[n], ref.get(n)
        ratio = r["per_step_s"] / m["per_step_s"] if r else None
        print(f"{n:>10,} {m['init_s']:>8.2f} {m['per_step_s']:>13.4f} "
              f"{(f'{r['per_step_s']:.3f}' if r else '-'):>17} "
              f"{(f'{ratio:.0f}x' if ratio else '-'):>8} {m['peak_rss_mb']:>9.0f} "
              f"{(f'{r['peak_rss_mb']:.0f}' if r else '-'):>8}")
    key = str
    return {
        "mode": "sizes", "steps": args.steps, "scenario": args.scenario,
        "per_step_s": {key(n): round(model[n]["per_step_s"], 5) for n in sizes},
        "reference_per_step_s": {key(n): (round(ref[n]["per_step_s"], 4) if n in ref else None)
                                 for n in sizes},
        "ratio_vs_reference": {key(n): (round(ref[n]["per_step_s"] / model[n]["per_step_s"], 1)
                                        if n in ref else None) for n in sizes},
        "scaling_exponent": round(scaling_exponent(sizes, [model[n]["per_step_s"]
                                                           for n in sizes]) or 0, 3),
        "reference_scaling_exponent": (round(scaling_exponent(list(ref), [ref[n]["per_step_s"]
                                                                          for n in ref]), 3)
                                       if len(ref) > 1 else None),
        "per_step_cpu_s": {key(n): round(model[n]["per_step_cpu_s"], 5) for n in sizes},
        "reference_per_step_cpu_s": {key(n): round(ref[n]["per_step_cpu_s"], 4) for n in ref},
        "init_s": {key(n): round(model[n]["init_s"], 3) for n in sizes},
        "peak_rss_mb": {key(n): round(model[n]["peak_rss_mb"]) for n in sizes},
        "reference_peak_rss_mb": {key(n): round(ref[n]["peak_rss_mb"]) for n in ref},
        "conditions": cond,
    }


def main_national(args) -> dict:
    cmd = ["national", "--firms", str(args.firms), "--steps", str(args.steps),
           "--scenario", args.scenario]
    if args.seed is not None:
        cmd += ["--seed", str(args.seed)]
    if args.firm_snapshots:
        cmd += ["--firm-snapshots"]
    cond = conditions()
    r = run_worker(cmd)
    cond["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"national scale: {r['firms']:,} firm agents (each a Mesa agent, standing for "
          f"{r['mean_weight']:.3f} real firms on average), {r['steps']} monthly "
          f"steps: {r['wall_s']:.1f} s wall ({r['init_s']:.1f} s set-up, "
          f"{r['per_step_s']:.2f} s/step; CPU {r['cpu_s']:.1f} s), peak {r['peak_rss_mb']:.0f} MB; "
          f"{r['agents_end']:,} agents at the end")
    return {"mode": "national", "firms": r["firms"], "mean_weight": round(r["mean_weight"], 4),
            "steps": r["steps"],
            "wall_s": round(r["wall_s"], 2), "init_s": round(r["init_s"], 2),
            "per_step_s": round(r["per_step_s"], 3), "peak_rss_mb": round(r["peak_rss_mb"]),
            "cpu_s": round(r["cpu_s"], 2), "init_cpu_s": round(r["init_cpu_s"], 2),
            "agents_end": r["agents_end"], "firm_snapshots": args.firm_snapshots,
            "conditions": cond}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000,1000000",
                   help="comma-separated numbers of firm agents")
    p.add_argument("--steps", type=int, default=12, help="monthly steps per run")
    p.add_argument("--reference", action="store_true",
                   help="also run the conventional-Mesa reference (sizes <= --reference-max-firms)")
    p.add_argument("--reference-max-firms", type=int, default=100_000)
    p.add_argument("--national", action="store_true",
                   help=f"one run at 1:1 national scale ({NATIONAL_FIRMS:,} firm agents)")
    p.add_argument("--firms", type=int, default=None,
                   help=f"firm agents for --national (default {NATIONAL_FIRMS:,}) or --profile "
                        "(default 100,000)")
    p.add_argument("--firm-snapshots", action="store_true",
                   help="--national: also record every firm each December (firms.csv data)")
    p.add_argument("--profile", action="store_true",
                   help="CPU time per part of the month at --firms agents (default 100,000)")
    p.add_argument("--scenario", default=DEFAULT_SCENARIO)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--worker", choices=["model", "reference", "national"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker == "model":
        out = worker_model(args.firms, args.steps, args.scenario, args.seed)
    elif args.worker == "reference":
        out = worker_reference(args.firms, args.steps, args.scenario, args.seed)
    elif args.worker == "national":
        out = worker_national(args.firms, args.steps, args.scenario, args.seed,
                              args.firm_snapshots)
    elif args.profile:
        out = profile_parts(args.firms or 100_000, args.steps, args.scenario, args.seed)
    elif args.national:
        args.firms = args.firms or NATIONAL_FIRMS
        out = main_national(args)
    else:
        out = main_sizes(args)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
