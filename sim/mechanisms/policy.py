"""Policy levers: R&D subsidy, cluster designation, infrastructure, international cooperation.

R&D intensity responds to its user cost with elasticity e (Hall & Van Reenen 2000: about one):
rd = rd_2020 * ((1 - s) / (1 - s_2020))^-e, s the share of R&D cost the state bears.
Designation raises a cluster's intrinsic attractiveness to entrants by a fixed share from its
effective month. Infrastructure grows at a set rate and raises productivity with a small
elasticity (production.py). International cooperation softens controls (export_controls.soften).
"""

from __future__ import annotations

import numpy as np

SUBSIDY_2020_PCT = 18.75  # the R&D cost share behind the 2020 data (75% super-deduction x 25% CIT)


def rd_multiplier(subsidy_pct, elasticity, baseline_pct=SUBSIDY_2020_PCT):
    return ((1 - subsidy_pct / 100.0) / (1 - baseline_pct / 100.0)) ** (-elasticity)


def attractiveness(base, designated, boost, active):
    return np.asarray(base, float) * np.where(np.asarray(designated) & active, 1.0 + boost, 1.0)


def infrastructure(index_2020, growth_pct_per_year, months_elapsed):
    return np.asarray(index_2020, float) * (1 + growth_pct_per_year / 100.0) ** (months_elapsed / 12.0)


def infrastructure_of(model, month: int) -> np.ndarray:
    """The infrastructure index of each region in `month`."""
    return infrastructure(model.infrastructure_2020, model.p.policy.infrastructure_growth_pct,
                          month - model.start_month)
