"""`clustersim compare RUN_DIR RUN_DIR... [--paired] [--svg] --out DIR`: runs side by side.

The first run is the reference; every run is compared with it. The output directory holds
  differences.csv  run, reference, indicator, year, method, n, mean_difference,
                   median_difference, p05, p95, ci90_low, ci90_high
                   (run - reference; paired: one difference per replicate, matched by replicate
                   and seed; unpaired: every replicate of the run against every replicate of
                   the reference. p05/p95 spread those differences; ci90 is the 90% interval of
                   the mean difference, Student t on the paired differences or Welch's unpaired)
  incidence.csv    run, reference, year, cluster_id, cluster, region, value_added_bn_yuan,
                   share_of_national_pct, reference_value_added_bn_yuan, total_loss_bn_yuan,
                   direct_loss_bn_yuan, indirect_loss_bn_yuan   (means over replicates; loss =
                   what the run produces less than the reference: total = VA(reference) -
                   VA(run), direct = the run's direct loss minus the reference's (output chip
                   caps take, all else equal), indirect = total - direct)
  fan.png (fan.svg with --svg)  median and 5-95% band of the official-basis share per run,
                   observed points with their grades, target years marked, projection shaded
  incidence.png (incidence.svg with --svg)  per run against the reference, each cluster's
                   loss summed over the years: direct and indirect bars, total marked, names
  manifest.json    the inputs (path, scenario, seeds, their manifests' commit and time)
written under a temporary name and renamed when complete (sim/atomic.py); an existing --out is
replaced only with --overwrite and only if it holds an earlier compare.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim import atomic
from sim.errors import UsageError
from sim.outputs import (BALANCE_COLUMNS, CLUSTER_COLUMNS, OFFICIAL_SHARE, OUTPUT_OF, share_column,
                         write_csv, write_json)

COMMAND = "clustersim compare"
FILES = frozenset({"differences.csv", "incidence.csv", "fan.png", "fan.svg", "incidence.png",
                   "incidence.svg", "manifest.json"})
DIFFERENCE_COLUMNS = ["run", "reference", "indicator", "year", "method", "n", "mean_difference",
                      "median_difference", "p05", "p95", "ci90_low", "ci90_high"]
INCIDENCE_COLUMNS = ["run", "reference", "year", "cluster_id", "cluster", "region",
                     "value_added_bn_yuan", "share_of_national_pct",
                     "reference_value_added_bn_yuan", "total_loss_bn_yuan", "direct_loss_bn_yuan",
                     "indirect_loss_bn_yuan"]
# annual indicators compared, when both runs have them (direct loss: national.csv's, by year)
INDICATORS = (OFFICIAL_SHARE, "core_va_share_gdp_pct", "core_va_bn_yuan", "direct_loss_bn_yuan",
              *BALANCE_COLUMNS)
KEYS = ["replicate", "seed", "year"]


@dataclass
class Run:
    path: Path
    label: str
    annual: pd.DataFrame      # annual.csv plus direct_loss_bn_yuan summed from national.csv
    clusters: pd.DataFrame
    summary: dict
    manifest: dict


def _read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise UsageError(f"{path}: missing; compare reads run directories written by "
                         f"`{OUTPUT_OF}` (this version writes it)")
    try:
        df = pd.read_csv(path, dtype={"date": str})
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from exc
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise UsageError(f"{path}: no column {', '.join(missing)}; it was written by an older "
                         f"version: run the scenario again")
    return df


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: missing; compare reads run directories written by "
                         f"`{OUTPUT_OF}`") from exc
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from exc


def load_run(path: Path) -> Run:
    """One run directory, checked: UsageError naming the path and file for anything amiss."""
    path = Path(path)
    if not path.is_dir():
        raise UsageError(f"{path}: not a run directory (no such directory)")
    manifest = _read_json(path / "manifest.json")
    if manifest.get("output_of") != OUTPUT_OF:
        raise UsageError(f"{path / 'manifest.json'}: not an output of `{OUTPUT_OF}`")
    annual = _read_csv(path / "annual.csv", KEYS + ["core_va_bn_yuan"])
    national = _read_csv(path / "national.csv", ["replicate", "seed", "date",
                                                 "direct_loss_bn_yuan"])
    clusters = _read_csv(path / "clusters.csv", CLUSTER_COLUMNS)
    loss = (national.assign(year=national["date"].str[:4].astype(int))
            .groupby(KEYS, as_index=False)["direct_loss_bn_yuan"].sum())
    annual = annual.merge(loss, on=KEYS, how="left")
    label = str(manifest.get("scenario", {}).get("name") or path.name)
    return Run(path, label, annual, clusters, _read_json(path / "summary.json"), manifest)


def _labels(runs: list[Run]) -> None:
    """Scenario names, made unique by the directory name where two runs share one."""
    seen = [r.label for r in runs]
    for r in runs:
        if seen.count(r.label) > 1:
            r.label = f"{r.label} ({r.path.name})"
    names = [r.label for r in runs]
    for i, r in enumerate(runs):  # the same directory twice: number them
        if names.count(r.label) > 1:
            r.label = f"{r.label} #{i + 1}"


def check_paired(reference: Run, run: Run) -> None:
    """--paired needs the same replicates with the same seeds in both runs."""
    a = set(map(tuple, reference.annual[["replicate", "seed"]].drop_duplicates().to_numpy()))
    b = set(map(tuple, run.annual[["replicate", "seed"]].drop_duplicates().to_numpy()))
    if a != b:
        def show(s):
            return ", ".join(f"{r}:{s_}" for r, s_ in sorted(s)[:6]) + (" ..." if len(s) > 6
                                                                       else "")
        raise UsageError(f"--paired: {run.path} has replicates (replicate:seed) {show(b)} but "
                         f"the reference {reference.path} has {show(a)}; run both with the "
                         "same --seed and --replicates, or compare them unpaired")


def _t90(n: int) -> float:
    from scipy.stats import t
    return float(t.ppf(0.95, n - 1))


def _paired_row(d: np.ndarray) -> dict:
    n = len(d)
    half = _t90(n) * d.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
    return {"method": "paired", "n": n, "mean_difference": d.mean(),
            "median_difference": float(np.median(d)), "p05": np.percentile(d, 5),
            "p95": np.percentile(d, 95), "ci90_low": d.mean() - half, "ci90_high": d.mean() + half}


def _unpaired_row(x: np.ndarray, y: np.ndarray) -> dict:
    """x: the run's replicates, y: the reference's."""
    d = (x[:, None] - y[None, :]).ravel()
    mean = x.mean() - y.mean()
    if len(x) > 1 and len(y) > 1:
        vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
        se = np.sqrt(vx + vy)
        # Welch-Satterthwaite degrees of freedom; equal samples give an interval of zero width
        df = (vx + vy) ** 2 / (vx ** 2 / (len(x) - 1) + vy ** 2 / (len(y) - 1)) if se > 0 else 1
        from scipy.stats import t
        half = float(t.ppf(0.95, df)) * se
    else:
        half = np.nan
    return {"method": "unpaired", "n": min(len(x), len(y)), "mean_difference": mean,
            "median_difference": float(np.median(d)), "p05": np.percentile(d, 5),
            "p95": np.percentile(d, 95), "ci90_low": mean - half, "ci90_high": mean + half}


def differences(reference: Run, run: Run, paired: bool) -> pd.DataFrame:
    """Run - reference by indicator and year (see the module docstring)."""
    rows = []
    indicators = [c for c in INDICATORS if c in reference.annual and c in run.annual]
    years = sorted(set(reference.annual["year"]) & set(run.annual["year"]))
    if paired:
        m = reference.annual.merge(run.annual, on=KEYS, suffixes=("_ref", "_run"))
    for ind in indicators:
        for y in years:
            if paired:
                g = m[m["year"] == y]
                row = _paired_row((g[f"{ind}_run"] - g[f"{ind}_ref"]).to_numpy(float))
            else:
                x = run.annual.loc[run.annual["year"] == y, ind].to_numpy(float)
                ref = reference.annual.loc[reference.annual["year"] == y, ind].to_numpy(float)
                row = _unpaired_row(x, ref)
            rows.append({"run": run.label, "reference": reference.label, "indicator": ind,
                         "year": int(y), **row})
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


def incidence(reference: Run, run: Run) -> pd.DataFrame:
    """Per cluster and year, means over replicates: the run's VA and share of national, and
    what it loses against the reference, split into direct and indirect loss."""
    keys = ["year", "cluster_id"]

    def means(c: Run) -> pd.DataFrame:
        return c.clusters.groupby(keys, as_index=False, sort=False).agg(
            cluster=("cluster", "first"), region=("region", "first"),
            value_added_bn_yuan=("value_added_bn_yuan", "mean"),
            share_of_national_pct=("share_of_national_pct", "mean"),
            direct=("direct_loss_bn_yuan", "mean"))

    r, b = means(run), means(reference)
    m = r.merge(b[keys + ["value_added_bn_yuan", "direct"]], on=keys, suffixes=("", "_ref"))
    m = m.assign(run=run.label, reference=reference.label,
                 reference_value_added_bn_yuan=m["value_added_bn_yuan_ref"],
                 total_loss_bn_yuan=m["value_added_bn_yuan_ref"] - m["value_added_bn_yuan"],
                 direct_loss_bn_yuan=m["direct"] - m["direct_ref"])
    m["indirect_loss_bn_yuan"] = m["total_loss_bn_yuan"] - m["direct_loss_bn_yuan"]
    return m[INCIDENCE_COLUMNS].sort_values(["year", "cluster_id"], kind="stable")


def observed_points(series: str) -> pd.DataFrame:
    """Published values of `series` with their grades (sim/data/observed.csv)."""
    from sim.inputs import builtin
    obs = pd.read_csv(builtin("observed.csv"))
    return obs[obs["series"] == series][["year", "value", "grade"]]


def targets_of(summary: dict) -> list[tuple[float, int]]:
    """(share %, year) of each share target a run's summary.json reports: a `targets:` list
    when the scenario names several, else the single target_share_pct/target_year."""
    out = []
    for t in summary.get("targets") or []:
        value, year = t.get("value"), t.get("year")
        is_share = "share" in str(t.get("indicator", "share")).lower()
        if value is not None and year is not None and is_share:
            out.append((float(value), int(year)))
    if not out and summary.get("target_share_pct") is not None:
        out.append((float(summary["target_share_pct"]), int(summary["target_year"])))
    return out


def fan_chart(runs: list[Run], paths: list[Path]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    column = share_column(runs[0].annual)
    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    colours = plt.get_cmap("tab10").colors
    projected = []  # years past the data, as annual.csv flags them
    for i, r in enumerate(runs):
        q = r.annual.groupby("year")[column].quantile([0.05, 0.5, 0.95]).unstack()
        c = colours[i % len(colours)]
        ax.fill_between(q.index, q[0.05], q[0.95], color=c, alpha=0.2, lw=0)
        ax.plot(q.index, q[0.5], "-", marker=".", color=c, label=f"{r.label}: median, 5-95%")
        if "projected" in r.annual:
            projected += r.annual.loc[r.annual["projected"].astype(bool), "year"].tolist()
    if projected:
        projected_from = int(min(projected))
        ax.axvspan(projected_from - 0.5, ax.get_xlim()[1], color="grey", alpha=0.1,
                   label=f"projected ({projected_from} on)")
    obs = observed_points(column)
    if len(obs):
        ax.plot(obs["year"], obs["value"], "ks", ms=6, label="observed (NBS), grade shown")
        for _, o in obs.iterrows():
            ax.annotate(f"{o['value']:g} ({o['grade']})", (o["year"], o["value"]),
                        textcoords="offset points", xytext=(6, -10), fontsize=8)
    targets = sorted({t for r in runs for t in targets_of(r.summary)})
    for k, (value, year) in enumerate(targets):
        ax.axvline(year, color="tab:red", ls=":", lw=0.8)
        ax.plot([year], [value], "r*", ms=11, label="target" if k == 0 else None)
        ax.annotate(f"target {value:g}% by {year}", (year, value), textcoords="offset points",
                    xytext=(-8, 6), ha="right", fontsize=8, color="tab:red")
    basis = "official basis, as the NBS publishes" if column == OFFICIAL_SHARE else "internal basis"
    ax.set_ylabel(f"core digital VA, % of GDP ({basis})")
    ax.set_xlabel("year")
    ax.set_title("Core digital economy share of GDP: " + " vs ".join(r.label for r in runs))
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    for path in paths:
        # no timestamps in the files, so a rerun gives the same bytes
        fig.savefig(path, dpi=110, metadata={"Software": None} if path.suffix == ".png"
                    else {"Creator": None, "Date": None})
    plt.close(fig)


def incidence_figure(inc: pd.DataFrame, reference: str):
    """One panel per run other than the reference: each cluster's loss against the reference
    summed over the compared years (bn yuan), direct and indirect side by side, the total as a
    dot, clusters by total loss, labelled with their names (not ids) for a briefing."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.figures import cluster_labels

    label = cluster_labels(inc)
    others = [r for r in dict.fromkeys(inc["run"]) if r != reference]
    n = max(1, len(others))
    clusters = inc["cluster_id"].nunique()
    fig, axes = plt.subplots(1, n, figsize=(7.5 * n, 0.28 * clusters + 1.8), squeeze=False)
    years = f"{int(inc['year'].min())}-{int(inc['year'].max())}"
    for ax, run in zip(axes[0], others):
        g = inc[inc["run"] == run].groupby("cluster_id", sort=False)[
            ["total_loss_bn_yuan", "direct_loss_bn_yuan", "indirect_loss_bn_yuan"]].sum()
        g = g.sort_values("total_loss_bn_yuan", kind="stable")
        y = np.arange(len(g))
        ax.barh(y - 0.2, g["direct_loss_bn_yuan"], 0.4, color="tab:red", label="direct")
        ax.barh(y + 0.2, g["indirect_loss_bn_yuan"], 0.4, color="tab:orange", label="indirect")
        ax.plot(g["total_loss_bn_yuan"], y, "ko", ms=3.5, label="total")
        ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(y, [label(c) for c in g.index], fontsize=7.5)
        ax.set_xlabel(f"bn yuan, summed over {years}")
        ax.set_title(f"{run} vs {reference}", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(loc="lower right", fontsize=7.5)
    fig.suptitle("Incidence by cluster: loss = reference VA - run VA;\ndirect = output the chip "
                 "caps take, indirect = the rest", fontsize=9)
    fig.tight_layout()
    return fig


def incidence_chart(inc: pd.DataFrame, reference: str, paths: list[Path]) -> None:
    import matplotlib.pyplot as plt
    fig = incidence_figure(inc, reference)
    for path in paths:
        # no timestamps in the files, so a rerun gives the same bytes
        fig.savefig(path, dpi=110, metadata={"Software": None} if path.suffix == ".png"
                    else {"Creator": None, "Date": None})
    plt.close(fig)


def default_out(paths: list[Path], paired: bool) -> Path:
    text = json.dumps([str(p.resolve()) for p in paths] + [paired])
    return Path("runs") / f"compare-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def compare(paths: list[Path], out: Path, paired: bool = False, svg: bool = False,
            overwrite: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    if len(paths) < 2:
        raise UsageError("compare: give at least two run directories (the first is the "
                         "reference)")
    runs = [load_run(p) for p in paths]
    _labels(runs)
    reference = runs[0]
    if paired:
        for r in runs[1:]:
            check_paired(reference, r)
    with atomic.staged_directory(Path(out), COMMAND, FILES, overwrite) as tmp:
        diff = pd.concat([differences(reference, r, paired) for r in runs[1:]],
                         ignore_index=True)
        inc = pd.concat([incidence(reference, r) for r in runs], ignore_index=True)
        write_csv(diff, tmp / "differences.csv")
        write_csv(inc, tmp / "incidence.csv")
        fan_chart(runs, [tmp / "fan.png"] + ([tmp / "fan.svg"] if svg else []))
        incidence_chart(inc, reference.label,
                        [tmp / "incidence.png"] + ([tmp / "incidence.svg"] if svg else []))
        write_json({"output_of": COMMAND,
                    "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "command": sys.argv, "paired": paired, "reference": reference.label,
                    "inputs": [{"path": str(r.path.resolve()), "label": r.label,
                                "scenario_file": r.manifest.get("scenario_file"),
                                "seeds": r.manifest.get("seeds"),
                                "git_commit": r.manifest.get("git_commit"),
                                "created_utc": r.manifest.get("created_utc")} for r in runs]},
                   tmp / "manifest.json")
    return diff, inc


def cmd_compare(args) -> int:
    paths = [Path(p) for p in args.runs]
    out = Path(args.out) if args.out else default_out(paths, args.paired)
    diff, inc = compare(paths, out, args.paired, args.svg, args.overwrite)
    if not args.quiet:
        share = diff[diff["indicator"] == diff["indicator"].iloc[0]]
        print(f"{share['indicator'].iloc[0]}: run - reference ({share['method'].iloc[0]}), "
              "mean [90% interval]")
        for (run, y), g in share.groupby(["run", "year"], sort=False):
            row = g.iloc[0]
            print(f"  {run:<28} {y}  {row['mean_difference']:+8.3f}  "
                  f"[{row['ci90_low']:+.3f}, {row['ci90_high']:+.3f}]")
        print(f"  outputs: {out}/ (differences.csv, incidence.csv, fan.png, incidence.png"
              + (", fan.svg, incidence.svg" if args.svg else "") + ")")
    return 0


def register(sub) -> None:
    p = sub.add_parser("compare", help="compare run directories: paired differences by year, "
                       "an overlay fan chart, per-cluster incidence (the first run is the "
                       "reference)")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR",
                   help="output directories of `clustersim run`; the first is the reference")
    p.add_argument("--paired", action="store_true",
                   help="difference replicate by replicate (the runs must have the same "
                        "replicates and seeds)")
    p.add_argument("--svg", action="store_true",
                   help="also write the fan and incidence charts as SVG")
    p.add_argument("--out", help="output directory (default: runs/compare-<8 hex of the inputs>)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --out if it holds an earlier output of `clustersim compare`")
    p.add_argument("--quiet", action="store_true", help="print nothing")
    p.set_defaults(func=cmd_compare, interrupt_note="nothing was published")
