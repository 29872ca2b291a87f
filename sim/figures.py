"""Figures written with every run: the share against the target, value added by region and by
sector, chip self-sufficiency with the control events marked."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.registry import SECTORS  # noqa: E402

SECTOR_NAMES = {code: f"{code} {name}" for code, name in SECTORS.items()}


def _dates(series: pd.Series) -> pd.DatetimeIndex:
    return pd.to_datetime(series + "-15")


def share_against_target(national, annual, summary, ax):
    target, year = summary["target_share_pct"], summary["target_year"]
    for i, (_, g) in enumerate(national.groupby("replicate")):
        ax.plot(_dates(g["date"]), g["core_va_share_gdp_pct"], color="tab:blue", alpha=0.15, lw=0.7,
                label="monthly share, each replicate" if i == 0 else None)
    years = sorted(int(y) for y in summary["share_by_year"])
    stats = [summary["share_by_year"][str(y)] for y in years]
    x = pd.to_datetime([f"{y}-07-01" for y in years])
    ax.fill_between(x, [s["p05"] for s in stats], [s["p95"] for s in stats], color="tab:blue",
                    alpha=0.25, label="annual share, 5-95% of replicates")
    ax.plot(x, [s["median"] for s in stats], "o-", color="tab:blue", label="annual share, median")
    ax.axhline(target, color="tab:red", ls="--", label=f"target {target:g}% by {year}")
    ax.set_ylabel("core digital VA, % of GDP")
    p = summary.get("probability_target_hit")
    ax.set_title(f"Core digital economy share of GDP (P(target hit) = {p:.0%})" if p is not None
                 else "Core digital economy share of GDP")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)


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


def write_all(result, summary, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []

    def save(fig, name):
        path = folder / name
        fig.tight_layout()
        fig.savefig(path, dpi=110, metadata={"Software": None})
        plt.close(fig)
        paths.append(path)

    fig, ax = plt.subplots(figsize=(8, 4.5))
    share_against_target(result.national, result.annual, summary, ax)
    save(fig, "share_vs_target.png")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    stacked(result.regions, "region", str, ax, title="Value added by region (median replicate)")
    save(fig, "va_by_region.png")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    stacked(result.sectors, "sector", lambda c: SECTOR_NAMES.get(c, c), ax,
            title="Value added by NBS sector (median replicate)")
    save(fig, "va_by_sector.png")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    self_sufficiency(result.national, result.events, ax)
    save(fig, "chip_self_sufficiency.png")
    return paths

