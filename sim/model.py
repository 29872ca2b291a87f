"""ClusterModel: the Mesa model of China's digital industry clusters, and its monthly step order.

Firms are Mesa agents (`model.agents`, `select`, `DataCollector` work as usual) whose state
lives in arrays owned by the model (sim/firms.py), so each mechanism runs once over all firms.
The mechanisms are in sim/mechanisms/, one module each; the month runs them in the order of
ClusterModel.STEPS (docs/architecture.md).
"""

from __future__ import annotations

import gc

import mesa
import numpy as np

from sim import reporters
from sim.errors import NumericalError, raise_if_terminated
from sim.firms import FirmTable, Firm
from sim.inputs import Inputs, load_inputs
from sim.mechanisms import MONTH, census, production, spillover
from sim.mechanisms.base import parameter_records
from sim.month import Month
from sim.population import build
from sim.registry import SECTOR_CODES
from sim.scenario import Scenario, load_scenario, month_index


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class ClusterModel(mesa.Model):
    """Firms in named clusters; one step is one calendar month.

    Args:
        config: a validated Scenario (default: the built-in defaults).
        seed: the run's seed (default: the scenario's run.seed).
        firms: number of firm agents at the start (default: the scenario's run.firms).
        inputs: pre-loaded input tables (a sweep loads them once per scenario).
        level: factor on the initial technology, value added and net worth, from the 2020
            level calibration (sim.runner.build_model computes it with
            sim.calibration.level.initial_level; 1 leaves the population as built).
    """

    STEPS = MONTH  # the month, in order (sim/mechanisms/__init__.py)

    def __init__(self, config: Scenario | None = None, seed: int | None = None,
                 firms: int | None = None, inputs: Inputs | None = None,
                 level: float = 1.0):
        config = config if config is not None else load_scenario()
        seed = int(config["run.seed"] if seed is None else seed)
        super().__init__(rng=seed)
        self.config, self.seed = config, seed
        self.inputs = inputs if inputs is not None else load_inputs(config)
        self.p = p = parameter_records(config.tree)  # read as p.section.key

        # Calendar
        self.start_month = month_index(p.run.start)
        self.end_month = month_index(p.run.end)
        self.month = self.start_month - 1  # the month last simulated
        self.gdp_by_year = self.inputs.gdp_by_year

        # Names for agents and outputs
        self.region_ids = list(self.inputs.regions["region_id"])
        self.subsector_ids = list(self.inputs.sectors["subsector_id"])
        self.sector_codes = list(SECTOR_CODES)
        R, S = len(self.region_ids), len(self.subsector_ids)
        self.n_regions, self.n_subsectors = R, S

        # Initial population, calibrated to 2020 (sim/population.py)
        n_agents = int(p.run.firms if firms is None else firms)
        self.n_agents_start = n_agents
        init = build(config, self.inputs, n_agents, self.rng, self.start_month)
        self.firms = FirmTable(int(len(init.columns["region"]) * 1.3))
        if level != 1.0:
            for name in ("technology", "value_added", "net_worth"):
                init.columns[name] = init.columns[name] * level
        self.agent_of_row: list[Firm | None] = []
        rows = self.add_firms(len(init.columns["region"]), **init.columns)
        # One full collection now: otherwise the first collections of the run would each
        # traverse the whole new population (three passes over millions of agents). A small
        # population is not worth it: a full collection costs ~0.15 s whatever the model's size.
        if len(rows) >= 200_000:
            gc.collect()
        self.density_reference = init.density_reference
        self.agglomeration_norm = init.agglomeration_norm
        self.congestion_density = init.congestion_density
        self.infrastructure_2020 = init.infrastructure_2020
        self.target_inventory = init.target_inventory
        self.entrant_weight = float(np.mean(self.firms.weight[rows][self.firms.named[rows] < 0]))

        # Fixed structures
        sectors = self.inputs.sectors
        self.dependence = self.inputs.dependence                       # (S, tiers)
        self.domestic_2020 = self.inputs.domestic_2020                 # (tiers,)
        self.va_ratio = sectors["va_to_revenue"].to_numpy(float)
        self.revenue_ratios = production.RevenueRatios(
            self.va_ratio, self.inputs.named_firms["va_to_revenue"].to_numpy(float))
        self.sector_rd = sectors["rd_intensity_pct"].to_numpy(float)
        self.subsector_sector = self.inputs.subsector_sector
        self.pull = sectors["agglomeration_pull"].to_numpy(float) * p.entry_exit.pull_scale
        self.area = self.inputs.regions["area_km2"].to_numpy(float)
        self.attractiveness_2020 = self.inputs.regions["attractiveness"].to_numpy(float)
        self.w_region = spillover.region_weights(self.inputs.dist_km, p.spillover.decay_km,
                                                 p.spillover.within_region_weight)
        self.h_sector = spillover.sector_weights(self.inputs.subsector_sector,
                                                 p.spillover.cross_sector_weight)
        self.rd = production.rd_terms(p)
        self.rd_policy = self.rd.policy
        self.designation_month = month_index(p.policy.designation_date)
        self.region_va = np.zeros(R)
        self.last_month: Month | None = None  # the month just simulated, while observers run

        for mechanism in self.STEPS:
            mechanism.setup(self)
        self.datacollector = mesa.DataCollector(
            model_reporters={r.name: r.read for r in reporters.national()})
        self.observers: list = []  # callables(model) run after each step (outputs.Recorder)

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """One month: each mechanism of STEPS in turn, sharing one Month record; then the
        national figures are collected and the observers called."""
        raise_if_terminated()  # a signal noted during the last month (sim/errors.py)
        self.month += 1
        month = Month(self.month, self.firms)
        for mechanism in self.STEPS:
            mechanism.step(self, month)
        self.last_month = month
        self.datacollector.collect(self)
        self._check_collected()
        for observe in self.observers:
            observe(self)
        self.last_month = None  # its arrays are the next month's memory
        if self.month >= self.end_month:
            self.running = False

    def _check_collected(self) -> None:
        """The month's national figures, as just collected, must be finite numbers: a run
        that overflowed stops here (NumericalError) instead of writing NaN that later sums
        to zero. O(1): it reads the collector's last row."""
        for name, values in self.datacollector.model_vars.items():
            value = values[-1]
            if not isinstance(value, str) and not np.isfinite(value):
                raise NumericalError(self.date, name,
                                     f"{value} (seed {self.seed}, {self.n_agents_start} firm "
                                     "agents at the start)")

    # ------------------------------------------------------------------ the population
    def add_firms(self, count: int, **columns) -> np.ndarray:
        """New rows in the firm table, each with its Mesa agent; returns the rows."""
        rows = self.firms.add(count, **columns)
        agents = Firm.create_batch(self, rows)
        self.firms.firm_id[rows] = [agent.unique_id for agent in agents]
        self.agent_of_row.extend(agents)
        return rows

    def remove_firms(self, rows: np.ndarray) -> None:
        self.firms.remove(rows)
        agent_of_row, rows = self.agent_of_row, rows.tolist()  # Python ints index a list faster
        Firm.remove_batch(self, [agent_of_row[r] for r in rows])
        for r in rows:
            agent_of_row[r] = None

    def _rd_intensity(self, rows=None) -> np.ndarray:
        """R&D / revenue of the firms at `rows` (default: alive) after the policy responses."""
        rows = self.firms.rows if rows is None else rows
        out, chip = np.empty(len(rows)), np.empty(len(rows))
        production.rd_rows(rows, self.firms.columns, self.month, self.rd, self.revenue_ratios,
                           out, chip)
        return out

    # ------------------------------------------------------------------ read-outs
    @property
    def date(self) -> str:
        return month_label(self.month)

    @property
    def real_firms(self) -> float:
        rows = self.firms.rows
        return float(self.firms.weight[rows].sum())

    @property
    def employment(self) -> float:
        rows = self.firms.rows
        return float(np.sum(census.jobs_rows(rows, self.firms.weight, self.firms.employment)))

    @property
    def n_steps(self) -> int:
        return self.end_month - self.start_month + 1

    def run(self, progress=None) -> "ClusterModel":
        """Run to the end month; `progress` is called after each step (e.g. a tqdm update)."""
        while self.running and self.month < self.end_month:
            self.step()
            if progress is not None:
                progress()
        return self


__all__ = ["ClusterModel", "month_label"]
