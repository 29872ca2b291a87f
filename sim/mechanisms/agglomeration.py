"""Agglomeration economies with congestion.

ln G_r = eps * ln(D_r / D_ref) - kappa * (D_r / D_bar)^eta,   eta > 1,
with D_r the core-digital employment density of cluster r (workers per km2). The first term is
the density premium (elasticity eps: 0.04-0.05 in rich countries, about three times that in
China, Combes, Demurger & Li 2013; 0.19 in Chauvin et al. 2017); the second a congestion cost
that makes the net effect an inverted U in density.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import Mechanism


def density(employment_by_region, area_km2):
    return np.asarray(employment_by_region, float) / np.asarray(area_km2, float)


def log_factor(dens, reference, elasticity, congestion, exponent, scale):
    """ln G for each region; `reference` and `scale` are densities (same unit as `dens`)."""
    d = np.maximum(np.asarray(dens, float), 1e-12)
    return elasticity * np.log(d / reference) - congestion * (d / scale) ** exponent


def factor(dens, reference, elasticity, congestion, exponent, scale):
    return np.exp(log_factor(dens, reference, elasticity, congestion, exponent, scale))


def peak_density(elasticity, congestion, exponent, scale):
    """Density at which the inverted U peaks: d lnG/d lnD = 0 -> D* = scale*(eps/(kappa*eta))^(1/eta)."""
    if congestion <= 0:
        return np.inf
    return scale * (elasticity / (congestion * exponent)) ** (1.0 / exponent)


class Agglomeration(Mechanism):
    """The agglomeration factor of each cluster from its employment density as the month
    starts (census), normalised to its 2020 employment-weighted mean."""

    name = "agglomeration"
    section = "agglomeration"

    def step(self, model, month) -> None:
        p = model.p.agglomeration
        g = factor(density(month.region_jobs, model.area), model.density_reference,
                   p.elasticity, p.congestion, p.congestion_exponent, model.congestion_density)
        model.agglomeration = g / model.agglomeration_norm


AGGLOMERATION = Agglomeration()
