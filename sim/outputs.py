"""The output contract: what a run records and the files it writes.

Files in the output directory (column names are a contract other tools build on):
  national.csv  replicate, seed, date, core_va_bn_yuan, gdp_bn_yuan, core_va_share_gdp_pct,
                firms, employment, chip_self_sufficiency_pct, direct_loss_bn_yuan,
                chip_import_gap_pct, chip_import_index   (a row per month; the reporters
                with csv=True, in sim/reporters.py order)
  annual.csv    replicate, seed, year, core_va_bn_yuan, gdp_bn_yuan, core_va_share_gdp_pct,
                core_va_share_gdp_official_pct, software_business_revenue_bn_yuan, projected
                (the model's internal basis; what the NBS and MIIT would publish for that
                year, sim/measurement.py, on which targets are judged; projected = the year's
                GDP is the projection, not data)
  regions.csv   replicate, date, region, core_va_bn_yuan, firms, employment, mean_productivity,
                mean_knowledge
  sectors.csv   replicate, date, sector, core_va_bn_yuan, firms
  (regions and sectors add up to national.csv each month: value added of the firms that
  produced it, firms and employment at the month's end)
  firms.csv     replicate, year, firm_id, region, sector, weight, revenue_bn_yuan,
                value_added_bn_yuan, employment, productivity, knowledge, age_months
                (opt-in: `clustersim run --firm-snapshots`; a row per agent and year;
                revenue at the sub-sector's VA ratio, a named firm's at its own)
  clusters.csv  replicate, year, cluster_id, cluster, region, value_added_bn_yuan,
                share_of_national_pct, employment, firms, direct_loss_bn_yuan  (a row per
                cluster and complete year: the year's value added and direct loss, employment
                and firms at its end; region = the NBS macro-region of the cluster's province)
  named_firms.csv  replicate, year, firm, revenue_bn_yuan, value_added_bn_yuan, employment,
                net_worth_bn_yuan, listed   (each named firm alive at the year's end; revenue at
                its own VA ratio, listed = on the Entity List by then; a firm that exited has
                no row from then on)
  summary.json, manifest.json, figures/*.png
With `--format parquet` each table is written as NAME.parquet instead of NAME.csv (same
columns; pyarrow, zstd-compressed, no pandas index).
The command writes them into a temporary directory that sim.atomic renames when complete;
manifest.json's `output_of` tells a later run that it may replace the directory.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from numba import njit

from sim import reporters, targets
from sim.errors import NumericalError

NATIONAL_COLUMNS = ["replicate", "seed"] + [r.name for r in reporters.national() if r.csv]
INTERNAL_ANNUAL_COLUMNS = ["replicate", "seed", "year", "core_va_bn_yuan", "gdp_bn_yuan",
                           "core_va_share_gdp_pct"]
OFFICIAL_SHARE = "core_va_share_gdp_official_pct"
# regional balance across the clusters (regional_balance): the plans expect clusters to narrow
# regional gaps
BALANCE_COLUMNS = ["east_share_core_va_pct", "theil_core_va_clusters"]
ANNUAL_COLUMNS = INTERNAL_ANNUAL_COLUMNS + [OFFICIAL_SHARE, "software_business_revenue_bn_yuan",
                                            "projected"] + BALANCE_COLUMNS
REGION_COLUMNS = ["replicate", "date", "region", "core_va_bn_yuan", "firms", "employment",
                  "mean_productivity", "mean_knowledge"]
SECTOR_COLUMNS = ["replicate", "date", "sector", "core_va_bn_yuan", "firms"]
FIRM_COLUMNS = ["replicate", "year", "firm_id", "region", "sector", "weight", "revenue_bn_yuan",
                "value_added_bn_yuan", "employment", "productivity", "knowledge", "age_months"]
CLUSTER_COLUMNS = ["replicate", "year", "cluster_id", "cluster", "region", "value_added_bn_yuan",
                   "share_of_national_pct", "employment", "firms", "direct_loss_bn_yuan"]
NAMED_FIRM_COLUMNS = ["replicate", "year", "firm", "revenue_bn_yuan", "value_added_bn_yuan",
                      "employment", "net_worth_bn_yuan", "listed"]
FLOAT_FORMAT = "%.10g"
OUTPUT_OF = "clustersim run"  # manifest.json's `output_of`: what may replace the directory
TABLES = ("parameters", "national", "annual", "regions", "sectors", "clusters", "firms",
          "named_firms")
FORMATS = ("csv", "parquet")
RUN_FILES = frozenset({f"{t}.{fmt}" for t in TABLES for fmt in FORMATS}
                      | {"summary.json", "manifest.json", "figures"})


class Recorder:
    """Observer that keeps region, sector and firm records of one model run."""

    def __init__(self, replicate: int, firm_snapshots: bool = True):
        self.replicate = replicate
        self.firm_snapshots = firm_snapshots
        self.regions: list[dict] = []
        self.sectors: list[dict] = []
        self.firms: list[pd.DataFrame] = []
        self.named: list[pd.DataFrame] = []
        self.direct_loss: list[np.ndarray] = []  # by region, a row per month

    def __call__(self, model) -> None:
        f, rows = model.firms, model.firms.rows
        date = model.date
        R = model.n_regions
        by_region, by_sector = np.zeros((4, R)), np.zeros((2, 4))
        # value added of the firms that produced this month (before exit and entry), as the
        # national total sums it; counts of the firms alive at the end, as national.csv's
        producers = model.last_month
        w_va = producers.w_va
        _region_sector_sums(producers.rows, w_va, rows, f.columns, by_region, by_sector)
        check_finite(date, by_region, ("core VA", "employment", "firms", "knowledge"),
                     "by region")
        check_finite(date, by_sector, ("core VA", "firms"), "by NBS sector")
        va_r, emp_r, firms_r, k_r = by_region
        self.regions.append(dict(
            date=date, region=model.region_ids, core_va_bn_yuan=va_r, firms=firms_r,
            employment=emp_r,
            # VA per worker (thousand yuan/year) of the cluster
            mean_productivity=np.divide(va_r * 12e6, emp_r, out=np.zeros(R), where=emp_r > 0),
            mean_knowledge=np.divide(k_r, firms_r, out=np.zeros(R), where=firms_r > 0)))
        self.sectors.append(dict(date=date, sector=model.sector_codes,
                                 core_va_bn_yuan=by_sector[0], firms=by_sector[1]))
        model.region_va = va_r
        # the national direct_loss_bn_yuan reporter split by region: what the chip caps take
        # from each capped producer's output, all else equal
        cap = np.take(f.output_cap, producers.rows)
        capped = np.flatnonzero(cap < 1)  # few firms: index them, not the whole table
        self.direct_loss.append(np.bincount(
            np.take(f.region, producers.rows[capped]),
            w_va[capped] * (1 / cap[capped] - 1), minlength=R))
        if model.month % 12 == 11:
            self.named.append(_named_snapshot(model, self.replicate))
        if self.firm_snapshots and model.month % 12 == 11:
            sub, va = f.subsector[rows], f.value_added[rows]
            self.firms.append(pd.DataFrame({
                "replicate": self.replicate, "year": model.month // 12,
                "firm_id": f.firm_id[rows],
                "region": _labels(model.region_ids, f.region[rows]),
                "sector": _labels(model.subsector_ids, sub),
                "weight": f.weight[rows], "revenue_bn_yuan": 12 * va / _revenue_ratio(model, rows),
                "value_added_bn_yuan": 12 * va, "employment": f.employment[rows],
                "productivity": f.productivity[rows], "knowledge": f.knowledge[rows],
                "age_months": f.age_months[rows]}))

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        def explode(records):
            parts = []
            for rec in records:
                n = len(next(v for v in rec.values() if not isinstance(v, str)))
                parts.append(pd.DataFrame({k: (np.repeat(v, n) if isinstance(v, str) else v)
                                           for k, v in rec.items()}))
            df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
            df.insert(0, "replicate", self.replicate)
            return df

        regions = explode(self.regions)[REGION_COLUMNS]
        sectors = explode(self.sectors)[SECTOR_COLUMNS]
        firms = pd.concat(self.firms, ignore_index=True) if self.firms else \
            pd.DataFrame(columns=FIRM_COLUMNS)
        return regions, sectors, firms[FIRM_COLUMNS]


    def clusters(self, regions: pd.DataFrame, inputs) -> pd.DataFrame:
        """clusters.csv's rows of this replicate from its monthly region records (`regions`,
        as frames() returns them): complete years only, as annual.csv."""
        df = regions.assign(year=regions["date"].str[:4].astype(int),
                            direct_loss_bn_yuan=np.concatenate(self.direct_loss))
        g = df.groupby(["year", "region"], sort=False)
        out = g[["core_va_bn_yuan", "direct_loss_bn_yuan"]].sum(min_count=1)
        last = g[["employment", "firms"]].last()  # at the year's end
        out = out.join(last).assign(months=g["date"].count()).reset_index()
        out = out[out["months"] == 12].drop(columns="months")
        meta = pd.DataFrame({"region": inputs.regions["region_id"],
                             "cluster": inputs.regions["name"],
                             "nbs_region": inputs.nbs_region})
        out = out.merge(meta, on="region", how="left", sort=False)
        national = out.groupby("year")["core_va_bn_yuan"].transform("sum")
        out = out.assign(replicate=self.replicate, cluster_id=out["region"],
                         region=out["nbs_region"], value_added_bn_yuan=out["core_va_bn_yuan"],
                         share_of_national_pct=100 * out["core_va_bn_yuan"] / national)
        return out[CLUSTER_COLUMNS].reset_index(drop=True)


def theil(x: np.ndarray) -> float:
    """Theil T index of x over its entries: (1/N) sum (x/mu) ln(x/mu), 0 when all are equal,
    ln N when one entry holds everything (0 ln 0 taken as 0)."""
    x = np.asarray(x, float)
    s = x / x.mean()
    return float(np.mean(np.where(s > 0, s * np.log(np.where(s > 0, s, 1)), 0.0)))


def regional_balance(clusters: pd.DataFrame) -> pd.DataFrame:
    """Per replicate and year: the NBS East's share of core value added, and the Theil index
    of value added across the clusters (README, Outputs: why these two)."""
    rows = []
    for (rep, year), g in clusters.groupby(["replicate", "year"], sort=True):
        va = g["value_added_bn_yuan"].to_numpy(float)
        rows.append({"replicate": rep, "year": year,
                     "east_share_core_va_pct": 100 * va[g["region"].to_numpy() == "East"].sum()
                     / va.sum(),
                     "theil_core_va_clusters": theil(va)})
    return pd.DataFrame(rows, columns=["replicate", "year", *BALANCE_COLUMNS])


def _revenue_ratio(model, rows: np.ndarray) -> np.ndarray:
    """VA / revenue of the firms at `rows`, as production.profit_rows reads it: a named
    firm's own, else its sub-sector's."""
    named, ratios = model.firms.named[rows], model.revenue_ratios
    return np.where(named >= 0, ratios.named[np.maximum(named, 0)],
                    ratios.subsector[model.firms.subsector[rows]])


def _named_snapshot(model, replicate: int) -> pd.DataFrame:
    """Year-end accounts of the named firms alive, at their own VA ratio (named_firms.csv)."""
    f, rows = model.firms, model.firms.rows
    rows = rows[f.named[rows] >= 0]
    table = model.inputs.named_firms
    va = 12 * f.value_added[rows]
    return pd.DataFrame({
        "replicate": replicate, "year": model.month // 12,
        "firm": table["firm_id"].to_numpy()[f.named[rows]],
        "revenue_bn_yuan": va / _revenue_ratio(model, rows),
        "value_added_bn_yuan": va, "employment": f.employment[rows],
        "net_worth_bn_yuan": f.net_worth[rows],
        "listed": (f.listed_month[rows] >= 0) & (f.listed_month[rows] <= model.month)})


def check_finite(month: str, table: np.ndarray, quantities: tuple[str, ...], by: str) -> None:
    """NumericalError naming the first quantity of `table` (one row each) that is not finite."""
    if not np.isfinite(table).all():
        row = int(np.flatnonzero(~np.isfinite(table).all(axis=1))[0])
        bad = table[row][~np.isfinite(table[row])]
        raise NumericalError(month, f"{quantities[row]} {by}",
                             "; ".join(sorted(set(map(str, bad)))))


@njit(cache=True)
def _region_sector_sums(producers, w_va, rows, firms, by_region, by_sector):
    """In row order (as np.bincount adds them): w_va of the `producers` (weight x value added)
    by region and by NBS sector; over the firms at `rows`, weight x employment, weight and
    weight x knowledge by region and weight by NBS sector."""
    for i in range(len(producers)):
        r = producers[i]
        by_region[0, firms.region[r]] += w_va[i]
        by_sector[0, firms.sector[r]] += w_va[i]
    for i in range(len(rows)):
        r = rows[i]
        w, reg = firms.weight[r], firms.region[r]
        by_region[1, reg] += w * firms.employment[r]
        by_region[2, reg] += w
        by_region[3, reg] += w * firms.knowledge[r]
        by_sector[1, firms.sector[r]] += w


def _labels(names: list[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """names[codes] as pandas' default string array, built by Arrow from a dictionary (an
    object array of millions of Python strings would be converted one by one)."""
    labels = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(names))
    return pd.array(labels.cast(pa.large_string()), dtype=pd.StringDtype(na_value=np.nan))


@dataclass
class RunResult:
    """All replicates of one run command."""

    national: pd.DataFrame
    annual: pd.DataFrame
    regions: pd.DataFrame
    sectors: pd.DataFrame
    firms: pd.DataFrame
    seeds: list[int]
    events: list[tuple[str, str]] = field(default_factory=list)
    named_firms: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=NAMED_FIRM_COLUMNS))
    parameters: pd.DataFrame | None = None  # one row per replicate when drawn from a posterior
    panels: dict[str, bytes] = field(default_factory=dict)  # the page's panels, replicate 0
    clusters: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CLUSTER_COLUMNS))


def annual_from_national(national: pd.DataFrame) -> pd.DataFrame:
    """Annual value added over annual GDP on the internal basis, complete years only (the
    official column is the measurement step's: sim.runner.with_measurements)."""
    df = national.assign(year=national["date"].str[:4].astype(int))
    g = df.groupby(["replicate", "seed", "year"], sort=True)
    # min_count: a month without a number makes the year's sum NaN, never a quiet 0.0
    sums = g[["core_va_bn_yuan", "gdp_bn_yuan"]].sum(min_count=12)
    annual = sums.assign(months=g["date"].count()).reset_index()
    annual = annual[annual["months"] == 12].drop(columns="months")
    annual["core_va_share_gdp_pct"] = 100 * annual["core_va_bn_yuan"] / annual["gdp_bn_yuan"]
    return annual[INTERNAL_ANNUAL_COLUMNS].reset_index(drop=True)


def share_column(annual: pd.DataFrame) -> str:
    """The share a target is judged on: the official basis when the frame has it."""
    return OFFICIAL_SHARE if OFFICIAL_SHARE in annual.columns else "core_va_share_gdp_pct"


def _bands(annual: pd.DataFrame, column: str) -> dict:
    out = {}
    for year, g in annual.groupby("year"):
        s = g[column].to_numpy()
        out[str(year)] = {"median": float(np.median(s)), "p05": float(np.percentile(s, 5)),
                          "p95": float(np.percentile(s, 95)), "mean": float(s.mean())}
    return out


def summarise(annual: pd.DataFrame, target_list: list, horizon: list[str] = ()) -> dict:
    """Bands of the share by year on both bases; every target judged on its published measure
    (sim/targets.py), the headline (the first core-share target) first and also in the
    `target_*` fields; the notes on where the run leaves its data (`horizon`)."""
    column = share_column(annual)
    reports = [targets.judge(annual, t) for t in target_list]
    head = targets.headline(target_list)
    out: dict = {}
    if head is not None:
        first_hit = {}
        for rep, g in annual.groupby("replicate"):
            reached = g[g[column] >= head.value]["year"]
            first_hit[str(rep)] = int(reached.min()) if len(reached) else None
        report = reports[target_list.index(head)]
        out = {"target_share_pct": head.value, "target_year": head.year,
               "target_judged_on": column,
               "probability_target_hit": report["probability"], "first_year_hit": first_hit}
    return {**out, "replicates": int(annual["replicate"].nunique()),
            "targets": reports, "horizon": list(horizon),
            "share_by_year": _bands(annual, column),
            "internal_share_by_year": _bands(annual, "core_va_share_gdp_pct"),
            **({"regional_balance_by_year": {c: _bands(annual, c) for c in BALANCE_COLUMNS}}
               if set(BALANCE_COLUMNS) <= set(annual.columns) else {})}



def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("clustersim", "mesa", "numpy", "scipy", "pandas", "matplotlib", "pyyaml",
                 "jsonschema", "pyarrow", "distributed", "SALib"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5)
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return sha.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def manifest(config, seeds, firms, wall_s: float, extra: dict | None = None) -> dict:
    return {"output_of": OUTPUT_OF,
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": sys.argv, "scenario_file": str(config.path) if config.path else None,
            "scenario": config.as_dict(), "seeds": seeds, "firm_agents": firms,
            "versions": package_versions(), "git_commit": git_commit(),
            "wall_time_s": round(wall_s, 3), **(extra or {})}


def write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_table(df: pd.DataFrame, directory: Path, name: str, fmt: str = "csv") -> None:
    if fmt == "parquet":
        # no timestamps or pandas metadata beyond the schema: same inputs, same bytes
        df.to_parquet(directory / f"{name}.parquet", index=False, compression="zstd")
    else:
        write_csv(df, directory / f"{name}.csv")


def write_json(obj, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n",
                    encoding="utf-8")


def write_run(result: RunResult, directory: Path, summary: dict, manifest_obj: dict,
              figures: bool = True, fmt: str = "csv", scenario: str = "",
              figure_format: str = "png") -> Path:
    """Write every file of the contract into `directory`, manifest last; the caller stages it
    (sim.atomic.staged_directory), so a reader never sees a half-written output. firms.csv
    only when the run kept firm snapshots."""
    directory = Path(directory)
    tables = {"national": result.national[NATIONAL_COLUMNS],
              "annual": result.annual[ANNUAL_COLUMNS], "regions": result.regions,
              "sectors": result.sectors, "clusters": result.clusters[CLUSTER_COLUMNS],
              "firms": result.firms, "parameters": result.parameters,
              "named_firms": result.named_firms}
    for name, df in tables.items():
        if df is not None and not (name == "firms" and df.empty):
            write_table(df, directory, name, fmt)
    write_json(summary, directory / "summary.json")
    if figures:
        from sim import figures as fig
        fig.write_all(result, summary, directory / "figures", scenario, figure_format)
    write_json(manifest_obj, directory / "manifest.json")
    return directory
