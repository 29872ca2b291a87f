"""The output contract: what a run records and the files it writes.

Files in the output directory (column names are a contract other tools build on):
  national.csv  replicate, seed, date, core_va_bn_yuan, gdp_bn_yuan, core_va_share_gdp_pct,
                firms, employment, chip_self_sufficiency_pct              (a row per month)
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
  named_firms.csv  replicate, year, firm, revenue_bn_yuan, value_added_bn_yuan, employment,
                net_worth_bn_yuan, listed   (each named firm alive at the year's end; revenue at
                its own VA ratio, listed = on the Entity List by then; a firm that exited has
                no row from then on)
  summary.json, manifest.json, figures/*.png
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
ANNUAL_COLUMNS = INTERNAL_ANNUAL_COLUMNS + [OFFICIAL_SHARE, "software_business_revenue_bn_yuan",
                                           "projected"]
REGION_COLUMNS = ["replicate", "date", "region", "core_va_bn_yuan", "firms", "employment",
                  "mean_productivity", "mean_knowledge"]
SECTOR_COLUMNS = ["replicate", "date", "sector", "core_va_bn_yuan", "firms"]
FIRM_COLUMNS = ["replicate", "year", "firm_id", "region", "sector", "weight", "revenue_bn_yuan",
                "value_added_bn_yuan", "employment", "productivity", "knowledge", "age_months"]
NAMED_FIRM_COLUMNS = ["replicate", "year", "firm", "revenue_bn_yuan", "value_added_bn_yuan",
                      "employment", "net_worth_bn_yuan", "listed"]
FLOAT_FORMAT = "%.10g"
OUTPUT_OF = "clustersim run"  # manifest.json's `output_of`: what may replace the directory
RUN_FILES = frozenset({"parameters.csv", "national.csv", "annual.csv", "regions.csv",
                       "sectors.csv", "firms.csv", "named_firms.csv", "summary.json",
                       "manifest.json", "figures"})


class Recorder:
    """Observer that keeps region, sector and firm records of one model run."""

    def __init__(self, replicate: int, firm_snapshots: bool = True):
        self.replicate = replicate
        self.firm_snapshots = firm_snapshots
        self.regions: list[dict] = []
        self.sectors: list[dict] = []
        self.firms: list[pd.DataFrame] = []
        self.named: list[pd.DataFrame] = []

    def __call__(self, model) -> None:
        f, rows = model.firms, model.firms.rows
        date = model.date
        R = model.n_regions
        by_region, by_sector = np.zeros((4, R)), np.zeros((2, 4))
        # value added of the firms that produced this month (before exit and entry), as the
        # national total sums it; counts of the firms alive at the end, as national.csv's
        producers = model.last_month
        _region_sector_sums(producers.rows, producers.w_va, rows, f.columns, by_region, by_sector)
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
        if model.month % 12 == 11:
            self.named.append(_named_snapshot(model, self.replicate))
        if self.firm_snapshots and model.month % 12 == 11:
            sub, va = f.subsector[rows], f.value_added[rows]
            self.firms.append(pd.DataFrame({
                "replicate": self.replicate, "year": model.month // 12,
                "firm_id": f.firm_id[rows],
                "region": _labels(model.region_ids, f.region[rows]),
                "sector": _labels(model.subsector_ids, sub),
                "weight": f.weight[rows], "revenue_bn_yuan": 12 * va / model.va_ratio[sub],
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


def _named_snapshot(model, replicate: int) -> pd.DataFrame:
    """Year-end accounts of the named firms alive, at their own VA ratio (named_firms.csv)."""
    f, rows = model.firms, model.firms.rows
    rows = rows[f.named[rows] >= 0]
    table = model.inputs.named_firms
    va = 12 * f.value_added[rows]
    return pd.DataFrame({
        "replicate": replicate, "year": model.month // 12,
        "firm": table["firm_id"].to_numpy()[f.named[rows]],
        "revenue_bn_yuan": va / table["va_to_revenue"].to_numpy(float)[f.named[rows]],
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
            "internal_share_by_year": _bands(annual, "core_va_share_gdp_pct")}


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


def write_json(obj, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n",
                    encoding="utf-8")


def write_run(result: RunResult, directory: Path, summary: dict, manifest_obj: dict,
              figures: bool = True) -> Path:
    """Write every file of the contract into `directory`, manifest last; the caller stages it
    (sim.atomic.staged_directory), so a reader never sees a half-written output."""
    directory = Path(directory)
    write_csv(result.national[NATIONAL_COLUMNS], directory / "national.csv")
    write_csv(result.annual[ANNUAL_COLUMNS], directory / "annual.csv")
    write_csv(result.regions, directory / "regions.csv")
    write_csv(result.sectors, directory / "sectors.csv")
    write_csv(result.firms, directory / "firms.csv")
    if result.parameters is not None:
        write_csv(result.parameters, directory / "parameters.csv")
    write_csv(result.named_firms, directory / "named_firms.csv")
    write_json(summary, directory / "summary.json")
    if figures:
        from sim import figures as fig
        fig.write_all(result, summary, directory / "figures")
    write_json(manifest_obj, directory / "manifest.json")
    return directory
