"""Production: value added, wages and profits of each firm.

Value added per worker is the firm's own technology A times the multipliers the other
mechanisms provide:  y_i = A_i * K_i^theta * G_r * I_r^phi * c_i,
with K the knowledge stock (spillover.py), G the agglomeration factor of the firm's cluster
(agglomeration.py), I the infrastructure index (policy.py) and c the share of output the
scarcest imported chip tier allows (export_controls.py). Productivity is in thousand yuan of
value added per worker per year; money flows are in billion yuan per month.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from sim.mechanisms import export_controls, policy
from sim.mechanisms.base import Column, Mechanism, Reporter

THOUSAND_YUAN_YEAR_TO_BN_MONTH = 1e-6 / 12


# ---------------------------------------------------------------------------------------------
# Each equation once, as a scalar function that the compiled passes below, the tests and the
# conventional-Mesa reference (benchmarks/reference.py) all call. Powers stay with numpy
# (k_theta, infra_phi): numba's pow may differ from numpy's in the last bit.

@njit(cache=True, inline="always")
def firm_productivity(technology, k_theta, agglomeration, infra_phi, cap):
    """Value added per worker (thousand yuan/year) A * K^theta * G * I^phi * c, with K^theta
    and I^phi given."""
    return technology * k_theta * agglomeration * infra_phi * cap


def labour_productivity(technology, knowledge, theta, agglomeration, infrastructure, phi,
                        capacity):
    """firm_productivity from K and I (arrays or numbers)."""
    return firm_productivity(technology, np.power(knowledge, theta), agglomeration,
                             np.power(infrastructure, phi), capacity)


@njit(cache=True, inline="always")
def value_added(employment, productivity):
    """Monthly value added per real firm, bn yuan."""
    return employment * productivity * THOUSAND_YUAN_YEAR_TO_BN_MONTH


def sector_wage(output, jobs, wage_share):
    """Wage (thousand yuan/year) in each sub-sector: the labour share of its average value
    added per worker (output = jobs x productivity). Firms pay it whatever their own output,
    so a firm whose output is cut by a chip shortage makes losses."""
    return wage_share * output / np.maximum(jobs, 1e-12)


@njit(cache=True, inline="always")
def rd_response(rd_intensity, rd_policy, listed_month, month, listed_factor):
    """R&D / revenue after the subsidy response (rd_policy) and, from 12 months after an
    Entity-List addition, the listed firm's own response (listed_factor)."""
    responded = listed_month >= 0 and month - listed_month >= 12
    return rd_intensity * rd_policy * (listed_factor if responded else 1.0)


@njit(cache=True, inline="always")
def firm_profit(value_added, employment, wage, rd_gross, net_share):
    """Operating profit per real firm, bn yuan/month: VA - wage bill - R&D cost net of the
    subsidy (net_share of the gross)."""
    return value_added - employment * wage * THOUSAND_YUAN_YEAR_TO_BN_MONTH - rd_gross * net_share


@njit(cache=True)
def produce_rows(rows, firms, k_theta, agglomeration, infra_phi, w_va, loss, sums):
    """Productivity and value added in place. k_theta[i] = knowledge**theta and infra_phi[r]
    = infrastructure**phi. Fills w_va[i] = weight x VA, loss[:k] = the direct loss of the k
    firms capped by chips (returns k), and adds jobs, jobs x productivity and weight x VA by
    sub-sector to sums (SubsectorSums)."""
    k = 0
    for i in range(len(rows)):
        r = rows[i]
        reg, s, cap = firms.region[r], firms.subsector[r], firms.output_cap[r]
        prod = firm_productivity(firms.technology[r], k_theta[i], agglomeration[reg],
                                 infra_phi[reg], cap)
        va = value_added(firms.employment[r], prod)
        firms.productivity[r] = prod
        firms.value_added[r] = va
        w_va[i] = firms.weight[r] * va
        if cap < 1:
            loss[k] = w_va[i] * (1 / cap - 1)
            k += 1
        jobs = firms.weight[r] * firms.employment[r]
        sums.jobs[s] += jobs
        sums.output[s] += jobs * prod
        sums.value_added[s] += w_va[i]
    return k


@njit(cache=True)
def profit_rows(rows, firms, month, rd, ratios, wage, rd_now, rd_share, chip_rd):
    """firm_profit into net worth, in place, with R&D after rd_response (rd: RDTerms) on the
    revenue at the firm's VA / revenue (ratios: RevenueRatios). Fills rd_now[i] (R&D /
    revenue), rd_share[i] (R&D / VA) and chip_rd[:k] = weight x gross R&D of the k firms in
    NBS 01 (returns k)."""
    k = 0
    own_ratio, sub_ratio = ratios.named, ratios.subsector
    for i in range(len(rows)):
        r = rows[i]
        s, named = firms.subsector[r], firms.named[r]
        ratio = own_ratio[named] if named >= 0 else sub_ratio[s]
        rd_i = rd_response(firms.rd_intensity[r], rd.policy, firms.listed_month[r], month,
                           rd.listed_factor)
        rd_gross = rd_i * (firms.value_added[r] / ratio)
        firms.net_worth[r] += firm_profit(firms.value_added[r], firms.employment[r], wage[s],
                                          rd_gross, rd.net_share)
        rd_now[i] = rd_i
        rd_share[i] = rd_i / ratio
        if firms.sector[r] == 0:
            chip_rd[k] = firms.weight[r] * rd_gross
            k += 1
    return k


@njit(cache=True)
def rd_rows(rows, firms, month, rd, ratios, rd_now, chip_rd):
    """rd_response and the gross chip R&D of profit_rows without touching net worth: for the
    stock of chip know-how at the start and for readers of R&D intensity. Returns k."""
    k = 0
    own_ratio, sub_ratio = ratios.named, ratios.subsector
    for i in range(len(rows)):
        r = rows[i]
        rd_i = rd_response(firms.rd_intensity[r], rd.policy, firms.listed_month[r], month,
                           rd.listed_factor)
        rd_now[i] = rd_i
        if firms.sector[r] == 0:
            named = firms.named[r]
            ratio = own_ratio[named] if named >= 0 else sub_ratio[firms.subsector[r]]
            chip_rd[k] = firms.weight[r] * (rd_i * (firms.value_added[r] / ratio))
            k += 1
    return k


SubsectorSums = namedtuple("SubsectorSums", "jobs output value_added")
# VA / revenue by sub-sector (sectors.csv) and by named firm (named_firms.csv, own accounts): a
# named firm's R&D is a share of its own revenue (a sub-sector ratio would put Huawei's R&D 56%
# above its reported 141.9 bn and Inspur's at 40% of its own), a generic firm's of its
# sub-sector's. The kernels look the ratio up in place: a jitted helper taking these arrays
# would count references to them on every call, 20 ns a firm.
RevenueRatios = namedtuple("RevenueRatios", "subsector named")
RDTerms = namedtuple("RDTerms", "policy listed_factor net_share")


def rd_terms(p) -> RDTerms:
    """The R&D response's parameters (from the scenario's parameter records)."""
    return RDTerms(policy.rd_multiplier(p.policy.rd_subsidy_pct, p.policy.rd_price_elasticity),
                   1 + p.export_controls.listed_rd_boost_pct / 100,
                   1 - p.policy.rd_subsidy_pct / 100)


def chip_rd(model, rows, month) -> float:
    """Gross R&D of the chip makers (NBS 01) at `rows`, bn yuan this month."""
    rd_now, out = np.empty(len(rows)), np.empty(len(rows))
    k = rd_rows(rows, model.firms.columns, month, model.rd, model.revenue_ratios, rd_now, out)
    return float(np.sum(out[:k]))


class Production(Mechanism):
    """Value added of each firm, wages and profits, R&D spending and the chip learning curve."""

    name = "production"
    section = "production"
    columns = (
        Column("productivity", np.float64,
               meaning="VA per worker after all multipliers, thousand yuan/yr"),
        Column("value_added", np.float64, meaning="bn yuan per real firm, this month"),
        Column("net_worth", np.float64, meaning="bn yuan per real firm"),
    )
    reporters = (
        Reporter("core_va_bn_yuan", "bn yuan/month", "Core digital VA",
                 lambda m: m.core_va_bn_yuan, sweep_metric="core_va_end_bn_yuan",
                 reduce="last_year",
                 meaning="core digital value added in the last simulated year (bn yuan)"),
        Reporter("gdp_bn_yuan", "bn yuan/month", "GDP", lambda m: m.gdp_bn_yuan,
                 meaning="GDP of the month (input)"),
        Reporter("core_va_share_gdp_pct", "%", "Core digital VA share of GDP",
                 lambda m: m.core_va_share_gdp_pct, meaning="core digital value added over GDP"),
        Reporter("direct_loss_bn_yuan", "bn yuan/month", "Output lost to chip caps",
                 lambda m: m.direct_loss_bn_yuan, sweep_metric="direct_loss_bn_yuan",
                 reduce="sum", meaning="output lost to chip caps, summed over the run (bn yuan)"),
    )

    def setup(self, model) -> None:
        # the stock of chip know-how in 2020: five years of sector-01 R&D (20% depreciation)
        model.cumulative_chip_rd = 5 * 12 * chip_rd(model, model.firms.rows, model.month)
        model.cumulative_chip_rd_2020 = model.cumulative_chip_rd
        model.core_va_bn_yuan = model.gdp_bn_yuan = model.core_va_share_gdp_pct = 0.0
        model.chip_self_sufficiency_pct = model.direct_loss_bn_yuan = 0.0

    def step(self, model, month) -> None:
        f, p, S, n = model.firms, model.p, model.n_subsectors, month.n
        k_theta = np.take(f.knowledge, month.rows) ** p.spillover.knowledge_elasticity
        infra_phi = (policy.infrastructure_of(model, month.index)
                     ** p.production.infrastructure_elasticity)
        w_va, loss = np.empty(n), np.empty(n)
        sums = SubsectorSums(np.zeros(S), np.zeros(S), np.zeros(S))
        capped = produce_rows(month.rows, f.columns, k_theta, model.agglomeration, infra_phi,
                              w_va, loss, sums)
        # direct loss: what chip caps take from this month's output, all else equal
        model.direct_loss_bn_yuan = float(np.sum(loss[:capped]))
        month.jobs_by_sub = sums.jobs
        wage = sector_wage(sums.output, sums.jobs, p.production.wage_share)
        month.mean_productivity = sums.output / np.maximum(sums.jobs, 1e-300)
        month.rd_now, month.rd_share, chip_rd_now = np.empty(n), np.empty(n), np.empty(n)
        chip_makers = profit_rows(month.rows, f.columns, month.index, model.rd,
                                  model.revenue_ratios, wage, month.rd_now, month.rd_share,
                                  chip_rd_now)
        model.cumulative_chip_rd += float(np.sum(chip_rd_now[:chip_makers]))
        model.learning = export_controls.learning_index(
            model.cumulative_chip_rd, model.cumulative_chip_rd_2020,
            p.export_controls.learning_elasticity)

        # national figures for this month
        model.core_va_bn_yuan = float(np.sum(w_va))
        model.gdp_bn_yuan = model.inputs.gdp_by_month[month.index]
        model.core_va_share_gdp_pct = 100 * model.core_va_bn_yuan / model.gdp_bn_yuan
        model.chip_self_sufficiency_pct = export_controls.self_sufficiency(
            model.dependence, model.domestic, sums.value_added)


PRODUCTION = Production()
