"""Moments the calibration can target, computed from one model run.

Each moment has an id (the `name` of a target row in a targets file), a unit and a plain-words
definition of what it measures in the model; docs in calibration/README.md say how closely each
maps onto its published counterpart. Add a moment by adding a function to MOMENTS.

Any published series of sim/data/observed.csv is a moment too, named
`observed:SERIES:YEAR:CATEGORY` (e.g. observed:core_va_share_gdp_official_pct:2023:all): the run
is put through the measurement step (sim/measurement.py) as the statistical office would
measure it, and a targets row of that name may leave value and sd empty to take them from the
observed table (`observed_target`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from sim import measurement
from sim.validation import stylised

OBSERVED_PREFIX = "observed:"
# The smallest sd an observed series gets as a target, relative to its value: the published
# rounding (often 0.05 bn yuan) is far below the error of mapping model sub-sectors onto a
# statistic's coverage (measurement.REVENUE_COVERAGE), which is judged at about 2%.
MAPPING_SD_FLOOR = 0.02


class MomentRecorder:
    """Observer: monthly value added by sub-sector and by region, the chip self-sufficiency
    reporter, and a December snapshot of every agent (size, weight, sub-sector). Value added
    is summed over the firms that produced this month, those alive at its start (exit and entry
    come later in the step), as the model's own core_va_bn_yuan is."""

    def __init__(self, model):
        self.model = model
        self.producers = model.firms.rows
        self.months: list[int] = []
        self.sub_va: list[np.ndarray] = []
        self.reg_va: list[np.ndarray] = []
        self.self_suff: list[float] = []
        self.chip_imports: list[float] = []
        self.named: list[tuple[int, np.ndarray, np.ndarray]] = []  # month, firm index, revenue
        self.snapshots: dict[int, dict[str, np.ndarray]] = {}
        self.named_ratio = model.inputs.named_firms["va_to_revenue"].to_numpy(float)

    def __call__(self, model) -> None:
        f, rows = model.firms, self.producers
        self.producers = model.firms.rows
        wva = f.weight[rows] * f.value_added[rows]
        self.months.append(model.month)
        self.sub_va.append(np.bincount(f.subsector[rows], wva, model.n_subsectors))
        self.reg_va.append(np.bincount(f.region[rows], wva, model.n_regions))
        self.self_suff.append(model.chip_self_sufficiency_pct)
        self.chip_imports.append(model.chip_import_index)
        named = rows[f.named[rows] >= 0]
        self.named.append((model.month, f.named[named].copy(),
                           f.value_added[named] / self.named_ratio[f.named[named]]))
        if model.month % 12 == 11:  # year-end state of the firms alive now
            rows = self.producers
            self.snapshots[model.month // 12] = {
                "row": rows.copy(), "weight": f.weight[rows].copy(),
                "va": 12 * f.value_added[rows], "employment": f.employment[rows].copy(),
                "subsector": f.subsector[rows].copy()}

    def measured(self) -> tuple["measurement.Simulated", "measurement.Params"]:
        """The run's aggregates and measurement parameters, built once for all the observed
        moments of a run (each build reads the GDP table: most of a moment's cost)."""
        if not hasattr(self, "_measured"):
            m = self.model
            self._measured = _simulated(self), measurement.params_for(m.config, m.inputs)
        return self._measured

    # helpers -------------------------------------------------------------------------------
    def _year_mask(self, year):
        return np.array([m // 12 == year for m in self.months])

    def annual(self, series: str, year: int) -> np.ndarray:
        data = np.array(self.sub_va if series == "sub" else self.reg_va)
        return data[self._year_mask(year)].sum(axis=0)

    def monthly(self, series: str, month: int) -> np.ndarray:
        data = self.sub_va if series == "sub" else self.reg_va
        return data[self.months.index(month)]

    def sub_index(self, prefix: str) -> np.ndarray:
        return np.array([s.startswith(prefix) for s in self.model.subsector_ids])

    def region_index(self, region: str) -> int:
        return self.model.region_ids.index(region)


@dataclass(frozen=True)
class Moment:
    name: str
    unit: str
    definition: str
    compute: Callable[[MomentRecorder], float]


def _within_year_growth(rec: MomentRecorder, prefix: str, year: int = 2020) -> float:
    """Annualised growth over the year, % (December over January, to the power 12/11)."""
    sel = rec.sub_index(prefix)
    jan, dec = year * 12, year * 12 + 11
    ratio = rec.monthly("sub", dec)[sel].sum() / rec.monthly("sub", jan)[sel].sum()
    return 100 * (ratio ** (12 / 11) - 1)


def _annual_growth(rec: MomentRecorder, prefix: str, y0: int, y1: int) -> float:
    sel = rec.sub_index(prefix)
    return 100 * (rec.annual("sub", y1)[sel].sum() / rec.annual("sub", y0)[sel].sum() - 1)


def _region_growth(rec: MomentRecorder, region: str, y0: int, y1: int) -> float:
    i = rec.region_index(region)
    return 100 * (rec.annual("reg", y1)[i] / rec.annual("reg", y0)[i] - 1)


def _share_2020(rec: MomentRecorder) -> float:
    gdp = rec.model.gdp_by_year[2020]
    return 100 * rec.annual("sub", 2020).sum() / gdp


def _self_sufficiency(rec: MomentRecorder, year: int = 2020) -> float:
    return float(np.mean(np.array(rec.self_suff)[rec._year_mask(year)]))


def _tail(rec: MomentRecorder) -> float:
    snap = rec.snapshots[max(rec.snapshots)]
    return stylised.pareto_tail(snap["va"], snap["weight"], n_resamples=9,
                                rng=np.random.default_rng(0)).alpha


def _beta(rec: MomentRecorder) -> float:
    """Volatility-size slope of annual employment growth, all consecutive year pairs pooled."""
    xs, gs = [], []
    years = sorted(rec.snapshots)
    for y0, y1 in zip(years, years[1:]):
        a, b = rec.snapshots[y0], rec.snapshots[y1]
        common, ia, ib = np.intersect1d(a["row"], b["row"], return_indices=True)
        ea, eb = a["employment"][ia], b["employment"][ib]
        ok = (ea > 0) & (eb > 0)
        g = np.log(eb[ok] / ea[ok])
        sub = a["subsector"][ia][ok]
        means = np.bincount(sub, g) / np.maximum(np.bincount(sub), 1)
        xs.append(np.log(ea[ok]))
        gs.append(g - means[sub])
    return stylised.volatility_size(np.concatenate(xs), np.concatenate(gs))["beta"]


MOMENTS: dict[str, Moment] = {m.name: m for m in (
    Moment("core_share_2020", "% of GDP", "core value added / GDP in 2020 (annual sums)",
           _share_2020),
    Moment("software_growth_2020", "%", "03_software_it value added, December 2020 over January "
           "2020, annualised", lambda r: _within_year_growth(r, "03_software_it")),
    Moment("software_growth_2020_2022", "%", "03_software_it value added, 2022 over 2020 "
           "(annual sums)", lambda r: _annual_growth(r, "03_software_it", 2020, 2022)),
    Moment("eim_growth_2020", "%", "NBS sector 01 (electronic information manufacturing) value "
           "added, December 2020 over January 2020, annualised",
           lambda r: _within_year_growth(r, "01_")),
    Moment("eim_growth_2020_2022", "%", "NBS sector 01 value added, 2022 over 2020 (annual sums)",
           lambda r: _annual_growth(r, "01_", 2020, 2022)),
    Moment("hefei_growth_2021", "%", "core value added of the hefei region, 2021 over 2020",
           lambda r: _region_growth(r, "hefei", 2020, 2021)),
    Moment("hangzhou_growth_2021", "%", "core value added of the hangzhou region, 2021 over 2020",
           lambda r: _region_growth(r, "hangzhou", 2020, 2021)),
    Moment("chip_self_sufficiency_2020", "%", "mean of chip_self_sufficiency_pct over 2020 "
           "(share of critical chip needs met by domestic supply, output-weighted)",
           _self_sufficiency),
    Moment("size_tail_exponent", "-", "Pareto exponent of value added per real firm in the last "
           "year (weighted Hill, KS-chosen xmin; sim/validation/stylised.py)", _tail),
    Moment("volatility_size_beta", "-", "beta in sd(g|S) ~ S^-beta, annual employment growth net "
           "of sub-sector means, all year pairs pooled", _beta),
)}


def _simulated(rec: MomentRecorder) -> measurement.Simulated:
    """The run's annual aggregates in the form the measurement step reads (complete years)."""
    m = rec.model
    years = sorted({mo // 12 for mo in rec.months if rec._year_mask(mo // 12).sum() == 12})
    annual = pd.DataFrame({"year": years,
                           "core_va_bn_yuan": [rec.annual("sub", y).sum() for y in years],
                           "gdp_bn_yuan": [m.gdp_by_year[y] for y in years]})
    subs = pd.DataFrame([{"year": y, "subsector": sid, "core_va_bn_yuan": va}
                         for y in years for sid, va in zip(m.subsector_ids, rec.annual("sub", y))])
    end = []
    for y, snap in sorted(rec.snapshots.items()):
        jobs = np.bincount(snap["subsector"], snap["weight"] * snap["employment"], m.n_subsectors)
        firms = np.bincount(snap["subsector"], snap["weight"], m.n_subsectors)
        end += [{"year": y, "subsector": sid, "firms": firms[s], "employment": jobs[s]}
                for s, sid in enumerate(m.subsector_ids)]
    year_end = pd.DataFrame(end)
    if len(year_end):
        sector_of = dict(zip(m.inputs.sectors["subsector_id"], m.inputs.sectors["sector"]))
        year_end = (year_end.assign(sector=year_end["subsector"].map(sector_of))
                    .groupby(["year", "sector"], sort=True)[["firms", "employment"]].sum()
                    .reset_index())
    imports = np.array(rec.chip_imports)
    chips = pd.DataFrame({"year": years, "chip_import_index":
                          [imports[rec._year_mask(y)].sum() for y in years]})
    firm_ids = m.inputs.named_firms["firm_id"].to_numpy()
    named = pd.DataFrame([{"year": mo // 12, "firm": firm_ids[i], "revenue_bn_yuan": r}
                          for mo, idx, rev in rec.named if mo // 12 in years
                          for i, r in zip(idx, rev)], columns=["year", "firm", "revenue_bn_yuan"])
    named = named.groupby(["year", "firm"], sort=True)["revenue_bn_yuan"].sum().reset_index()
    return measurement.Simulated(annual, subs, year_end if len(year_end) else None, chips, named)


def parse_observed(name: str) -> tuple[str, int, str] | None:
    """(series, year, category) of an `observed:SERIES:YEAR:CATEGORY` moment name, else None."""
    if not name.startswith(OBSERVED_PREFIX):
        return None
    parts = name[len(OBSERVED_PREFIX):].split(":")
    if len(parts) != 3 or not parts[1].isdigit():
        raise ValueError(f"{name}: expected observed:SERIES:YEAR:CATEGORY")
    return parts[0], int(parts[1]), parts[2]


def observed_target(name: str) -> tuple[float, float]:
    """(value, sd) of an observed moment: the published value, and its stated uncertainty or
    MAPPING_SD_FLOOR of the value, whichever is larger. KeyError if nothing was published."""
    series, year, category = parse_observed(name)
    obs = measurement.observed_table()
    row = obs[(obs["series"] == series) & (obs["year"] == year) & (obs["category"] == category)]
    if row.empty:
        raise KeyError(name)
    value, unc = float(row["value"].iloc[0]), float(row["uncertainty"].iloc[0])
    return value, max(unc, MAPPING_SD_FLOOR * abs(value))


def observed_moment(name: str) -> Moment:
    series, year, category = parse_observed(name)
    if series not in measurement.BY_NAME:
        raise KeyError(name)
    measure = measurement.BY_NAME[series].measure

    def compute(rec: MomentRecorder) -> float:
        out = measure(*rec.measured())
        hit = out[(out["year"] == year) & (out["category"] == category)]
        if hit.empty:
            raise ValueError(f"{name}: the run does not cover {year}")
        return float(hit["value"].iloc[0])

    unit = measurement.BY_NAME[series].unit
    return Moment(name, unit, f"{series} {year} ({category}) as the "
                  f"{measurement.BY_NAME[series].publisher} would publish it (sim/measurement.py)",
                  compute)


def moment(name: str) -> Moment:
    """A named moment: one of MOMENTS or an observed series (KeyError if neither)."""
    if name in MOMENTS:
        return MOMENTS[name]
    if parse_observed(name) is None:
        raise KeyError(name)
    return observed_moment(name)
