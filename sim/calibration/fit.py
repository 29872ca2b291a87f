"""Fitting free parameters to target moments: the method of simulated moments.

The objective is the sum of squared standardised distances between target moments and their
simulated means over a fixed set of seeds (common random numbers: every candidate is run with
the same seeds, so differences between candidates are not seed noise):

    J(theta) = sum_k ( (mean_s m_k(theta, s) - t_k) / sigma_k )^2,
    sigma_k^2 = sd_k^2 + var_s m_k(theta, s) / n_seeds,

sd_k the uncertainty of the target (its published precision, the looseness of the mapping
between the model's quantity and the published one, or half a published range). The search is
Optuna's tree-structured Parzen estimator (Bergstra et al. 2011), seeded, one trial at a time,
so the same inputs give the same fit; the scenario's own values are the first trial, so the
fit is never worse than where it started. Targets and free parameters come from a CSV
(calibration/targets_baseline.csv; columns described in calibration/README.md).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.moments import MOMENTS, MomentRecorder, moment, observed_target, parse_observed
from sim.inputs import csv_rows, load_inputs, number_problem
from sim.parameters import BY_KEY
from sim.runner import build_model
from sim.scenario import (MAX_TABLE_BYTES, SECTOR_CODES, Scenario, ScenarioError,
                          read_text_file, suggest)

TARGET_COLUMNS = ("type", "name", "value", "low", "high", "sd", "grade", "source", "note",
                  # optional, free rows only: the prior of `--method abc` (sim/calibration/abc.py)
                  "prior", "prior_mean", "prior_sd")
PRIORS = ("uniform", "normal", "lognormal")


@dataclass
class Target:
    name: str
    value: float
    sd: float
    low: float | None
    high: float | None
    grade: str
    source: str
    note: str
    line: int


@dataclass
class Free:
    key: str
    low: float
    high: float
    origin: str = ""
    # prior for --method abc, truncated to low..high: uniform, or normal(mean, sd), or
    # lognormal with median `mean` and log-sd `sd`
    prior: str = "uniform"
    mean: float | None = None
    sd: float | None = None


def _param_for(key: str):
    """The schema entry of a free parameter: a plain numeric key or a sector-map entry."""
    if key in BY_KEY and BY_KEY[key].kind in ("float", "int"):
        return BY_KEY[key]
    parent, _, code = key.rpartition(".")
    if parent in BY_KEY and BY_KEY[parent].kind == "sector_map" and code in SECTOR_CODES:
        return BY_KEY[parent]
    return None


def check_free(free: Free, file, line, column="name") -> Free:
    p = _param_for(free.key)
    if p is None:
        raise ScenarioError(file, line, free.key, "not a numeric parameter that can be fitted"
                            + suggest(free.key))
    if not free.low < free.high:
        raise ScenarioError(file, line, free.key, f"bounds must satisfy low < high, got "
                            f"{free.low:g}..{free.high:g}")
    if (p.min is not None and free.low < p.min) or (p.max is not None and free.high > p.max):
        raise ScenarioError(file, line, free.key, f"bounds {free.low:g}..{free.high:g} leave the "
                            f"parameter's range [{p.min}, {p.max}] ({p.unit})")
    return free


def read_targets(path: str | Path) -> tuple[list[Target], list[Free]]:
    """Read a targets file; every problem names the file, line and column or key."""
    path = Path(path)
    header, rows = csv_rows(path, read_text_file(path, MAX_TABLE_BYTES))
    missing = [c for c in ("type", "name", "value", "low", "high", "sd") if c not in header]
    if missing:
        raise ScenarioError(path, 1, None, "missing columns: " + ", ".join(missing))
    for column in header:
        if column not in TARGET_COLUMNS:
            near = difflib.get_close_matches(column, TARGET_COLUMNS, n=1)
            raise ScenarioError(path, 1, column, "unknown column" +
                                (f"; did you mean '{near[0]}'?" if near else
                                 "; columns are " + ", ".join(TARGET_COLUMNS)))
    targets, frees = [], []

    def num(row, col, line, required):
        raw = row.get(col, "")
        if raw == "":
            if required:
                raise ScenarioError(path, line, f"{row['name']}.{col}", "value required")
            return None
        problem = number_problem(raw)
        if problem:
            raise ScenarioError(path, line, f"{row['name']}.{col}", problem)
        return float(raw)

    first: dict[tuple[str, str], int] = {}
    for i, row in rows:
        kind, name = row["type"], row["name"]
        if kind not in ("target", "free"):
            raise ScenarioError(path, i, "type", f"expected 'target' or 'free', got {kind!r}")
        if not name:
            raise ScenarioError(path, i, "name", "empty cell (a value is required)")
        if (kind, name) in first:
            raise ScenarioError(path, i, name, f"duplicate {kind} (first at line "
                                               f"{first[kind, name]})")
        first[kind, name] = i
        if kind == "target" and name.startswith("observed:"):
            try:
                parse_observed(name)
                moment(name)
                value, sd = observed_target(name)
            except (KeyError, ValueError):
                raise ScenarioError(path, i, name, "no such published series in "
                                    "sim/data/observed.csv (observed:SERIES:YEAR:CATEGORY)")
            value = value if row.get("value", "") == "" else num(row, "value", i, True)
            sd = sd if row.get("sd", "") == "" else num(row, "sd", i, True)
            if sd <= 0:
                raise ScenarioError(path, i, f"{name}.sd", "must be positive")
            targets.append(Target(name, value, sd, None, None, row.get("grade", ""),
                                  row.get("source", ""), row.get("note", ""), i))
        elif kind == "target":
            if name not in MOMENTS:
                near = difflib.get_close_matches(name, MOMENTS, n=1)
                raise ScenarioError(path, i, name, "unknown moment" +
                                    (f"; did you mean '{near[0]}'?" if near else
                                     "; moments are " + ", ".join(MOMENTS)))
            sd = num(row, "sd", i, True)
            if sd <= 0:
                raise ScenarioError(path, i, f"{name}.sd", "must be positive")
            targets.append(Target(name, num(row, "value", i, True), sd, num(row, "low", i, False),
                                  num(row, "high", i, False), row.get("grade", ""),
                                  row.get("source", ""), row.get("note", ""), i))
        else:
            free = check_free(Free(name, num(row, "low", i, True), num(row, "high", i, True),
                                   f"{path.name}:{i}"), path, i)
            free.prior = row.get("prior", "") or "uniform"
            if free.prior not in PRIORS:
                raise ScenarioError(path, i, f"{name}.prior", f"expected one of "
                                    f"{', '.join(PRIORS)}, got {free.prior!r}")
            if free.prior != "uniform":
                free.mean = num(row, "prior_mean", i, True)
                free.sd = num(row, "prior_sd", i, True)
                if free.sd <= 0:
                    raise ScenarioError(path, i, f"{name}.prior_sd", "must be positive")
                if free.prior == "lognormal" and free.mean <= 0:
                    raise ScenarioError(path, i, f"{name}.prior_mean", "a lognormal's median "
                                        "must be positive")
            frees.append(free)
    if not targets:
        raise ScenarioError(path, None, None, "no target rows")
    return targets, frees


def parse_free(items: list[str]) -> list[Free]:
    """`--free key=min:max` options."""
    out = []
    for item in items:
        key, sep, rng = item.partition("=")
        lo, sep2, hi = (x.strip() for x in rng.partition(":"))
        problem = (number_problem(lo) or number_problem(hi)) if sep and sep2 else "no min:max range given"
        if problem:
            raise ScenarioError("--free", None, key.strip() or item, f"{problem}; expected "
                                "key=min:max, e.g. innovation.selection=0:0.02")
        out.append(check_free(Free(key.strip(), float(lo), float(hi), "--free"), "--free", None))
    return out


# --------------------------------------------------------------------------- simulation

def with_values(config: Scenario, values: dict[str, float]) -> Scenario:
    c = config.copy()
    for key, value in values.items():
        c.set(key, float(value))
    return c.validate()


def simulate(config: Scenario, seeds, firms: int, names: list[str], inputs=None) -> np.ndarray:
    """Moments (seeds x targets) of the scenario."""
    inputs = inputs if inputs is not None else load_inputs(config)
    out = np.empty((len(seeds), len(names)))
    for i, seed in enumerate(seeds):
        model = build_model(config, seed=seed, firms=firms, inputs=inputs)
        rec = MomentRecorder(model)
        model.observers.append(rec)
        model.run()
        out[i] = [moment(n).compute(rec) for n in names]
    return out


def objective(sim: np.ndarray, targets: list[Target]) -> float:
    t = np.array([x.value for x in targets])
    sd = np.array([x.sd for x in targets])
    n = sim.shape[0]
    var_sim = sim.var(axis=0, ddof=1) / n if n > 1 else 0.0
    return float(np.sum((sim.mean(axis=0) - t) ** 2 / (sd**2 + var_sim)))


def current_values(config: Scenario, frees: list[Free]) -> dict[str, float]:
    return {f.key: float(config.get(f.key)) for f in frees}


def round_sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}")


@dataclass
class FitResult:
    method: str
    targets: list[Target]
    frees: list[Free]
    seeds: list[int]
    check_seeds: list[int]
    firms: int
    start: dict[str, float]
    best: dict[str, float]
    sim_start: np.ndarray
    sim_best: np.ndarray
    check_start: np.ndarray
    check_best: np.ndarray
    trials: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def j_start(self):
        return objective(self.sim_start, self.targets)

    @property
    def j_best(self):
        return objective(self.sim_best, self.targets)


def fit(config: Scenario, targets: list[Target], frees: list[Free], seeds: list[int],
        firms: int, budget: int, search_seed: int = 0, progress=None) -> FitResult:
    import optuna  # heavy: only `calibrate` searches

    if not frees:
        raise ScenarioError(config.path, None, None, "no free parameters: add `free` rows to the "
                            "targets file or --free key=min:max")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    names = [t.name for t in targets]
    inputs = load_inputs(config)
    start = current_values(config, frees)
    cache: dict[tuple, np.ndarray] = {}

    def evaluate(values: dict[str, float]) -> np.ndarray:
        key = tuple(values[f.key] for f in frees)
        if key not in cache:
            cache[key] = simulate(with_values(config, values), seeds, firms, names, inputs)
        return cache[key]

    def trial_fn(trial):
        values = {f.key: round_sig(trial.suggest_float(f.key, f.low, f.high)) for f in frees}
        sim = evaluate(values)
        for n, v in zip(names, sim.mean(axis=0)):
            trial.set_user_attr(n, float(v))
        j = objective(sim, targets)
        if progress:
            progress(trial.number, j)
        return j

    sampler = optuna.samplers.TPESampler(seed=search_seed, n_startup_trials=min(10, budget))
    study = optuna.create_study(direction="minimize", sampler=sampler)
    if all(f.low <= start[f.key] <= f.high for f in frees):
        study.enqueue_trial(start)
    study.optimize(trial_fn, n_trials=budget)
    best = {f.key: round_sig(study.best_params[f.key]) for f in frees}
    trials = study.trials_dataframe(attrs=("number", "value", "params", "user_attrs"))
    trials.columns = [c.replace("params_", "").replace("user_attrs_", "sim_") for c in trials.columns]
    check = [s + 100_000 for s in seeds]  # held-out seeds: is the fit more than seed luck?
    return FitResult(
        "method of simulated moments; Optuna TPE search "
        f"(seed {search_seed}, {budget} trials); {len(seeds)} common seeds per trial",
        targets, frees, list(seeds), check, firms, start, best,
        evaluate(start), evaluate(best),
        simulate(with_values(config, start), check, firms, names, inputs),
        simulate(with_values(config, best), check, firms, names, inputs), trials)
