"""Design points and seeds.

grid: every combination of the listed values (the first parameter varies slowest).
list: the i-th value of every parameter forms point i.
lhs: Latin hypercube (McKay, Beckman & Conover 1979), SALib's sampler.
sobol: Saltelli's scheme on a scrambled Sobol' sequence, N(2D+2) points with second-order
    indices, N(D+2) without (Saltelli 2002; SALib.sample.sobol), for SALib.analyze.sobol.
morris: N trajectories of D+1 points on a p-level grid (Morris 1991; Campolongo et al. 2007),
    for SALib.analyze.morris.

Sampled values come from SALib's samplers so that its analyzers apply to the same matrix;
non-uniform ranges use SALib's `dists` (unif, logunif, triang, truncnorm).

Seeds: every run's seed is a function of (master seed, point, replicate) alone, through
numpy's SeedSequence, so results never depend on scheduling, worker count or resuming.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from sim.sweep.experiment import Experiment, coerce

DESIGN_STREAM, RUN_STREAM = 0, 1


@dataclass
class Design:
    points: list[dict]              # point index -> {key: value as run}
    X: np.ndarray | None            # the sampled matrix (continuous designs), for SALib
    problem: dict | None            # SALib problem definition

    def __len__(self) -> int:
        return len(self.points)


def run_seed(master: int, point: int, replicate: int, common: bool = False) -> int:
    """Seed of one run: independent streams per (point, replicate), or per replicate only
    (`seeds: common`, common random numbers across design points)."""
    key = (RUN_STREAM, replicate) if common else (RUN_STREAM, point, replicate)
    state = np.random.SeedSequence(master, spawn_key=key).generate_state(1, np.uint32)[0]
    return int(state) & 0x7FFFFFFF  # run.seed takes 0..2^31-1


def design_seed(master: int) -> int:
    return int(np.random.SeedSequence(master, spawn_key=(DESIGN_STREAM,))
               .generate_state(1, np.uint32)[0])


def salib_problem(exp: Experiment) -> dict:
    bounds, dists = [], []
    for p in exp.params:
        if p.distribution == "uniform":
            bounds.append([p.lo, p.hi]), dists.append("unif")
        elif p.distribution == "loguniform":
            bounds.append([p.lo, p.hi]), dists.append("logunif")
        elif p.distribution == "triangular":
            bounds.append([p.lo, p.hi, (p.mode - p.lo) / (p.hi - p.lo)]), dists.append("triang")
        elif p.distribution == "normal":
            bounds.append([p.lo, p.hi, p.mean, p.sd]), dists.append("truncnorm")
        else:  # pragma: no cover - the loader allows only the four
            raise AssertionError(p.distribution)
    return {"num_vars": len(exp.params), "names": [p.key for p in exp.params],
            "bounds": bounds, "dists": dists}


def build_design(exp: Experiment) -> Design:
    if exp.design == "grid":
        combos = itertools.product(*(p.values for p in exp.params))
        return Design([dict(zip((p.key for p in exp.params), c)) for c in combos], None, None)
    if exp.design == "list":
        n = len(exp.params[0].values)
        return Design([{p.key: p.values[i] for p in exp.params} for i in range(n)], None, None)
    problem = salib_problem(exp)
    seed = design_seed(exp.seed)
    # SALib imports are lazy: they load scipy.stats (~0.5 s), which grid and list designs,
    # and every command's start, do without
    if exp.design == "lhs":
        from SALib.sample import latin
        X = latin.sample(problem, exp.samples, seed=seed)
    elif exp.design == "sobol":
        from SALib.sample import sobol
        X = sobol.sample(problem, exp.samples, calc_second_order=exp.second_order, seed=seed)
    elif exp.design == "morris":
        from SALib.sample import morris
        X = morris.sample(problem, exp.samples, num_levels=exp.levels, seed=seed)
    else:  # pragma: no cover
        raise AssertionError(exp.design)
    points = [{p.key: coerce(p.kind, row[j]) for j, p in enumerate(exp.params)} for row in X]
    return Design(points, X, problem)


def expected_points(exp: Experiment) -> int:
    """Design size without sampling (what `--check` reports before any work)."""
    D = len(exp.params)
    if exp.design == "grid":
        return math.prod(len(p.values) for p in exp.params)  # exact: np.prod overflows to 0 at 2**64
    if exp.design == "list":
        return len(exp.params[0].values)
    if exp.design == "lhs":
        return exp.samples
    if exp.design == "sobol":
        return exp.samples * (2 * D + 2 if exp.second_order else D + 2)
    return exp.samples * (D + 1)
