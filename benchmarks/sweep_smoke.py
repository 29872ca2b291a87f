"""Sweep throughput: runs per minute of experiments/smoke.yaml on 2 local workers against 1.

    python -m benchmarks.sweep_smoke [--experiment experiments/smoke.yaml] [--dask]

Each configuration is a fresh `clustersim sweep` process on an empty directory, so the figures
include what a user waits for: start-up of the pool (and of the Dask LocalCluster with
--dask), every run, and writing the Parquet parts. `sweep_s` is the sweep loop alone (from
the directory's manifest); `wall_s` the whole command. The results of all configurations are
compared and must be identical. `cpu/wall` is the workers' CPU time in runs per second of
the sweep loop: near 2 for two workers on a free machine; lower means other processes held
the cores, and the ratio then understates the speed-up; the benchmark also measures what
1 and 2 plain busy loops get before and after, for the same reason. Configurations run in interleaved
rounds (--repeat) and the fastest round of each counts. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(experiment: Path, out: Path, flags: list[str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sim", "sweep", str(experiment), "--out",
                           str(out), "--quiet", *flags], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"sweep {' '.join(flags)} failed ({proc.returncode}):\n{proc.stderr}")
    from sim.sweep import store

    session = store.read_manifest(out)["sessions"][-1]
    runs = session["runs_ok"] + session["runs_failed"]
    return {"flags": " ".join(flags), "runs": runs, "wall_s": round(wall, 2),
            "sweep_s": session["wall_time_s"],
            "runs_per_min": round(60 * runs / wall, 1),
            "runs_per_min_sweep": round(60 * runs / session["wall_time_s"], 1),
            # workers' CPU seconds in runs per second of the sweep loop: near the worker
            # count when the machine is free, lower when other processes hold the cores
            "cpu_per_wall": round(session["worker_cpu_s"] / session["wall_time_s"], 2),
            # CPU seconds per run: equal across configurations when workers add no overhead
            "cpu_s_per_run": round(session["worker_cpu_s"] / runs, 3)}


def _spin(seconds: float) -> float:
    t0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        pass
    return time.process_time() - c0


def cores_available(n: int, seconds: float = 1.5) -> float:
    """CPU seconds per wall second that n busy-looping processes get right now: what the
    machine (shared with other jobs) gives, to read the sweep figures against."""
    import multiprocessing as mp

    with mp.get_context("fork").Pool(n) as pool:
        t0 = time.perf_counter()
        cpu = sum(pool.map(_spin, [seconds] * n))
        return round(cpu / (time.perf_counter() - t0), 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", default=str(ROOT / "experiments" / "smoke.yaml"))
    ap.add_argument("--dask", action="store_true", help="also a Dask LocalCluster of 2 workers")
    ap.add_argument("--repeat", type=int, default=2,
                    help="rounds over the configurations; the fastest round of each counts")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    import pandas as pd

    from sim.sweep import store

    configs = [["--workers", "1"], ["--workers", "2"]] + ([["--dask-local", "2"]]
                                                           if args.dask else [])
    load_before = os.getloadavg()[0]
    spin_before = {n: cores_available(n) for n in (1, 2)}
    best: dict[int, dict] = {}
    frames = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeat):  # interleaved, so a busy spell hits all alike
            for i, flags in enumerate(configs):
                out = Path(tmp) / f"s{i}-{round_}"
                r = one(Path(args.experiment), out, flags)
                if i not in best or r["wall_s"] < best[i]["wall_s"]:
                    best[i] = r
                frames[i] = store.read_runs(out).drop(columns=["error"])
    results = [best[i] for i in range(len(configs))]
    frames = [frames[i] for i in range(len(configs))]
    for f in frames[1:]:
        pd.testing.assert_frame_equal(f, frames[0], check_exact=True)
    base = results[0]
    print(f"{'configuration':<16} {'runs':>5} {'wall s':>7} {'runs/min':>9} "
          f"{'sweep s':>8} {'runs/min (sweep)':>17} {'x 1 worker':>10} {'cpu/wall':>8} "
          f"{'cpu s/run':>9}")
    for r in results:
        r["ratio_vs_1_worker"] = round(r["runs_per_min"] / base["runs_per_min"], 2)
        r["ratio_vs_1_worker_sweep"] = round(r["runs_per_min_sweep"] /
                                             base["runs_per_min_sweep"], 2)
        print(f"{r['flags']:<16} {r['runs']:>5} {r['wall_s']:>7.1f} {r['runs_per_min']:>9.1f} "
              f"{r['sweep_s']:>8.1f} {r['runs_per_min_sweep']:>17.1f} "
              f"{r['ratio_vs_1_worker']:>10.2f} {r['cpu_per_wall']:>8.2f} "
              f"{r['cpu_s_per_run']:>9.3f}")
    print("results identical across configurations: yes")
    spin_after = {n: cores_available(n) for n in (1, 2)}
    print("CPU per wall second that 1 and 2 busy loops got, before / after: "
          f"{spin_before[1]}, {spin_before[2]} / {spin_after[1]}, {spin_after[2]} "
          "(2 free cores: 1.0, 2.0)")
    conditions = {"cpus": os.cpu_count(), "loadavg_1min_before": round(load_before, 2),
                  "loadavg_1min_after": round(os.getloadavg()[0], 2), "repeat": args.repeat,
                  "busy_loop_cpu_per_wall_before": spin_before,
                  "busy_loop_cpu_per_wall_after": spin_after,
                  "python": platform.python_version(), "experiment": args.experiment}
    print(json.dumps({"results": results, "identical": True, "conditions": conditions}))


if __name__ == "__main__":
    main()
