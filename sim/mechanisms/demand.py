"""Sector demand: market growth sets each NBS sector's labour input, net of what productivity
gains already supply.

In the years the MIIT series cover (sim/data/demand_growth.csv: 2021-23) each NBS sector's
demand growth g_s is the observed growth of its series: those years are data, not draws. In
every later year each NBS sector s draws g_s = mean_s + sd_s z (z standard normal,
from the model's own demand stream so the other mechanisms' draws are unchanged), mean and sd
from the 2020-23 MIIT revenue series (software for 03/04, electronic-information manufacturing
for 01/02; sim/data/SOURCES.md). Labour input then grows each month by

    dln L_s = ln(1 + g_s)/12 - rho * dln y_s,

y_s the sector's job-weighted labour productivity before chip caps (the cap is a supply loss,
not a productivity gain demand could absorb) and rho (production.demand_absorption) the share
of a productivity gain that demand absorbs: rho = 1, revenue grows at the market's pace
whatever the mechanisms do (they only move where it is made); rho = 0, every productivity gain
is extra output (the old exogenous labour trend). Selection (innovation.py) adds the monthly
rate to each firm's growth as before.

Past the data the market saturates (production.saturation_share_pct, K). In a drawn year, with
S the core digital VA share of GDP the year before (internal basis) and f = 1 - S/K, the mean
demand growth of sector s and the share of productivity gains demand absorbs become

    mean_s(t) = g_Y(t) + f (mean_s - g_Y(t)),        rho(t) = 1 - f (1 - rho),

g_Y(t) nominal GDP growth that year (data, then the replicate's projection). Both parts of
the share's growth over GDP (market growth, and productivity gains that are extra output)
are scaled by f, so the excess is r (1 - S/K): a logistic curve that flattens as the sector
meets its market (at S = K value added grows with GDP and gains only save labour), instead of
compounding 14%/yr past any plausible share (issue 13: 38% of GDP by 2040 without it). K is
judgement (grade D, sim/parameters.py). The observed years 2021-23 are data and keep rho as
fitted; the rule starts in the first drawn year (2024).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.inputs import Column, Table, _cached, builtin
from sim.mechanisms.base import Mechanism

OBSERVED_DEMAND = Table("observed demand growth table", (
    Column("year", "int", 1950, 2100), Column("sector", "id"),
    Column("growth_pct", "float", -90, 200), Column("source"), Column("grade")),
    row_key=lambda row: (int(row["year"]), row["sector"]), key_column="year")


def observed_growth(codes) -> dict[int, np.ndarray]:
    """year -> demand growth (fraction) of each sector in `codes`, for years covering all."""
    df = _cached(str(builtin("demand_growth.csv")), OBSERVED_DEMAND)
    out = {}
    for year, g in df.groupby("year"):
        by = dict(zip(g["sector"].astype(str), g["growth_pct"].astype(float)))
        if all(c in by for c in codes):
            out[int(year)] = np.array([by[c] for c in codes]) / 100
    return out

DEMAND_STREAM = 0xD  # second seed word of the demand draws: a stream of their own


def yearly_growth(mean_pct, sd_pct, z):
    """Demand growth of each sector this year, fraction: mean + sd z, floored at -90%."""
    return np.maximum((np.asarray(mean_pct, float) + np.asarray(sd_pct, float) * z) / 100, -0.9)


def saturation(share_pct: float | None, saturation_pct: float) -> float:
    """f = 1 - S/K, the unmet share of the market (1: no saturation, K = 0 or S unknown)."""
    if share_pct is None or saturation_pct <= 0:
        return 1.0
    return 1 - share_pct / saturation_pct


def saturated_mean_pct(mean_pct, gdp_growth_pct, f):
    """Mean demand growth of each sector, %: GDP growth plus f of the sector's excess over it."""
    return gdp_growth_pct + f * (np.asarray(mean_pct, float) - gdp_growth_pct)


def saturated_absorption(absorption, f):
    """rho(t) = 1 - f (1 - rho): at saturation (f = 0) demand absorbs every productivity gain."""
    return 1 - f * (1 - absorption)


def previous_year_share(model, year: int) -> float | None:
    """Core VA over GDP (%, internal basis) of `year` from the national figures collected,
    None unless all its twelve months were simulated."""
    collected = model.datacollector.model_vars
    dates = collected.get("date", [])
    if len(dates) < 12 or not str(dates[-12]).startswith(f"{year:04d}-01"):
        return None
    va = float(np.sum(collected["core_va_bn_yuan"][-12:]))
    return 100 * va / float(np.sum(collected["gdp_bn_yuan"][-12:]))


def labour_trend(growth, dlog_productivity, absorption):
    """Monthly log growth of labour input: demand growth net of the absorbed productivity gain."""
    return np.log1p(growth) / 12 - absorption * np.asarray(dlog_productivity, float)


def sector_productivity(rows, firms, n_sectors):
    """Job-weighted mean productivity before chip caps, by NBS sector (0 where no jobs)."""
    num, den = np.zeros(n_sectors), np.zeros(n_sectors)
    _sector_sums(rows, firms.columns, num, den)
    return np.divide(num, den, out=np.zeros(n_sectors), where=den > 0)


@njit(cache=True)
def _sector_sums(rows, firms, num, den):
    """By NBS sector, summed in row order (as np.bincount adds them): jobs x productivity
    before chip caps into num, jobs into den."""
    for i in range(len(rows)):
        r = rows[i]
        jobs = firms.weight[r] * firms.employment[r]
        raw = firms.productivity[r] / max(firms.output_cap[r], 1e-12)
        num[firms.sector[r]] += jobs * raw
        den[firms.sector[r]] += jobs


class Demand(Mechanism):
    """Each NBS sector's labour trend this month, from its demand growth."""

    name = "demand"
    section = "production"

    def setup(self, model) -> None:
        p = model.p.production
        codes = model.sector_codes
        model.demand_mean_pct = np.array([p.trend_growth_pct[c] for c in codes], float)
        model.demand_sd_pct = np.array([p.demand_sd_pct[c] for c in codes], float)
        model.demand_rng = np.random.default_rng([model.seed, DEMAND_STREAM])
        model.demand_observed = (observed_growth(list(codes)) if p.demand_observed_years
                                 else {})
        model.demand_growth = yearly_growth(model.demand_mean_pct, 0.0, 0.0)  # the start year
        model.trend_log_monthly = labour_trend(model.demand_growth, 0.0, 0.0)
        model.sector_productivity = None
        model.demand_saturation = 1.0  # f: 1 until a drawn year finds the market filling

    def step(self, model, month) -> None:
        n = len(model.sector_codes)
        # a new year's market; the start year keeps the mean: its level is calibrated to the
        # data by pilots on other seeds (sim/calibration/level.py), which a draw would undo
        if month.index % 12 == 0 and month.index // 12 > model.start_month // 12:
            z = model.demand_rng.standard_normal(n)  # drawn every year: later years keep their draws
            year = month.index // 12
            if year in model.demand_observed:
                model.demand_growth, model.demand_saturation = model.demand_observed[year], 1.0
            else:
                f, mean = self.saturated(model, year)
                model.demand_growth = yearly_growth(mean, model.demand_sd_pct, z)
                model.demand_saturation = f
        y = sector_productivity(month.rows, model.firms, n)
        previous = model.sector_productivity
        dlog = np.zeros(n) if previous is None else np.log(
            np.where((y > 0) & (previous > 0), y / np.where(previous > 0, previous, 1), 1.0))
        model.sector_productivity = y
        model.trend_log_monthly = labour_trend(
            model.demand_growth, dlog,
            saturated_absorption(model.p.production.demand_absorption, model.demand_saturation))

    @staticmethod
    def saturated(model, year: int) -> tuple[float, np.ndarray]:
        """(f, mean demand growth by sector %) of a drawn year, from last year's share."""
        gdp = model.gdp_by_year
        share = previous_year_share(model, year - 1) if year - 1 in gdp else None
        f = saturation(share, model.p.production.saturation_share_pct)
        if f == 1.0:
            return f, model.demand_mean_pct
        gdp_growth_pct = 100 * (gdp[year] / gdp[year - 1] - 1)
        return f, saturated_mean_pct(model.demand_mean_pct, gdp_growth_pct, f)


DEMAND = Demand()
