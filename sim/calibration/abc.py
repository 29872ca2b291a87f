"""Bayesian calibration: ABC-SMC (approximate Bayesian computation, sequential Monte Carlo;
Toni et al. 2009, Klinger et al. 2018) with pyabc.

Why pyabc: it is made for expensive stochastic simulators with a handful of summary
statistics, runs on Dask, and keeps every generation in a sqlite history, so a killed run
resumes where it stopped. sbi needs a neural density estimator trained on thousands of runs,
and ELFI's SMC has no resumable store.

Each simulation draws theta from the current proposal, runs the model once (one seed) and
returns the target moments. The distance is the one the method of simulated moments uses
(sim/calibration/fit.py) for one seed: d = sqrt(sum_k ((m_k - t_k) / sd_k)^2), sd_k the
target's stated uncertainty. Epsilon falls to the median distance of each generation.

Priors come from the targets file's `free` rows (calibration/README.md): uniform on low..high
when no `prior` is given, else normal(prior_mean, prior_sd) or lognormal(median prior_mean,
log-sd prior_sd), truncated to low..high (the bounds stay the parameter's admissible range).

Seeds: the model seed of a simulation is a function of the run seed and theta alone (CRC32 of
the values), so a simulation gives the same moments on any worker. Particle i of generation t
is sampled by its own task (SeededSampler), which seeds numpy's global generator, the one
pyabc draws theta with, from (run seed, t, i) and proposes until it accepts one. A task's result
depends on nothing else, so one process, `--dask-local N` for any N and a remote scheduler give
the same posterior to the byte, and a generation that a kill cut short is redrawn exactly as it
would have been: the resumed run ends with the posterior of the uninterrupted one.
"""

from __future__ import annotations

import functools
import random
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.stats as st

from sim.calibration.fit import Free, Target, round_sig, with_values
from sim.calibration.moments import MomentRecorder, moment
from sim.errors import UsageError
from sim.inputs import load_inputs
from sim.runner import build_model
from sim.scenario import Scenario

HISTORY = "abc_history.db"


def frozen_prior(f: Free):
    """The prior of a free parameter, before truncation to its bounds."""
    if f.prior == "normal":
        return st.norm(f.mean, f.sd)
    if f.prior == "lognormal":
        return st.lognorm(f.sd, scale=f.mean)
    return st.uniform(f.low, f.high - f.low)


def _rv(f: Free):
    import pyabc

    if f.prior == "uniform":
        return pyabc.RV("uniform", f.low, f.high - f.low)
    if f.prior == "normal":
        return pyabc.RV("truncnorm", (f.low - f.mean) / f.sd, (f.high - f.mean) / f.sd,
                        loc=f.mean, scale=f.sd)
    return _TruncatedLognormal(f)  # scipy has no truncated lognormal


class _TruncatedLognormal:
    """pyabc random variable: lognormal(median, log-sd) truncated to low..high."""

    def __new__(cls, f: Free):
        import pyabc

        class RV(pyabc.RVBase):
            def __init__(self):
                self.f, self.d = f, frozen_prior(f)
                self.c0, self.c1 = self.d.cdf(f.low), self.d.cdf(f.high)

            def copy(self):
                return RV()

            def rvs(self, *args, **kwargs):
                u = np.random.uniform(self.c0, self.c1, *args)
                return self.d.ppf(u)

            def pdf(self, x, *args, **kwargs):
                inside = (x >= self.f.low) & (x <= self.f.high)
                return np.where(inside, self.d.pdf(x) / (self.c1 - self.c0), 0.0)

            def pmf(self, x, *args, **kwargs):
                return self.pdf(x)

            def cdf(self, x, *args, **kwargs):
                return np.clip((self.d.cdf(x) - self.c0) / (self.c1 - self.c0), 0, 1)

        return RV()


def prior_density(f: Free, x: np.ndarray) -> np.ndarray:
    d = frozen_prior(f)
    mass = d.cdf(f.high) - d.cdf(f.low)
    return np.where((x >= f.low) & (x <= f.high), d.pdf(x) / mass, 0.0)


def names_of(frees: list[Free]) -> dict[str, str]:
    """pyabc parameter name -> scenario key (pyabc stores names in sqlite columns; dots kept
    out)."""
    return {f"p{i}": f.key for i, f in enumerate(frees)}


def sim_seed(seed: int, values: dict[str, float]) -> int:
    text = ",".join(f"{k}={v!r}" for k, v in sorted(values.items()))
    return seed + zlib.crc32(text.encode()) % 1_000_000


@dataclass
class Simulator:
    """The pyabc model: theta (pyabc names) -> target moments. Picklable for Dask workers."""
    config: Scenario
    frees: list[Free]
    names: list[str]
    firms: int
    seed: int
    holdout_from: int | None = None   # back-test: published demand from this year is unknown

    def values(self, par) -> dict[str, float]:
        return {key: round_sig(float(par[p])) for p, key in names_of(self.frees).items()}

    def moments(self, values: dict[str, float], seed: int) -> dict[str, float]:
        config = with_values(self.config, values)
        model = build_model(config, seed=seed, firms=self.firms, inputs=load_inputs(config))
        if self.holdout_from is not None:
            hide_demand_data(model, self.holdout_from)
        rec = MomentRecorder(model)
        model.observers.append(rec)
        model.run()
        return {n: float(moment(n).compute(rec)) for n in self.names}

    def __call__(self, par) -> dict[str, float]:
        values = self.values(par)
        return self.moments(values, sim_seed(self.seed, values))


@dataclass
class SizeBias:
    """Each moment's mean at the calibration's agent count minus its mean at a larger one, at
    the scenario's values, over the same seeds (benchmarks/calibration_bias.py measures it)."""
    small: int
    large: int
    seeds: int
    table: pd.DataFrame   # target, small, large, bias, se

    def of(self, name: str) -> float:
        return float(self.table.set_index("target").at[name, "bias"])


def _moments_at(item: tuple[Simulator, dict, int]) -> dict[str, float]:
    model, values, seed = item
    return model.moments(values, seed)


def size_bias(model: Simulator, large: int, seeds: int, map_=map) -> SizeBias:
    """Measured once, before sampling: the bias is taken as constant over the prior (checked
    at the posterior median in calibration/README.md), so it shifts each target by its own
    amount and a particle at `model.firms` agents is judged as if it had `large`."""
    values = {f.key: float(model.config.get(f.key)) for f in model.frees}
    big = Simulator(model.config, model.frees, model.names, large, model.seed,
                    model.holdout_from)
    run_seeds = [model.seed + 900_000 + i for i in range(seeds)]
    items = [(m, values, s) for m in (model, big) for s in run_seeds]
    got = pd.DataFrame(list(map_(_moments_at, items)))
    lo, hi = got.iloc[:seeds], got.iloc[seeds:]
    table = pd.DataFrame({
        "target": model.names, "small": lo.mean().to_numpy(), "large": hi.mean().to_numpy(),
        "bias": (lo.mean() - hi.mean()).to_numpy(),
        "se": np.sqrt(lo.var(ddof=1) / seeds + hi.var(ddof=1) / seeds).to_numpy()})
    return SizeBias(model.firms, large, seeds, table)


def hide_demand_data(model, year: int) -> None:
    """Back-test: the market growth of `year` and later is drawn, as someone in January of
    `year` would have to: mean (geometric) and sd of the published years before it replace the
    2020-23 figures (production.trend_growth_pct, demand_sd_pct) the model's defaults take. The
    start year keeps the default mean (set when the model is built): a 2020 input only."""
    known = {y: g for y, g in model.demand_observed.items() if y < year}
    if known:
        g = np.array([known[y] for y in sorted(known)])  # years x sectors, fractions
        model.demand_mean_pct = 100 * (np.prod(1 + g, axis=0) ** (1 / len(g)) - 1)
        if len(g) > 1:
            model.demand_sd_pct = 100 * g.std(axis=0, ddof=1)
    model.demand_observed = known


def distance_for(targets: list[Target]):
    sd = {t.name: t.sd for t in targets}

    def distance(x, x0):
        return float(np.sqrt(sum(((x[k] - x0[k]) / sd[k]) ** 2 for k in sd)))
    return distance


def _seeded_sampler(seed: int, map_=map):
    import pyabc

    class SeededSampler(pyabc.sampler.MappingSampler):
        """pyabc's MappingSampler (one task per particle, proposing until it accepts) with
        each task seeded by (run seed, generation, particle) instead of at random."""

        def map_function(self, simulate_one, task_seed):
            simulate_one = self.unpickle(simulate_one)
            np.random.seed(task_seed)
            random.seed(" ".join(map(str, task_seed)))
            sample, n = self._create_empty_sample(), 0
            while True:
                particle = simulate_one()
                n += 1
                sample.append(particle)
                if particle.accepted:
                    return sample, n

        def sample_until_n_accepted(self, n, simulate_one, t, **kwargs):
            # t is -1 for the calibration sample from the prior
            task = functools.partial(self.map_function, self.pickle(simulate_one))
            results = list(self.map_(task, [[seed % 2**32, t + 1, i] for i in range(n)]))
            self.nr_evaluations_ = sum(k for _, k in results)
            sample = self._create_empty_sample()
            for part, _ in results:
                sample += part
            return sample

    return SeededSampler(map_=map_)


def dask_map(client):
    """A map over a Dask client that returns results in task order."""
    return lambda fn, items: client.gather(client.map(fn, list(items), pure=False))


@dataclass
class AbcResult:
    posterior: pd.DataFrame      # one row per particle: scenario keys, weight
    generations: int
    simulations: int
    epsilon: float
    ess: float
    resumed: bool


def run_abc(config: Scenario, targets: list[Target], frees: list[Free], firms: int,
            budget: int, population: int, seed: int, db: Path, map_=map,
            holdout_from: int | None = None) -> AbcResult:
    """ABC-SMC until `budget` simulations in all (counting those of an earlier, killed run
    whose history is `db`); `map_` runs the particles' tasks (builtin map: this process)."""
    import pyabc
    from pyabc.weighted_statistics import effective_sample_size

    names = names_of(frees)
    prior = pyabc.Distribution(**{p: _rv(f) for p, f in zip(names, frees)})
    model = Simulator(config, frees, [t.name for t in targets], firms, seed, holdout_from)
    abc = pyabc.ABCSMC(model, prior, distance_for(targets), population_size=population,
                       sampler=_seeded_sampler(seed, map_), eps=pyabc.MedianEpsilon())
    url = f"sqlite:///{db}"
    observed = {t.name: t.value for t in targets}
    resumed = db.exists()
    if resumed:
        abc.load(url, 1)  # a generation cut short is not in the history: it is redrawn
        stored = {k: float(v) for k, v in abc.history.observed_sum_stat().items()}
        if stored != observed:
            raise UsageError(f"{db}: the history of a killed calibration with other targets "
                             f"({', '.join(sorted(set(stored) ^ set(observed))) or 'values differ'}); "
                             "delete it to start afresh, or give the targets it was run with")
    else:
        abc.new(url, observed)
    history = abc.run(max_total_nr_simulations=budget, max_nr_populations=1000)
    df, w = history.get_distribution(m=0, t=history.max_t)
    post = df.rename(columns=names)[[f.key for f in frees]].reset_index(drop=True)
    post["weight"] = np.asarray(w) / np.sum(w)
    eps = history.get_all_populations()
    return AbcResult(post, int(history.max_t + 1), int(history.total_nr_simulations),
                     float(eps["epsilon"].iloc[-1]), float(effective_sample_size(w)), resumed)


def weighted_quantile(x: np.ndarray, w: np.ndarray, q) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order]) / np.sum(w)
    return np.interp(q, cw - w[order] / (2 * np.sum(w)), x[order])


def weighted_corr(post: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in post.columns if c != "weight"]
    cov = np.cov(post[cols].to_numpy().T, aweights=post["weight"].to_numpy())
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(cov / np.outer(sd, sd), index=cols, columns=cols)


def draw(post: pd.DataFrame, rng: np.random.Generator, n: int) -> pd.DataFrame:
    """n parameter sets drawn from the posterior by weight (with replacement)."""
    idx = rng.choice(len(post), size=n, replace=True, p=post["weight"].to_numpy())
    return post.iloc[idx].drop(columns="weight").reset_index(drop=True)


def _predict_one(model: Simulator, item: tuple[dict, int]) -> dict[str, float]:
    values, seed = item
    return model.moments(values, seed)


def predictive(model: Simulator, post: pd.DataFrame, n: int, seed: int,
               map_=map) -> pd.DataFrame:
    """Posterior-predictive moments: n draws, one run each with its own seed (on `map_`, as
    the calibration's simulations)."""
    sets = draw(post, np.random.default_rng(seed), n)
    items = [({k: float(v) for k, v in r.items()}, seed + 500_000 + i)
             for i, r in enumerate(sets.to_dict("records"))]
    return pd.DataFrame(list(map_(functools.partial(_predict_one, model), items)))
