"""The initial firm population, calibrated to 2020.

1. Value added by cluster x sub-sector: the regional and sub-sector shares of the 2020 total
   (sim/data), fitted jointly by iterative proportional fitting from a prior that favours each
   region's listed specialisations.
2. Named large firms (Huawei, Hikvision, iFlytek, ...) are placed as one agent each with their
   2020 revenue times their own value-added ratio (from their reports, named_firms.csv) and
   their 2020 equity as net worth; the rest of each cell goes to generic agents.
3. Firm counts follow each region's and each sub-sector's share of the 2020 legal entities (the
   2023 census counts by category back-cast to 2020, sim/data/SOURCES.md), fitted jointly from
   a prior in proportion to employment. Agents per cell half in proportion to firm counts and
   half to value added (allocate_agents); the cell's real firms are shared among its generic
   agents by the weights of step 4.
4. Firm sizes are Pareto with the set tail exponent, represented by importance sampling (big
   firms are drawn more often and carry smaller weights); labour productivity is lognormal around
   the sub-sector's value added per worker times the cluster's agglomeration factor, which is
   solved jointly with employment density by fixed-point iteration.
5. Employment is scaled so that every cell, and so the nation, reproduces the 2020 value
   added; own technology is what remains of productivity after the multipliers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.mechanisms import agglomeration, export_controls, policy, production, spillover
from sim.scenario import Scenario


# Generic firm sizes are drawn with as little as this fraction of the tail exponent and
# reweighted (build, step 4): at 5,000 agents it cuts the replicate spread of the 2025 share by a
# third, at 50,000 by two thirds, and brings small runs' means to the large runs'.
SIZE_SAMPLING = 0.5


def sampling_exponent(alpha: float, z_max: float, firms_per_agent: float) -> float:
    """The Pareto exponent to draw sizes from: alpha x SIZE_SAMPLING, or the flattest above it
    that keeps every weight at least one real firm. The weight firms_per_agent x f(x) / g(x)
    (f, g the truncated Pareto densities on [1, z_max] with exponents alpha and the sampling
    one) is smallest at z_max; at 1:1 scale only alpha itself (equal weights) keeps it >= 1."""
    def min_weight_minus_one(b):
        f = alpha * z_max ** (-alpha - 1) / (1 - z_max ** -alpha)
        g = b * z_max ** (-b - 1) / (1 - z_max ** -b)
        return firms_per_agent * f / g - 1
    flattest = alpha * SIZE_SAMPLING
    if min_weight_minus_one(flattest) >= 0:
        return flattest
    if firms_per_agent <= 1:
        return alpha
    from scipy.optimize import brentq  # only large runs get here; the import costs 0.2 s
    return brentq(min_weight_minus_one, flattest, alpha)


@dataclass
class Initial:
    """Arrays for the initial agents plus the region-level reference values the model keeps."""

    columns: dict[str, np.ndarray]
    density_reference: float         # D_ref in ln G = eps ln(D/D_ref) - ...
    agglomeration_norm: float        # employment-weighted mean G in 2020, so that G_2020 ~ 1
    congestion_density: float        # D_bar
    infrastructure_2020: np.ndarray  # index relative to the VA-weighted 2020 mean
    target_inventory: float


def ipf(prior, row_totals, col_totals, iterations=200):
    m = prior.astype(float).copy()
    for _ in range(iterations):
        m *= (row_totals / np.maximum(m.sum(axis=1), 1e-300))[:, None]
        m *= (col_totals / np.maximum(m.sum(axis=0), 1e-300))[None, :]
    return m


def largest_remainder(weights, total):
    w = np.asarray(weights, float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(w.shape, int)
    exact = w / w.sum() * total
    base = np.floor(exact).astype(int)
    rest = total - base.sum()
    order = np.argsort(-(exact - base), kind="stable")
    base.flat[order[:rest]] += 1
    return base


def allocate_agents(firm_cells, va_cells, n):
    """Agents per cell: half in proportion to the cell's real firms, half to its value added,
    so that a cell of a few large firms (IC makers: 0.5% of the firms, 4.7% of the VA) holds its
    VA with enough agents, and no cell gets more agents than it has firms (weights stay >= 1;
    a cell with a fraction of a firm may have one). From as many agents as that allows, agents
    follow firms alone (weights of one)."""
    firms, va = np.asarray(firm_cells, float), np.asarray(va_cells, float)
    cap = np.maximum(np.floor(firms), firms > 0)
    if n >= cap.sum() or va.sum() <= 0:
        return largest_remainder(firms, n)
    share = 0.5 * firms / firms.sum() + 0.5 * va / va.sum()
    agents, free = np.zeros(firms.shape, int), (share > 0) & (cap > 0)
    while True:  # a cell given more than its firms keeps its firms; the rest share the others
        trial = largest_remainder(np.where(free, share, 0.0), n - agents[~free].sum())
        over = free & (trial > cap)
        if not over.any():
            return np.where(free, trial, agents)
        agents[over] = cap[over]
        free &= ~over


def specialisation_prior(regions, subsector_ids):
    prior = np.ones((len(regions), len(subsector_ids)))
    index = {s: j for j, s in enumerate(subsector_ids)}
    for r, spec in enumerate(regions["specialisations"].fillna("")):
        for rank, sid in enumerate(x.strip() for x in str(spec).split(";") if x.strip()):
            if sid in index:
                prior[r, index[sid]] *= 1.0 + 2.0 / (rank + 1)
    return prior


def build(sc: Scenario, inputs, n_agents: int, rng: np.random.Generator, month: int) -> Initial:
    regions, sectors, named = inputs.regions, inputs.sectors, inputs.named_firms
    R, S = len(regions), len(sectors)
    total_va = sc["calibration.core_va_2020_bn_yuan"]  # annual, bn yuan
    region_share = regions["core_va_share_2020_pct"].to_numpy(float)
    sector_share = sectors["va_share_2020_pct"].to_numpy(float)
    cell_va = ipf(specialisation_prior(regions, list(sectors["subsector_id"])),
                  total_va * region_share / region_share.sum(),
                  total_va * sector_share / sector_share.sum())

    # Named firms: one agent each
    sub_index = {s: j for j, s in enumerate(sectors["subsector_id"])}
    reg_index = {r: i for i, r in enumerate(regions["region_id"])}
    n_named = len(named) if n_agents > 2 * len(named) else 0
    named_r = np.array([reg_index[x] for x in named["region_id"]][:n_named], int)
    named_s = np.array([sub_index[x] for x in named["subsector_id"]][:n_named], int)
    # own accounts: a sub-sector's ratio would book Inspur (server assembly) and SMIC (a fab)
    # alike at 0.17 and 0.42
    named_va = (named["revenue_2020_bn_yuan"].to_numpy(float)[:n_named]
                * named["va_to_revenue"].to_numpy(float)[:n_named])
    named_emp = named["employment_2020"].to_numpy(float)[:n_named]
    generic_va = cell_va.copy()
    np.subtract.at(generic_va, (named_r, named_s), named_va)
    generic_va = np.maximum(generic_va, 0.2 * cell_va)
    # where a named firm outgrows 80% of its cell (Huawei in Shenzhen's computers & comms) the
    # other cells of its region and sub-sector give up the excess, so both shares stay exact
    generic_va = ipf(generic_va, cell_va.sum(1) - np.bincount(named_r, named_va, R),
                     cell_va.sum(0) - np.bincount(named_s, named_va, S))
    # keep the national total exact: the generic firms absorb the difference
    generic_va *= (total_va - named_va.sum()) / generic_va.sum()

    # Firm counts and agents per cell: each region's and each sub-sector's share of the real
    # firms are both kept; inside those margins firms follow jobs
    firm_total = sc["calibration.firm_count_million"] * 1e6
    firms_region = firm_total * regions["firms_share_2020_pct"].to_numpy(float)
    firms_region /= regions["firms_share_2020_pct"].sum()
    firms_subsector = firm_total * sectors["firms_share_2020_pct"].to_numpy(float)
    firms_subsector /= sectors["firms_share_2020_pct"].sum()
    va_per_worker = sectors["va_per_worker_k_yuan"].to_numpy(float)
    jobs_proxy = generic_va / va_per_worker[None, :]
    firm_cells = ipf(jobs_proxy, firms_region, firms_subsector)
    agents_cell = allocate_agents(firm_cells, generic_va, n_agents - n_named)
    if n_named:  # a firm and its weight-one agent are not generic firms
        np.subtract.at(firm_cells, (named_r, named_s), 1.0)
        firm_cells = np.maximum(firm_cells, 0)

    # Agglomeration factors solved with density: productivity depends on the factor, employment
    # (and so density) on productivity.
    area = regions["area_km2"].to_numpy(float)
    p = sc.tree["agglomeration"]
    jobs = (generic_va * 1e6 / va_per_worker[None, :]).sum(1) + np.bincount(named_r, named_emp, R)
    for _ in range(50):
        dens = agglomeration.density(jobs, area)
        reference = float(np.average(dens, weights=jobs))
        congestion_density = p["congestion_scale"] * dens.max()
        g = agglomeration.factor(dens, reference, p["elasticity"], p["congestion"],
                                 p["congestion_exponent"], congestion_density)
        g_mean = np.average(g, weights=jobs)
        prod_cell = va_per_worker[None, :] * (g / g_mean)[:, None]
        new_jobs = (generic_va * 1e6 / prod_cell).sum(1) + np.bincount(named_r, named_emp, R)
        if np.allclose(new_jobs, jobs, rtol=1e-10):
            break
        jobs = new_jobs

    # Generic agents
    cell_of_agent = np.repeat(np.arange(R * S), agents_cell.ravel())
    r_of = cell_of_agent // S
    s_of = cell_of_agent % S
    n_gen = len(cell_of_agent)
    alpha = sc["calibration.size_tail_exponent"]
    z_max = 1e4  # truncation: one super-individual must not stand for hundreds of giants
    # Importance sampling: sizes are drawn from a flatter Pareto (sampling_exponent), and each
    # agent's weight is the density ratio, normalised to the cell's real firms. Big firms get
    # small weights, so no agent stands for hundreds of identical giants whose common fate
    # would dominate the aggregate noise; the real-firm size distribution is unchanged.
    sampling = sampling_exponent(alpha, z_max, firm_cells.sum() / max(n_gen, 1))
    u = rng.uniform(z_max ** -sampling, 1.0, n_gen)
    size = u ** (-1.0 / sampling)
    sd = sc["calibration.productivity_dispersion"]
    prod = prod_cell[r_of, s_of] * np.exp(sd * rng.standard_normal(n_gen) - 0.5 * sd**2)
    density_ratio = size ** (sampling - alpha)
    ratio_sum = np.bincount(cell_of_agent, density_ratio, R * S)
    weight = firm_cells.ravel()[cell_of_agent] * density_ratio / ratio_sum[cell_of_agent]
    weight = np.maximum(weight, 1.0)
    # employment scale per cell so that sum(weight * emp * prod) = cell VA
    raw = np.bincount(cell_of_agent, weights=weight * size * prod, minlength=R * S)
    need = generic_va.ravel() * 1e6  # thousand yuan/year
    scale = np.divide(need, raw, out=np.zeros_like(need), where=raw > 0)
    employment = size * scale[cell_of_agent]

    # Append named firms
    region = np.concatenate([r_of, named_r])
    subsector = np.concatenate([s_of, named_s])
    weight = np.concatenate([weight, np.ones(n_named)])
    employment = np.concatenate([employment, named_emp])
    prod = np.concatenate([prod, named_va * 1e6 / np.maximum(named_emp, 1)])
    named_row = np.concatenate([np.full(n_gen, -1), np.arange(n_named)])
    n = len(region)
    jobs_w = weight * employment
    sub_mean = (np.bincount(subsector, jobs_w * prod, S)
                / np.maximum(np.bincount(subsector, jobs_w, S), 1e-300))
    selection_reference = np.ones(n)
    selection_reference[n_gen:] = prod[n_gen:] / sub_mean[subsector[n_gen:]]

    # Knowledge and R&D
    rd_region = regions["rd_intensity_pct"].to_numpy(float)
    rd_rel = rd_region / np.average(rd_region, weights=region_share)
    gap = sc["calibration.knowledge_gap"]
    knowledge = (1 - gap) * rd_rel[region] ** 0.3 * (prod / prod_cell[region, subsector]) ** 0.3
    knowledge *= np.exp(0.2 * rng.standard_normal(n))
    knowledge = np.clip(knowledge, 0.02, 1.5)
    rd = sectors["rd_intensity_pct"].to_numpy(float)[subsector] / 100 * rd_rel[region] ** 0.5
    rd *= np.exp(0.3 * rng.standard_normal(n) - 0.045)
    named_rd = named["rd_intensity_pct"].to_numpy(float)[:n_named] / 100
    rd[n_gen:] = named_rd

    # Own technology: productivity net of the multipliers, which are all at their 2020 values
    infra_2020 = regions["infrastructure_index"].to_numpy(float)
    infra_rel = infra_2020 / np.average(infra_2020, weights=region_share)
    s = sc.tree
    multipliers = production.labour_productivity(
        1.0, knowledge, s["spillover"]["knowledge_elasticity"], (g / g_mean)[region],
        infra_rel[region], s["production"]["infrastructure_elasticity"], 1.0)
    technology = prod / multipliers

    va_month = production.value_added(employment, prod)
    months = sc["entry_exit.initial_net_worth_months"]
    inv = sc["export_controls.inventory_months"]
    dep = inputs.dependence[subsector]
    columns = dict(
        region=region, subsector=subsector, sector=inputs.subsector_sector[subsector],
        weight=weight, employment=employment, technology=technology, knowledge=knowledge,
        rd_intensity=rd, value_added=va_month,
        net_worth=np.concatenate([months * va_month[:n_gen],
                                  named["equity_2020_bn_yuan"].to_numpy(float)[:n_named]]),
        output_cap=np.ones(n), age_months=rng.integers(0, 240, n).astype(np.int32),
        named=named_row.astype(np.int32), inventory=np.where(dep > 0, inv, 0.0),
        selection_reference=selection_reference,
        shock_variance=np.ones(n),  # drawn in the first month (ClusterModel.compete)
    )
    return Initial(columns, reference, float(g_mean), congestion_density, infra_rel, inv)
