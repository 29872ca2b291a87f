"""Entry, location choice and exit.

Location (Bottazzi, Dosi, Fagiolo & Secchi 2007, generalised Polya urn): an entrant of sector s
picks region l with probability (a_l + b_s n_ls) / sum_k (a_k + b_s n_ks), a_l the region's
intrinsic attractiveness (policy, universities, market access) and b_s the sector's pull
towards existing firms. n_ls is the sector's firm count in l scaled so that its mean over
regions is one, which keeps a and b on the same footing whatever the number of firms.
A share of entrants are spin-offs (Klepper 2007; Zhang 2003 on Silicon Valley; Brenner 2001):
they start in their parent's cluster with part of its know-how, which makes entry local.
Exit: a firm leaves when its net worth turns negative (sustained losses), or by an exogenous
hazard. The named firms face both like any other: they start with their 2020 equity and their
own accounts (sim/population.py), and survive on them or not.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from sim.mechanisms import innovation, policy, production
from sim.mechanisms.base import Mechanism


def location_probabilities(attractiveness, firm_counts, pull):
    """attractiveness: (R,), firm_counts: (S, R) firm counts by sector and region, pull: (S,).
    Returns (S, R) probabilities, each row summing to one."""
    counts = np.asarray(firm_counts, float)
    n_regions = counts.shape[1]
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1e-300)
    score = attractiveness[None, :] + pull[:, None] * share * n_regions
    return score / score.sum(axis=1, keepdims=True)


def sample_categorical(rng, probabilities, rows):
    """One draw per element of `rows` from probabilities[rows] (inverse CDF, vectorised)."""
    cdf = np.cumsum(probabilities[rows], axis=1)
    u = rng.random(len(rows))[:, None] * cdf[:, -1:]
    return (u > cdf).sum(axis=1)


def entrant_count(rng, firms_now, rate_per_year):
    """Entrants this month (stochastic rounding keeps the expected rate exact)."""
    expected = firms_now * rate_per_year / 12.0
    base = int(np.floor(expected))
    return base + int(rng.random() < expected - base)


def exits(rng, net_worth, hazard_per_year, relative_size=None, size_exponent=0.0):
    """Mask of firms that exit this month. The hazard of a firm of relative size x (size over the
    median of its sub-sector) is hazard * x^-size_exponent, capped at four times the base rate:
    exit rates fall with size (Dunne, Roberts & Samuelson 1989)."""
    annual = float(hazard_per_year)
    if relative_size is not None and size_exponent:
        # powers stay numpy's (a compiled pow may differ in the last bit); the rest is compiled
        survival = np.maximum(relative_size, 1e-12) ** -size_exponent
        _annual_survival(annual, min(4 * hazard_per_year, 1.0), survival)
    else:
        survival = 1.0 - np.broadcast_to(annual, np.shape(net_worth))
    out = np.empty(len(net_worth), np.bool_)
    _exit_draws(rng.random(len(net_worth)), survival ** (1.0 / 12.0), net_worth, out)
    return out


@njit(cache=True)
def _annual_survival(hazard, cap, size_factor):
    """In place: size_factor (relative size^-exponent) becomes 1 - min(hazard x it, cap)."""
    for i in range(len(size_factor)):
        size_factor[i] = 1.0 - min(hazard * size_factor[i], cap)


@njit(cache=True)
def _exit_draws(u, monthly_survival, net_worth, out):
    """Exit: the draw falls within the monthly hazard, or net worth is negative."""
    for i in range(len(u)):
        out[i] = u[i] < 1.0 - monthly_survival[i] or net_worth[i] < 0.0


# ---------------------------------------------------------------------------------------------
# The month's exit and entry, one job per function, in the order EntryExit.step calls them.

@njit(cache=True)
def _exit_inputs(rows, firms, size, subsector, median, net_worth_out, relative_out):
    """Per firm at `rows`: its net worth and its size relative to its sub-sector's median."""
    for i in range(len(rows)):
        r = rows[i]
        net_worth_out[i] = firms.net_worth[r]
        relative_out[i] = size[i] / max(median[subsector[i]], 1e-12)


def exit_firms(model, month) -> None:
    """Exit on negative net worth or by the size-dependent hazard; month.stay marks the rest."""
    ee, n = model.p.entry_exit, month.n
    net_worth, relative = np.empty(n), np.empty(n)
    _exit_inputs(month.rows, model.firms.columns, month.size, month.subsector,
                 model.median_employment, net_worth, relative)
    out = exits(model.rng, net_worth, ee.exit_hazard_pct / 100,
                relative_size=relative, size_exponent=ee.exit_size_exponent)
    model.remove_firms(month.rows[out])
    month.stay = ~out


# Sums over the firms that stay, in row order: weights by cell; jobs, jobs x technology and
# jobs x knowledge by cell and by sub-sector.
StayingSums = namedtuple("StayingSums", "counts cell_jobs cell_tech cell_k sub_jobs sub_tech sub_k")
# The firms that stay by sub-sector, for drawing spin-offs' parents: sub-sector s's in row order
# at rows[starts[s]:ends[s]], with their cumulative weights in cum (starts: GroupIndex.starts).
WeightPools = namedtuple("WeightPools", "starts ends rows cum")


@njit(cache=True)
def comparable_technology(firms, r):
    """Technology net of a named firm's accounts (its 2020 VA per worker over its
    sub-sector's, selection_reference): what an entrant can inherit. Huawei's own VA ratio puts
    its technology 9x its sub-sector's; inherited raw, by a generic entrant that Selection
    compares with the plain sub-sector mean, it grew such entrants 25%/month at 2,000 agents and
    drove the sub-sector's wage past what the named firms earn (seed 4 of the tests)."""
    return firms.technology[r] / firms.selection_reference[r]


@njit(cache=True)
def _staying_sums(rows, stay, cell, subsector, firms, sums, pools):
    """StayingSums, and the WeightPools of the sub-sectors, in one pass in row order."""
    pools.ends[:] = pools.starts
    total = np.zeros(len(pools.starts))
    for i in range(len(rows)):
        if not stay[i]:
            continue
        r, c, s = rows[i], cell[i], subsector[i]
        w = firms.weight[r]
        total[s] += w
        k = pools.ends[s]
        pools.rows[k], pools.cum[k] = r, total[s]
        pools.ends[s] = k + 1
        sums.counts[c] += w
        jobs = w * firms.employment[r]
        tech = comparable_technology(firms, r)
        sums.cell_jobs[c] += jobs
        sums.cell_tech[c] += jobs * tech
        sums.cell_k[c] += jobs * firms.knowledge[r]
        sums.sub_jobs[s] += jobs
        sums.sub_tech[s] += jobs * tech
        sums.sub_k[s] += jobs * firms.knowledge[r]


def staying_sums(model, month) -> tuple[StayingSums, WeightPools]:
    cells, S = model.n_regions * model.n_subsectors, model.n_subsectors
    sums = StayingSums(*(np.zeros(cells) for _ in range(4)), *(np.zeros(S) for _ in range(3)))
    starts = month.by_subsector.starts
    pools = WeightPools(starts, np.empty_like(starts), np.empty(month.n, np.intp),
                        np.empty(month.n))
    _staying_sums(month.rows, month.stay, month.cell, month.subsector, model.firms.columns, sums,
                  pools)
    return sums, pools


def choose_sectors(model, counts_by_sector_region: np.ndarray, n_new: int) -> np.ndarray:
    """Entrants' sub-sectors, in proportion to the real firms of each that stay."""
    sector_prob = counts_by_sector_region.sum(1) / counts_by_sector_region.sum()
    return model.rng.choice(model.n_subsectors, size=n_new, p=sector_prob)


def choose_locations(model, month, counts_by_sector_region, new_sub) -> np.ndarray:
    """Entrants' clusters by the generalised Polya urn (location_probabilities)."""
    pp = model.p.policy
    attract = policy.attractiveness(model.attractiveness_2020, model.inputs.designated,
                                    pp.designation_boost, month.index >= model.designation_month)
    attract = attract * policy.infrastructure_of(model, month.index) / model.infrastructure_2020
    loc_prob = location_probabilities(attract, counts_by_sector_region, model.pull)
    return sample_categorical(model.rng, loc_prob, new_sub)


def inherited_know_how(model, sums: StayingSums, new_reg, new_sub):
    """Technology (comparable_technology) and knowledge from the entrant's cell: its
    job-weighted means, or the sub-sector's where the cell is empty."""
    S = model.n_subsectors
    cell_jobs, sub_jobs = np.maximum(sums.cell_jobs, 1e-300), np.maximum(sums.sub_jobs, 1e-300)
    tech_cell, k_cell = sums.cell_tech / cell_jobs, sums.cell_k / cell_jobs
    sub_mean_tech, sub_mean_k = sums.sub_tech / sub_jobs, sums.sub_k / sub_jobs
    new_cell = new_reg * S + new_sub
    tech = np.where(tech_cell[new_cell] > 0, tech_cell[new_cell], sub_mean_tech[new_sub])
    know = np.where(k_cell[new_cell] > 0, k_cell[new_cell], sub_mean_k[new_sub])
    return tech, know


def spin_offs(model, pools: WeightPools, new_sub, new_reg, tech, know) -> None:
    """A share of entrants are spin-offs: in place, they take their parent's cluster,
    technology and knowledge, the parent drawn in proportion to weight among the sub-sector's
    firms that stay (one uniform draw each, inverted on the cumulative weights, as rng.choice
    does)."""
    f, rng = model.firms, model.rng
    spin = rng.random(len(new_sub)) < model.p.entry_exit.spinoff_share
    if not spin.any():
        return
    # by sub-sector, in entrant order within each: one uniform each, in that order
    spinners = np.flatnonzero(spin)
    spinners = spinners[np.argsort(new_sub[spinners], kind="stable")]
    parents = _draw_parents(new_sub[spinners], rng.random(len(spinners)), pools)
    new_reg[spinners] = f.region[parents]
    tech[spinners] = comparable_technology(f.columns, parents)
    know[spinners] = f.knowledge[parents]


@njit(cache=True)
def _draw_parents(group, u, pools):
    """For each uniform u[j], the member of group[j]'s pool whose cumulative weight is the
    first above u[j] x the pool's total (np.searchsorted, side="right")."""
    cum = pools.cum
    parents = np.empty(len(u), np.intp)
    for j in range(len(u)):
        lo, end = pools.starts[group[j]], pools.ends[group[j]]
        x, hi = u[j] * cum[end - 1], end
        while lo < hi:
            mid = (lo + hi) // 2
            if cum[mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        parents[j] = pools.rows[min(lo, end - 1)]
    return parents


def add_entrants(model, new_sub, new_reg, tech, know) -> None:
    """The entrants' own draws (productivity, shock variance) and starting state."""
    p, rng, n_new = model.p, model.rng, len(new_sub)
    ee, sd = p.entry_exit, p.calibration.productivity_dispersion
    tech = tech * ee.entrant_productivity * np.exp(sd * rng.standard_normal(n_new) - 0.5 * sd**2)
    emp = np.maximum(ee.entrant_size * model.median_employment[new_sub], 1.0)
    expected_va = production.value_added(emp, tech)
    dep = model.dependence[new_sub]
    model.add_firms(
        n_new, region=new_reg, subsector=new_sub, sector=model.subsector_sector[new_sub],
        weight=model.entrant_weight, employment=emp, technology=tech, knowledge=know * 0.9,
        rd_intensity=model.sector_rd[new_sub] / 100,
        net_worth=ee.initial_net_worth_months * expected_va,
        inventory=np.where(dep > 0, model.target_inventory, 0.0),
        shock_variance=innovation.yearly_shock_variance(rng, n_new, p.production.lumpy_growth))


class EntryExit(Mechanism):
    """Exit on losses or by hazard; entrants choose a sub-sector and a cluster and start with
    inherited know-how. Entrants produce from the next month."""

    name = "entry_exit"
    section = "entry_exit"

    def step(self, model, month) -> None:
        exit_firms(model, month)
        # entry, in proportion to the generic firms alive at the start of the month
        n_new = entrant_count(model.rng, month.generic, model.p.entry_exit.entry_rate_pct / 100)
        if n_new == 0:
            return
        sums, pools = staying_sums(model, month)
        counts = np.ascontiguousarray(sums.counts.reshape(model.n_regions, -1).T)  # (S, R)
        new_sub = choose_sectors(model, counts, n_new)
        new_reg = choose_locations(model, month, counts, new_sub)
        tech, know = inherited_know_how(model, sums, new_reg, new_sub)
        spin_offs(model, pools, new_sub, new_reg, tech, know)
        add_entrants(model, new_sub, new_reg, tech, know)


ENTRY_EXIT = EntryExit()
