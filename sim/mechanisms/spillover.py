"""Knowledge spillover with distance decay and absorptive capacity.

dK_i = s * gamma(R_i) * max(0, P_{r(i),s(i)} - K_i)  +  s_F * gamma(R_i) * o * max(0, K_F - K_i)

P is the knowledge pool a firm can reach: the mass-weighted mean knowledge of every cluster x
sector cell, weighted by w(d) = exp(-d/delta) between clusters (delta 300-1,200 km: Bottazzi &
Peri 2003, Keller 2002), a within-cluster weight on the diagonal, and h = cross-sector weight
for other NBS sectors (cognitive distance, Nooteboom 2007). gamma(R) = 1 - exp(-lambda R/Y) is
absorptive capacity (Cohen & Levinthal 1989). K_F is the foreign frontier and o the openness of
foreign knowledge inflow, which export controls reduce.

Computing the pool at cluster x sector level (a few hundred cells) instead of over firm pairs
keeps the cost linear in firms. The per-pair max(0, K_j - K_i) of the reference form becomes a
gap to the cell mean: firms above the reachable mean learn nothing from it.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from sim.mechanisms import export_controls
from sim.mechanisms.base import Column, Mechanism


def absorptive_capacity(rd_intensity, lam):
    return 1.0 - np.exp(-lam * np.asarray(rd_intensity, float))


def region_weights(dist_km, decay_km, within_weight):
    w = np.exp(-np.asarray(dist_km, float) / decay_km)
    np.fill_diagonal(w, within_weight)
    return w


def sector_weights(subsector_sector, cross_weight):
    """h between sub-sectors: 1 within the same NBS sector, `cross_weight` across sectors."""
    same = subsector_sector[:, None] == subsector_sector[None, :]
    return np.where(same, 1.0, cross_weight)


def knowledge_pool(mass, mean_knowledge, w_region, h_sector):
    """Reachable knowledge for every (region, sub-sector) cell: sum of w*h*mass*K / sum of w*h*mass."""
    num = w_region @ (mass * mean_knowledge) @ h_sector.T
    den = w_region @ mass @ h_sector.T
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


@njit(cache=True, inline="always")
def knowledge_next(k, pool, gamma, strength, frontier, openness, foreign_strength, rd_share,
                   from_rd):
    """One firm's knowledge after the month: K + the domestic and foreign spillover gains
    (module docstring) + own R&D (from_rd x rd_share x K)."""
    domestic = strength * gamma * max(0.0, pool - k)
    foreign = foreign_strength * gamma * openness * max(0.0, frontier - k)
    return k + (domestic + foreign + from_rd * rd_share * k)


# knowledge_next's month-wide terms: spillover strength, foreign frontier, openness, foreign
# strength, knowledge from own R&D
SpilloverTerms = namedtuple("SpilloverTerms", "strength frontier openness foreign_strength "
                            "from_rd")


@njit(cache=True)
def knowledge_rows(rows, knowledge, cell, pool, gamma, rd_share, terms):
    """knowledge_next for the firms at `rows`, in place; pool[cell[i]] is the pool firm i
    reaches, gamma[i] its absorptive capacity, rd_share[i] its R&D / VA."""
    for i in range(len(rows)):
        r = rows[i]
        knowledge[r] = knowledge_next(knowledge[r], pool[cell[i]], gamma[i], terms.strength,
                                      terms.frontier, terms.openness, terms.foreign_strength,
                                      rd_share[i], terms.from_rd)


class Spillover(Mechanism):
    """Knowledge grows by spillover from the reachable pool and the foreign frontier, and by
    own R&D."""

    name = "spillover"
    section = "spillover"
    columns = (Column("knowledge", np.float64,
                      meaning="knowledge stock (foreign frontier in 2020 = 1)"),)

    def step(self, model, month) -> None:
        p, S = model.p, model.n_subsectors
        sp = p.spillover
        mass = month.mass
        k_mean = np.divide(month.k_mass, mass, out=np.zeros_like(mass), where=mass > 0)
        pool = knowledge_pool(mass.reshape(-1, S), k_mean.reshape(-1, S), model.w_region,
                              model.h_sector).ravel()
        gamma = absorptive_capacity(month.rd_now, sp.absorptive_lambda)
        frontier = (1 + sp.frontier_growth_pct / 100) ** ((month.index - model.start_month) / 12)
        openness = export_controls.soften(model.controls.openness,
                                          p.policy.international_cooperation)
        terms = SpilloverTerms(sp.strength, frontier, openness, sp.foreign_strength,
                               p.innovation.knowledge_from_rd)
        knowledge_rows(month.rows, model.firms.knowledge, month.cell, pool, gamma,
                       month.rd_share, terms)


SPILLOVER = Spillover()
