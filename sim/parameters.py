"""Every scenario parameter: dotted key, default, unit, range, meaning and source.

This table is the single source of truth: the scenario schema, `clustersim params`, the
parameter tables in docs/ODD.md and the defaults a scenario file extends are all built from it.
Sources in short form; the full references are in docs/ODD.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.registry import AVAILABILITY_FIELDS


@dataclass(frozen=True)
class Param:
    key: str
    default: Any
    unit: str
    meaning: str
    source: str
    kind: str = "float"  # float | int | bool | str | month | region_list | sector_map | events
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None


P = Param

PARAMETERS: list[Param] = [
    # --- run -----------------------------------------------------------------------------
    P("run.start", "2020-01", "YYYY-MM", "First simulated month (the calibration month is 2020-01).",
      "Design: the 14th FYP baseline year is 2020", kind="month"),
    P("run.end", "2025-12", "YYYY-MM", "Last simulated month.", "Design: the target year is 2025",
      kind="month"),
    P("run.firms", 10000, "agents", "Number of firm agents at the start; each stands for `weight` real "
      "firms so that the weights add up to the core-digital legal entities "
      "(calibration.firm_count_million in 2020; 2.92 million in the 2023 census).",
      "NBS 5th economic census (2023) via Xinhua 2024-12-26", kind="int", min=50, max=5_000_000),
    P("run.replicates", 1, "runs", "Replicates per run command, each with its own seed.", "Design",
      kind="int", min=1, max=10_000),
    P("run.seed", 42, "-", "Master seed; replicate r uses seed + r.", "Design", kind="int", min=0,
      max=2**31 - 1),
    # --- target --------------------------------------------------------------------------
    P("target.share_pct", 10.0, "% of GDP", "Target share of core digital economy value added in GDP.",
      "State Council, 14th FYP for the digital economy (Jan 2022)", min=0, max=100),
    P("target.year", 2025, "year", "Year by which the target should be reached.", "same", kind="int",
      min=2020, max=2100),
    # --- data ----------------------------------------------------------------------------
    P("data.regions_file", "builtin", "path", "Region table (CSV, columns as sim/data/regions.csv); "
      "`builtin` uses the shipped table. Relative paths are relative to the scenario file.",
      "sim/data/SOURCES.md", kind="str"),
    P("data.gdp_file", "builtin", "path", "Nominal GDP path (CSV, columns year,gdp_bn_yuan,...).",
      "NBS; sim/data/gdp.csv", kind="str"),
    P("data.events_file", "builtin", "path", "Historical export-control events (CSV, columns as "
      "sim/data/export_controls.csv).", "BIS rules; sim/data/export_controls.csv", kind="str"),
    # --- macro ---------------------------------------------------------------------------
    P("macro.gdp_growth_after_data_pct", 4.1, "%/year", "Mean nominal GDP growth for the years "
      "after the last row of the GDP table (2026 on): a projection, not data; each replicate "
      "draws its own growth for the whole projection (macro.gdp_growth_after_data_sd_pct).",
      "Grade C: mean of NBS nominal growth on consistent bases 2022-25 (126,058/121,020.7 = "
      "+4.16%, 134,908.4/129,400 = +4.26%, 140,187.9/134,908.4 = +3.91%; sim/data/gdp.csv): "
      "real growth near 5% with falling prices. No official nominal projection for 2026-30 is "
      "in the sources", min=-20, max=30),
    P("macro.gdp_growth_after_data_sd_pct", 1.0, "%/year", "Sd of a replicate's projected "
      "nominal GDP growth around the mean (one normal draw per replicate, seeded by its seed, "
      "kept within -20..30%); 0 gives every replicate the mean path.",
      "Judgement (D): +-1 pp spans deflation persisting (real ~4%, prices -1%: ~3%) to "
      "reflation (real ~4.5%, prices +0.5-1%: ~5%); the 2022-25 rates (3.9-4.3%) are too few "
      "to estimate it", min=0, max=10),
    P("macro.census_revision", True, "-", "Use the 5th economic census revision of 2023 GDP "
      "(a level break of +2.7%); false uses the preliminary figure.", "NBS 2024-12-26", kind="bool"),
    # --- calibration (initial state) -----------------------------------------------------
    P("calibration.core_va_2020_bn_yuan", 7910.0, "bn yuan", "Core digital economy value added in "
      "2020; the initial state is scaled to reproduce it.", "7.8% x GDP 101.36 trn (State Council "
      "2022; CCID)", min=1, max=1e6),
    P("calibration.firm_count_million", 2.5114, "million firms", "Real core-digital firms the "
      "agents stand for in January 2020.", "NBS 5th economic census 2023 (2.92 m by category) "
      "back-cast to 2020 by the model's 2020-23 firm growth per category "
      "(scripts/census_backcast.py, sim/data/SOURCES.md)", min=0.0001, max=100),
    P("calibration.size_tail_exponent", 1.1, "-", "Pareto exponent of the initial firm-size tail "
      "(CCDF slope).", "Axtell 2001 (1.06); Chinese firms 1.0-1.5 (Heinrich & Dai 2016)", min=0.5,
      max=3),
    P("calibration.productivity_dispersion", 0.5, "log sd", "Dispersion of log labour productivity "
      "within a sub-sector at the start.", "Hsieh & Klenow 2009: sd of log TFPR in China ~0.6",
      min=0, max=2),
    P("calibration.knowledge_gap", 0.4, "fraction", "Mean distance of Chinese firms' knowledge stock "
      "below the foreign frontier (frontier = 1) in 2020.", "Assumption, calibrated; IC self-"
      "sufficiency 15.9% (IC Insights 2021) signals a wide gap in chips", min=0, max=0.95),
    P("calibration.last_fitted_year", 2023, "year", "Last year of the data the parameters "
      "were fitted to; a run past it says so (summary.json `horizon`).",
      "calibration/targets_baseline.csv (NBS and MIIT series to 2023)", kind="int", min=2020,
      max=2100),
    P("calibration.posterior", "builtin", "path", "Posterior of the free parameters (parquet: a "
      "column per parameter key, `weight`), as written by `clustersim calibrate --method abc`; "
      "`builtin` means none: the scenario's point values. Relative to the scenario file.",
      "sim/calibration/abc.py", kind="str"),
    # --- production ----------------------------------------------------------------------
    P("production.trend_growth_pct", {"01": 7.66, "02": 7.66, "03": 14.74, "04": 14.74},
      "%/year", "Mean demand (market) growth of each NBS sector's revenue. Labour input grows "
      "with it, net of the share production.demand_absorption of the sector's productivity "
      "growth (sim/mechanisms/demand.py). Keys: sector codes.",
      "Geometric mean growth 2020-23 of MIIT revenue: software 8.16 -> 12.33 trn (03, 04: "
      "14.74%), electronic information manufacturing 12.1 -> 15.1 trn (01, 02: 7.66%); mapping "
      "of 02 and 04 to these series is judgement (D). sim/data/SOURCES.md",
      kind="sector_map", min=-30, max=60),
    P("production.demand_sd_pct", {"01": 9.31, "02": 9.31, "03": 1.43, "04": 1.43}, "%/year",
      "Sd of a sector's yearly demand growth around its mean (a draw per sector and year).",
      "Sample sd of the three yearly growth rates 2021-23: software 16.4, 13.8, 14.1%; "
      "electronic information manufacturing 16.5, 9.2, -1.9% (MIIT; 3 observations, so the sd "
      "itself is uncertain by about +-50%)", kind="sector_map", min=0, max=50),
    P("production.demand_observed_years", True, "-", "Years with published market growth "
      "(sim/data/demand_growth.csv, 2021-23) take it as their demand growth; false draws them "
      "like later years.", "MIIT software and EIM revenue 2020-23 (sim/data/demand_growth.csv)",
      kind="bool"),
    P("production.saturation_share_pct", 20.0, "% of GDP", "K: core digital VA share of GDP "
      "(internal basis) at which the sector's market is met. In years whose demand is drawn "
      "(after sim/data/demand_growth.csv), with f = 1 - S/K and S the previous year's core "
      "share, each sector's mean demand growth is GDP growth plus f times its excess over "
      "GDP growth, and demand absorbs 1 - f (1 - rho) of productivity gains: logistic "
      "saturation of the share (sim/mechanisms/demand.py). 0 switches it off.",
      "Judgement (D), range 14-30. Above: the most digital big cities' core shares (Beijing "
      "24.3% in 2022, Hangzhou 27.1%, Shenzhen 30.6% in 2021; observed_2021_2023.csv, "
      "A-local) bound what a whole economy with farms and mines reaches; below: the 15th FYP "
      "plans 12.5% by 2030 (plan_targets.csv, A) as still rising. No estimate exists",
      min=0, max=100),
    P("production.demand_absorption", 0.5, "fraction", "rho: share of a sector's productivity "
      "growth that demand absorbs (labour input falls by rho x the gain). 1 = revenue fixed by "
      "demand, mechanisms move only where it is made; 0 = each gain is extra output.",
      "Judgement (D), range 0-1; not identified by the national 2020-23 series alone, left to "
      "the calibration", min=0, max=1),
    P("production.wage_share", 0.5, "fraction of VA", "Labour share of value added; sets the wage "
      "bill firms pay whatever their output.", "China's labour share ~0.5 (NBS flow of funds; "
      "Bai & Qian 2010)", min=0, max=0.95),
    P("production.shock_sd", 0.04, "log/month", "Sd of idiosyncratic monthly growth shocks for a "
      "firm of reference size (sector median).", "Calibrated to annual growth-rate dispersion; "
      "Stanley et al. 1996", min=0, max=1),
    P("production.shock_size_exponent", 0.18, "-", "beta in sd(shock) ~ size^-beta.",
      "Stanley et al. 1996 Nature 379:804 (0.15-0.2)", min=0, max=0.5),
    P("production.lumpy_growth", True, "-", "Each January every firm draws the variance of its "
      "growth shocks for the year from an exponential with mean one (a good or a quiet year), so "
      "annual growth rates are a Gaussian scale mixture: Laplace (tent-shaped) instead of "
      "Gaussian. Off: the same variance every year.", "Bottazzi & Secchi 2006 RAND J. Econ. "
      "37:235 (Laplace growth from lumpy opportunities); Kotz, Kozubowski & Podgorski 2001 "
      "(Laplace as a normal variance mixture)", kind="bool"),
    P("production.infrastructure_elasticity", 0.05, "-", "Elasticity of productivity with respect to "
      "the region's digital infrastructure index.", "Roller & Waverman 2001 AER (telecom "
      "infrastructure)", min=0, max=1),
    # --- agglomeration -------------------------------------------------------------------
    P("agglomeration.elasticity", 0.12, "-", "eps: elasticity of productivity with respect to "
      "employment density.", "Combes, Demurger & Li 2013 (China ~3x the 0.04-0.05 of rich "
      "countries); Chauvin et al. 2017 (0.19)", min=0, max=1),
    P("agglomeration.congestion", 0.05, "log points", "kappa: size of the congestion penalty at the "
      "congestion scale.", "Assumption (inverted U, Henderson 1974)", min=0, max=5),
    P("agglomeration.congestion_exponent", 2.0, "-", "eta > 1: curvature of congestion.",
      "Model brief (inverted U requires eta > 1)", min=1.0001, max=10),
    P("agglomeration.congestion_scale", 2.0, "x densest 2020 region", "Dbar: density at which "
      "congestion costs kappa, relative to the densest region in 2020.", "Assumption", min=0.01,
      max=100),
    # --- spillover -----------------------------------------------------------------------
    P("spillover.strength", 0.02, "1/month", "Share of the accessible knowledge gap a firm with "
      "full absorptive capacity closes each month.", "Calibrated; Keller 2002", min=0, max=1),
    P("spillover.absorptive_lambda", 20.0, "-", "lambda in gamma(R) = 1 - exp(-lambda R/Y), "
      "absorptive capacity from R&D intensity.", "Cohen & Levinthal 1989 (form); value assumed",
      min=0, max=1000),
    P("spillover.decay_km", 600.0, "km", "delta: distance decay of spillovers between clusters.",
      "Bottazzi & Peri 2003 (300 km); Keller 2002 (~1,200 km half-distance)", min=1, max=10000),
    P("spillover.within_region_weight", 1.0, "-", "Weight of knowledge within the firm's own "
      "cluster (distance 0), relative to exp(-d/delta) between clusters.", "Design", min=0, max=10),
    P("spillover.cross_sector_weight", 0.3, "-", "h(c): weight of knowledge from another NBS sector "
      "relative to the own sector (cognitive distance).", "Nooteboom 2007 (form); value assumed",
      min=0, max=1),
    P("spillover.foreign_strength", 0.01, "1/month", "Share of the gap to the foreign frontier "
      "closed each month at full absorptive capacity and full openness.", "Calibrated; Keller "
      "2004", min=0, max=1),
    P("spillover.frontier_growth_pct", 3.0, "%/year", "Growth of the foreign knowledge frontier.",
      "Assumption (long-run TFP growth at the frontier)", min=-10, max=30),
    P("spillover.knowledge_elasticity", 0.12, "-", "theta: output elasticity of the knowledge stock.",
      "Hall, Mairesse & Mohnen 2010 (R&D capital elasticity 0.08-0.15)", min=0, max=1),
    # --- platform (sim/mechanisms/platform.py) --------------------------------------------
    P("platform.reach", 0.2, "fraction", "Share of the knowledge pool a fully platform-"
      "connected cluster (infrastructure index 1) reaches regardless of distance; a cluster's "
      "share is reach x its infrastructure index (capped at 1), growing with it.",
      "Prior, judgement (D): 0-0.5. The seeds name platform-networked collaborative R&D and "
      "production as the digital cluster's distinctive feature; no estimate exists, so the "
      "calibration (cluster cross-section, sim/data/cluster_growth.csv) is to decide it",
      min=0, max=1),
    # --- innovation ----------------------------------------------------------------------
    P("innovation.zeta", 0.2, "-", "Innovation success probability per month is 1-exp(-zeta x R&D "
      "share of value added).", "Dosi, Fagiolo & Roventini 2010 (form); value calibrated", min=0,
      max=100),
    P("innovation.jump_low", -0.06, "log", "Lower bound of the Beta-distributed productivity draw "
      "(a draw below zero is not adopted).", "Dosi et al. 2010 use [-0.15, 0.15]", min=-1, max=0),
    P("innovation.jump_high", 0.08, "log", "Upper bound of the productivity draw.", "same", min=0,
      max=1),
    P("innovation.jump_beta_a", 3.0, "-", "Beta(a, b) shape a of the draw.", "Dosi et al. 2010",
      min=0.1, max=100),
    P("innovation.jump_beta_b", 3.0, "-", "Beta(a, b) shape b of the draw.", "Dosi et al. 2010",
      min=0.1, max=100),
    P("innovation.knowledge_from_rd", 0.01, "-", "Growth of the own knowledge stock per unit of "
      "R&D share of value added, per month.", "Assumption", min=0, max=10),
    P("innovation.imitation_zeta", 0.1, "-", "Imitation success per month is 1-exp(-zeta_im x R&D "
      "share of value added).", "Dosi et al. 2010 (form)", min=0, max=100),
    P("innovation.imitation_share", 0.05, "fraction", "Share of the gap to the best practice of the "
      "own cluster and sub-sector (the mean technology of its above-mean firms) closed by a "
      "successful imitation.", "Assumption", min=0, max=1),
    P("innovation.selection", 0.005, "1/month", "chi: replicator-dynamics speed, employment growth per "
      "unit of relative competitiveness.", "Dosi et al. 2010 (form); Metcalfe 1994", min=0, max=2),
    # --- entry and exit ------------------------------------------------------------------
    P("entry_exit.entry_rate_pct", 10.0, "%/year", "Gross entry of new firms relative to the firm "
      "count.", "Chinese firm entry ~10-15%/year (Brandt, Van Biesebroeck & Zhang 2012)", min=0,
      max=100),
    P("entry_exit.exit_hazard_pct", 4.0, "%/year", "Exogenous exit hazard besides exit on negative "
      "net worth.", "Brandt et al. 2012 (exit rates); value calibrated", min=0, max=100),
    P("entry_exit.exit_size_exponent", 0.3, "-", "The exogenous hazard scales with size relative to "
      "the sub-sector median as size^-exponent (capped at 4x): small firms exit more often.",
      "Dunne, Roberts & Samuelson 1989; value assumed", min=0, max=3),
    P("entry_exit.spinoff_share", 0.3, "fraction", "Share of entrants that are spin-offs of an "
      "incumbent of the same sector: they locate in the parent's cluster and inherit its know-how.",
      "Klepper 2007; Zhang 2003; Brenner 2001", min=0, max=1),
    P("entry_exit.pull_scale", 1.0, "-", "Multiplies each sector's agglomeration pull b_s in the "
      "Polya-urn location choice.", "Bottazzi, Dosi, Fagiolo & Secchi 2007", min=0, max=100),
    P("entry_exit.entrant_productivity", 0.85, "x sector mean", "Entrant productivity relative to "
      "its sector's mean (non-spin-offs) or its parent (spin-offs).", "Foster, Haltiwanger & "
      "Syverson 2008 (entrants slightly less productive)", min=0.01, max=10),
    P("entry_exit.entrant_size", 0.3, "x sector median", "Entrant employment relative to the "
      "sector's median firm.", "Assumption (entrants small)", min=0.001, max=10),
    P("entry_exit.initial_net_worth_months", 12.0, "months of VA", "Initial equity buffer: a firm "
      "exits when losses exhaust it.", "Assumption", min=0, max=240),
    # --- export controls -----------------------------------------------------------------
    P("export_controls.enabled", True, "-", "Apply export-control events at all.", "Design",
      kind="bool"),
    P("export_controls.use_historical_events", True, "-", "Apply the historical rules in "
      "data.events_file; `extra_events` are applied in any case.", "BIS rules 2019-2026",
      kind="bool"),
    P("export_controls.historical_until", "all", "YYYY-MM or all", "Apply historical rules dated "
      "up to this month only: a scenario that departs from history from some date sets it.",
      "Design", kind="str"),
    P("export_controls.severity", 1.0, "-", "Scales every tightening: availability after a rule is "
      "1 - severity x (1 - rule level). 0 = no bite, 1 = as written.", "Design", min=0, max=1),
    P("export_controls.listed_availability", 0.2, "fraction", "Share of the ordinary availability an "
      "Entity-List firm still obtains (licences, third parties) when its listing rule gives no "
      "listed_availability of its own (export_controls.csv gives one per historical listing); "
      "severity scales a listing like any tightening.",
      "Assumption", min=0, max=1),
    P("export_controls.inventory_months", 6.0, "months", "Initial chip stockpile, in months of "
      "critical use.", "Inoue & Todo 2019; reports of stockpiling ahead of 2019-2020 rules",
      min=0, max=60),
    P("export_controls.restock_rate", 0.1, "1/month", "Share of the gap to the target stockpile "
      "refilled each month while supply is unrestricted.", "Acclimate (Otto et al. 2017) form",
      min=0, max=1),
    P("export_controls.learning_elasticity", 0.1, "-", "Domestic-substitute learning curve: the "
      "unmet share falls as (cumulative chip R&D / 2020 stock)^-elasticity.", "Form: Wright's law; value "
      "set so China-HQ self-sufficiency (5.9% in 2020, IC Insights) roughly doubles by 2025", min=0, max=5),
    P("export_controls.growth_penalty", 0.01, "1/month", "Monthly log capacity growth lost per "
      "unit of chip shortfall (share of critical needs unmet after stockpile): chips as inputs "
      "to new capacity. Judgement (grade D), range 0.003-0.03; order of magnitude chosen so a "
      "complete cut-off costs a few % of core VA over five years, as the dynamic CGE estimate "
      "(-0.49% of real GDP, MODEL_BRIEF) implies.", "Judgement (D)", min=0, max=0.2),
    P("export_controls.reroute_share", 0.3, "fraction", "Share of the gap an export rule opens "
      "that re-routing through third countries (Singapore, Malaysia, grey imports, cloud access) "
      "recovers. Judgement (grade D), range 0.1-0.5.", "Judgement (D); press reports of "
      "re-exports via Southeast Asia 2023-24", min=0, max=1),
    P("export_controls.substitution_rate", 0.02, "1/month", "Extra monthly log capacity growth "
      "of domestic chip makers (01_ic) per unit of the import gap (share of chip needs imports "
      "no longer supply): restricted imports shift demand to domestic fabs. Judgement (grade D), "
      "range 0-0.05; SMIC revenue 3.9 -> 7.27 bn USD 2020-22.", "Judgement (D)", min=0, max=0.5),
    P("export_controls.listed_rd_boost_pct", 16.58, "%", "Rise in R&D intensity of a listed firm "
      "from 12 months after listing.", "Hu, Yang, Zeng & Zhang 2024 (DID)", min=0, max=500),
    P("export_controls.extra_events", [], "-", "Events applied on top of (or instead of) the "
      "historical ones: list of {date, name, " + ", ".join(AVAILABILITY_FIELDS) + ", "
      "foreign_knowledge, entity_list_add, direction}. direction: set (default: "
      "levels as written), tighten (never raises a level) or loosen (never lowers one). "
      "Historical rules are tightenings unless the events file says otherwise.", "Scenario",
      kind="events"),
    # --- talent migration (sim/mechanisms/talent_migration.py; off by default) ------------
    P("talent_migration.enabled", False, "-", "Workers move between clusters within a sub-sector, "
      "towards those where value added per worker is above the sub-sector's mean.",
      "Off in the shipped scenarios: not calibrated", kind="bool"),
    P("talent_migration.rate", 0.014, "1/month", "m: share of the relative productivity gap "
      "g = y_cluster / y_sub-sector - 1 by which a cluster's employment moves each month "
      "(employment x (1 + m g), renormalised within the sub-sector).",
      "Spatial equilibrium (Roback 1982; Moretti 2011); speed from Blanchard & Katz 1992 "
      "(regional labour shocks absorbed by migration in about 6 years: 1/72 per month)",
      min=0, max=0.5),
    # --- policy --------------------------------------------------------------------------
    P("policy.rd_subsidy_pct", 18.75, "% of R&D cost", "R&D cost borne by the state (super-"
      "deduction x corporate tax rate). The 2020 default reproduces the data's R&D intensities.",
      "75% super-deduction x 25% CIT (MoF/STA 2018 No. 99)", min=0, max=95),
    P("policy.rd_price_elasticity", 1.0, "-", "Elasticity of R&D intensity with respect to its "
      "user cost.", "Hall & Van Reenen 2000 (about unity)", min=0, max=5),
    P("policy.designated_clusters", "nmc_2022", "region ids", "Clusters with national designation "
      "(attractiveness boost); `nmc_2022` = the regions flagged in the region table.", "MIIT list of "
      "45 national advanced manufacturing clusters (2022)", kind="region_list"),
    P("policy.designation_date", "2022-11", "YYYY-MM", "Month the designation takes effect.",
      "MIIT announcement Nov 2022", kind="month"),
    P("policy.designation_boost", 0.3, "fraction", "Rise in a designated cluster's intrinsic "
      "attractiveness a_l.", "Assumption", min=0, max=10),
    P("policy.infrastructure_growth_pct", 5.0, "%/year", "Growth of every region's infrastructure "
      "index (5G, data centres).", "MIIT gigabit-city programme (seed 003); assumption", min=-50,
      max=100),
    P("policy.international_cooperation", 0.0, "0-1", "Softens controls: availability becomes "
      "a + cooperation x (1 - a), and foreign knowledge openness likewise.", "Model brief", min=0,
      max=1),
    # --- measurement (sim/measurement.py: simulated values -> published series) ----------------
    P("measurement.census_basis_factor", 1.027, "x pre-census core VA", "Ratio of core digital "
      "value added on the 5th-economic-census basis to the model's pre-census basis, applied "
      "from the census year (2023) on in the official core share of GDP, official core VA and "
      "census revenue. The default is the lower bound, not an estimate: no census revision of "
      "core VA is published, so the factor is to be estimated by calibration.",
      "Lower bound: NBS revision of all GDP, 2023 +2.7% (Xinhua 2024-12-26); digital services "
      "were under-covered at least as much as the average. Upper bound: all of 7.8% (2020) -> "
      "9.9% (2023) re-measurement, i.e. 12.7555 trn / (7.8% x 126.058 trn pre-census GDP) = 1.297 "
      "(NBS 2025-01-02). sim/data/SOURCES.md, observed.csv", min=1.027, max=1.30),
]

BY_KEY: dict[str, Param] = {p.key: p for p in PARAMETERS}

SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(p.key.split(".")[0] for p in PARAMETERS))


def defaults() -> dict:
    """The default scenario as a nested dict (a fresh copy)."""
    import copy

    tree: dict = {}
    for p in PARAMETERS:
        section, name = p.key.split(".", 1)
        tree.setdefault(section, {})[name] = copy.deepcopy(p.default)
    return tree
