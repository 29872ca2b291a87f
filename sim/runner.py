"""Running replicates of a scenario: the one entry point the command line, the sweep runner
and the browser page share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim import measurement, targets
from sim.calibration.level import initial_level
from sim.inputs import Inputs, for_replicate, load_inputs
from sim.model import ClusterModel
from sim.outputs import (ANNUAL_COLUMNS, NAMED_FIRM_COLUMNS, NATIONAL_COLUMNS, Recorder,
                         RunResult, annual_from_national, regional_balance)
from sim.scenario import Scenario, ScenarioError

POSTERIOR_STREAM = 0x505354  # keeps the posterior draw's stream apart from the model's


def replicate_seeds(config: Scenario, replicates: int | None = None,
                    seed: int | None = None) -> list[int]:
    """Replicate r runs with seed + r, so replicate seeds never depend on how many run."""
    n = int(config["run.replicates"] if replicates is None else replicates)
    base = int(config["run.seed"] if seed is None else seed)
    return [base + r for r in range(n)]


def replicate_setup(config: Scenario, seed: int | None = None, firms: int | None = None,
                    inputs: Inputs | None = None) -> dict:
    """The keyword arguments of ClusterModel for one replicate: its seed, its firm agents, its
    inputs with its own draw of the GDP projection after the data (sim.inputs.for_replicate),
    and the calibrated 2020 level. The level pilots (sim/calibration/level.py) run here, before
    the model is built, so a model never builds models. Every model that should be a replicate
    of `clustersim run` (build_model, mesa.batch_run's ScenarioModel, the page's VizModel) is
    built from it."""
    inputs = inputs if inputs is not None else load_inputs(config)
    seed = int(config["run.seed"] if seed is None else seed)
    inputs = for_replicate(config, inputs, seed)
    n_agents = int(config["run.firms"] if firms is None else firms)
    return {"seed": seed, "firms": n_agents, "inputs": inputs,
            "level": initial_level(config, inputs, n_agents)}


def build_model(config: Scenario, seed: int | None = None, firms: int | None = None,
                inputs: Inputs | None = None, model_class=ClusterModel, **kwargs) -> ClusterModel:
    """A replicate's model at the calibrated 2020 level (replicate_setup)."""
    return model_class(config, **replicate_setup(config, seed, firms, inputs), **kwargs)


def with_measurements(config: Scenario, inputs: Inputs, annual: pd.DataFrame,
                      subsectors: pd.DataFrame) -> pd.DataFrame:
    """annual.csv's rows with what the measurement step maps them onto (the official-basis
    share, software revenue) and the `projected` flag of the year's GDP."""
    params = measurement.params_for(config, inputs)
    annual = measurement.with_official_share(annual, params)
    return targets.with_indicators(annual, subsectors, params, inputs.gdp_kind)


def run_replicate(config: Scenario, seed: int, replicate: int = 0, firms: int | None = None,
                  inputs: Inputs | None = None, firm_snapshots: bool = True,
                  progress=None, panels: bool = False) -> RunResult:
    """One replicate; with `panels`, also the browser page's map and chip-availability
    panels at the run's end (PNG bytes in RunResult.panels), drawn by the page's own code."""
    inputs = inputs if inputs is not None else load_inputs(config)
    model_class = ClusterModel
    if panels:
        from sim.viz.model import RecordingModel  # the page's recorder, only when drawing
        model_class = RecordingModel
    model = build_model(config, seed=seed, firms=firms, inputs=inputs, model_class=model_class)
    recorder = Recorder(replicate, firm_snapshots)
    by_subsector = targets.SubsectorRecorder()
    model.observers += [recorder, by_subsector]
    model.run(progress)
    national = model.datacollector.get_model_vars_dataframe()
    national.insert(0, "seed", seed)
    national.insert(0, "replicate", replicate)
    national = national[NATIONAL_COLUMNS].reset_index(drop=True)
    regions, sectors, firm_df = recorder.frames()
    clusters = recorder.clusters(regions, inputs)
    annual = annual_from_national(national)
    annual = with_measurements(config, model.inputs, annual, by_subsector.frame(annual["year"]))
    annual = annual.merge(regional_balance(clusters), on=["replicate", "year"], how="left")
    named = pd.concat(recorder.named, ignore_index=True)[NAMED_FIRM_COLUMNS]
    drawn = {}
    if panels:
        from sim.viz.panels import panel
        drawn = {"map": panel(model, "map", colour_by="growth").render(),
                 "chip_availability": panel(model, "chips").render()}
    return RunResult(national, annual[ANNUAL_COLUMNS], regions, sectors, firm_df,
                     [seed], list(model.event_log), named, clusters=clusters, panels=drawn)


def posterior_draws(config: Scenario, seeds: list[int]) -> pd.DataFrame | None:
    """One parameter set per replicate from `calibration.posterior`, drawn by weight with a
    generator seeded by the replicate's seed alone (so a replicate's draw does not depend on
    how many replicates run); None without a posterior."""
    path = config.resolve_path("calibration.posterior")
    if path is None:
        return None
    file, line = config.where("calibration.posterior")
    try:
        post = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise ScenarioError(file, line, "calibration.posterior", f"cannot read {path}: {exc}")
    keys = [c for c in post.columns if c != "weight"]
    if "weight" not in post.columns or not keys or len(post) == 0:
        raise ScenarioError(file, line, "calibration.posterior", f"{path}: expected rows with "
                            "a `weight` column and a column per parameter key")
    w = post["weight"].to_numpy(float)
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise ScenarioError(file, line, "calibration.posterior", f"{path}: weights must be "
                            "finite, non-negative, not all zero")
    rows = []
    for r, s in enumerate(seeds):
        i = int(np.random.default_rng([POSTERIOR_STREAM, s]).choice(len(post), p=w / w.sum()))
        rows.append({"replicate": r, "seed": s, "posterior_row": i,
                     **{k: float(post[k].iloc[i]) for k in keys}})
    return pd.DataFrame(rows)


def with_draw(config: Scenario, draw: dict) -> Scenario:
    """The scenario with one posterior draw's parameter values (bookkeeping columns skipped)."""
    c = config.copy()
    for key, value in draw.items():
        if key not in ("replicate", "seed", "posterior_row"):
            c.set(key, value)
    return c.validate()


def run_scenario(config: Scenario, seeds: list[int], firms: int | None = None,
                 firm_snapshots: bool = True, progress=None, panels: bool = False) -> RunResult:
    inputs = load_inputs(config)
    draws = posterior_draws(config, seeds)
    configs = [config] * len(seeds) if draws is None else \
        [with_draw(config, d) for d in draws.to_dict("records")]
    parts = [run_replicate(c, s, r, firms, inputs, firm_snapshots, progress, panels and r == 0)
             for r, (c, s) in enumerate(zip(configs, seeds))]
    cat = lambda name: pd.concat([getattr(p, name) for p in parts], ignore_index=True)  # noqa: E731
    return RunResult(cat("national"), cat("annual"), cat("regions"), cat("sectors"), cat("firms"),
                     list(seeds), parts[0].events, cat("named_firms"), draws,
                     clusters=cat("clusters"),
                     panels=parts[0].panels)
