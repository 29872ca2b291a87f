"""R&D, innovation, imitation and selection (Dosi, Fagiolo & Roventini 2010, K+S model).

Each month a firm innovates with probability 1 - exp(-zeta * rd) and imitates with probability
1 - exp(-zeta_im * rd), where rd is its R&D spending as a share of value added. An innovation
draws a log-productivity change from a Beta(a, b) on [low, high] and is adopted only if it is an
improvement; an imitation closes part of the gap to the best practice of the firm's own
cluster and sub-sector. Market shares move by replicator dynamics: a firm grows when its
productivity (after chip caps) beats its sub-sector's employment-weighted mean.
"""

from __future__ import annotations

import numpy as np


def success_probability(rd_share, zeta):
    return 1.0 - np.exp(-zeta * np.asarray(rd_share, float))


def innovate(rng, technology, rd_share, zeta, low, high, a, b):
    """Returns (new technology, innovated mask). Only the few firms whose R&D succeeds this
    month (a few percent) draw a productivity jump: Beta draws are slow."""
    n = len(technology)
    winners = np.flatnonzero(rng.random(n) < success_probability(rd_share, zeta))
    jump = low + (high - low) * rng.beta(a, b, len(winners))
    new = technology.copy()
    new[winners] *= np.exp(np.maximum(jump, 0.0))
    improved = np.zeros(n, dtype=bool)
    improved[winners[jump > 0]] = True
    return new, improved


def best_practice(technology, cell, n_cells):
    best = np.zeros(n_cells)
    np.maximum.at(best, cell, technology)
    return best


def imitate(rng, technology, best_in_cell, rd_share, zeta_im, share):
    n = len(technology)
    success = rng.random(n) < success_probability(rd_share, zeta_im)
    gap = np.maximum(best_in_cell - technology, 0.0)
    return technology + np.where(success, share * gap, 0.0), success


def replicator_growth(competitiveness, employment_weight, group, n_groups, chi):
    """Monthly log growth chi * (c_i / cbar_g - 1), cbar the employment-weighted group mean.
    Employment-weighted, the terms sum to zero in each group: selection reallocates."""
    num = np.bincount(group, weights=employment_weight * competitiveness, minlength=n_groups)
    den = np.bincount(group, weights=employment_weight, minlength=n_groups)
    mean = num / np.maximum(den, 1e-300)
    return chi * (competitiveness / np.maximum(mean[group], 1e-300) - 1.0)


def size_scaled_shocks(rng, size, reference_size, sd, beta):
    """Idiosyncratic log growth shocks with sd falling with size as size^-beta (Stanley et al.
    1996). `reference_size` is the size that gets `sd`."""
    scale = np.minimum(sd * (np.maximum(size, 1e-12) / reference_size) ** (-beta), 0.5)
    # minus scale^2/2 so that exp(shock) has mean one: shocks add dispersion, not drift
    return scale * rng.standard_normal(len(size)) - 0.5 * scale**2
