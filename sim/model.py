"""ClusterModel: the Mesa model of China's digital industry clusters, and its monthly step order.

Firms are Mesa agents (`model.agents`, `select`, `DataCollector` work as usual) whose state
lives in arrays owned by the model (sim/firms.py), so each mechanism runs once over all firms.
The rules themselves are in sim/mechanisms/, one module each.
"""

from __future__ import annotations

import gc
from types import SimpleNamespace

import mesa
import numpy as np
from numba import njit

from sim import reporters
from sim.errors import NumericalError
from sim.firms import FirmTable, Firm
from sim.inputs import TIERS, Inputs, load_inputs
from sim.mechanisms import (agglomeration, entry_exit, export_controls, innovation, policy,
                            production, spillover)
from sim.population import build
from sim.scenario import Scenario, load_scenario, month_index


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class GroupIndex:
    """Positions of a set of firms sorted by a small integer group (sub-sector): one stable
    sort (numpy's radix sort on 8-bit keys), after which each group is a contiguous slice,
    in increasing position order, of `order`."""

    def __init__(self, group: np.ndarray, n_groups: int):
        self.order = np.argsort(group.astype(np.int8 if n_groups < 128 else np.int64),
                                kind="stable")
        self.ends = np.cumsum(np.bincount(group, minlength=n_groups))
        self.starts = self.ends - np.bincount(group, minlength=n_groups)

    def members(self, g: int) -> np.ndarray:
        return self.order[self.starts[g]:self.ends[g]]

    def median(self, values: np.ndarray, guess: np.ndarray | None = None) -> np.ndarray:
        """np.median of `values` within each group (0 for an empty group). With a guess (last
        month's medians), each group's middle order statistics are first sought among the
        few values within 2% of the guess, which is exact whenever they lie there (counted
        in one pass); otherwise, and for groups without a guess, np.median does it."""
        out = np.zeros(len(self.ends))
        todo = self.ends > self.starts
        if guess is not None:
            found = _median_near(values, self.order, self.starts, self.ends,
                                 np.asarray(guess, float), 0.02, out)
            todo &= ~found
        if todo.any():
            by_group = values[self.order]
            for g in np.flatnonzero(todo):
                out[g] = np.median(by_group[self.starts[g]:self.ends[g]], overwrite_input=True)
        return out


@njit(cache=True)
def _median_near(values, order, starts, ends, guess, band, out):
    """For each group, the median as np.median computes it (the middle value, or the mean of
    the two middle values), if the middle order statistics lie within guess x (1 -/+ band)."""
    found = np.zeros(len(starts), np.bool_)
    for g in range(len(starts)):
        n = ends[g] - starts[g]
        if n == 0 or not guess[g] > 0:
            continue
        lo, hi = guess[g] * (1 - band), guess[g] * (1 + band)
        below, inside = 0, np.empty(n)
        m = 0
        for j in range(starts[g], ends[g]):
            x = values[order[j]]
            if x < lo:
                below += 1
            elif x <= hi:
                inside[m] = x
                m += 1
        k_hi = n // 2  # np.median: element n//2, averaged with n//2 - 1 when n is even
        k_lo = k_hi if n % 2 else k_hi - 1
        if below <= k_lo and k_hi < below + m:
            near = np.sort(inside[:m])
            a, b = near[k_lo - below], near[k_hi - below]
            out[g] = a if n % 2 else (a + b) / 2
            found[g] = True
    return found


@njit(cache=True)
def _take_stock(rows, region, subsector, weight, employment, knowledge, named, n_subsectors,
                sub_out, size_out, cell_out, region_jobs, mass, k_mass):
    """Per firm at `rows`: its sub-sector, employment and cluster x sub-sector cell; summed in
    row order (as np.bincount): jobs by region, jobs and jobs x knowledge by cell. Returns the
    number of generic (unnamed) firms."""
    generic = 0
    for i in range(len(rows)):
        r = rows[i]
        s, reg = subsector[r], region[r]
        cell = reg * n_subsectors + s
        sub_out[i], size_out[i], cell_out[i] = s, employment[r], cell
        jobs = weight[r] * employment[r]
        region_jobs[reg] += jobs
        mass[cell] += jobs
        k_mass[cell] += jobs * knowledge[r]
        generic += named[r] < 0
    return generic


@njit(cache=True)
def _entry_sums(rows, stay, cell, subsector, weight, employment, technology, knowledge,
                counts, cell_jobs, cell_tech, cell_k, sub_jobs, sub_tech, sub_k):
    """Sums over the firms that stay, in row order: weights by cell; jobs, jobs x technology
    and jobs x knowledge by cell and by sub-sector."""
    for i in range(len(rows)):
        if not stay[i]:
            continue
        r, c, s = rows[i], cell[i], subsector[i]
        counts[c] += weight[r]
        jobs = weight[r] * employment[r]
        cell_jobs[c] += jobs
        cell_tech[c] += jobs * technology[r]
        cell_k[c] += jobs * knowledge[r]
        sub_jobs[s] += jobs
        sub_tech[s] += jobs * technology[r]
        sub_k[s] += jobs * knowledge[r]


@njit(cache=True)
def _weight_pools(order, starts, ends, stay, rows, weight, pool, cum):
    """For each group (GroupIndex), its members that stay, in row order, from starts[g] in
    `pool` (their rows), with their cumulative weights in `cum`; returns where each group's
    pool ends."""
    pool_ends = starts.copy()
    for g in range(len(starts)):
        k, total = starts[g], 0.0
        for j in range(starts[g], ends[g]):
            i = order[j]
            if stay[i]:
                total += weight[rows[i]]
                pool[k], cum[k] = rows[i], total
                k += 1
        pool_ends[g] = k
    return pool_ends


@njit(cache=True)
def _exit_inputs(rows, net_worth, named, size, subsector, median, net_worth_out, named_out,
                 relative_out):
    """Per firm at `rows`: its net worth, whether it is a named firm (exempt from the hazard)
    and its size relative to its sub-sector's median."""
    for i in range(len(rows)):
        r = rows[i]
        net_worth_out[i] = net_worth[r]
        named_out[i] = named[r] >= 0
        relative_out[i] = size[i] / max(median[subsector[i]], 1e-12)


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

    def __init__(self, config: Scenario | None = None, seed: int | None = None,
                 firms: int | None = None, inputs: Inputs | None = None,
                 level: float = 1.0):
        config = config if config is not None else load_scenario()
        seed = int(config["run.seed"] if seed is None else seed)
        super().__init__(rng=seed)
        self.config, self.seed = config, seed
        self.inputs = inputs if inputs is not None else load_inputs(config)
        p = config.tree

        # Calendar
        self.start_month = month_index(p["run"]["start"])
        self.end_month = month_index(p["run"]["end"])
        self.month = self.start_month - 1  # the month last simulated
        self.gdp_by_year = self.inputs.gdp_by_year

        # Names for agents and outputs
        self.region_ids = list(self.inputs.regions["region_id"])
        self.subsector_ids = list(self.inputs.sectors["subsector_id"])
        self.sector_codes = ["01", "02", "03", "04"]
        R, S = len(self.region_ids), len(self.subsector_ids)
        self.n_regions, self.n_subsectors = R, S

        # Initial population, calibrated to 2020 (sim/population.py)
        n_agents = int(p["run"]["firms"] if firms is None else firms)
        self.n_agents_start = n_agents
        init = build(config, self.inputs, n_agents, self.rng, self.start_month)
        self.firms = FirmTable(int(len(init.columns["region"]) * 1.3))
        if level != 1.0:
            for name in ("technology", "value_added", "net_worth"):
                init.columns[name] = init.columns[name] * level
        rows = self.firms.add(len(init.columns["region"]), **init.columns)
        self.agent_of_row: list[Firm | None] = Firm.create_batch(self, rows)
        self.firms.firm_id[rows] = [agent.unique_id for agent in self.agent_of_row]
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
        self.domestic_2020 = sectors["domestic_substitute_2020"].to_numpy(float)
        self.va_ratio = sectors["va_to_revenue"].to_numpy(float)
        self.sector_rd = sectors["rd_intensity_pct"].to_numpy(float)
        self.subsector_sector = self.inputs.subsector_sector
        self.pull = sectors["agglomeration_pull"].to_numpy(float) * p["entry_exit"]["pull_scale"]
        self.area = self.inputs.regions["area_km2"].to_numpy(float)
        self.attractiveness_2020 = self.inputs.regions["attractiveness"].to_numpy(float)
        self.w_region = spillover.region_weights(self.inputs.dist_km, p["spillover"]["decay_km"],
                                                 p["spillover"]["within_region_weight"])
        self.h_sector = spillover.sector_weights(self.inputs.subsector_sector,
                                                 p["spillover"]["cross_sector_weight"])
        trend = p["production"]["trend_growth_pct"]
        self.trend_log_monthly = np.log1p(np.array([trend[c] for c in self.sector_codes]) / 100) / 12
        self.rd_policy = policy.rd_multiplier(p["policy"]["rd_subsidy_pct"],
                                              p["policy"]["rd_price_elasticity"])
        self.designation_month = month_index(p["policy"]["designation_date"])

        # Export controls: rules dated before the start are already in force
        self.controls = export_controls.ControlState()
        self.events = list(self.inputs.events)
        self.event_log: list[tuple[str, str]] = []
        self._next_event = 0
        self._apply_rules_up_to(self.start_month - 1)
        # the stock of chip know-how in 2020: five years of sector-01 R&D (20% depreciation)
        self.cumulative_chip_rd = 5 * 12 * self._chip_rd_this_month(self._rd_cost_gross())
        self.cumulative_chip_rd_2020 = self.cumulative_chip_rd
        self.learning = 1.0

        # Current national figures, read by the DataCollector and the browser page
        self.core_va_bn_yuan = 0.0
        self.gdp_bn_yuan = 0.0
        self.core_va_share_gdp_pct = 0.0
        self.chip_self_sufficiency_pct = 0.0
        self.direct_loss_bn_yuan = 0.0
        self.region_va = np.zeros(R)
        self.median_employment: np.ndarray | None = None  # by sub-sector, from the first month
        self.now: SimpleNamespace | None = None  # the month's live rows and sums, during step()
        self.datacollector = mesa.DataCollector(
            model_reporters={r.name: r.read for r in reporters.national()})
        self.observers: list = []  # callables(model) run after each step (outputs.Recorder)

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """One month, in this order."""
        self.month += 1
        self.apply_rules_due()   # export-control rules dated this month
        self.take_stock()        # the firms alive now and what the month's rules need of them
        self.supply_chips()      # stockpiles, domestic substitution, output caps
        self.produce()           # agglomeration, knowledge and caps -> value added and profits
        self.learn()             # R&D: innovation, imitation, knowledge spillover
        self.compete()           # selection, market growth, idiosyncratic shocks
        self.enter_and_exit()    # location choice of entrants, exit on losses
        self.now = None
        self.datacollector.collect(self)
        self._check_collected()
        for observe in self.observers:
            observe(self)
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

    # ------------------------------------------------------------------ step parts
    # The rules are the functions of sim/mechanisms/; the month applies them to the firms alive
    # at its start (self.now.rows) through their one-pass forms (*_rows, compiled by numba),
    # which read and update the columns of self.firms in place. Sums over firms run in row
    # order, like np.bincount, and transcendental functions stay with numpy.
    def _apply_rules_up_to(self, month: int) -> None:
        ec = self.config.tree["export_controls"]
        while self._next_event < len(self.events) and self.events[self._next_event].month <= month:
            ev = self.events[self._next_event]
            self.controls = export_controls.apply_rule(self.controls, ev.avail,
                                                       ev.foreign_knowledge, ec["severity"],
                                                       ev.direction)
            named_ids = list(self.inputs.named_firms["firm_id"])
            for firm_id in ev.entity_list_add:
                if firm_id in named_ids:
                    rows = np.flatnonzero((self.firms.view("named") == named_ids.index(firm_id))
                                          & (self.firms.view("listed_month") < 0))
                    self.firms.listed_month[rows] = ev.month
            self.event_log.append((ev.date, ev.name))
            self._next_event += 1

    def apply_rules_due(self) -> None:
        self._apply_rules_up_to(self.month)

    def _live(self) -> np.ndarray:
        return self.firms.rows

    def take_stock(self) -> None:
        """Aggregates from the firms as they start the month: jobs by region, employment mass
        and knowledge by cluster x sub-sector, the median size of each sub-sector."""
        f, rows = self.firms, self.firms.rows
        R, S = self.n_regions, self.n_subsectors
        now = self.now = SimpleNamespace(rows=rows, n=len(rows))
        now.subsector, now.size, now.cell = (np.empty(len(rows), np.intp), np.empty(len(rows)),
                                             np.empty(len(rows), np.intp))
        now.region_jobs, now.mass, now.k_mass = np.zeros(R), np.zeros(R * S), np.zeros(R * S)
        now.generic = _take_stock(rows, f.region, f.subsector, f.weight, f.employment,
                                  f.knowledge, f.named, S, now.subsector, now.size, now.cell,
                                  now.region_jobs, now.mass, now.k_mass)
        now.by_subsector = GroupIndex(now.subsector, S)
        self.median_employment = now.by_subsector.median(now.size, self.median_employment)

    def supply_chips(self) -> None:
        f, ec = self.firms, self.config.tree["export_controls"]
        coop = self.config["policy.international_cooperation"]
        self.domestic = export_controls.domestic_share(self.domestic_2020,
                                                       np.full(len(TIERS), self.learning))
        export_controls.supply_by_group(
            self.dependence, self.domestic, export_controls.soften(self.controls.availability, coop),
            ec["listed_availability"], ec["restock_rate"], self.target_inventory,
            self.now.rows, f.subsector, f.listed_month, self.month, f.inventory.T, f.output_cap)

    def _agglomeration_by_region(self, region_jobs) -> np.ndarray:
        p = self.config.tree["agglomeration"]
        g = agglomeration.factor(agglomeration.density(region_jobs, self.area),
                                 self.density_reference, p["elasticity"], p["congestion"],
                                 p["congestion_exponent"], self.congestion_density)
        return g / self.agglomeration_norm

    def _infrastructure(self) -> np.ndarray:
        return policy.infrastructure(self.infrastructure_2020,
                                     self.config["policy.infrastructure_growth_pct"],
                                     self.month - self.start_month)

    def produce(self) -> None:
        f, now, p = self.firms, self.now, self.config.tree
        S, n = self.n_subsectors, self.now.n
        self.agglomeration = self._agglomeration_by_region(now.region_jobs)
        k_theta = np.take(f.knowledge, now.rows) ** p["spillover"]["knowledge_elasticity"]
        infra_phi = self._infrastructure() ** p["production"]["infrastructure_elasticity"]
        w_va, loss = np.empty(n), np.empty(n)
        now.jobs_by_sub, output_by_sub, va_by_sub = np.zeros(S), np.zeros(S), np.zeros(S)
        capped = production.produce_rows(
            now.rows, f.technology, k_theta, self.agglomeration, infra_phi, f.region,
            f.output_cap, f.employment, f.weight, f.subsector, f.productivity, f.value_added,
            w_va, loss, now.jobs_by_sub, output_by_sub, va_by_sub)
        # direct loss: what chip caps take from this month's output, all else equal
        self.direct_loss_bn_yuan = float(np.sum(loss[:capped]))
        wage = p["production"]["wage_share"] * output_by_sub / np.maximum(now.jobs_by_sub, 1e-12)
        now.mean_productivity = output_by_sub / np.maximum(now.jobs_by_sub, 1e-300)
        now.rd_now, now.rd_share, chip_rd = np.empty(n), np.empty(n), np.empty(n)
        chip_makers = production.profit_rows(
            now.rows, f.value_added, f.employment, f.subsector, f.sector, f.weight,
            f.rd_intensity, f.listed_month, self.month, self.rd_policy,
            1 + p["export_controls"]["listed_rd_boost_pct"] / 100, self.va_ratio, wage,
            1 - p["policy"]["rd_subsidy_pct"] / 100, f.net_worth, now.rd_now, now.rd_share,
            chip_rd)
        self.cumulative_chip_rd += float(np.sum(chip_rd[:chip_makers]))
        self.learning = export_controls.learning_index(
            self.cumulative_chip_rd, self.cumulative_chip_rd_2020,
            p["export_controls"]["learning_elasticity"])

        # national figures for this month
        self.core_va_bn_yuan = float(np.sum(w_va))
        self.gdp_bn_yuan = self.inputs.gdp_by_month[self.month]
        self.core_va_share_gdp_pct = 100 * self.core_va_bn_yuan / self.gdp_bn_yuan
        self.chip_self_sufficiency_pct = export_controls.self_sufficiency(
            self.dependence, self.domestic, va_by_sub)

    def _rd_intensity_of(self, rd_intensity, listed_month) -> np.ndarray:
        """R&D / revenue after the subsidy response and the Entity-List response."""
        boost = self.config["export_controls.listed_rd_boost_pct"] / 100
        responded = (listed_month >= 0) & (self.month - listed_month >= 12)
        return rd_intensity * self.rd_policy * np.where(responded, 1 + boost, 1.0)

    def _rd_intensity(self, rows=None) -> np.ndarray:
        rows = self._live() if rows is None else rows
        return self._rd_intensity_of(self.firms.rd_intensity[rows], self.firms.listed_month[rows])

    def _rd_cost_gross(self, rows=None) -> np.ndarray:
        """Gross R&D spending per real firm this month, bn yuan."""
        rows = self._live() if rows is None else rows
        f = self.firms
        revenue = f.value_added[rows] / self.va_ratio[f.subsector[rows]]
        return self._rd_intensity(rows) * revenue

    def _chip_rd_this_month(self, rd_gross, rows=None) -> float:
        rows = self._live() if rows is None else rows
        f = self.firms
        chip_makers = f.sector[rows] == 0  # NBS 01, digital product manufacturing
        return float(np.sum((f.weight[rows] * rd_gross)[chip_makers]))

    def learn(self) -> None:
        f, now, p = self.firms, self.now, self.config.tree
        inn, sp, S = p["innovation"], p["spillover"], self.n_subsectors
        innovation.innovate_rows(self.rng, f.technology, now.rows, now.rd_share, inn["zeta"],
                                 inn["jump_low"], inn["jump_high"], inn["jump_beta_a"],
                                 inn["jump_beta_b"])
        best = innovation.best_practice_rows(now.rows, f.technology, f.weight, now.cell,
                                             self.n_regions * S)
        innovation.imitate_rows(self.rng, f.technology, now.rows, best, now.cell, now.rd_share,
                                inn["imitation_zeta"], inn["imitation_share"])
        # knowledge: spillover from the reachable pool and the foreign frontier, plus own R&D
        mass = now.mass
        k_mean = np.divide(now.k_mass, mass, out=np.zeros_like(mass), where=mass > 0)
        pool = spillover.knowledge_pool(mass.reshape(-1, S), k_mean.reshape(-1, S),
                                        self.w_region, self.h_sector).ravel()
        gamma = spillover.absorptive_capacity(now.rd_now, sp["absorptive_lambda"])
        frontier = (1 + sp["frontier_growth_pct"] / 100) ** ((self.month - self.start_month) / 12)
        openness = export_controls.soften(self.controls.openness,
                                          p["policy"]["international_cooperation"])
        spillover.knowledge_rows(now.rows, f.knowledge, now.cell, pool, gamma, sp["strength"],
                                 frontier, openness, sp["foreign_strength"], now.rd_share,
                                 inn["knowledge_from_rd"])

    def compete(self) -> None:
        f, now, p = self.firms, self.now, self.config.tree
        growth, size = np.empty(now.n), np.empty(now.n)
        innovation.growth_rows(now.rows, f.productivity, now.mean_productivity, f.subsector,
                               f.sector, self.trend_log_monthly, p["innovation"]["selection"],
                               f.employment, growth, size)
        if self.month % 12 == 0 or self.month == self.start_month:  # January: a new year
            f.shock_variance[now.rows] = innovation.yearly_shock_variance(
                self.rng, now.n, p["production"]["lumpy_growth"])
        growth += innovation.size_scaled_shocks(
            self.rng, size, self.median_employment[now.subsector], p["production"]["shock_sd"],
            p["production"]["shock_size_exponent"], np.take(f.shock_variance, now.rows))
        innovation.grow_rows(now.rows, np.exp(growth), f.employment, f.age_months, now.size)

    def enter_and_exit(self) -> None:
        f, now, p = self.firms, self.now, self.config.tree
        ee = p["entry_exit"]
        # exit
        net_worth, named, relative = np.empty(now.n), np.empty(now.n, np.bool_), np.empty(now.n)
        _exit_inputs(now.rows, f.net_worth, f.named, now.size, now.subsector,
                     self.median_employment, net_worth, named, relative)
        out = entry_exit.exits(self.rng, net_worth, ee["exit_hazard_pct"] / 100, exempt=named,
                               relative_size=relative, size_exponent=ee["exit_size_exponent"],
                               backed=named if ee["named_firms_survive"] else None)
        gone = now.rows[out]
        f.remove(gone)
        Firm.remove_batch(self, [self.agent_of_row[r] for r in gone])
        for r in gone.tolist():
            self.agent_of_row[r] = None
        # entry, in proportion to the generic firms alive at the start of the month
        n_new = entry_exit.entrant_count(self.rng, now.generic, ee["entry_rate_pct"] / 100)
        if n_new == 0:
            return
        stay = ~out
        S, R = self.n_subsectors, self.n_regions
        counts, cell_jobs, cell_tech, cell_k = (np.zeros(R * S) for _ in range(4))
        sub_jobs, sub_tech, sub_k = np.zeros(S), np.zeros(S), np.zeros(S)
        _entry_sums(now.rows, stay, now.cell, now.subsector, f.weight, f.employment,
                    f.technology, f.knowledge, counts, cell_jobs, cell_tech, cell_k, sub_jobs,
                    sub_tech, sub_k)
        counts = np.ascontiguousarray(counts.reshape(R, S).T)  # (S, R)
        sector_prob = counts.sum(1) / counts.sum()
        new_sub = self.rng.choice(S, size=n_new, p=sector_prob)
        attract = policy.attractiveness(self.attractiveness_2020, self.inputs.designated,
                                        p["policy"]["designation_boost"],
                                        self.month >= self.designation_month)
        attract = attract * self._infrastructure() / self.infrastructure_2020
        loc_prob = entry_exit.location_probabilities(attract, counts, self.pull)
        new_reg = entry_exit.sample_categorical(self.rng, loc_prob, new_sub)
        # technology and knowledge from the entrant's cell (or its parent, for spin-offs)
        cell_jobs, sub_jobs = np.maximum(cell_jobs, 1e-300), np.maximum(sub_jobs, 1e-300)
        tech_cell, k_cell = cell_tech / cell_jobs, cell_k / cell_jobs
        sub_mean_tech, sub_mean_k = sub_tech / sub_jobs, sub_k / sub_jobs
        new_cell = new_reg * S + new_sub
        tech = np.where(tech_cell[new_cell] > 0, tech_cell[new_cell], sub_mean_tech[new_sub])
        know = np.where(k_cell[new_cell] > 0, k_cell[new_cell], sub_mean_k[new_sub])
        spin = self.rng.random(n_new) < ee["spinoff_share"]
        if spin.any():
            # parents in proportion to weight among the sub-sector's firms that stay: one
            # uniform draw each, inverted on the cumulative weights (as rng.choice does)
            by_sub = now.by_subsector
            pool, cum = np.empty(now.n, np.intp), np.empty(now.n)
            pool_ends = _weight_pools(by_sub.order, by_sub.starts, by_sub.ends, stay, now.rows,
                                      f.weight, pool, cum)
            for s in np.unique(new_sub[spin]):
                idx = np.flatnonzero(spin & (new_sub == s))
                members = slice(by_sub.starts[s], pool_ends[s])
                u = self.rng.random(len(idx)) * cum[members][-1]
                pick = np.searchsorted(cum[members], u, side="right")
                parents = pool[members][np.minimum(pick, pool_ends[s] - by_sub.starts[s] - 1)]
                new_reg[idx] = f.region[parents]
                tech[idx] = f.technology[parents]
                know[idx] = f.knowledge[parents]
        sd = p["calibration"]["productivity_dispersion"]
        tech = tech * ee["entrant_productivity"] * np.exp(sd * self.rng.standard_normal(n_new)
                                                          - 0.5 * sd**2)
        emp = np.maximum(ee["entrant_size"] * self.median_employment[new_sub], 1.0)
        sector_rd = self.sector_rd[new_sub] / 100
        expected_va = production.value_added(emp, tech)
        dep = self.dependence[new_sub]
        new_rows = f.add(
            n_new, region=new_reg, subsector=new_sub, sector=self.subsector_sector[new_sub],
            weight=self.entrant_weight, employment=emp, technology=tech, knowledge=know * 0.9,
            rd_intensity=sector_rd, net_worth=ee["initial_net_worth_months"] * expected_va,
            output_cap=1.0, age_months=0, inventory=np.where(dep > 0, self.target_inventory, 0.0),
            shock_variance=innovation.yearly_shock_variance(self.rng, n_new,
                                                            p["production"]["lumpy_growth"]))
        entrants = Firm.create_batch(self, new_rows)
        f.firm_id[new_rows] = [agent.unique_id for agent in entrants]
        self.agent_of_row.extend(entrants)

    # ------------------------------------------------------------------ read-outs
    @property
    def date(self) -> str:
        return month_label(self.month)

    @property
    def real_firms(self) -> float:
        rows = self._live()
        return float(self.firms.weight[rows].sum())

    @property
    def employment(self) -> float:
        rows = self._live()
        return float(np.sum(self.firms.weight[rows] * self.firms.employment[rows]))

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
