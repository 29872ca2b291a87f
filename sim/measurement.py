"""The measurement equation: what each statistical office would publish, given simulated values.

The model keeps one internal basis. Its core digital value added is calibrated to 2020 (7.91 trn
yuan, 7.8% of GDP, before the 5th economic census) and never changes basis, whatever GDP
denominator the scenario uses. Every published series is a measurement on its own basis, so each
has one function here that maps simulated annual aggregates onto it:

  core_va_official_bn_yuan, core_va_share_gdp_official_pct   NBS: pre-census basis before the
      census year; from it on, core VA x measurement.census_basis_factor over census-basis GDP
  software_business_revenue_bn_yuan, eim_revenue_bn_yuan      MIIT, from sub-sector revenue
  ic_industry_sales_bn_yuan                                   CSIA (industry association)
  census_legal_entities, census_employment, census_revenue_bn_yuan   economic census, by the
      census's four categories (the NBS sectors 01-04) and in total
  ic_imports_units, ic_imports_value_bn_usd                   GACC customs: the 2020 level
      times the model's imported chip use relative to 2020 (chip_import_index, annual sums)
  ic_production_units                                         NBS/MIIT: the 2020 level times
      01_ic value added relative to 2020 (the model has volumes, not units or chip prices)
  named_firm_revenue_bn_yuan, named_firm_revenue_bn_usd       the firm's annual report: the
      year's revenue at its own VA ratio (category = firm id), in the currency it reports in

Which years of the GDP table are on which basis (sim/data/gdp.csv): 2020-2022 are pre-census;
2023 has a preliminary (pre-census) and a `census_revised` row, and the model uses the latter
unless macro.census_revision is false; 2024 (published 2025-01-17) and the projections grown
from it are on the census basis. The census year is the year of the `census_revised` row.

Every function takes a `Simulated` (annual aggregates of one or more replicates; the key
column `replicate` passes through) and `Params`, and returns a long frame
[keys..., year, category, value]: category is "all" or an NBS sector code. They return a value
for every simulated year; whether anything was published that year is the observed table's
business (sim/data/observed.csv, documented in sim/data/SOURCES.md), and `compare` pairs the
two only where an observation exists: no official core share exists for 2021 or 2022.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from sim.errors import NumericalError
from sim.inputs import DATA_DIR, GDP, Column, Inputs, Table, builtin, read_table
from sim.scenario import Scenario, ScenarioError

KEY_COLUMNS = ("replicate",)
ALL = "all"
OBSERVED_FILE = DATA_DIR / "observed.csv"
OBSERVED = Table("observed-series table", (
    Column("series", "id"), Column("year", "int", 1950, 2100), Column("category", "id"),
    Column("value", "float"), Column("unit"), Column("uncertainty", "float", 0, above=True),
    Column("uncertainty_basis"), Column("grade"), Column("published"), Column("source")),
    row_key=lambda row: (row["series"], int(row["year"]), row["category"]), key_column="series")

BASES_FILE = DATA_DIR / "measurement_bases.csv"
BASES = Table("measurement-base table", (
    Column("series", "id"), Column("year", "int", 1950, 2100),
    Column("value", "float", 0, above=True), Column("unit"), Column("grade"), Column("source")),
    row_key=lambda row: (row["series"], int(row["year"])), key_column="series")
# Series published in units the model does not have are indices on this year's published level
BASE_YEAR = 2020

# The VA/revenue ratios the 2020 sub-sectors were built with from the MIIT and CSIA figures
# (sim/data/SOURCES.md, sectors.csv), i.e. revenue as those statistics count it. sectors.csv's
# `va_to_revenue` is the census's (the census back-cast), whose revenue for the same value
# added is larger in 01 and 04 and smaller in 02 and 03; the MIIT and CSIA series keep the
# revenue they were built from.
STATISTICS_RATIO = {"01_computers_comms": 0.17, "01_ic": 0.422, "01_components": 0.22,
                    "03_software_it": 0.38, "03_internet_cloud_ai": 0.45, "04_platforms": 0.30}
# Share of each sub-sector's revenue (at STATISTICS_RATIO) that a revenue statistic counts, from
# the 2020 figures the sub-sectors were built from (sim/data/SOURCES.md; bn yuan). 03_software_it is
# MIIT software revenue less IC design, embedded software, cloud and e-commerce platform
# services, which the statistic counts inside other sub-sectors; embedded software is counted
# by MIIT in both software and electronics, hence 01_computers_comms in both.
IC_REVENUE_2020 = 884.8         # CSIA IC sales (B): design 377.84 + fabrication + packaging
REVENUE_COVERAGE: dict[str, dict[str, float]] = {
    "software_business_revenue_bn_yuan": {
        "03_software_it": 1.0,
        "01_ic": 377.84 / IC_REVENUE_2020,             # IC design
        "01_computers_comms": 749.2 / 7018.0,          # embedded software / 58% of EIM 12.1 trn
        "03_internet_cloud_ai": 411.6 / (724.0 / 0.45),  # cloud & big data / sub-sector revenue
        "04_platforms": 909.5 / (993.0 / 0.30),        # e-commerce platform technical services
    },
    "eim_revenue_bn_yuan": {
        "01_computers_comms": 1.0,
        "01_components": 1.0,
        "01_ic": 1 - 377.84 / IC_REVENUE_2020,        # fabrication and packaging, not design
    },
    "ic_industry_sales_bn_yuan": {"01_ic": 1.0},
}


@dataclass(frozen=True)
class Basis:
    """The statistical basis of each year's GDP in a run."""

    census_year: int | None            # None: the GDP table has no census revision
    gdp_revision: float | None         # census-basis / preliminary GDP of the census year
    revised_gdp_used: bool             # the run's census-year GDP is the census-revised figure

    def on_census_basis(self, year: int) -> bool:
        cy = self.census_year
        return cy is not None and (year > cy or (year == cy and self.revised_gdp_used))


def gdp_basis(gdp_table: pd.DataFrame, gdp_kind: Mapping[int, str]) -> Basis:
    """Read the basis of each year from the GDP table (rows year, gdp_bn_yuan, kind) and the kind
    of GDP row the run used each year (`Inputs.gdp_kind`)."""
    revised = gdp_table[gdp_table["kind"] == "census_revised"]
    if revised.empty:
        return Basis(None, None, False)
    census_year = int(revised["year"].min())
    same_year = gdp_table[gdp_table["year"] == census_year]
    pre = same_year[same_year["kind"] != "census_revised"]["gdp_bn_yuan"]
    revision = (float(revised[revised["year"] == census_year]["gdp_bn_yuan"].iloc[0]) /
                float(pre.iloc[0])) if len(pre) else None
    return Basis(census_year, revision, gdp_kind.get(census_year) == "census_revised")


@dataclass(frozen=True)
class Params:
    """The measurement parameters: the census basis factor, the GDP basis, and the sub-sector
    VA/revenue ratios and NBS sectors of sim/data/sectors.csv."""

    census_basis_factor: float
    basis: Basis
    va_to_revenue: Mapping[str, float]
    sector_of: Mapping[str, str]
    # (series, year) -> value of sim/data/measurement_bases.csv: base-year levels, exchange rates
    bases: Mapping[tuple[str, int], float] = field(default_factory=lambda: shipped_bases())

    def base(self, series: str, year: int) -> float:
        if (series, year) not in self.bases:
            raise ValueError(f"{series} needs its {year} value in {BASES_FILE.name}")
        return self.bases[(series, year)]

    def factor(self, years: pd.Series) -> np.ndarray:
        """The census basis factor in census-basis years, 1 before."""
        cy = self.basis.census_year
        return np.where(years >= cy, self.census_basis_factor, 1.0) if cy else np.ones(len(years))


def params_from(inputs: Inputs, census_basis_factor: float, gdp_table: pd.DataFrame) -> Params:
    sectors = inputs.sectors
    return Params(float(census_basis_factor), gdp_basis(gdp_table, inputs.gdp_kind),
                  dict(zip(sectors["subsector_id"], sectors["va_to_revenue"].astype(float))),
                  dict(zip(sectors["subsector_id"], sectors["sector"])))


def params_for(scenario: Scenario, inputs: Inputs) -> Params:
    """The measurement parameters of a scenario run (reads the scenario's GDP table)."""
    path = scenario.resolve_path("data.gdp_file")
    table = read_table(path or builtin("gdp.csv"), GDP, "data.gdp_file" if path else "",
                       scenario if path else None)
    return params_from(inputs, scenario.get("measurement.census_basis_factor"), table)


@dataclass(frozen=True)
class Simulated:
    """Annual aggregates of a run, in the model's internal (pre-census) basis.

    annual      keys, year, core_va_bn_yuan, gdp_bn_yuan      (annual.csv; other columns ignored)
    subsectors  keys, year, subsector, core_va_bn_yuan        (annual sum of each sub-sector's VA)
    year_end    keys, year, sector, firms, employment         (December stock by NBS sector)
    chips       keys, year, chip_import_index                 (annual sum of the monthly index)
    named       keys, year, firm, revenue_bn_yuan             (annual sum, own VA ratio)
    """

    annual: pd.DataFrame
    subsectors: pd.DataFrame | None = None
    year_end: pd.DataFrame | None = None
    chips: pd.DataFrame | None = None
    named: pd.DataFrame | None = None


def _keys(df: pd.DataFrame) -> list[str]:
    return [c for c in KEY_COLUMNS if c in df.columns]


def _need(frame: pd.DataFrame | None, name: str, series: str) -> pd.DataFrame:
    if frame is None:
        raise ValueError(f"{series} needs the simulated '{name}' aggregates")
    return frame


def _check_finite(out: pd.DataFrame, series: str) -> pd.DataFrame:
    bad = out[~np.isfinite(out["value"].to_numpy(float))]
    if len(bad):
        raise NumericalError(str(int(bad["year"].iloc[0])), series)
    return out


def _long(df: pd.DataFrame, value: pd.Series | np.ndarray, series: str,
          category: pd.Series | str = ALL) -> pd.DataFrame:
    out = df[_keys(df) + ["year"]].copy()
    out["year"] = out["year"].astype(int)
    out["category"] = category
    out["value"] = np.asarray(value, float)
    return _check_finite(out.reset_index(drop=True), series)


# --------------------------------------------------------------------------- NBS core VA

def core_va_official_bn_yuan(sim: Simulated, p: Params) -> pd.DataFrame:
    """Core digital VA as the NBS publishes it: the model's value before the census year, times
    the census basis factor from it on (NBS published 12.7555 trn for 2023)."""
    a = sim.annual
    return _long(a, a["core_va_bn_yuan"].to_numpy(float) * p.factor(a["year"]),
                 "core_va_official_bn_yuan")


def core_va_share_gdp_official_pct(sim: Simulated, p: Params) -> pd.DataFrame:
    """Official core share of GDP, %: pre-census VA over pre-census GDP before the census year;
    from it on, official VA over census-basis GDP. A run on the preliminary census-year GDP
    (macro.census_revision false) has that year's GDP put on the census basis with the GDP
    table's own revision (129,400 / 126,058)."""
    a = sim.annual
    years = a["year"].astype(int)
    va = a["core_va_bn_yuan"].to_numpy(float) * p.factor(years)
    gdp = a["gdp_bn_yuan"].to_numpy(float)
    cy = p.basis.census_year
    needs_revision = np.array([cy is not None and y >= cy and not p.basis.on_census_basis(y)
                               for y in years], bool)
    if needs_revision.any():
        if p.basis.gdp_revision is None:
            raise ValueError(f"GDP of {int(years[needs_revision].iloc[0])} is on the pre-census "
                             "basis and the GDP table has no preliminary figure for the census "
                             "year to revise it with")
        gdp = np.where(needs_revision, gdp * p.basis.gdp_revision, gdp)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(gdp > 0, 100 * va / gdp, np.nan)
    return _long(a, share, "core_va_share_gdp_official_pct")


def with_official_share(annual: pd.DataFrame, p: Params) -> pd.DataFrame:
    """annual.csv's rows with `core_va_share_gdp_official_pct` appended (same row order)."""
    share = core_va_share_gdp_official_pct(Simulated(annual), p)
    return annual.assign(core_va_share_gdp_official_pct=share["value"].to_numpy())


# --------------------------------------------------------------------------- revenue series

def _subsector_revenue(sim: Simulated, p: Params, series: str) -> pd.DataFrame:
    """Each sub-sector's annual revenue on the census's concept, VA / (VA/revenue ratio of
    sectors.csv)."""
    sub = _need(sim.subsectors, "subsectors", series)
    unknown = sorted(set(sub["subsector"]) - set(p.va_to_revenue))
    if unknown:
        raise ValueError(f"{series}: sub-sectors not in the sector table: {', '.join(unknown)}")
    ratio = sub["subsector"].map(p.va_to_revenue).to_numpy(float)
    return sub.assign(revenue=sub["core_va_bn_yuan"].to_numpy(float) / ratio)


def _covered_revenue(sim: Simulated, p: Params, series: str) -> pd.DataFrame:
    coverage = REVENUE_COVERAGE[series]
    sub = _need(sim.subsectors, "subsectors", series)
    rev = sub[sub["subsector"].isin(coverage)]
    rev = rev.assign(revenue=rev["core_va_bn_yuan"].to_numpy(float)
                     / rev["subsector"].map(STATISTICS_RATIO).to_numpy(float))
    keys = _keys(rev) + ["year"]
    present = rev.groupby(keys)["subsector"].nunique()
    if present.empty or (present < len(coverage)).any():
        raise ValueError(f"{series} needs the value added of {', '.join(sorted(coverage))} "
                         "in every year")
    rev = rev.assign(counted=rev["revenue"] * rev["subsector"].map(coverage))
    total = rev.groupby(keys, sort=True)["counted"].sum().reset_index()
    return _long(total, total["counted"], series)


def software_business_revenue_bn_yuan(sim: Simulated, p: Params) -> pd.DataFrame:
    """MIIT software business revenue: software & IT services plus the IC design, embedded
    software, cloud and e-commerce platform services counted in other sub-sectors."""
    return _covered_revenue(sim, p, "software_business_revenue_bn_yuan")


def eim_revenue_bn_yuan(sim: Simulated, p: Params) -> pd.DataFrame:
    """MIIT electronic information manufacturing revenue (above designated size): computers &
    communication equipment, components, and IC fabrication and packaging."""
    return _covered_revenue(sim, p, "eim_revenue_bn_yuan")


def ic_industry_sales_bn_yuan(sim: Simulated, p: Params) -> pd.DataFrame:
    """CSIA IC industry sales: design, fabrication and packaging & test."""
    return _covered_revenue(sim, p, "ic_industry_sales_bn_yuan")


# --------------------------------------------------------------------------- economic census

def _by_category(frame: pd.DataFrame, column: str, series: str) -> pd.DataFrame:
    """Totals by NBS sector and over all sectors, as the census publishes them."""
    keys = _keys(frame) + ["year"]
    by_sector = frame.groupby(keys + ["sector"], sort=True)[column].sum().reset_index()
    total = by_sector.groupby(keys, sort=True)[column].sum().reset_index().assign(sector=ALL)
    both = pd.concat([total, by_sector], ignore_index=True).sort_values(keys, kind="stable")
    return _long(both, both[column], series, both["sector"].to_numpy())


def census_legal_entities(sim: Simulated, p: Params) -> pd.DataFrame:
    """Legal entities at the year end (the census counts the stock on 31 December)."""
    return _by_category(_need(sim.year_end, "year_end", "census_legal_entities"), "firms",
                        "census_legal_entities")


def census_employment(sim: Simulated, p: Params) -> pd.DataFrame:
    """Persons employed at the year end."""
    return _by_category(_need(sim.year_end, "year_end", "census_employment"), "employment",
                        "census_employment")


def census_revenue_bn_yuan(sim: Simulated, p: Params) -> pd.DataFrame:
    """Operating revenue of the year, on the census basis: sub-sector revenue times the census
    basis factor, since the census finds the revenue behind the value added it adds."""
    series = "census_revenue_bn_yuan"
    rev = _subsector_revenue(sim, p, series)
    rev = rev.assign(sector=rev["subsector"].map(p.sector_of),
                     revenue=rev["revenue"] * p.factor(rev["year"].astype(int)))
    return _by_category(rev, "revenue", series)


# --------------------------------------------------------------------------- chips and named firms

def _relative_to_base(frame: pd.DataFrame, column: str, series: str, p: Params) -> pd.DataFrame:
    """The published BASE_YEAR level times the simulated column relative to its BASE_YEAR value
    (of the same replicate)."""
    keys = _keys(frame)
    base = frame[frame["year"].astype(int) == BASE_YEAR]
    if base.empty:
        raise ValueError(f"{series} is measured from {BASE_YEAR}: the run must cover {BASE_YEAR}")
    if keys:
        b = frame[keys].merge(base[keys + [column]].rename(columns={column: "_base"}), on=keys,
                              how="left")["_base"].to_numpy(float)
    else:
        b = np.full(len(frame), float(base[column].iloc[0]))
    return _long(frame, p.base(series, BASE_YEAR) * frame[column].to_numpy(float) / b, series)


def ic_imports_units(sim: Simulated, p: Params) -> pd.DataFrame:
    """IC imports (customs, billion units): the 2020 count times imported chip use relative to
    2020. Imported chip use is output-weighted and falls as availability and the domestic
    share move; the model has no chip prices, so units and value share one index."""
    series = "ic_imports_units"
    return _relative_to_base(_need(sim.chips, "chips", series), "chip_import_index", series, p)


def ic_imports_value_bn_usd(sim: Simulated, p: Params) -> pd.DataFrame:
    """IC imports (customs, bn USD): the 2020 value times the same index as the units."""
    series = "ic_imports_value_bn_usd"
    return _relative_to_base(_need(sim.chips, "chips", series), "chip_import_index", series, p)


def ic_production_units(sim: Simulated, p: Params) -> pd.DataFrame:
    """IC production (NBS, billion units): the 2020 count times 01_ic value added relative to
    2020, output volume standing for units."""
    series = "ic_production_units"
    sub = _need(sim.subsectors, "subsectors", series)
    ic = sub[sub["subsector"] == "01_ic"]
    if ic.empty:
        raise ValueError(f"{series} needs the value added of 01_ic")
    return _relative_to_base(ic, "core_va_bn_yuan", series, p)


def named_firm_revenue_bn_yuan(sim: Simulated, p: Params) -> pd.DataFrame:
    """A named firm's revenue of the year as its annual report gives it (Huawei reports in
    yuan): the sum of its monthly value added over its own VA ratio; category = firm id."""
    named = _need(sim.named, "named", "named_firm_revenue_bn_yuan")
    return _long(named, named["revenue_bn_yuan"], "named_firm_revenue_bn_yuan",
                 named["firm"].to_numpy())


def named_firm_revenue_bn_usd(sim: Simulated, p: Params) -> pd.DataFrame:
    """Revenue of a firm that reports in US dollars (SMIC): the yuan revenue at the year's
    average exchange rate (cny_per_usd of measurement_bases.csv); years without a rate there
    are left out, as no dollar figure can be formed for them."""
    named = _need(sim.named, "named", "named_firm_revenue_bn_usd")
    named = named[[("cny_per_usd", int(y)) in p.bases for y in named["year"]]]
    rate = np.array([p.base("cny_per_usd", int(y)) for y in named["year"]], float)
    return _long(named, named["revenue_bn_yuan"].to_numpy(float) / rate,
                 "named_firm_revenue_bn_usd", named["firm"].to_numpy())


def year_end_from_firms(firms: pd.DataFrame, p: Params) -> pd.DataFrame:
    """`Simulated.year_end` from firms.csv (year-end snapshots of the firm agents)."""
    f = firms.assign(sector=firms["sector"].map(p.sector_of),
                     firms=firms["weight"], employment=firms["weight"] * firms["employment"])
    keys = _keys(firms) + ["year", "sector"]
    return f.groupby(keys, sort=True)[["firms", "employment"]].sum().reset_index()


# --------------------------------------------------------------------------- registry

@lru_cache(maxsize=4)
def _observed(path: str) -> pd.DataFrame:
    df = read_table(Path(path), OBSERVED, "", None)  # cells: type, finiteness, range
    names = {s.name for s in SERIES}
    for i, row in enumerate(df.itertuples(index=False), start=2):
        if row.series not in names:
            raise ScenarioError(path, i, "series", f"unknown series '{row.series}'")
        if str(row.grade).startswith("D"):
            raise ScenarioError(path, i, "grade", "unverified (D) rows are kept out")
    return df.astype({"year": int, "value": float, "uncertainty": float, "category": str})


@lru_cache(maxsize=4)
def _bases(path: str) -> dict[tuple[str, int], float]:
    df = read_table(Path(path), BASES, "", None)
    return {(str(r.series), int(r.year)): float(r.value) for r in df.itertuples(index=False)}


def shipped_bases(path: Path = BASES_FILE) -> dict[tuple[str, int], float]:
    """Base-year levels and exchange rates the measurement step uses (a fresh copy)."""
    return dict(_bases(str(path)))


def observed_table(path: Path = OBSERVED_FILE) -> pd.DataFrame:
    """The published series the model is judged against (a fresh copy)."""
    return _observed(str(path)).copy()


@dataclass(frozen=True)
class PublishedSeries:
    name: str
    unit: str
    publisher: str
    measure: Callable[[Simulated, Params], pd.DataFrame]

    @property
    def observed(self) -> pd.DataFrame:
        obs = observed_table()
        return obs[obs["series"] == self.name].reset_index(drop=True)


SERIES: tuple[PublishedSeries, ...] = (
    PublishedSeries("core_va_share_gdp_official_pct", "% of GDP", "NBS",
                    core_va_share_gdp_official_pct),
    PublishedSeries("core_va_official_bn_yuan", "bn yuan", "NBS", core_va_official_bn_yuan),
    PublishedSeries("software_business_revenue_bn_yuan", "bn yuan", "MIIT",
                    software_business_revenue_bn_yuan),
    PublishedSeries("eim_revenue_bn_yuan", "bn yuan", "MIIT", eim_revenue_bn_yuan),
    PublishedSeries("ic_industry_sales_bn_yuan", "bn yuan", "CSIA", ic_industry_sales_bn_yuan),
    PublishedSeries("census_legal_entities", "firms", "NBS census", census_legal_entities),
    PublishedSeries("census_employment", "persons", "NBS census", census_employment),
    PublishedSeries("census_revenue_bn_yuan", "bn yuan", "NBS census", census_revenue_bn_yuan),
    PublishedSeries("ic_imports_units", "bn units", "GACC", ic_imports_units),
    PublishedSeries("ic_imports_value_bn_usd", "bn USD", "GACC", ic_imports_value_bn_usd),
    PublishedSeries("ic_production_units", "bn units", "NBS", ic_production_units),
    PublishedSeries("named_firm_revenue_bn_yuan", "bn yuan", "annual report",
                    named_firm_revenue_bn_yuan),
    PublishedSeries("named_firm_revenue_bn_usd", "bn USD", "annual report",
                    named_firm_revenue_bn_usd),
)
BY_NAME: dict[str, PublishedSeries] = {s.name: s for s in SERIES}


def compare(sim: Simulated, p: Params, series: tuple[PublishedSeries, ...] = SERIES,
            observed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each simulated measurement next to its observation, only where one was published:
    keys, series, year, category, simulated, observed, uncertainty, grade, unit."""
    obs = observed_table() if observed is None else observed
    parts = []
    for s in series:
        rows = obs[obs["series"] == s.name]
        if rows.empty:
            continue
        sim_rows = s.measure(sim, p).rename(columns={"value": "simulated"})
        parts.append(sim_rows.merge(
            rows[["year", "category", "value", "uncertainty", "grade", "unit"]]
            .rename(columns={"value": "observed"}), on=["year", "category"], how="inner")
            .assign(series=s.name))
    if not parts:
        return pd.DataFrame(columns=[*KEY_COLUMNS, "series", "year", "category", "simulated",
                                     "observed", "uncertainty", "grade", "unit"])
    out = pd.concat(parts, ignore_index=True)
    keys = _keys(out)
    return out[keys + ["series", "year", "category", "simulated", "observed", "uncertainty",
                       "grade", "unit"]]
