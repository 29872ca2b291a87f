"""The census back-cast: sectors.csv's per-category population parameters from the 2023 census.

    python scripts/census_backcast.py [--firms 10000] [--seeds 42-49] [--iterations 3]

The 5th economic census counts each NBS category's legal entities, employment and revenue in
2023 (sim/data/observed.csv, A). The population is built for January 2020, so each count is
back-cast by the model's own 2020-23 change in that category: the baseline scenario is run
to 2023-12 and, per category c (sub-sectors inside a category scaled alike, so their grade-D
relative sizes stay):

  firms       2020 firms_c x census firms_c / simulated 2023 firms_c
              (sub-sector shares -> firms_share_2020_pct, total -> calibration.firm_count_million)
  employment  generic 2020 jobs G_c (all jobs less the named firms' own, which are data) become
              census jobs_c / (simulated 2023 jobs_c / 2020 jobs_c) - named jobs_c, by dividing
              va_per_worker_k_yuan by G'_c / G_c
  revenue     va_to_revenue x simulated census revenue_c / census revenue_c (measured as
              sim/measurement.py does: 2023 VA / va_to_revenue x census basis factor), and
              rd_intensity_pct by the same factor, so R&D in yuan (R&D per unit of VA) is unchanged

The model's growth by category is the back-cast rule, not a MIIT series, because no published
series counts firms or jobs on the census's scope for 2020 (MIIT counts above-scale firms only;
sim/data/SOURCES.md). Growth depends a little on the parameters it sets (entry follows firm
counts, agglomeration follows jobs), so the step is repeated to a fixed point. 2020 value added
by sub-sector (va_share_2020_pct) is not touched. Each step rewrites those four columns of
sim/data/sectors.csv (temporary file, then rename; the model reads them from there) and the
last prints them with the 2020 firm total for calibration.firm_count_million (sim/parameters.py).
Rerun after the calibration changes the dynamics (growth by category) or the census factor.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim import measurement  # noqa: E402
from sim.calibration import level  # noqa: E402
from sim.calibration.moments import MomentRecorder  # noqa: E402
from sim.inputs import DATA_DIR, _cached  # noqa: E402
from sim.runner import build_model  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

SECTORS_FILE = DATA_DIR / "sectors.csv"
CENSUS_YEAR = 2023


def census_counts() -> pd.DataFrame:
    """Census 2023 by NBS category: firms, employment, revenue_bn_yuan (index "01".."04")."""
    obs = measurement.observed_table()
    census = ("census_legal_entities", "census_employment", "census_revenue_bn_yuan")
    obs = obs[(obs["year"] == CENSUS_YEAR) & (obs["category"] != measurement.ALL)
              & obs["series"].isin(census)]
    wide = obs.pivot(index="category", columns="series", values="value")
    return wide.rename(columns={"census_legal_entities": "firms", "census_employment": "employment",
                                "census_revenue_bn_yuan": "revenue_bn_yuan"})


def simulate(config, firms: int, seeds: list[int]) -> pd.DataFrame:
    """Per sub-sector, mean over seeds: 2020 firms, jobs and named jobs at the start; December
    2023 firms and jobs; 2023 value added (bn yuan)."""
    rows = []
    for seed in seeds:
        model = build_model(config, seed=seed, firms=firms)
        f, r, S = model.firms, model.firms.rows, model.n_subsectors
        named = f.named[r] >= 0
        start = dict(firms_2020=np.bincount(f.subsector[r], f.weight[r], S),
                     jobs_2020=np.bincount(f.subsector[r], f.weight[r] * f.employment[r], S),
                     named_jobs_2020=np.bincount(f.subsector[r][named], f.employment[r][named], S))
        rec = MomentRecorder(model)
        model.observers.append(rec)
        model.run()
        snap = rec.snapshots[CENSUS_YEAR]
        end = dict(firms_2023=np.bincount(snap["subsector"], snap["weight"], S),
                   jobs_2023=np.bincount(snap["subsector"], snap["weight"] * snap["employment"], S),
                   va_2023=rec.annual("sub", CENSUS_YEAR))
        rows.append(pd.DataFrame({"subsector_id": model.subsector_ids, **start, **end}))
    return pd.concat(rows).groupby("subsector_id", sort=False).mean()


def backcast(sectors: pd.DataFrame, sim: pd.DataFrame, census: pd.DataFrame,
             census_factor: float) -> tuple[pd.DataFrame, float]:
    """One step of the rule (module docstring): the new sector table and 2020 firm total."""
    out = sectors.copy()
    sim = sim.loc[out["subsector_id"]].set_axis(out.index)
    cat = out["sector"]
    by_cat = sim.groupby(cat).sum()
    firms = sim["firms_2020"] * cat.map(census["firms"] / by_cat["firms_2023"])
    growth = by_cat["jobs_2023"] / by_cat["jobs_2020"]
    generic = by_cat["jobs_2020"] - by_cat["named_jobs_2020"]
    generic_new = census["employment"] / growth - by_cat["named_jobs_2020"]
    revenue = census_factor * (sim["va_2023"] / out["va_to_revenue"]).groupby(cat).sum()
    revenue_scale = cat.map(revenue / census["revenue_bn_yuan"])
    out["firms_share_2020_pct"] = 100 * firms / firms.sum()
    out["va_per_worker_k_yuan"] = out["va_per_worker_k_yuan"] * cat.map(generic / generic_new)
    out["va_to_revenue"] = out["va_to_revenue"] * revenue_scale
    out["rd_intensity_pct"] = out["rd_intensity_pct"] * revenue_scale
    return out, float(firms.sum())


def rounded(sectors: pd.DataFrame) -> pd.DataFrame:
    """Printed precision, each well inside the census rounding (largest remainder keeps the
    firm shares at 100.000)."""
    out = sectors.copy()
    shares = out["firms_share_2020_pct"].to_numpy() * 1000
    base = np.floor(shares)
    order = np.argsort(-(shares - base), kind="stable")
    base[order[:int(round(100_000 - base.sum()))]] += 1
    out["firms_share_2020_pct"] = [f"{x / 1000:.3f}" for x in base]
    out["va_per_worker_k_yuan"] = [f"{x:.2f}" for x in out["va_per_worker_k_yuan"]]
    out["va_to_revenue"] = [f"{x:.4f}" for x in out["va_to_revenue"]]
    out["rd_intensity_pct"] = [f"{x:.2f}" for x in out["rd_intensity_pct"]]
    return out


COLUMNS = ["firms_share_2020_pct", "va_per_worker_k_yuan", "va_to_revenue", "rd_intensity_pct"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="scenarios/baseline.yaml")
    ap.add_argument("--firms", type=int, default=10000)
    ap.add_argument("--seeds", default="42-49")
    ap.add_argument("--iterations", type=int, default=3)
    args = ap.parse_args(argv)
    lo, _, hi = args.seeds.partition("-")
    seeds = list(range(int(lo), int(hi or lo) + 1))
    config = load_scenario(args.scenario)
    config.set("run.end", f"{CENSUS_YEAR}-12")
    config.set("target.year", CENSUS_YEAR)
    config.validate()
    census = census_counts()
    factor = float(config["measurement.census_basis_factor"])
    raw = pd.read_csv(SECTORS_FILE, dtype=str, keep_default_na=False)
    sectors = raw.astype({c: float for c in COLUMNS})
    for i in range(args.iterations):
        sim = simulate(config, args.firms, seeds)
        cat = sectors.set_index("subsector_id")["sector"]
        sim_cat = sim.groupby(cat).sum()
        print(f"iteration {i}: simulated 2023 / census, firms "
              + " ".join(f"{c} {sim_cat.loc[c, 'firms_2023'] / census.loc[c, 'firms']:.4f}"
                         for c in census.index), file=sys.stderr)
        sectors, total = backcast(sectors, sim, census, factor)
        written = rounded(sectors)
        sectors = written.astype({c: float for c in COLUMNS})
        config.set("calibration.firm_count_million", round(total / 1e6, 4))
        path = SECTORS_FILE.with_name(SECTORS_FILE.name + ".tmp")
        for c in COLUMNS:
            raw[c] = written[c]
        raw.to_csv(path, index=False, lineterminator="\n")
        os.replace(path, SECTORS_FILE)
        _cached.cache_clear()  # the next step's model reads the new table,
        level._cache.clear()   # and its 2020 level is piloted on it
    by_cat = sim.groupby(sectors.set_index("subsector_id")["sector"]).sum()
    print(pd.DataFrame({"firms_growth": by_cat["firms_2023"] / by_cat["firms_2020"],
                        "jobs_growth": by_cat["jobs_2023"] / by_cat["jobs_2020"],
                        "va_2023_bn_yuan": by_cat["va_2023"]}).round(4).to_string())
    print(written[["subsector_id", *COLUMNS]].to_string(index=False))
    print(f"calibration.firm_count_million = {total / 1e6:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
