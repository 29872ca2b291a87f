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
from numba import njit

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


# ---------------------------------------------------------------------------------------------
# The same equations for the firms at `rows` of the firm table, in one pass each (numba):
# labour_productivity, value_added, the sums behind wage_per_worker and the national figures,
# then monthly_profit with the R&D response. The model's month calls these; the functions
# above are the reference forms they are tested against, bit for bit.

@njit(cache=True)
def produce_rows(rows, technology, k_theta, agglomeration, infra_phi, region, output_cap,
                 employment, weight, subsector, productivity, value_added,
                 w_va, loss, jobs_by_sub, output_by_sub, va_by_sub):
    """Productivity and value added in place. k_theta[i] = knowledge**theta and infra_phi[r]
    = infrastructure**phi (numpy's power, like the reference form). Fills w_va[i] = weight x
    VA, loss[:k] = the direct loss of the k firms capped by chips (returns k), and adds jobs,
    jobs x productivity and weight x VA by sub-sector."""
    k = 0
    for i in range(len(rows)):
        r = rows[i]
        reg, s, cap = region[r], subsector[r], output_cap[r]
        prod = technology[r] * k_theta[i] * agglomeration[reg] * infra_phi[reg] * cap
        va = employment[r] * prod * THOUSAND_YUAN_YEAR_TO_BN_MONTH
        productivity[r] = prod
        value_added[r] = va
        w_va[i] = weight[r] * va
        if cap < 1:
            loss[k] = w_va[i] * (1 / cap - 1)
            k += 1
        jobs = weight[r] * employment[r]
        jobs_by_sub[s] += jobs
        output_by_sub[s] += jobs * prod
        va_by_sub[s] += w_va[i]
    return k


@njit(cache=True)
def profit_rows(rows, value_added, employment, subsector, sector, weight, rd_intensity,
                listed_month, month, rd_policy, listed_factor, va_ratio, wage, net_share,
                net_worth, rd_now, rd_share, chip_rd):
    """monthly_profit in place, with R&D / revenue after the subsidy response (rd_policy) and,
    from 12 months after an Entity-List addition, the listed firms' response (listed_factor).
    Fills rd_now[i] (R&D / revenue), rd_share[i] (R&D / VA) and chip_rd[:k] = weight x gross
    R&D of the k firms in NBS 01 (returns k)."""
    k = 0
    for i in range(len(rows)):
        r = rows[i]
        s, listed = subsector[r], listed_month[r]
        responded = listed >= 0 and month - listed >= 12
        rd = rd_intensity[r] * rd_policy * (listed_factor if responded else 1.0)
        rd_gross = rd * (value_added[r] / va_ratio[s])
        net_worth[r] += (value_added[r] - employment[r] * wage[s] * THOUSAND_YUAN_YEAR_TO_BN_MONTH
                         - rd_gross * net_share)
        rd_now[i] = rd
        rd_share[i] = rd / va_ratio[s]
        if sector[r] == 0:
            chip_rd[k] = weight[r] * rd_gross
            k += 1
    return k

