"""The cross-section of cluster growth 2020-23: observed (sim/data/cluster_growth.csv) against
simulated, as two statistics that the cluster mechanisms move:

  sd     dispersion of growth across the clusters with a growth rate (pp/year), and
  slope  OLS slope of growth (pp/year) on ln(the region's 2020 share of core VA): negative when
         small clusters grow faster.

Simulated growth of a row is the growth of the model region's core VA over the row's own
window (year_from to year_to), mean over replicates. The observed rows measure a city's cluster
industry, the simulated ones the whole region: the comparison bounds mechanisms (a mechanism
that cannot move sd or slope by as much as the data's spread is not identified by it), it does
not fit them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FILE = Path(__file__).resolve().parent / "data" / "cluster_growth.csv"


def observed(path: Path = FILE) -> pd.DataFrame:
    """The rows with a growth rate."""
    df = pd.read_csv(path)
    return df[df["use"] == "growth"].reset_index(drop=True)


def statistics(growth_pct, initial_share_pct) -> dict:
    g = np.asarray(growth_pct, float)
    x = np.log(np.asarray(initial_share_pct, float))
    slope = float(np.polyfit(x, g, 1)[0]) if len(g) > 1 else float("nan")
    return dict(cluster_growth_sd_pp=float(np.std(g, ddof=1)), cluster_growth_slope_pp=slope)


def simulated_growth(regions: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Growth %/year of each row's region over the row's window, mean over replicates."""
    va = (regions.assign(year=regions["date"].str[:4].astype(int))
          .groupby(["replicate", "region", "year"])["core_va_bn_yuan"].sum())
    out = []
    for r in rows.itertuples():
        years = r.year_to - r.year_from
        ratio = (va.xs((r.region, r.year_to), level=("region", "year"))
                 / va.xs((r.region, r.year_from), level=("region", "year")))
        out.append(100 * float(np.mean(ratio ** (1 / years) - 1)))
    return np.array(out)


def initial_shares(inputs, rows: pd.DataFrame) -> np.ndarray:
    share = inputs.regions.set_index("region_id")["core_va_share_2020_pct"]
    return share.loc[rows["region"]].to_numpy(float)


def observed_statistics(inputs, rows: pd.DataFrame | None = None) -> dict:
    rows = observed() if rows is None else rows
    return statistics(rows["growth_pct_per_year"], initial_shares(inputs, rows))


def simulated_statistics(regions: pd.DataFrame, inputs, rows: pd.DataFrame | None = None) -> dict:
    rows = observed() if rows is None else rows
    return statistics(simulated_growth(regions, rows), initial_shares(inputs, rows))
