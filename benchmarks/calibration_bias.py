"""Small-size bias of the calibration moments: every target moment at the calibration's agent
count and at a large one, the same seeds, at the scenario's values; the difference of the means
in units of each target's sd, with its standard error.
`python -m benchmarks.calibration_bias [--small 2000] [--large 50000] [--seeds 4]
[--set run.end=2023-12]`."""

from __future__ import annotations

import argparse

import numpy as np

from sim.calibration.fit import read_targets, simulate
from sim.scenario import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="scenarios/baseline.yaml")
    ap.add_argument("--targets", default="calibration/targets_baseline.csv")
    ap.add_argument("--small", type=int, default=2000)
    ap.add_argument("--large", type=int, default=50000)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="scenario overrides, as the calibration was run (e.g. run.end=2023-12)")
    args = ap.parse_args()
    config = load_scenario(args.scenario, args.set)
    targets, _ = read_targets(args.targets)
    names, seeds = [t.name for t in targets], [42 + s for s in range(args.seeds)]
    small = simulate(config, seeds, args.small, names)
    large = simulate(config, seeds, args.large, names)
    n = len(seeds)
    print(f"{'target':<52} {'sd':>9} {args.small:>9,} {args.large:>9,}  bias/sd  se/sd")
    for k, t in enumerate(targets):
        diff = small[:, k].mean() - large[:, k].mean()
        se = np.sqrt(small[:, k].var(ddof=1) / n + large[:, k].var(ddof=1) / n)
        print(f"{t.name:<52} {t.sd:>9.4g} {small[:, k].mean():>9.4g} {large[:, k].mean():>9.4g}"
              f"  {diff / t.sd:+7.2f}  {se / t.sd:5.2f}")


if __name__ == "__main__":
    main()
