"""R&D, innovation, imitation and selection (Dosi, Fagiolo & Roventini 2010, K+S model).

Each month a firm innovates with probability 1 - exp(-zeta * rd) and imitates with probability
1 - exp(-zeta_im * rd), where rd is its R&D spending as a share of value added. An innovation
draws a log-productivity change from a Beta(a, b) on [low, high] and is adopted only if it is an
improvement; an imitation closes part of the gap to the best practice of the firm's own
cluster and sub-sector: the mean technology of the cell's better firms (those at or above the
cell mean), weighted by the real firms each agent stands for. Unlike the cell's maximum, this
does not rise with the number of agents drawn, so results do not depend on `run.firms`.
Market shares move by replicator dynamics: a firm grows when its
productivity (after chip caps) beats its sub-sector's employment-weighted mean.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.mechanisms.base import Column, Mechanism


def success_probability(rd_share, zeta):
    return 1.0 - np.exp(-zeta * np.asarray(rd_share, float))


def innovate_rows(rng, technology, rows, rd_share, zeta, low, high, a, b):
    """Innovation for the firms at `rows` of a technology column, in place: success with
    probability 1 - exp(-zeta rd), a Beta jump on [low, high] adopted if positive; returns the
    innovated mask. Only the few firms whose R&D succeeds this month (a few percent) draw a
    productivity jump: Beta draws are slow."""
    n = len(rows)
    winners = np.flatnonzero(rng.random(n) < success_probability(rd_share, zeta))
    jump = low + (high - low) * rng.beta(a, b, len(winners))
    technology[rows[winners]] *= np.exp(np.maximum(jump, 0.0))
    improved = np.zeros(n, dtype=bool)
    improved[winners[jump > 0]] = True
    return improved


@njit(cache=True)
def best_practice_rows(rows, technology, weight, cell, n_cells):
    """Best practice by cell for the firms at `rows` (cell[i] is row i's cell): the
    weight-averaged technology of the firms at or above their cell's weighted mean (0 for an
    empty cell), in two passes."""
    w_sum, wa_sum = np.zeros(n_cells), np.zeros(n_cells)
    for i in range(len(rows)):
        r = rows[i]
        w_sum[cell[i]] += weight[r]
        wa_sum[cell[i]] += weight[r] * technology[r]
    mean = wa_sum / np.maximum(w_sum, 1e-300)
    w_sum[:] = 0.0
    wa_sum[:] = 0.0
    for i in range(len(rows)):
        r = rows[i]
        if technology[r] >= mean[cell[i]]:
            w_sum[cell[i]] += weight[r]
            wa_sum[cell[i]] += weight[r] * technology[r]
    return wa_sum / np.maximum(w_sum, 1e-300)


def imitate_rows(rng, technology, rows, best, cell, rd_share, zeta_im, share):
    """Imitation (`imitated`) for the firms at `rows` whose draw succeeds, best practice
    best[cell[i]], in place; returns the success mask."""
    success = rng.random(len(rows)) < success_probability(rd_share, zeta_im)
    _close_gap(rows, success, best, cell, share, technology)
    return success


@njit(cache=True, inline="always")
def imitated(technology, best, share):
    """Technology after a successful imitation: part `share` of the gap to best practice."""
    return technology + share * max(best - technology, 0.0)


@njit(cache=True)
def _close_gap(rows, success, best, cell, share, technology):
    for i in range(len(rows)):
        if success[i]:
            r = rows[i]
            technology[r] = imitated(technology[r], best[cell[i]], share)


def yearly_shock_variance(rng, n, lumpy=True):
    """Each firm's variance multiplier of its growth shocks for a year: Exp(1) draws (mean one),
    or ones. Twelve monthly Gaussian shocks with a common exponential variance add up to a
    Laplace annual growth rate (a normal variance mixture with exponential mixing is Laplace;
    Kotz, Kozubowski & Podgorski 2001), the tent shape of firm growth (Bottazzi & Secchi 2006)."""
    return rng.exponential(1.0, n) if lumpy else np.ones(n)


def size_scaled_shocks(rng, size, reference_size, sd, beta, variance=1.0):
    """Idiosyncratic log growth shocks with sd falling with size as size^-beta (Stanley et al.
    1996), times sqrt(variance) (yearly_shock_variance). `reference_size` is the size that
    gets `sd`."""
    n = len(size)
    relative = np.empty(n)
    _relative_size(np.asarray(size, float), np.broadcast_to(reference_size, n), relative)
    # the power stays numpy's: a compiled pow may differ from it in the last bit
    out = relative ** (-beta)
    _scale_shocks(sd, np.broadcast_to(variance, n), rng.standard_normal(n), out)
    return out


@njit(cache=True)
def _relative_size(size, reference_size, out):
    for i in range(len(size)):
        out[i] = max(size[i], 1e-12) / reference_size[i]


@njit(cache=True)
def _scale_shocks(sd, variance, z, out):
    """out[i] (the size factor (size / reference)^-beta) becomes the shock: scale
    sd * sqrt(variance) * factor, at most 0.5, times z, minus scale^2/2 so that exp(shock)
    has mean one: shocks add dispersion, not drift."""
    for i in range(len(out)):
        scale = min(sd * np.sqrt(variance[i]) * out[i], 0.5)
        out[i] = scale * z[i] - 0.5 * (scale * scale)


@njit(cache=True, inline="always")
def selection_growth(productivity, mean_productivity, chi):
    """Replicator dynamics: monthly log growth chi * (c / cbar - 1), cbar the sub-sector's
    employment-weighted mean. Employment-weighted, the terms sum to zero in each sub-sector:
    selection reallocates."""
    return chi * (productivity / max(mean_productivity, 1e-300) - 1.0)


@njit(cache=True)
def growth_rows(rows, firms, mean, trend, chi, growth, size):
    """selection_growth plus the sector trend for the firms at `rows`, into growth[i] (mean:
    the job-weighted mean productivity of each sub-sector); size[i] = the firm's employment."""
    for i in range(len(rows)):
        r = rows[i]
        growth[i] = (selection_growth(firms.productivity[r],
                                      mean[firms.subsector[r]] * firms.selection_reference[r], chi)
                     + trend[firms.sector[r]] - firms.growth_penalty[r])
        size[i] = firms.employment[r]


@njit(cache=True)
def grow_rows(rows, factor, employment, age_months, size):
    """employment *= factor and one month older, in place; size[i] = the new employment."""
    for i in range(len(rows)):
        r = rows[i]
        employment[r] *= factor[i]
        age_months[r] += 1
        size[i] = employment[r]



class Innovation(Mechanism):
    """R&D succeeds or not: innovation, then imitation of the cell's best practice."""

    name = "innovation"
    section = "innovation"
    columns = (
        Column("technology", np.float64, meaning="own technology A (what innovation improves)"),
        Column("rd_intensity", np.float64, meaning="R&D / revenue before the policy response"),
    )

    def step(self, model, month) -> None:
        f, p = model.firms, model.p.innovation
        innovate_rows(model.rng, f.technology, month.rows, month.rd_share, p.zeta, p.jump_low,
                      p.jump_high, p.jump_beta_a, p.jump_beta_b)
        best = best_practice_rows(month.rows, f.technology, f.weight, month.cell,
                                  model.n_regions * model.n_subsectors)
        imitate_rows(model.rng, f.technology, month.rows, best, month.cell, month.rd_share,
                     p.imitation_zeta, p.imitation_share)


class Selection(Mechanism):
    """Employment moves by replicator dynamics, the sector trend and size-scaled shocks."""

    name = "selection"
    section = "production"
    columns = (
        Column("employment", np.float64, meaning="workers per real firm"),
        Column("age_months", np.int32),
        # A named firm's VA per worker against its sub-sector mean reflects its own accounts
        # (product mix, vertical integration), not a competitive edge that should keep growing
        # its workforce; so it is selected on its productivity relative to its 2020 position.
        Column("selection_reference", np.float64, initial=1.0,
               meaning="relative productivity at which selection is neutral: 1, or a named "
                       "firm's 2020 VA per worker over its sub-sector's"),
        Column("shock_variance", np.float64,
               meaning="this year's variance multiplier of growth shocks"),
    )

    def step(self, model, month) -> None:
        f, p = model.firms, model.p
        growth, size = np.empty(month.n), np.empty(month.n)
        growth_rows(month.rows, f.columns, month.mean_productivity, model.trend_log_monthly,
                    p.innovation.selection, growth, size)
        if month.index % 12 == 0 or month.index == model.start_month:  # January: a new year
            f.shock_variance[month.rows] = yearly_shock_variance(model.rng, month.n,
                                                                 p.production.lumpy_growth)
        growth += size_scaled_shocks(
            model.rng, size, model.median_employment[month.subsector], p.production.shock_sd,
            p.production.shock_size_exponent, np.take(f.shock_variance, month.rows))
        grow_rows(month.rows, np.exp(growth), f.employment, f.age_months, month.size)


INNOVATION = Innovation()
SELECTION = Selection()
