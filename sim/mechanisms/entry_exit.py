"""Entry, location choice and exit.

Location (Bottazzi, Dosi, Fagiolo & Secchi 2007, generalised Polya urn): an entrant of sector s
picks region l with probability (a_l + b_s n_ls) / sum_k (a_k + b_s n_ks), a_l the region's
intrinsic attractiveness (policy, universities, market access) and b_s the sector's pull
towards existing firms. n_ls is the sector's firm count in l scaled so that its mean over
regions is one, which keeps a and b on the same footing whatever the number of firms.
A share of entrants are spin-offs (Klepper 2007; Zhang 2003 on Silicon Valley; Brenner 2001):
they start in their parent's cluster with part of its know-how, which makes entry local.
Exit: a firm leaves when its net worth turns negative (sustained losses), or by an exogenous
hazard. Firms backed beyond their own equity (the named national champions, see
`entry_exit.named_firms_survive`) can be kept from both.
"""

from __future__ import annotations

import numpy as np


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


def exits(rng, net_worth, hazard_per_year, exempt, relative_size=None, size_exponent=0.0,
          backed=None):
    """Mask of firms that exit this month. The hazard of a firm of relative size x (size over the
    median of its sub-sector) is hazard * x^-size_exponent, capped at four times the base rate:
    exit rates fall with size (Dunne, Roberts & Samuelson 1989). `exempt` firms face no hazard;
    `backed` firms (a mask, default none) do not exit on negative net worth either: their
    losses are covered from outside (new equity, state funds)."""
    annual = float(hazard_per_year)
    if relative_size is not None and size_exponent:
        annual = np.minimum(annual * np.maximum(relative_size, 1e-12) ** -size_exponent,
                            min(4 * hazard_per_year, 1.0))
    hazard = 1.0 - (1.0 - np.broadcast_to(annual, np.shape(net_worth))) ** (1.0 / 12.0)
    drawn = rng.random(len(net_worth)) < hazard
    drawn &= ~exempt
    drawn |= net_worth < 0.0
    if backed is not None:
        drawn &= ~backed
    return drawn
