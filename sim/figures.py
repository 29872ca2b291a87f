"""Figures written with every run, fit for a briefing: the share against the target with the
published points and their grades, value added by region and by sector, chip self-sufficiency
with the control events marked, and the browser page's own map and chip-availability panels
for replicate 0. Every figure names its scenario; `--figure-format svg|pdf` writes vector files
(the two page panels stay PNG: the page draws them as bitmaps)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "clustersim"  # fixed SVG ids: same run, same bytes
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim import measurement  # noqa: E402
from sim.outputs import OFFICIAL_SHARE  # noqa: E402
from sim.registry import SECTORS  # noqa: E402

FIGURE_FORMATS = ("png", "svg", "pdf")
GRADE_MARKERS = {"A": "D", "A-local": "s", "B": "^", "C": "v", "D": "x"}

SECTOR_NAMES = {code: f"{code} {name}" for code, name in SECTORS.items()}


def _dates(series: pd.Series) -> pd.DatetimeIndex:
    return pd.to_datetime(series + "-15")


def observed_points(series: str = OFFICIAL_SHARE) -> pd.DataFrame:
    """The published national values of `series` (sim/data/observed.csv) with their grades."""
    obs = measurement.observed_table()
    return obs[(obs["series"] == series) & (obs["category"] == "all")]


def projected_from(annual: pd.DataFrame) -> int | None:
    """First projected year (GDP no longer data), when annual.csv flags it."""
    if "projected" not in annual.columns:
        return None
    years = annual.loc[annual["projected"].astype(bool), "year"]
    return int(years.min()) if len(years) else None


def share_against_target(national, annual, summary, ax, scenario: str = ""):
    target, year = summary["target_share_pct"], summary["target_year"]
    for i, (_, g) in enumerate(national.groupby("replicate")):
        ax.plot(_dates(g["date"]), g["core_va_share_gdp_pct"], color="tab:blue", alpha=0.12,
                lw=0.6, label="monthly share, internal basis, each replicate" if i == 0 else None)
    years = sorted(int(y) for y in summary["share_by_year"])
    stats = [summary["share_by_year"][str(y)] for y in years]
    x = pd.to_datetime([f"{y}-07-01" for y in years])
    basis = "official basis" if summary.get("target_judged_on") == OFFICIAL_SHARE else "annual"
    ax.fill_between(x, [s["p05"] for s in stats], [s["p95"] for s in stats], color="tab:blue",
                    alpha=0.25, label=f"{basis} share, 5-95% of replicates")
    ax.plot(x, [s["median"] for s in stats], "o-", color="tab:blue", ms=4,
            label=f"{basis} share, median")
    first = projected_from(annual)
    if first is not None:
        ax.axvspan(pd.Timestamp(f"{first}-01-01"), x.max() + pd.Timedelta(days=183),
                   color="grey", alpha=0.12, lw=0, label=f"projection (GDP not yet data), {first}-")
    for _, o in observed_points().iterrows():
        ax.errorbar(pd.Timestamp(f"{int(o['year'])}-07-01"), o["value"], yerr=o["uncertainty"],
                    fmt=GRADE_MARKERS.get(o["grade"], "o"), color="black", ms=6, capsize=3,
                    zorder=5, label=f"published {int(o['year'])}: {o['value']:g}% "
                                    f"(grade {o['grade']})")
    share_targets = [(t["value"], t["year"]) for t in summary.get("targets", [])
                     if t.get("indicator") == OFFICIAL_SHARE] or [(target, year)]
    for value, when in share_targets:
        ax.axhline(value, color="tab:red", ls="--", lw=1)
        ax.plot(pd.Timestamp(f"{when}-07-01"), value, marker="*", ms=14, color="tab:red",
                zorder=6, label=f"target {value:g}% in {when}")
    ax.set_ylabel("core digital VA, % of GDP")
    p = summary.get("probability_target_hit")
    head = f"{scenario}: core digital economy share of GDP" if scenario else \
        "Core digital economy share of GDP"
    ax.set_title(f"{head} (P(target) = {p:.0%})" if p is not None else head, fontsize=10)
    ax.legend(loc="upper left", fontsize=7)
    ax.grid(alpha=0.3)


def cluster_labels(clusters: pd.DataFrame | None):
    """region id -> a legend label from the cluster's name in clusters.csv: the city of a named
    cluster ('Hefei smart voice cluster' -> 'Hefei'), the name of a hub or 'Rest of ...'
    without its parenthesis. A briefing reader knows 'Guangzhou-Foshan-Huizhou', not 'gfh'."""
    names = {} if clusters is None or clusters.empty else \
        dict(zip(clusters["cluster_id"], clusters["cluster"]))

    def label(region_id) -> str:
        name = names.get(region_id)
        if name is None:
            return str(region_id)
        head = name.split(" (")[0]
        return head if head.lower().startswith("rest of") or head.endswith(" hub") \
            else head.split(" ")[0]
    return label


def stacked(df, key, label_of, ax, top=10, title=""):
    med = df.groupby(["date", key])["core_va_bn_yuan"].median().unstack(key)
    order = med.iloc[-1].sort_values(ascending=False).index
    colours = plt.get_cmap("tab20").colors
    keep = list(order[:top])
    data = med[keep].copy()
    if len(order) > top:
        data["others"] = med[list(order[top:])].sum(axis=1)
    x = _dates(pd.Series(med.index))
    ax.stackplot(x, (data.to_numpy().T * 12 / 1000), labels=[label_of(c) for c in data.columns],
                 colors=colours[: data.shape[1]])
    ax.set_ylabel("value added, trillion yuan (annualised)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=7, ncol=2)
    ax.grid(alpha=0.3)


def self_sufficiency(national, events, ax):
    for _, g in national.groupby("replicate"):
        ax.plot(_dates(g["date"]), g["chip_self_sufficiency_pct"], color="tab:green", alpha=0.5)
    lo, hi = _dates(national["date"]).min(), _dates(national["date"]).max()
    for date, name in events:
        d = pd.Timestamp(date)
        if lo <= d <= hi:
            ax.axvline(d, color="grey", ls=":", lw=0.8)
            ax.text(d, ax.get_ylim()[1], name, rotation=90, va="top", fontsize=6)
    ax.set_ylabel("critical chip needs met domestically, %")
    ax.set_title("Chip self-sufficiency and export-control events")
    ax.grid(alpha=0.3)


def write_all(result, summary, folder: Path, scenario: str = "",
              fmt: str = "png") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    suffix = f" ({scenario})" if scenario else ""

    def save(fig, name):
        path = folder / f"{name}.{fmt}"
        fig.tight_layout()
        # no creation date or software stamp: the same run gives the same bytes
        meta = {"Software": None} if fmt == "png" else \
            {"Creator": None, "Date": None} if fmt == "svg" else \
            {"Creator": None, "Producer": None, "CreationDate": None}
        fig.savefig(path, dpi=110, metadata=meta)
        plt.close(fig)
        paths.append(path)

    fig, ax = plt.subplots(figsize=(8, 4.5))
    share_against_target(result.national, result.annual, summary, ax, scenario)
    save(fig, "share_vs_target")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    stacked(result.regions, "region", cluster_labels(getattr(result, "clusters", None)), ax,
            title=f"Value added by region (median replicate){suffix}")
    save(fig, "va_by_region")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    stacked(result.sectors, "sector", lambda c: SECTOR_NAMES.get(c, c), ax,
            title=f"Value added by NBS sector (median replicate){suffix}")
    save(fig, "va_by_sector")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    self_sufficiency(result.national, result.events, ax)
    ax.set_title(f"Chip self-sufficiency and export-control events{suffix}")
    save(fig, "chip_self_sufficiency")
    for name, png in result.panels.items():  # the browser page's panels, replicate 0
        path = folder / f"{name}.png"
        path.write_bytes(png)
        paths.append(path)
    return paths
