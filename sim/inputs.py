"""Input tables shipped in sim/data (or supplied by the user) as arrays the model can use.

Each table's columns, units and sources are described in sim/data/SOURCES.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from sim.scenario import Scenario, ScenarioError, month_index

TIERS = ("frontier_ai", "hbm", "advanced_foundry", "equipment")
SECTOR_CODES = ("01", "02", "03", "04")

REGION_COLUMNS = ("region_id", "name", "macro_region", "kind", "nmc_2022", "lat", "lon",
                  "specialisations", "area_km2", "core_va_share_2020_pct", "firms_share_2020_pct",
                  "rd_intensity_pct", "attractiveness", "infrastructure_index", "source")
SECTOR_COLUMNS = ("subsector_id", "sector", "name", "va_share_2020_pct", "va_to_revenue",
                  "va_per_worker_k_yuan", "rd_intensity_pct", *(f"dep_{t}" for t in TIERS),
                  "domestic_substitute_2020", "agglomeration_pull", "source")
GDP_COLUMNS = ("year", "gdp_bn_yuan", "kind", "source")
EVENT_COLUMNS = ("date", "event_id", "name", *(f"avail_{t}" for t in TIERS), "entity_list_add",
                 "foreign_knowledge", "source")
FIRM_COLUMNS = ("firm_id", "name", "region_id", "subsector_id", "revenue_2020_bn_yuan",
                "employment_2020", "rd_intensity_pct", "source")


DATA_DIR = Path(__file__).resolve().parent / "data"


def builtin(name: str) -> Path:
    return DATA_DIR / name


def read_table(path: Path, columns: tuple[str, ...], key: str, scenario: Scenario | None) -> pd.DataFrame:
    def fail(problem: str) -> ScenarioError:
        if scenario is not None and key:
            return scenario.error(key, f"{path}: {problem}")
        return ScenarioError(path, None, None, problem)

    if not path.exists():
        raise fail("file not found")
    try:
        df = pd.read_csv(path, dtype={"sector": str, "subsector_id": str, "region_id": str},
                         keep_default_na=False, na_values=[""])
    except Exception as exc:  # pandas raises several types for malformed CSV
        raise fail(f"cannot read CSV: {exc}") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise fail(f"missing columns: {', '.join(missing)}")
    return df


@lru_cache(maxsize=32)
def _cached(path: str, columns: tuple[str, ...]) -> pd.DataFrame:
    return read_table(Path(path), columns, "", None)


def _table(scenario: Scenario | None, key: str | None, default: str,
           columns: tuple[str, ...]) -> pd.DataFrame:
    path = scenario.resolve_path(key) if (scenario is not None and key) else None
    if path is None:
        return _cached(str(builtin(default)), columns).copy()
    return read_table(path, columns, key, scenario)


def haversine_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    dlat = la[:, None] - la[None, :]
    dlon = lo[:, None] - lo[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(la[:, None]) * np.cos(la[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


@dataclass
class Event:
    """An export-control rule: from `month` on, the listed availabilities apply."""

    date: str
    month: int
    name: str
    avail: dict[str, float]          # tier -> availability for ordinary firms (absent: unchanged)
    foreign_knowledge: float | None
    entity_list_add: tuple[str, ...]
    source: str = ""
    direction: str = "set"           # tighten | loosen | set (see export_controls.apply_rule)


@dataclass
class Inputs:
    regions: pd.DataFrame
    sectors: pd.DataFrame
    named_firms: pd.DataFrame
    gdp_by_year: dict[int, float]
    gdp_kind: dict[int, str]
    gdp_by_month: dict[int, float]   # month index -> bn yuan; sums to gdp_by_year per year
    events: list[Event]
    dist_km: np.ndarray
    designated: np.ndarray           # bool per region

    @property
    def n_regions(self) -> int:
        return len(self.regions)

    @property
    def n_subsectors(self) -> int:
        return len(self.sectors)

    @property
    def subsector_sector(self) -> np.ndarray:
        """NBS sector index (0..3) of each sub-sector."""
        return np.array([SECTOR_CODES.index(s) for s in self.sectors["sector"]])

    @property
    def dependence(self) -> np.ndarray:
        return self.sectors[[f"dep_{t}" for t in TIERS]].to_numpy(float)


def _gdp_path(sc: Scenario) -> tuple[dict[int, float], dict[int, str]]:
    df = _table(sc, "data.gdp_file", "gdp.csv", GDP_COLUMNS)
    by_year: dict[int, float] = {}
    kind: dict[int, str] = {}
    for row in df.itertuples():
        year = int(row.year)
        if row.kind == "census_revised" and not sc.get("macro.census_revision"):
            continue
        if row.kind == "projected":
            continue  # projections come from the scenario's growth assumption
        # a census-revised row replaces the preliminary figure of its year
        if year in by_year and kind[year] == "census_revised":
            continue
        by_year[year], kind[year] = float(row.gdp_bn_yuan), str(row.kind)
    if not by_year:
        raise sc.error("data.gdp_file", "no usable GDP rows")
    last = max(by_year)
    end_year = month_index(sc.get("run.end")) // 12
    g = sc.get("macro.gdp_growth_after_data_pct") / 100
    for year in range(last + 1, end_year + 1):
        by_year[year] = by_year[year - 1] * (1 + g)
        kind[year] = "projected"
    start_year = month_index(sc.get("run.start")) // 12
    for year in range(start_year, end_year + 1):
        if year not in by_year:
            raise sc.error("data.gdp_file", f"no GDP for {year}")
    return by_year, kind


def monthly_gdp(by_year: dict[int, float]) -> dict[int, float]:
    """Monthly GDP that grows smoothly within each year and sums exactly to the annual figure.

    Dividing annual GDP by twelve would make the monthly share jump every January; instead the
    mid-year monthly averages are joined log-linearly and each year is rescaled to its total.
    """
    years = sorted(by_year)
    if len(years) == 1:
        return {years[0] * 12 + m: by_year[years[0]] / 12 for m in range(12)}
    mid = np.array([y * 12 + 5.5 for y in years])
    log_avg = np.log([by_year[y] / 12 for y in years])
    months = np.arange(years[0] * 12, years[-1] * 12 + 12)
    # log-linear through the mid-year points, extended at both ends with the edge growth rates
    slope_lo = (log_avg[1] - log_avg[0]) / 12
    slope_hi = (log_avg[-1] - log_avg[-2]) / 12
    level = np.interp(months, mid, log_avg)
    level = np.where(months < mid[0], log_avg[0] + slope_lo * (months - mid[0]), level)
    level = np.where(months > mid[-1], log_avg[-1] + slope_hi * (months - mid[-1]), level)
    values = np.exp(level)
    out: dict[int, float] = {}
    for i, y in enumerate(years):
        chunk = values[i * 12:(i + 1) * 12]
        for m, v in enumerate(chunk * by_year[y] / chunk.sum()):
            out[y * 12 + m] = float(v)
    return out


def _events(sc: Scenario, firm_ids: set[str]) -> list[Event]:
    events: list[Event] = []
    if not sc.get("export_controls.enabled"):
        return events

    def num(v) -> float | None:
        return None if v is None or (isinstance(v, float) and np.isnan(v)) or v == "" else float(v)

    if sc.get("export_controls.use_historical_events"):
        df = _table(sc, "data.events_file", "export_controls.csv", EVENT_COLUMNS)
        until = sc.get("export_controls.historical_until")
        for row in df.to_dict("records"):
            if until != "all" and month_index(str(row["date"])) > month_index(until):
                continue
            direction = str(row.get("direction") or "tighten")
            if direction not in ("tighten", "loosen", "set"):
                raise sc.error("data.events_file", f"event {row['date']}: direction must be "
                               f"tighten, loosen or set, not {direction!r}")
            adds = tuple(x for x in str(row.get("entity_list_add") or "").split(";") if x.strip())
            events.append(Event(str(row["date"]), month_index(str(row["date"])), str(row["name"]),
                                {t: num(row[f"avail_{t}"]) for t in TIERS
                                 if num(row[f"avail_{t}"]) is not None},
                                num(row["foreign_knowledge"]), tuple(a.strip() for a in adds),
                                str(row.get("source", "")), direction))
    for i, ev in enumerate(sc.get("export_controls.extra_events")):
        adds = tuple(ev.get("entity_list_add") or ())
        for f in adds:
            if f not in firm_ids:
                raise sc.error(f"export_controls.extra_events.{i}.entity_list_add",
                               f"unknown firm '{f}'; named firms are " + ", ".join(sorted(firm_ids)))
        events.append(Event(str(ev["date"]), month_index(str(ev["date"])),
                            str(ev.get("name", f"extra_{i}")),
                            {t: float(ev[f"avail_{t}"]) for t in TIERS
                             if ev.get(f"avail_{t}") is not None},
                            num(ev.get("foreign_knowledge")), adds, "scenario",
                            ev.get("direction", "set")))
    events.sort(key=lambda e: e.month)  # stable: same-month historical rules keep their order
    return events


def load_inputs(sc: Scenario) -> Inputs:
    regions = _table(sc, "data.regions_file", "regions.csv", REGION_COLUMNS)
    sectors = _table(sc, None, "sectors.csv", SECTOR_COLUMNS)
    firms = _table(sc, None, "named_firms.csv", FIRM_COLUMNS)
    region_ids = list(regions["region_id"])
    if len(set(region_ids)) != len(region_ids):
        raise sc.error("data.regions_file", "duplicate region_id in the region table")
    # named firms whose region a user table lacks are left out rather than misplaced
    firms = firms[firms["region_id"].isin(region_ids)].reset_index(drop=True)
    designated_spec = sc.get("policy.designated_clusters")
    if designated_spec == "nmc_2022":
        designated = regions["nmc_2022"].astype(int).to_numpy() == 1
    elif designated_spec in ("none", ""):
        designated = np.zeros(len(regions), bool)
    else:
        ids = [designated_spec] if isinstance(designated_spec, str) else list(designated_spec)
        for r in ids:
            if r not in region_ids:
                from difflib import get_close_matches
                near = get_close_matches(r, region_ids, n=1)
                raise sc.error("policy.designated_clusters", f"unknown region '{r}'" +
                               (f"; did you mean '{near[0]}'?" if near else ""))
        designated = np.isin(regions["region_id"].to_numpy(), ids)
    gdp, kind = _gdp_path(sc)
    events = _events(sc, set(firms["firm_id"]))
    dist = haversine_km(regions["lat"].to_numpy(float), regions["lon"].to_numpy(float))
    return Inputs(regions, sectors, firms, gdp, kind, monthly_gdp(gdp), events, dist, designated)
