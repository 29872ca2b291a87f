"""Production: value added, wages and profits of each firm.

Value added per worker is the firm's own technology A times the multipliers the other
mechanisms provide:  y_i = A_i * K_i^theta * G_r * I_r^phi * c_i,
with K the knowledge stock (spillover.py), G the agglomeration factor of the firm's cluster
(agglomeration.py), I the infrastructure index (policy.py) and c the share of output the
scarcest imported chip tier allows (export_controls.py). Productivity is in thousand yuan of
value added per worker per year; money flows are in billion yuan per month.
"""

from __future__ import annotations

import numpy as np

THOUSAND_YUAN_YEAR_TO_BN_MONTH = 1e-6 / 12


def labour_productivity(technology, knowledge, theta, agglomeration, infrastructure, phi,
                        capacity):
    """Value added per worker (thousand yuan/year) = A * K^theta * G * I^phi * c."""
    return technology * knowledge**theta * agglomeration * infrastructure**phi * capacity


def value_added(employment, productivity):
    """Monthly value added per real firm, bn yuan."""
    return employment * productivity * THOUSAND_YUAN_YEAR_TO_BN_MONTH


def wage_per_worker(productivity, employment, weight, group, n_groups, wage_share):
    """Wage (thousand yuan/year) in each group (sub-sector): the labour share of the group's
    average value added per worker. Firms pay it whatever their own output, so a firm whose
    output is cut by a chip shortage makes losses."""
    jobs = np.bincount(group, weights=weight * employment, minlength=n_groups)
    output = np.bincount(group, weights=weight * employment * productivity, minlength=n_groups)
    return wage_share * output / np.maximum(jobs, 1e-12)


def monthly_profit(va, employment, wage, rd_cost):
    """Operating profit per real firm, bn yuan/month: VA - wage bill - net R&D cost."""
    return va - employment * wage * THOUSAND_YUAN_YEAR_TO_BN_MONTH - rd_cost
