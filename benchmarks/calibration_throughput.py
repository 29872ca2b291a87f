"""Simulations per minute of the ABC calibration's simulator at its agent count:
`python -m benchmarks.calibration_throughput [--firms N] [--runs N]`. One process; the first
run (numba compilation, level pilots) is timed apart, as a calibration pays it once."""

from __future__ import annotations

import argparse
import time

import numpy as np

from sim.calibration import abc
from sim.calibration.fit import read_targets
from sim.scenario import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="scenarios/baseline.yaml")
    ap.add_argument("--targets", default="calibration/targets_baseline.csv")
    ap.add_argument("--firms", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    config = load_scenario(args.scenario)
    targets, frees = read_targets(args.targets)
    model = abc.Simulator(config, frees, [t.name for t in targets], args.firms, 0)
    rng = np.random.default_rng(0)
    draw = lambda: {f"p{i}": rng.uniform(f.low, f.high) for i, f in enumerate(frees)}  # noqa: E731
    t0 = time.perf_counter()
    model(draw())
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(args.runs):
        model(draw())
    per = (time.perf_counter() - t0) / args.runs
    print(f"{args.firms} agents: first simulation {first:.1f} s; then {per:.3f} s each = "
          f"{60 / per:.0f} simulations per minute per process (prior draws of "
          f"{len(frees)} free parameters)")


if __name__ == "__main__":
    main()
