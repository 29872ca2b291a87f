"""Input tables shipped in sim/data (or supplied by the user) as arrays the model can use.

Each table's columns, units and sources are described in sim/data/SOURCES.md.
"""

from __future__ import annotations

import csv
import io
import math
import re
import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from sim.registry import SECTOR_CODES, TIERS
from sim.scenario import (MAX_TABLE_BYTES, Scenario, ScenarioError, date_problem,
                          finite_problem, month_index, read_text_file)



# --------------------------------------------------------------------------- table checks

@dataclass(frozen=True)
class Column:
    """What every cell of one column must hold; bounds follow from what the quantity means."""

    name: str
    kind: str = "text"        # text | id | ids (';'-separated) | int | float | flag | date | choice
    lo: float | None = None
    hi: float | None = None
    above: bool = False       # the value must exceed `lo` (a level or a size), not merely reach it
    blank_ok: bool = False    # an empty cell means "not given" (else it is an error)
    unique: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False    # the header may lack this column


@dataclass(frozen=True)
class Table:
    what: str
    columns: tuple[Column, ...]
    row_key: Callable[[dict], Any] | None = None   # rows with equal keys are duplicates
    key_column: str = ""                           # where a duplicate row key is reported

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if not c.optional)


def _fraction(name: str, **kw) -> Column:
    return Column(name, "float", 0, 1, **kw)


def _pct(name: str) -> Column:
    return Column(name, "float", 0, 100)


def _positive(name: str, kind: str = "float") -> Column:
    return Column(name, kind, 0, above=True)


SOURCE = Column("source", blank_ok=True)
# the grades of sim/data/SOURCES.md and what each says of a figure, date or event
GRADES = {"A": "official", "A-local": "a city's claim", "B": "recalled, not checked",
          "C": "arithmetic", "D": "unverified"}
REGIONS = Table("region table", (
    Column("region_id", "id", unique=True), Column("name"), Column("macro_region"),
    Column("kind", "choice", choices=("city_cluster", "hub", "rest")), Column("nmc_2022", "flag"),
    Column("lat", "float", -90, 90), Column("lon", "float", -180, 180),
    Column("specialisations", "ids", blank_ok=True), _positive("area_km2"),
    _pct("core_va_share_2020_pct"), _pct("firms_share_2020_pct"), _pct("rd_intensity_pct"),
    _positive("attractiveness"), _fraction("infrastructure_index"), SOURCE))
SECTORS = Table("sector table", (
    Column("subsector_id", "id", unique=True), Column("sector", "choice", choices=SECTOR_CODES),
    Column("name"), _pct("va_share_2020_pct"), _pct("firms_share_2020_pct"),
    Column("va_to_revenue", "float", 0, 1, above=True),
    _positive("va_per_worker_k_yuan"), _pct("rd_intensity_pct"),
    _fraction("agglomeration_pull"), SOURCE))
EXPOSURE_QUANTITIES = ("dependence", "domestic_share_2020")
CHIP_EXPOSURE = Table("chip-exposure table", (
    Column("quantity", "choice", choices=EXPOSURE_QUANTITIES), Column("subsector_id", "id"),
    Column("tier", "choice", choices=TIERS), _fraction("value"), _fraction("low"),
    _fraction("high"), Column("grade"), SOURCE),
    row_key=lambda row: (row["quantity"], row["subsector_id"], row["tier"]), key_column="tier")
GDP_KINDS = ("actual_final", "actual_preliminary", "census_revised", "projected")
GDP = Table("GDP table", (
    Column("year", "int", 1950, 2100), _positive("gdp_bn_yuan"),
    Column("kind", "choice", choices=GDP_KINDS), SOURCE),
    # one figure per year and basis: a census revision may stand beside the preliminary figure
    row_key=lambda row: (int(row["year"]), row["kind"] == "census_revised"), key_column="year")
EVENTS = Table("export-control event table", (
    Column("date", "date"), Column("event_id", "id", unique=True), Column("name"),
    *(_fraction(f"avail_{t}", blank_ok=True) for t in TIERS),
    Column("entity_list_add", "ids", blank_ok=True), _fraction("foreign_knowledge", blank_ok=True),
    _fraction("listed_availability", blank_ok=True, optional=True),
    Column("direction", "choice", blank_ok=True, optional=True,
           choices=("tighten", "loosen", "set")),
    # the grade of the event itself (that it happened on that date with that content); the
    # levels it sets are judgement (D) whatever the grade, and its source says so
    Column("grade", "choice", choices=tuple(GRADES)), SOURCE))
FIRMS = Table("named-firm table", (
    Column("firm_id", "id", unique=True), Column("name"), Column("region_id", "id"),
    Column("subsector_id", "id"), _positive("revenue_2020_bn_yuan"),
    _positive("employment_2020", "int"), _pct("rd_intensity_pct"),
    _fraction("va_to_revenue"), _positive("equity_2020_bn_yuan"), SOURCE))

NBS_REGIONS = Table("NBS region table", (
    Column("province", unique=True),
    Column("nbs_region", "choice", choices=("East", "Central", "West", "Northeast")),
    SOURCE, Column("grade")))

REGION_COLUMNS, SECTOR_COLUMNS, GDP_COLUMNS = REGIONS.names, SECTORS.names, GDP.names
EVENT_COLUMNS, FIRM_COLUMNS = EVENTS.names, FIRMS.names

_INT = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_ID = re.compile(r"^[^\s;,]+$")


def number_problem(raw: str, integer: bool = False) -> str | None:
    """Why a table cell is not a finite number (an integer if asked), or None.

    Stricter than float(): no '1_000', no decimal comma, no 'nan' or 'inf'.
    """
    if raw.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return finite_problem(float(raw))
    if not (_INT if integer else _NUMBER).match(raw):
        return f"expected {'an integer' if integer else 'a number'}, got {raw!r}"
    if not math.isfinite(float(raw)):
        return finite_problem(float(raw))
    return None


def _range_text(col: Column) -> str:
    if col.lo is not None and col.hi is not None:
        return f"in {'(' if col.above else '['}{col.lo:g}, {col.hi:g}]"
    return f"{'>' if col.above else '>='} {col.lo:g}"


def cell_problem(col: Column, raw: str) -> str | None:
    """Why `raw` (stripped) cannot stand in column `col`, or None."""
    if raw == "":
        return None if col.blank_ok else "empty cell (a value is required)"
    if col.kind in ("int", "float", "flag"):
        problem = number_problem(raw, integer=col.kind != "float")
        if col.kind == "flag" and (problem or int(raw) not in (0, 1)):
            return f"expected a flag, 0 or 1, got {raw!r}"
        if problem:
            return problem
        value = float(raw)
        if (col.lo is not None and (value <= col.lo if col.above else value < col.lo)) or \
                (col.hi is not None and value > col.hi):
            return f"{raw} out of range (must be {_range_text(col)})"
    elif col.kind == "date":
        return date_problem(raw)
    elif col.kind == "choice" and raw not in col.choices:
        return f"expected one of {', '.join(col.choices)}, got {raw!r}"
    elif col.kind in ("id", "ids"):
        parts = [x.strip() for x in raw.split(";")] if col.kind == "ids" else [raw]
        bad = [x for x in parts if not _ID.match(x)]
        if bad:
            return f"{bad[0]!r} is not an id (no spaces or commas" + \
                ("; separate ids with ';')" if col.kind == "ids" else ")")
    return None


def csv_rows(path: Path, text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and data rows of CSV text: (line where the row starts, {column: stripped cell}).

    Blank lines are skipped, as pandas does; a row with more or fewer cells than the header
    is an error, not a shifted or short row.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ScenarioError(path, 1, None, "empty file: expected a header row") from None
    except csv.Error as exc:
        raise ScenarioError(path, 1, None, f"malformed CSV: {exc}") from None
    for i, name in enumerate(header):
        if name in header[:i]:
            raise ScenarioError(path, 1, name, "column given twice in the header")
    rows = []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ScenarioError(path, start, None, f"malformed CSV: {exc}") from None
        line = reader.line_num
        if not cells:
            continue
        if len(cells) != len(header):
            raise ScenarioError(path, start, None, f"{len(cells)} cells, but the header has "
                                                   f"{len(header)} columns")
        rows.append((start, {h: c.strip() for h, c in zip(header, cells)}))
    return header, rows


def check_table(path: Path, text: str, table: Table) -> list[int]:
    """Check every cell of a table against its column spec; the line of each data row."""
    header, rows = csv_rows(path, text)
    missing = [c for c in table.names if c not in header]
    if missing:
        raise ScenarioError(path, 1, missing[0], f"missing columns: {', '.join(missing)} "
                            f"(a {table.what} needs {', '.join(table.names)})")
    columns = [c for c in table.columns if c.name in header]
    first: dict[tuple, int] = {}
    for line, row in rows:
        for col in columns:
            problem = cell_problem(col, row[col.name])
            if problem:
                raise ScenarioError(path, line, col.name, problem)
        keys = [(col.name, row[col.name]) for col in columns if col.unique]
        if table.row_key:
            keys.append((table.key_column, table.row_key(row)))
        for key in keys:
            if key in first:
                raise ScenarioError(path, line, key[0], f"duplicate {key[0]} "
                                    f"{row[key[0]]!r} (first at line {first[key]})")
            first[key] = line
    return [line for line, _ in rows]


def read_table(path: Path, table: Table, key: str, scenario: Scenario | None) -> pd.DataFrame:
    """A checked table as pandas reads it; `attrs["lines"]` holds each row's line in the file.

    A file that cannot be read at all is reported where the scenario names it; a bad cell in
    the file itself (line and column).
    """
    cite = None
    if scenario is not None and key:
        file, line = scenario.where(key)
        cite = (file, line, key)
    text = read_text_file(path, MAX_TABLE_BYTES, cite)
    lines = check_table(path, text, table)
    try:
        df = pd.read_csv(io.StringIO(text), dtype={"sector": str, "subsector_id": str,
                                                   "region_id": str},
                         keep_default_na=False, na_values=[""])
    except Exception as exc:  # pandas raises several types for malformed CSV
        raise ScenarioError(path, None, None, f"cannot read CSV: {exc}") from None
    df.attrs["path"], df.attrs["lines"] = str(path), lines
    return df


DATA_DIR = Path(__file__).resolve().parent / "data"


def builtin(name: str) -> Path:
    return DATA_DIR / name


@lru_cache(maxsize=32)
def _cached(path: str, table: Table) -> pd.DataFrame:
    return read_table(Path(path), table, "", None)


def _table(scenario: Scenario | None, key: str | None, default: str,
           table: Table) -> pd.DataFrame:
    path = scenario.resolve_path(key) if (scenario is not None and key) else None
    if path is None:
        return _cached(str(builtin(default)), table).copy()
    return read_table(path, table, key, scenario)


def _text(cell) -> str:
    """A text cell; pandas reads an empty one as NaN."""
    return "" if cell is None or (isinstance(cell, float) and math.isnan(cell)) else str(cell)


def _check_refs(df: pd.DataFrame, i: int, column: str, ids: list[str], known: set[str],
                what: str) -> None:
    """Ids in row i of a table must name rows of another table."""
    for x in ids:
        if x not in known:
            from difflib import get_close_matches
            near = get_close_matches(x, sorted(known), n=1)
            raise ScenarioError(df.attrs["path"], df.attrs["lines"][i], column,
                                f"unknown {what} {x!r}" +
                                (f"; did you mean {near[0]!r}?" if near else ""))


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
    listed_availability: float | None = None  # share the firms it lists obtain (None: default)
    grade: str = ""                  # the event's grade (table rows; scenario events: "")


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
    nbs_region: np.ndarray           # East | Central | West | Northeast per region, by province
    chip_exposure: pd.DataFrame      # chip_exposure.csv, checked against the sector table

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
        """(S, tiers): share of each sub-sector's output that needs each tier."""
        rows = self.chip_exposure[self.chip_exposure["quantity"] == "dependence"]
        table = rows.pivot(index="subsector_id", columns="tier", values="value")
        return table.loc[list(self.sectors["subsector_id"]), list(TIERS)].to_numpy(float)

    @property
    def domestic_2020(self) -> np.ndarray:
        """(tiers,): share of each tier's needs domestic substitutes covered in 2020."""
        rows = self.chip_exposure[self.chip_exposure["quantity"] == "domestic_share_2020"]
        return rows.set_index("tier").loc[list(TIERS), "value"].to_numpy(float)


GDP_STREAM = 0x474450  # the GDP projection's draw has a stream of its own (seeded per replicate)


def projected_growth_pct(sc: Scenario, seed: int) -> float:
    """A replicate's nominal GDP growth for every year after the GDP data: one draw of the
    projection's mean growth, mean + sd z, from a generator seeded by the replicate's seed
    alone (so the draw never depends on how many replicates run), kept in the parameter's
    range."""
    mean = sc.get("macro.gdp_growth_after_data_pct")
    sd = sc.get("macro.gdp_growth_after_data_sd_pct")
    if sd == 0:
        return mean
    z = np.random.default_rng([GDP_STREAM, int(seed)]).standard_normal()
    return float(np.clip(mean + sd * z, -20, 30))


def for_replicate(sc: Scenario, inputs: "Inputs", seed: int) -> "Inputs":
    """The inputs with this replicate's GDP projection (projected_growth_pct); the same inputs
    when the run stays within the GDP data."""
    projected = sorted(y for y, k in inputs.gdp_kind.items() if k == "projected")
    if not projected:
        return inputs
    g = projected_growth_pct(sc, seed) / 100
    by_year = dict(inputs.gdp_by_year)
    for year in projected:
        by_year[year] = by_year[year - 1] * (1 + g)
    return dataclasses.replace(inputs, gdp_by_year=by_year, gdp_by_month=monthly_gdp(by_year))


def _gdp_path(sc: Scenario) -> tuple[dict[int, float], dict[int, str]]:
    df = _table(sc, "data.gdp_file", "gdp.csv", GDP)
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
    g = sc.get("macro.gdp_growth_after_data_pct") / 100  # the mean path; for_replicate draws
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
        df = _table(sc, "data.events_file", "export_controls.csv", EVENTS)
        until = sc.get("export_controls.historical_until")
        for i, row in enumerate(df.to_dict("records")):
            if until != "all" and month_index(str(row["date"])) > month_index(until):
                continue
            direction = _text(row.get("direction")) or "tighten"
            adds = tuple(x for x in _text(row.get("entity_list_add")).split(";") if x.strip())
            _check_refs(df, i, "entity_list_add", [a.strip() for a in adds], firm_ids, "firm")
            events.append(Event(str(row["date"]), month_index(str(row["date"])), str(row["name"]),
                                {t: num(row[f"avail_{t}"]) for t in TIERS
                                 if num(row[f"avail_{t}"]) is not None},
                                num(row["foreign_knowledge"]), tuple(a.strip() for a in adds),
                                str(row.get("source", "")), direction,
                                num(row.get("listed_availability")), str(row["grade"])))
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


def chip_exposure(subsectors: list[str], path: Path | None = None) -> pd.DataFrame:
    """chip_exposure.csv (or `path`) with every (sub-sector, tier) dependence and every tier's
    domestic share given once, each inside its own range."""
    df = _cached(str(path or builtin("chip_exposure.csv")), CHIP_EXPOSURE).copy()
    for i, row in enumerate(df.itertuples(index=False)):
        known = ["all"] if row.quantity == "domestic_share_2020" else subsectors
        _check_refs(df, i, "subsector_id", [row.subsector_id], set(known), "sub-sector")
        if not row.low <= row.value <= row.high:
            raise ScenarioError(df.attrs["path"], df.attrs["lines"][i], "value",
                                f"{row.value:g} outside its range "
                                f"[{row.low:g}, {row.high:g}]")
    need = {("dependence", s, t) for s in subsectors for t in TIERS} | \
        {("domestic_share_2020", "all", t) for t in TIERS}
    missing = sorted(need - set(zip(df["quantity"], df["subsector_id"], df["tier"])))
    if missing:
        raise ScenarioError(df.attrs["path"], None, None, "missing rows: " + ", ".join(
            " ".join(m) for m in missing[:3]) + (" ..." if len(missing) > 3 else ""))
    return df


def load_inputs(sc: Scenario) -> Inputs:
    regions = _table(sc, "data.regions_file", "regions.csv", REGIONS)
    sectors = _table(sc, None, "sectors.csv", SECTORS)
    firms = _table(sc, None, "named_firms.csv", FIRMS)
    region_ids = list(regions["region_id"])
    subsectors = set(sectors["subsector_id"])
    for i, spec in enumerate(regions["specialisations"].fillna("")):
        _check_refs(regions, i, "specialisations",
                    [x.strip() for x in str(spec).split(";") if x.strip()], subsectors, "sub-sector")
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
    return Inputs(regions, sectors, firms, gdp, kind, monthly_gdp(gdp), events, dist, designated,
                  _nbs_regions(regions), chip_exposure(list(sectors["subsector_id"])))


def _nbs_regions(regions: pd.DataFrame) -> np.ndarray:
    """Each region's NBS macro-region (nbs_regions.csv), by its `province` column."""
    table = _table(None, None, "nbs_regions.csv", NBS_REGIONS)
    of = dict(zip(table["province"], table["nbs_region"]))
    for i, province in enumerate(regions["province"]):
        _check_refs(regions, i, "province", [str(province)], set(of), "province")
    return np.array([of[str(p)] for p in regions["province"]])
