"""The Python API (docs/api.md): run a scenario and get pandas frames, or drive the model with
Mesa's own tools.

    from sim.api import run, ScenarioModel
    result = run("scenarios/baseline.yaml", replicates=2, firms=2000,
                 **{"export_controls.severity": 0.5})
    result.annual, result.national, result.clusters, result.named_firms   # pandas frames

    import mesa
    rows = mesa.batch_run(ScenarioModel, {"scenario": "scenarios/baseline.yaml",
                                          "firms": 500,
                                          "export_controls.severity": [0.0, 1.0]},
                          rng=[42, 43], max_steps=10_000, display_progress=False)

ScenarioModel is ClusterModel taking scenario keys as keyword arguments, which is the form
mesa.batch_run passes parameters in; ClusterModel itself takes one Scenario object, as Mesa's
examples advise.
"""

from __future__ import annotations

from pathlib import Path

import mesa
import numpy as np

from sim import reporters
from sim.model import ClusterModel
from sim.outputs import RunResult
from sim.runner import (posterior_draws, replicate_seeds, replicate_setup, run_scenario,
                        with_draw)
from sim.scenario import Scenario, ScenarioError, _check_known, load_scenario


def scenario_with(scenario: str | Path | Scenario | None, keys: dict) -> Scenario:
    """`scenario` (a file, a Scenario, or None for the defaults) with the dotted keys of
    `keys` set and the result validated: an unknown key or a bad value raises ScenarioError
    naming it, as `--set` does."""
    config = scenario.copy() if isinstance(scenario, Scenario) else load_scenario(scenario)
    for key, value in keys.items():
        _check_known(key, "keyword argument", None)
        config.set(key, value.item() if isinstance(value, np.generic) else value)
    return config.validate()


def run(scenario: str | Path | Scenario | None = None, replicates: int | None = None,
        seed: int | None = None, firms: int | None = None, firm_snapshots: bool = False,
        **keys) -> RunResult:
    """Run a scenario's replicates (replicate r with seed + r, as `clustersim run`) and return
    them as frames: national, annual, regions, sectors, clusters, named_firms (and firms with
    firm_snapshots=True). Keyword arguments are scenario keys, e.g.
    `**{"export_controls.severity": 0.5}`."""
    config = scenario_with(scenario, keys)
    if firms is not None:
        config.set("run.firms", firms)
        config.validate()
    return run_scenario(config, replicate_seeds(config, replicates, seed),
                        firm_snapshots=firm_snapshots)


class ScenarioModel(ClusterModel):
    """ClusterModel built from a scenario file and scenario keys given as keyword arguments,
    at the calibrated 2020 level (as sim.runner.build_model does), for mesa.batch_run.

    Args:
        scenario: scenario file (default: the built-in defaults).
        seed: the run's seed. None, as mesa.batch_run passes for `rng=None` or
            `iterations=`, draws a fresh seed (Mesa's meaning of None); the seed used is
            `model.seed` and a `seed` column of the collected data, so any row can be rerun.
        firms: firm agents at the start (default: the scenario's run.firms).
        **keys: scenario keys, e.g. `**{"export_controls.severity": 0.5}`.

    A scenario that names a posterior (`calibration.posterior`) takes the parameter set
    `clustersim run` draws for this seed (its row: `model.posterior_row`); GDP after the data
    is this seed's draw of the projection. So a batch row is what `sim.api.run` gives for the
    same scenario, keys and seed.
    """

    def __init__(self, scenario: str | Path | None = None, seed: int | None = None,
                 firms: int | None = None, **keys):
        config = scenario_with(scenario, keys)
        if firms is not None:
            config.set("run.firms", int(firms))
            config.validate()
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0] % 2 ** 31)
        seed = int(seed)
        # Built as sim.runner.run_scenario builds a replicate with this seed, so that a batch row
        # equals sim.api.run's: the replicate's posterior draw (when the scenario names one),
        # then its setup (its own draw of the GDP projection, the 2020 level). Without these a
        # run past 2025 followed the mean GDP path and a posterior scenario its point values.
        draws = posterior_draws(config, [seed])
        if draws is not None:
            config = with_draw(config, draws.to_dict("records")[0])
        super().__init__(config, **replicate_setup(config, seed))
        self.posterior_row = None if draws is None else int(draws["posterior_row"].iloc[0])
        self.datacollector = mesa.DataCollector(model_reporters={
            "seed": lambda m: m.seed, **{r.name: r.read for r in reporters.national()}})


__all__ = ["run", "ScenarioModel", "scenario_with", "ScenarioError"]
