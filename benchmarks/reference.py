"""The model's firm rules written the conventional Mesa way: the like-for-like reference for
benchmarks/scale.py.

Each firm is a `RefFirm(mesa.Agent)` that keeps its own state in plain Python attributes and
applies the rules of sim/mechanisms/ to itself, one agent at a time, when the model calls
`self.agents.shuffle_do(...)`. The model computes the cluster-level aggregates (agglomeration
by region, knowledge pools, wages, selection means, best practice, median sizes) with loops
over its agents and handles entry, as a conventional Mesa model would.

A month has the same order of events as ClusterModel.step. Three rules need a figure over all
firms of the same month (the wage and the selection mean from this month's productivity; the
best practice that imitators copy, after this month's innovations), so the month runs in
stages, the usual Mesa idiom for that:

    model    export-control rules due; aggregates from the firms as they start the month
             (the imported-chip index at last month's output)
    firms    shuffle_do("produce"):  chip supply and stockpile, capacity-growth penalty, the
                                     listed-firm cut, productivity, value added
    model    wages and selection means by sub-sector; national figures
    firms    shuffle_do("step"):     profit, R&D, innovation, knowledge, selection and shocks
    model    best practice by cluster x sub-sector; learning curve of domestic chips
    firms    shuffle_do("imitate"):  imitation; exit
    model    entry; DataCollector

Same equations: each per-firm rule is the equation function of sim/mechanisms/ that the
compiled passes call (production.firm_productivity, export_controls.stock_draw,
spillover.knowledge_next, ...), called here firm by firm, so the two cannot drift apart; what
the reference writes itself is the conventional wiring (agents, loops, shuffled activation)
and a few lines written out here as a conventional model would have them: a tier's supply,
shortfall and restock rate (export_controls.tier_terms, which the compiled pass evaluates once
per sub-sector for the firms not listed), and where a firm's chip
shortfall lands (current output for an Entity-List firm whose stock of a short chip tier is
gone, capacity growth otherwise; equipment, a capital input, only ever slows growth). Import
gap and volume, re-routing, self-sufficiency, demand growth and its saturation are the
model's functions. Named firms come with their own accounts in the copied population (2020
VA at their own VA ratio, 2020 equity, R&D intensity, the relative productivity at which
selection is neutral for them), pay R&D on revenue at their own VA ratio, get the listed share
of each rule that lists them, and exit like any firm.

Same population: the reference starts from the initial state of ClusterModel(config, seed,
firms) (population, 2020 level calibration, fixed tables), copied firm by firm. Per-firm
random draws come from the model's stdlib `random` (Mesa's seeded `self.random`), so a run
is a different realisation of the same process; with the stochastic parts switched off both
models compute the same numbers up to rounding (tests/test_reference_agreement.py).
"""

from __future__ import annotations

import math
import statistics

import mesa
import numpy as np

from sim.mechanisms import (agglomeration, demand, export_controls, innovation, platform, policy,
                            spillover)
from sim.mechanisms.entry_exit import location_probabilities
from sim.mechanisms.production import (firm_productivity, firm_profit, rd_response,
                                       value_added)
from sim.model import ClusterModel, month_label
from sim.registry import TIER_CURRENT_INPUT, TIERS


class RefFirm(mesa.Agent):
    """A firm (standing for `weight` real firms) that holds and updates its own state."""

    def __init__(self, model, region, subsector, sector, weight, employment, technology,
                 knowledge, rd_intensity, net_worth, inventory, age_months=0, listed_month=-1,
                 named=-1, productivity=0.0, value_added=0.0, output_cap=1.0, shock_variance=1.0,
                 selection_reference=1.0, growth_penalty=0.0, listed_share=1.0):
        super().__init__(model)
        self.region, self.subsector, self.sector = region, subsector, sector
        self.weight, self.employment = weight, employment
        self.technology, self.knowledge = technology, knowledge
        self.rd_intensity, self.net_worth = rd_intensity, net_worth
        self.inventory = list(inventory)  # months of critical use, by tier
        self.age_months, self.listed_month, self.named = age_months, listed_month, named
        self.productivity, self.value_added, self.output_cap = productivity, value_added, output_cap
        self.shock_variance = shock_variance
        # a named firm is selected relative to its own 2020 position (its accounts), others at 1
        self.selection_reference, self.growth_penalty = selection_reference, growth_penalty
        self.listed_share = listed_share  # of ordinary availability, once Entity-listed
        # VA / revenue: a named firm's own (its report), else its sub-sector's
        self.revenue_ratio = (model.named_va_ratio[named] if named >= 0
                              else model.va_ratio[subsector])
        self.rd_share = 0.0

    def produce(self) -> None:
        """Chip supply and stockpile; the shortfall slows capacity growth, and cuts current
        output only for an Entity-List firm with a short chip tier's stock exhausted
        (equipment, a capital input, never cuts output); then productivity and value added."""
        m = self.model
        listed = 0 <= self.listed_month <= m.month
        share = self.listed_share if listed else 1.0
        dom, dep = m.domestic[self.subsector], m.dependence[self.subsector]
        chip_cap, capital_cap, exhausted = 1.0, 1.0, False
        for t in range(m.n_tiers):
            supply = dom[t] + (1.0 - dom[t]) * m.availability[t] * share  # after re-routing
            short = 1.0 - supply if dep[t] > 0 else 0.0
            # restock only while imports cover current use
            usable, self.inventory[t] = export_controls.stock_draw(
                self.inventory[t], short, supply, m.target_inventory,
                m.restock_rate if short <= 1e-12 else 0.0)
            c = export_controls.tier_cap(dep[t], usable)
            if m.current_input[t]:
                exhausted = exhausted or (c < 1.0 and self.inventory[t] <= 0.0)
                chip_cap = min(chip_cap, c)
            else:
                capital_cap = min(capital_cap, c)
        cut = listed and exhausted
        self.output_cap = chip_cap if cut else 1.0
        # the shortfall slows growth except the part the cut already takes from output; 01_ic
        # gains substitution demand (a negative penalty)
        growth_cap = capital_cap if cut else min(chip_cap, capital_cap)
        self.growth_penalty = (m.growth_penalty * (1.0 - growth_cap)
                               - m.substitution_bonus[self.subsector])
        self.productivity = firm_productivity(self.technology, self.knowledge ** m.theta,
                                              m.agglomeration[self.region],
                                              m.infra_phi[self.region], self.output_cap)
        self.value_added = value_added(self.employment, self.productivity)

    def step(self) -> None:
        """Profit and R&D; innovation; knowledge; selection, trend and shocks."""
        m, s = self.model, self.subsector
        rd = rd_response(self.rd_intensity, m.rd_policy, self.listed_month, m.month,
                         m.listed_rd_factor)
        rd_gross = rd * (self.value_added / self.revenue_ratio)
        self.net_worth += firm_profit(self.value_added, self.employment, m.wage[s], rd_gross,
                                      m.rd_net_share)
        if self.sector == 0:  # NBS 01 firms' R&D drives the domestic-chip learning curve
            m.chip_rd_month += self.weight * rd_gross
        # innovation (K+S): success with probability 1 - exp(-zeta rd), Beta jump if better
        self.rd_share = rd / self.revenue_ratio
        if self.random.random() < 1.0 - math.exp(-m.zeta * self.rd_share):
            jump = m.jump_low + m.jump_range * self.random.betavariate(m.beta_a, m.beta_b)
            if jump > 0:
                self.technology *= math.exp(jump)
        # knowledge: spillover from the reachable pool and the foreign frontier, own R&D
        gamma = 1.0 - math.exp(-m.absorptive_lambda * rd)
        self.knowledge = spillover.knowledge_next(
            self.knowledge, m.pool[self.region * m.n_subsectors + s], gamma, m.spill_strength,
            m.frontier, m.openness, m.foreign_strength, self.rd_share, m.knowledge_from_rd)
        # selection (replicator), sector trend, size-scaled shock
        growth = innovation.selection_growth(
            self.productivity, m.mean_productivity[s] * self.selection_reference, m.selection)
        growth += m.trend[self.sector] - self.growth_penalty
        if m.lumpy_growth and (m.month % 12 == 0 or m.month == m.start_month):
            self.shock_variance = self.random.expovariate(1.0)
        scale = min(m.shock_sd * math.sqrt(self.shock_variance)
                    * (max(self.employment, 1e-12) / m.median[s]) ** -m.shock_beta, 0.5)
        growth += scale * self.random.gauss(0.0, 1.0) - 0.5 * scale ** 2
        self.employment *= math.exp(growth)
        self.age_months += 1

    def imitate(self) -> None:
        """Imitation of the cell's best practice; exit on losses or by the size-scaled hazard."""
        m = self.model
        if self.random.random() < 1.0 - math.exp(-m.imitation_zeta * self.rd_share):
            best = m.best[self.region * m.n_subsectors + self.subsector]
            self.technology = innovation.imitated(self.technology, best, m.imitation_share)
        annual = m.exit_hazard
        if m.exit_size_exponent:
            relative = self.employment / max(m.median[self.subsector], 1e-12)
            annual = min(annual * max(relative, 1e-12) ** -m.exit_size_exponent,
                         min(4 * m.exit_hazard, 1.0))
        hazard = 1.0 - (1.0 - annual) ** (1.0 / 12.0)
        if self.net_worth < 0.0 or self.random.random() < hazard:
            self.remove()


class ReferenceModel(mesa.Model):
    """Conventional-Mesa twin of ClusterModel (same config, seed and firm count)."""

    def __init__(self, config, seed: int | None = None, firms: int | None = None, inputs=None,
                 level: float = 1.0):
        seed = int(config["run.seed"] if seed is None else seed)
        super().__init__(rng=seed)
        # the same initial population, calibration and fixed tables as the array model
        twin = ClusterModel(config, seed=seed, firms=firms, inputs=inputs, level=level)
        p = config.tree
        self.config, self.inputs = config, twin.inputs
        self.start_month, self.end_month, self.month = twin.start_month, twin.end_month, twin.month
        self.n_regions, self.n_subsectors, self.n_tiers = twin.n_regions, twin.n_subsectors, len(TIERS)
        self.dependence = twin.dependence.tolist()
        self.dependence_array, self.domestic_2020 = twin.dependence, twin.domestic_2020
        self.va_ratio = twin.va_ratio.tolist()
        self.named_va_ratio = twin.revenue_ratios.named.tolist()
        self.current_input = list(TIER_CURRENT_INPUT)  # chip tiers; equipment is capital
        self.current_array = np.asarray(TIER_CURRENT_INPUT, float)
        self.w_region_distance, self.h_sector = twin.w_region_distance, twin.h_sector
        self.platform_reach = config["platform.reach"]
        # sector demand: the same draws as the array model's (its own stream of the seed)
        self.demand_mean, self.demand_sd = twin.demand_mean_pct, twin.demand_sd_pct
        self.demand_rng = np.random.default_rng([seed, demand.DEMAND_STREAM])
        self.demand_observed = twin.demand_observed  # year -> observed growth (2021-23)
        self.demand_absorption = config["production.demand_absorption"]
        self.saturation_pct = config["production.saturation_share_pct"]
        self.gdp_by_year = twin.gdp_by_year
        self.sector_productivity, self.demand_growth = None, twin.demand_growth
        self.saturation = twin.demand_saturation  # f: 1 until a drawn year finds the market filling
        self.area, self.pull = twin.area, twin.pull
        self.attractiveness_2020, self.designated = twin.attractiveness_2020, twin.inputs.designated
        self.designation_month = twin.designation_month
        self.density_reference, self.agglomeration_norm = twin.density_reference, twin.agglomeration_norm
        self.congestion_density, self.infrastructure_2020 = twin.congestion_density, twin.infrastructure_2020
        self.target_inventory, self.entrant_weight = twin.target_inventory, twin.entrant_weight
        self.controls, self.events, self._next_event = twin.controls, twin.events, twin._next_event
        self.chip_weights, self.ic_subsector = twin.chip_weights, twin.ic_subsector
        self._chip_import_base = None
        self.named_ids = list(twin.inputs.named_firms["firm_id"])
        self.cumulative_chip_rd = twin.cumulative_chip_rd
        self.cumulative_chip_rd_2020 = twin.cumulative_chip_rd_2020
        self.learning = twin.learning
        self.sector_rd = (twin.inputs.sectors["rd_intensity_pct"].to_numpy(float) / 100).tolist()
        self.subsector_sector = twin.inputs.subsector_sector.tolist()
        # parameters as plain numbers
        ec, inn, sp, ee, prod = (p["export_controls"], p["innovation"], p["spillover"],
                                 p["entry_exit"], p["production"])
        self.restock_rate, self.default_listed_share = ec["restock_rate"], ec["listed_availability"]
        self.reroute_share, self.growth_penalty = ec["reroute_share"], ec["growth_penalty"]
        self.substitution_rate = ec["substitution_rate"]
        self.listed_rd_factor = 1 + ec["listed_rd_boost_pct"] / 100
        self.learning_elasticity, self.severity = ec["learning_elasticity"], ec["severity"]
        self.theta, self.phi = sp["knowledge_elasticity"], prod["infrastructure_elasticity"]
        self.wage_share, self.rd_policy = prod["wage_share"], twin.rd_policy
        self.rd_net_share = 1 - p["policy"]["rd_subsidy_pct"] / 100
        self.zeta, self.jump_low = inn["zeta"], inn["jump_low"]
        self.jump_range = inn["jump_high"] - inn["jump_low"]
        self.beta_a, self.beta_b = inn["jump_beta_a"], inn["jump_beta_b"]
        self.imitation_zeta, self.imitation_share = inn["imitation_zeta"], inn["imitation_share"]
        self.knowledge_from_rd, self.selection = inn["knowledge_from_rd"], inn["selection"]
        self.absorptive_lambda, self.spill_strength = sp["absorptive_lambda"], sp["strength"]
        self.foreign_strength, self.frontier_growth = sp["foreign_strength"], sp["frontier_growth_pct"]
        self.shock_sd, self.shock_beta = prod["shock_sd"], prod["shock_size_exponent"]
        self.lumpy_growth = prod["lumpy_growth"]
        self.exit_hazard, self.exit_size_exponent = ee["exit_hazard_pct"] / 100, ee["exit_size_exponent"]
        self.entry_rate, self.spinoff_share = ee["entry_rate_pct"] / 100, ee["spinoff_share"]
        self.entrant_productivity, self.entrant_size = ee["entrant_productivity"], ee["entrant_size"]
        self.initial_net_worth_months = ee["initial_net_worth_months"]
        self.productivity_dispersion = p["calibration"]["productivity_dispersion"]
        self.cooperation = p["policy"]["international_cooperation"]
        # the firms, one agent each, in the twin's row order
        f, rows = twin.firms, twin.firms.rows
        columns = {name: getattr(f, name)[rows].tolist() for name in (
            "region", "subsector", "sector", "weight", "employment", "technology", "knowledge",
            "rd_intensity", "net_worth", "inventory", "age_months", "listed_month", "named",
            "productivity", "value_added", "output_cap", "shock_variance",
            "selection_reference", "growth_penalty", "listed_share")}
        for i in range(len(rows)):
            RefFirm(self, **{name: values[i] for name, values in columns.items()})
        del twin, columns

        self.core_va_bn_yuan = self.gdp_bn_yuan = self.core_va_share_gdp_pct = 0.0
        self.chip_self_sufficiency_pct = self.direct_loss_bn_yuan = 0.0
        self.chip_import_gap_pct, self.chip_import_index = 0.0, 1.0
        self.datacollector = mesa.DataCollector(model_reporters={
            "date": "date", "core_va_bn_yuan": "core_va_bn_yuan", "gdp_bn_yuan": "gdp_bn_yuan",
            "core_va_share_gdp_pct": "core_va_share_gdp_pct", "firms": "real_firms",
            "employment": "employment", "chip_self_sufficiency_pct": "chip_self_sufficiency_pct",
            "direct_loss_bn_yuan": "direct_loss_bn_yuan",
            "chip_import_gap_pct": "chip_import_gap_pct", "chip_import_index": "chip_import_index",
        })

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        self.month += 1
        self.apply_rules_due()
        self.start_month_aggregates()
        self.agents.shuffle_do("produce")
        self.production_aggregates()
        self.agents.shuffle_do("step")
        self.innovation_aggregates()
        self.agents.shuffle_do("imitate")
        self.enter()
        self.datacollector.collect(self)
        if self.month >= self.end_month:
            self.running = False

    def apply_rules_due(self) -> None:
        while self._next_event < len(self.events) and self.events[self._next_event].month <= self.month:
            ev = self.events[self._next_event]
            self.controls = export_controls.apply_rule(self.controls, ev.avail, ev.foreign_knowledge,
                                                       self.severity, ev.direction)
            listed = {self.named_ids.index(i) for i in ev.entity_list_add if i in self.named_ids}
            # the listing's own share, scaled by severity; a later rule only tightens it
            level = (self.default_listed_share if ev.listed_availability is None
                     else ev.listed_availability)
            share = 1.0 - self.severity * (1.0 - level)
            for firm in self.agents:
                if firm.named in listed:
                    if firm.listed_month < 0:
                        firm.listed_month = ev.month
                    firm.listed_share = min(firm.listed_share, share)
            self._next_event += 1

    def start_month_aggregates(self) -> None:
        R, S = self.n_regions, self.n_subsectors
        region_jobs, mass, k_mass = [0.0] * R, [0.0] * (R * S), [0.0] * (R * S)
        sizes = [[] for _ in range(S)]
        self.generic_firms = 0
        for firm in self.agents:
            jobs = firm.weight * firm.employment
            cell = firm.region * S + firm.subsector
            region_jobs[firm.region] += jobs
            mass[cell] += jobs
            k_mass[cell] += jobs * firm.knowledge
            sizes[firm.subsector].append(firm.employment)
            self.generic_firms += firm.named < 0
        self.median = [statistics.median(x) if x else 0.0 for x in sizes]
        a = self.config.tree["agglomeration"]
        g = agglomeration.factor(agglomeration.density(region_jobs, self.area),
                                 self.density_reference, a["elasticity"], a["congestion"],
                                 a["congestion_exponent"], self.congestion_density)
        self.agglomeration = (g / self.agglomeration_norm).tolist()
        self.infrastructure = policy.infrastructure(
            self.infrastructure_2020, self.config["policy.infrastructure_growth_pct"],
            self.month - self.start_month)
        self.infra_phi = (self.infrastructure ** self.phi).tolist()
        self.w_region = platform.platform_weights(
            self.w_region_distance, platform.platform_share(self.platform_reach, self.infrastructure))
        mass, k_mass = np.array(mass), np.array(k_mass)
        k_mean = np.divide(k_mass, mass, out=np.zeros_like(mass), where=mass > 0)
        self.pool = spillover.knowledge_pool(mass.reshape(R, S), k_mean.reshape(R, S),
                                             self.w_region, self.h_sector).ravel().tolist()
        self.domestic_array = export_controls.domestic_share(
            self.domestic_2020, np.full(self.n_tiers, self.learning), len(self.dependence))
        self.domestic = self.domestic_array.tolist()
        # imported supply after re-routing through third countries (an Entity-List firm gets
        # its listed_share of it)
        availability = export_controls.rerouted(
            export_controls.soften(self.controls.availability, self.cooperation),
            self.reroute_share)
        self.availability = availability.tolist()
        # the chip needs imports no longer supply shift demand to domestic chip makers (01_ic)
        gap = export_controls.import_gap(self.dependence_array, self.domestic_array,
                                         availability, self.chip_weights)
        self.substitution_bonus = [0.0] * S
        self.substitution_bonus[self.ic_subsector] = self.substitution_rate * gap
        # imported use of the chip tiers (not equipment) at last month's output by sub-sector
        output = [0.0] * S
        for firm in self.agents:
            output[firm.subsector] += firm.weight * firm.value_added
        volume = export_controls.import_volume(self.dependence_array * self.current_array,
                                               self.domestic_array, availability,
                                               np.array(output))
        if self._chip_import_base is None:
            self._chip_import_base = volume
        self.chip_import_gap_pct = 100.0 * gap
        self.chip_import_index = volume / max(self._chip_import_base, 1e-300)
        self.frontier = (1 + self.frontier_growth / 100) ** ((self.month - self.start_month) / 12)
        self.openness = export_controls.soften(self.controls.openness, self.cooperation)
        self.chip_rd_month = 0.0

    def production_aggregates(self) -> None:
        S = self.n_subsectors
        jobs, output, va = [0.0] * S, [0.0] * S, [0.0] * S
        core = loss = 0.0
        for firm in self.agents:
            s, j = firm.subsector, firm.weight * firm.employment
            jobs[s] += j
            output[s] += j * firm.productivity
            w_va = firm.weight * firm.value_added
            va[s] += w_va
            core += w_va
            if firm.output_cap < 1:
                loss += w_va * (1 / firm.output_cap - 1)
        self.demand_trend()
        self.wage = [self.wage_share * output[s] / max(jobs[s], 1e-12) for s in range(S)]
        self.mean_productivity = [output[s] / max(jobs[s], 1e-300) for s in range(S)]
        self.core_va_bn_yuan, self.direct_loss_bn_yuan = core, loss
        self.gdp_bn_yuan = self.inputs.gdp_by_month[self.month]
        self.core_va_share_gdp_pct = 100 * core / self.gdp_bn_yuan
        self.chip_self_sufficiency_pct = export_controls.self_sufficiency(
            self.dependence_array, self.domestic_array, np.array(va))

    def demand_trend(self) -> None:
        """Each sector's labour trend from its demand growth net of the absorbed productivity
        gain (sim/mechanisms/demand.py), from the firms' productivity before chip caps."""
        n = len(self.demand_mean)
        if self.month % 12 == 0 and self.month // 12 > self.start_month // 12:
            z = self.demand_rng.standard_normal(n)  # every year, so later draws stay the same
            year = self.month // 12
            if year in self.demand_observed:
                self.demand_growth, self.saturation = self.demand_observed[year], 1.0
            else:
                mean = self.saturated_mean(year)
                self.demand_growth = demand.yearly_growth(mean, self.demand_sd, z)
        num, den = [0.0] * n, [0.0] * n
        for firm in self.agents:
            j = firm.weight * firm.employment
            num[firm.sector] += j * firm.productivity / max(firm.output_cap, 1e-12)
            den[firm.sector] += j
        y = np.array([num[k] / den[k] if den[k] > 0 else 0.0 for k in range(n)])
        prev = self.sector_productivity
        dlog = np.zeros(n) if prev is None else np.log(
            np.where((y > 0) & (prev > 0), y / np.where(prev > 0, prev, 1), 1.0))
        self.sector_productivity = y
        self.trend = demand.labour_trend(
            self.demand_growth, dlog,
            demand.saturated_absorption(self.demand_absorption, self.saturation)).tolist()

    def saturated_mean(self, year: int):
        """Mean demand growth by sector (%) of a drawn year as the market fills: from last
        year's core VA share of GDP; sets self.saturation (f)."""
        gdp = self.gdp_by_year
        share = demand.previous_year_share(self, year - 1) if year - 1 in gdp else None
        self.saturation = demand.saturation(share, self.saturation_pct)
        if self.saturation == 1.0:
            return self.demand_mean
        return demand.saturated_mean_pct(self.demand_mean, 100 * (gdp[year] / gdp[year - 1] - 1),
                                         self.saturation)

    def innovation_aggregates(self) -> None:
        n_cells = self.n_regions * self.n_subsectors
        weights, sums = [0.0] * n_cells, [0.0] * n_cells
        for firm in self.agents:
            cell = firm.region * self.n_subsectors + firm.subsector
            weights[cell] += firm.weight
            sums[cell] += firm.weight * firm.technology
        mean = [s / max(w, 1e-300) for s, w in zip(sums, weights)]
        weights, sums = [0.0] * n_cells, [0.0] * n_cells
        for firm in self.agents:
            cell = firm.region * self.n_subsectors + firm.subsector
            if firm.technology >= mean[cell]:
                weights[cell] += firm.weight
                sums[cell] += firm.weight * firm.technology
        self.best = [s / max(w, 1e-300) for s, w in zip(sums, weights)]
        self.cumulative_chip_rd += self.chip_rd_month
        self.learning = export_controls.learning_index(
            self.cumulative_chip_rd, self.cumulative_chip_rd_2020, self.learning_elasticity)

    def enter(self) -> None:
        """Entrants: sector by current firm shares, location by the generalised Polya urn,
        a share of them spin-offs of an incumbent of their sub-sector (entry_exit.py)."""
        rng = self.random
        expected = self.generic_firms * self.entry_rate / 12.0
        n_new = int(math.floor(expected))
        n_new += rng.random() < expected - n_new
        if n_new == 0:
            return
        R, S = self.n_regions, self.n_subsectors
        counts = np.zeros((S, R))
        jobs, jobs_tech, jobs_k = [0.0] * (R * S), [0.0] * (R * S), [0.0] * (R * S)
        sub_jobs, sub_tech, sub_k = [0.0] * S, [0.0] * S, [0.0] * S
        pools = [[] for _ in range(S)]
        for firm in self.agents:
            s, cell = firm.subsector, firm.region * S + firm.subsector
            counts[s, firm.region] += firm.weight
            j = firm.weight * firm.employment
            tech = firm.technology / firm.selection_reference  # net of a named firm's accounts
            jobs[cell] += j
            jobs_tech[cell] += j * tech
            jobs_k[cell] += j * firm.knowledge
            sub_jobs[s] += j
            sub_tech[s] += j * tech
            sub_k[s] += j * firm.knowledge
            pools[s].append(firm)
        sector_prob = (counts.sum(1) / counts.sum()).tolist()
        attract = policy.attractiveness(self.attractiveness_2020, self.designated,
                                        self.config["policy.designation_boost"],
                                        self.month >= self.designation_month)
        attract = attract * self.infrastructure / self.infrastructure_2020
        loc_prob = location_probabilities(attract, counts, self.pull).tolist()
        sd = self.productivity_dispersion
        for _ in range(n_new):
            s = rng.choices(range(S), weights=sector_prob)[0]
            r = rng.choices(range(R), weights=loc_prob[s])[0]
            cell = r * S + s
            tech = jobs_tech[cell] / max(jobs[cell], 1e-300)
            know = jobs_k[cell] / max(jobs[cell], 1e-300)
            if tech <= 0:
                tech = sub_tech[s] / max(sub_jobs[s], 1e-300)
            if know <= 0:
                know = sub_k[s] / max(sub_jobs[s], 1e-300)
            if rng.random() < self.spinoff_share:
                parent = rng.choices(pools[s], weights=[f.weight for f in pools[s]])[0]
                r, know = parent.region, parent.knowledge
                tech = parent.technology / parent.selection_reference
            tech = tech * self.entrant_productivity * math.exp(sd * rng.gauss(0.0, 1.0)
                                                               - 0.5 * sd ** 2)
            emp = max(self.entrant_size * self.median[s], 1.0)
            dep = self.dependence[s]
            RefFirm(self, region=r, subsector=s, sector=self.subsector_sector[s],
                    weight=self.entrant_weight, employment=emp, technology=tech,
                    knowledge=know * 0.9, rd_intensity=self.sector_rd[s],
                    net_worth=self.initial_net_worth_months * value_added(emp, tech),
                    inventory=[self.target_inventory if d > 0 else 0.0 for d in dep],
                    shock_variance=rng.expovariate(1.0) if self.lumpy_growth else 1.0)

    # ------------------------------------------------------------------ read-outs
    @property
    def date(self) -> str:
        return month_label(self.month)

    @property
    def real_firms(self) -> float:
        return sum(firm.weight for firm in self.agents)

    @property
    def employment(self) -> float:
        return sum(firm.weight * firm.employment for firm in self.agents)

    def run(self) -> "ReferenceModel":
        while self.running and self.month < self.end_month:
            self.step()
        return self

