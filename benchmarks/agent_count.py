"""Do results depend on the number of firm agents? The baseline's annual core share of GDP,
mean and sd over replicates, at each agent count (the same seeds at every count).

    python -m benchmarks.agent_count [--sizes 2000,10000,50000] [--replicates 8] [--scenario F]

A super-individual model should give the same answer at any count, within replicate noise that
shrinks as agents are added; the last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from sim.inputs import load_inputs
from sim.runner import run_replicate
from sim.scenario import load_scenario


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000,10000,50000")
    ap.add_argument("--replicates", type=int, default=8)
    ap.add_argument("--scenario", default="scenarios/baseline.yaml")
    args = ap.parse_args(argv)
    sc = load_scenario(args.scenario)
    inputs = load_inputs(sc)
    seeds = [int(sc["run.seed"]) + r for r in range(args.replicates)]
    result = {}
    for n in (int(x) for x in args.sizes.split(",")):
        shares = np.array([run_replicate(sc, seed=s, firms=n, inputs=inputs, firm_snapshots=False)
                           .annual.set_index("year")["core_va_share_gdp_pct"] for s in seeds])
        years = list(range(int(sc["run.start"][:4]), int(sc["run.end"][:4]) + 1))
        mean, sd = shares.mean(0), shares.std(0, ddof=1)
        result[n] = {"mean": dict(zip(years, mean.round(3).tolist())),
                     "sd": dict(zip(years, sd.round(3).tolist()))}
        print(f"{n:>9,} agents  " + "  ".join(f"{y} {m:.2f}+/-{s:.2f}"
                                               for y, m, s in zip(years, mean, sd)), flush=True)
    print(json.dumps({"scenario": sc.name, "seeds": seeds, "share_pct": result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
