"""`clustersim report DIR`: what a sweep says about reaching the target, and which parameters
matter.

DIR/report/ gets PNG figures, CSV tables and report.md linking them:
  - the probability of reaching the target share in the target year, overall and by parameter
    value (grid and list: each value; sampled designs: quintiles), with Wilson 95% intervals,
    and a heatmap over two parameters;
  - fan charts of the annual share path (5-25-50-75-95th percentiles over runs);
  - Morris elementary effects (mu*, sigma) or Sobol' indices (S1, ST, and S2) from SALib on the
    per-point mean over seeds, with SALib's bootstrap 95% confidence intervals; Spearman rank
    correlations for other designs;
  - how much of the output's variance is seed noise (within-point) rather than parameters;
  - scenario discovery: the PRIM box of parameters where the target is reached (discovery.py);
  - the best and worst design points, and the failed runs.
The directory is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from SALib.analyze import morris, sobol
from scipy.stats import binomtest

from sim import atomic
from sim.sweep import discovery
from sim.sweep import store as st

FLOAT = "%.6g"
Z_BINS = 5            # quantile bins for sampled parameters
MAX_LEVELS = 12       # more distinct values than this are binned
SENS_SEED = 12345     # SALib bootstrap seed: reports are reproducible


def slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_")


def wilson(hits: int, n: int) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    ci = binomtest(int(hits), int(n)).proportion_ci(0.95, method="wilson")
    return float(ci.low), float(ci.high)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, float_format=FLOAT, lineterminator="\n")


def _levels(values: pd.Series, numeric: bool, design: str) -> pd.Series:
    """Group labels: the values themselves, or quantile bins of sampled values."""
    if design in ("grid", "list") or not numeric or values.nunique() <= MAX_LEVELS:
        return values
    return pd.qcut(values, Z_BINS, duplicates="drop")


def _label(level) -> str:
    if isinstance(level, pd.Interval):
        return f"{level.left:.4g}-{level.right:.4g}"
    if isinstance(level, float):
        return f"{level:.4g}"
    return str(level)


# ------------------------------------------------------------------------ tables

def p_hit_table(ok: pd.DataFrame, key: str, numeric: bool, design: str,
                metric: str) -> pd.DataFrame:
    groups = _levels(ok[key], numeric, design)
    rows = []
    for level, g in ok.groupby(groups, observed=True, sort=True):
        n, hits = len(g), int(g["target_hit"].sum())
        lo, hi = wilson(hits, n)
        rows.append({key: _label(level), "runs": n, "hits": hits, "p_hit": hits / n,
                     "p_hit_low95": lo, "p_hit_high95": hi,
                     f"mean_{metric}": g[metric].mean(), f"median_{metric}": g[metric].median()})
    return pd.DataFrame(rows)


def point_table(ok: pd.DataFrame, runs: pd.DataFrame, params: list[str],
                metric: str) -> pd.DataFrame:
    g = ok.groupby("point", sort=True)
    out = g[params].first()
    out["runs_ok"] = g.size()
    out["runs_failed"] = runs[runs["status"] == "failed"].groupby("point").size() \
        .reindex(out.index).fillna(0).astype(int)
    out[f"mean_{metric}"] = g[metric].mean()
    out[f"sd_{metric}"] = g[metric].std(ddof=1)
    out["p_hit"] = g["target_hit"].mean()
    out["median_first_year_hit"] = g["first_year_hit"].median()
    return out.reset_index()


def quantile_path(ok: pd.DataFrame, share_cols: list[str], years: list[int]) -> pd.DataFrame:
    q = ok[share_cols].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).T
    q.columns = ["p05", "p25", "p50", "p75", "p95"]
    q.insert(0, "year", years)
    q.insert(1, "runs", len(ok))
    return q.reset_index(drop=True)


def noise_share(ok: pd.DataFrame, metric: str) -> float | None:
    """Mean within-point variance over total variance: the part of the spread seeds make."""
    sizes = ok.groupby("point").size()
    if (sizes < 2).all() or ok[metric].var(ddof=1) == 0:
        return None
    within = ok.groupby("point")[metric].var(ddof=1).dropna()
    return float(within.mean() / ok[metric].var(ddof=1))


# ------------------------------------------------------------------------ sensitivity

def sensitivity(manifest: dict, design: pd.DataFrame, ok: pd.DataFrame, runs: pd.DataFrame,
                outputs: dict[str, str]) -> tuple[dict[str, pd.DataFrame], str | None]:
    """SALib indices for each output (name -> column of per-point means); or why not."""
    kind = manifest["design"]
    problem = manifest["problem"]
    if kind not in ("morris", "sobol"):
        return {}, None
    params = manifest["parameters"]
    X = design[[f"sample.{k}" for k in params]].to_numpy(float)
    missing = sorted(set(range(len(design))) - set(ok["point"]))
    if missing:
        return {}, (f"{len(missing)} design point(s) have no successful run (e.g. point "
                    f"{missing[0]}); SALib needs every point, so no indices")
    results = {}
    for name, col in outputs.items():
        Y = ok.groupby("point")[col].mean().reindex(range(len(design))).to_numpy(float)
        if kind == "morris":
            res = morris.analyze(problem, X, Y, num_resamples=1000, conf_level=0.95,
                                 num_levels=manifest["levels"], seed=SENS_SEED)
            df = pd.DataFrame({"parameter": params, "mu": res["mu"], "mu_star": res["mu_star"],
                               "mu_star_conf95": res["mu_star_conf"], "sigma": res["sigma"]})
            df = df.sort_values("mu_star", ascending=False, kind="stable")
        else:
            res = sobol.analyze(problem, Y, calc_second_order=manifest["second_order"],
                                num_resamples=1000, conf_level=0.95, seed=SENS_SEED)
            df = pd.DataFrame({"parameter": params, "S1": res["S1"], "S1_conf95": res["S1_conf"],
                               "ST": res["ST"], "ST_conf95": res["ST_conf"]})
            df = df.sort_values("ST", ascending=False, kind="stable")
            if manifest["second_order"]:
                s2 = [{"parameter_1": params[i], "parameter_2": params[j],
                       "S2": res["S2"][i, j], "S2_conf95": res["S2_conf"][i, j]}
                      for i in range(len(params)) for j in range(i + 1, len(params))]
                results[f"{name}_S2"] = pd.DataFrame(s2)
        results[name] = df.reset_index(drop=True)
    return results, None


# ------------------------------------------------------------------------ figures

def _plt():
    import matplotlib  # the Agg backend is chosen only here, where the report draws
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def fig_fan(q: pd.DataFrame, target: float, target_year: int, path: Path, title: str) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    _fan(ax, q, target, target_year)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _fan(ax, q, target, target_year, label=True):
    ax.fill_between(q["year"], q["p05"], q["p95"], color="tab:blue", alpha=0.18,
                    label="5-95th percentile" if label else None)
    ax.fill_between(q["year"], q["p25"], q["p75"], color="tab:blue", alpha=0.35,
                    label="25-75th percentile" if label else None)
    ax.plot(q["year"], q["p50"], color="tab:blue", lw=2, label="median" if label else None)
    ax.axhline(target, color="tab:red", ls="--", lw=1)
    ax.plot([target_year], [target], marker="*", ms=12, color="tab:red",
            label=f"target {target:g}% in {target_year}" if label else None)
    ax.set_xlabel("year")
    ax.set_ylabel("core digital VA, % of GDP")
    ax.grid(alpha=0.3)


def fig_fan_by(ok, key, share_cols, years, target, target_year, path) -> None:
    plt = _plt()
    levels = sorted(ok[key].unique(), key=lambda v: (str(type(v)), v))
    n = len(levels)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.8 * cols, 3.0 * rows), sharey=True,
                             squeeze=False)
    for i, (ax, level) in enumerate(zip(axes.flat, levels)):
        q = quantile_path(ok[ok[key] == level], share_cols, years)
        _fan(ax, q, target, target_year, label=False)
        ax.set_title(f"{key} = {_label(level)}", fontsize=9)
        if i % cols:
            ax.set_ylabel("")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle("Share of core digital VA in GDP by parameter value (median, 25-75, 5-95%)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fig_p_hit(tables: dict[str, pd.DataFrame], target: float, year: int, path: Path) -> None:
    plt = _plt()
    n = len(tables)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False,
                             sharey=True)
    for ax, (key, t) in zip(axes.flat, tables.items()):
        x = np.arange(len(t))
        err = np.vstack([t["p_hit"] - t["p_hit_low95"], t["p_hit_high95"] - t["p_hit"]])
        ax.errorbar(x, t["p_hit"], yerr=err, fmt="o-", capsize=3)
        ax.set_xticks(x, t[key], rotation=30 if len(t) > 4 else 0, fontsize=8)
        ax.set_title(key, fontsize=9)
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"P(share >= {target:g}% in {year})")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle("Probability of reaching the target, with Wilson 95% intervals", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fig_heatmap(grid: pd.DataFrame, kx: str, ky: str, target: float, year: int,
                path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.2, 4.8))
    im = ax.imshow(grid.to_numpy(float), origin="lower", cmap="RdYlGn", vmin=0, vmax=1,
                   aspect="auto")
    ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=30, fontsize=8)
    ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=8)
    ax.set_xlabel(kx)
    ax.set_ylabel(ky)
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = grid.iat[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, label=f"P(share >= {target:g}% in {year})")
    ax.set_title("Probability of reaching the target")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def fig_sensitivity(kind: str, df: pd.DataFrame, label: str, path: Path) -> None:
    plt = _plt()
    df = df.iloc[::-1]
    y = np.arange(len(df))
    if kind == "morris":
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 0.45 * len(df) + 1.8))
        a1.barh(y, df["mu_star"], xerr=df["mu_star_conf95"], capsize=3, color="tab:blue")
        a1.set_yticks(y, df["parameter"], fontsize=8)
        a1.set_xlabel("mu*: mean |elementary effect| (change over the range), 95% CI")
        a2.scatter(df["mu_star"], df["sigma"])
        for _, r in df.iterrows():
            a2.annotate(r["parameter"].split(".")[-1], (r["mu_star"], r["sigma"]), fontsize=7)
        a2.set_xlabel("mu*")
        a2.set_ylabel("sigma (non-linearity, interactions)")
        for a in (a1, a2):
            a.grid(alpha=0.3)
        fig.suptitle(f"Morris screening of {label}", fontsize=10)
    else:
        fig, ax = plt.subplots(figsize=(7, 0.5 * len(df) + 1.8))
        ax.barh(y + 0.2, df["ST"], 0.4, xerr=df["ST_conf95"], capsize=3, label="total ST")
        ax.barh(y - 0.2, df["S1"], 0.4, xerr=df["S1_conf95"], capsize=3, label="first order S1")
        ax.set_yticks(y, df["parameter"], fontsize=8)
        ax.set_xlabel("Sobol' index (share of output variance), 95% CI")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        ax.set_title(f"Sobol' indices of {label}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------------ the report

def _md_table(df: pd.DataFrame, floatfmt: str = "{:.3g}") -> str:
    def cell(v):
        if isinstance(v, float):
            return "" if np.isnan(v) else floatfmt.format(v)
        return str(v)
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def completeness(manifest: dict, runs: pd.DataFrame, root: Path) -> tuple[str, bool]:
    """How much of the sweep the report covers, in one line, and whether that is all of it."""
    expected = manifest["points"] * manifest["replicates"]
    failed = int((runs["status"] == "failed").sum()) if len(runs) else 0
    counts = f"{len(runs)} of {expected} runs finished ({len(runs) - failed} ok, {failed} failed)"
    if len(runs) >= expected:
        return f"complete: {counts}", True
    return (f"incomplete: {counts}, {expected - len(runs)} not run yet; finish with `clustersim "
            f"sweep {manifest['experiment_file']} --out {root}`"), False


def write_report(root: Path, metric: str | None = None) -> Path:
    root = Path(root)
    manifest = st.read_manifest(root)
    runs = st.read_runs(root)
    if runs.empty:  # nothing to draw: an empty report would look like a result
        status, _ = completeness(manifest, runs, root)
        raise st.DirectoryError(f"{root}: no finished run to report on ({status})")
    design = st.read_design(root)
    params: list[str] = manifest["parameters"]
    kinds: dict[str, str] = manifest["parameter_kinds"]
    years: list[int] = manifest["years"]
    target, tyear = manifest["target_share_pct"], manifest["target_year"]
    share_cols = [f"share_{y}_pct" for y in years]
    metric = metric or f"share_{tyear}_pct"
    if metric not in runs.columns or metric in ID_LIKE:
        choices = [c for c in manifest["metrics"] if c not in ("target_hit",)]
        raise st.DirectoryError(f"unknown metric {metric!r}; choose one of " + ", ".join(choices))
    ok = runs[runs["status"] == "ok"].copy()
    ok["target_hit"] = ok["target_hit"].astype(bool)
    failed = runs[runs["status"] == "failed"]
    expected = manifest["points"] * manifest["replicates"]

    out = root / "report"
    md: list[str] = []
    try:
        with atomic.replaced_directory(out, "clustersim report") as tmp:
            _build(md, tmp, manifest, runs, ok, failed, design, params, kinds, years,
                   share_cols, target, tyear, metric, expected,
                   completeness(manifest, runs, root))
            (tmp / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    except OSError as exc:
        if isinstance(exc, st.MachineFault):
            raise
        raise st.fault(out, exc) from None
    return out / "report.md"


ID_LIKE = set(st.ID_COLUMNS)


def _build(md, tmp, manifest, runs, ok, failed, design, params, kinds, years, share_cols,
           target, tyear, metric, expected, status):
    kind = manifest["design"]
    numeric = {k: kinds[k] in ("float", "int") for k in params}
    base = manifest["base_scenario"]
    commits = sorted({str(s.get("git_commit")) for s in manifest["sessions"]})
    md += [f"# Sweep report: {manifest['experiment_name']}", ""]
    text, complete = status
    if not complete:
        md += [f"**This sweep is {text}.** Every figure below covers the finished runs only.",
               ""]
    if manifest.get("description"):
        md += [manifest["description"], ""]
    md += [f"- Experiment: `{manifest['experiment_file']}` (hash "
           f"`{manifest['experiment_hash'][:12]}`), base scenario `{base.get('name')}`, "
           f"{base['run']['firms']} firm agents, {base['run']['start']} to {base['run']['end']}",
           f"- Design: **{kind}** over {len(params)} parameter(s), {manifest['points']} points x "
           f"{manifest['replicates']} replicate(s) = {expected} runs; master seed "
           f"{manifest['seed']} ({manifest['seeds']} seeds)",
           f"- Runs: {text}",
           f"- Code: commit(s) {', '.join(commits)}; details in `../manifest.json`",
           f"- Target: core digital economy value added >= {target:g}% of GDP in {tyear}; "
           f"sensitivity output: `{metric}`", ""]
    if ok.empty:
        md += ["No successful run: nothing to analyse.", ""]
        _failures(md, failed)
        return

    # overall
    hits, n = int(ok["target_hit"].sum()), len(ok)
    lo, hi = wilson(hits, n)
    v = ok[metric]
    md += ["## Reaching the target", "",
           f"Over all {n} successful runs the target is reached in **{hits / n:.0%}** "
           f"(95% interval {lo:.0%}-{hi:.0%}); `{metric}`: median {v.median():.4g}, "
           f"5-95th percentile {v.quantile(0.05):.4g}-{v.quantile(0.95):.4g}. Across designs "
           "the probability averages over the design's parameter distribution; read it by "
           "parameter value below.", ""]
    noise = noise_share(ok, metric)
    if noise is not None:
        md += [f"Seed noise: {noise:.0%} of the variance of `{metric}` is within design points "
               "(different seeds, same parameters)"
               + (" -- more replicates or more firm agents would sharpen the comparison."
                  if noise > 0.3 else "."), ""]

    # fan charts
    q = quantile_path(ok, share_cols, years)
    _write_csv(q, tmp / "share_path_quantiles.csv")
    fig_fan(q, target, tyear, tmp / "fan_share.png",
            f"Core digital VA share of GDP, {n} runs")
    md += ["## Share path", "", "![fan chart](fan_share.png)", "",
           "Percentiles by year: [share_path_quantiles.csv](share_path_quantiles.csv)", ""]
    if kind in ("grid", "list"):
        for key in params:
            if 1 < ok[key].nunique() <= 8:
                name = f"fan_by_{slug(key)}.png"
                fig_fan_by(ok, key, share_cols, years, target, tyear, tmp / name)
                md += [f"![fan by {key}]({name})", ""]

    # P(hit) by parameter
    tables = {}
    for key in params:
        if ok[key].nunique() < 2:
            continue
        t = p_hit_table(ok, key, numeric[key], kind, metric)
        tables[key] = t
        _write_csv(t, tmp / f"p_hit_by_{slug(key)}.csv")
    if tables:
        fig_p_hit(tables, target, tyear, tmp / "p_hit_by_parameter.png")
        md += ["## Probability of reaching the target by parameter value", "",
               "Each panel averages over the other parameters"
               + ("" if kind in ("grid", "list") else " (sampled values in quintile bins)")
               + "; bars are Wilson 95% intervals over runs.", "",
               "![P(hit) by parameter](p_hit_by_parameter.png)", "",
               "Tables: " + ", ".join(f"[{k}](p_hit_by_{slug(k)}.csv)" for k in tables), ""]

    # sensitivity
    outputs = {metric: metric, "p_hit": "target_hit"}
    sens, why_not = sensitivity(manifest, design, ok.assign(
        target_hit=ok["target_hit"].astype(float)), runs, outputs)
    ranking = None
    if sens:
        label = "Morris elementary effects" if kind == "morris" else "Sobol' indices"
        md += [f"## Sensitivity: {label}", "",
               "Computed by SALib on each design point's mean over its "
               f"{manifest['replicates']} seed(s); 95% confidence intervals by bootstrap."]
        md += ["Morris: an elementary effect is the change of the output over a step of "
               f"{manifest['levels'] / (2 * (manifest['levels'] - 1)):.3g} of a parameter's "
               "range divided by that fraction, so mu* reads as the change over the whole range "
               "(for a linear effect); mu* ranks influence, sigma flags non-linearity or "
               "interactions (Morris 1991; Campolongo "
               "et al. 2007)." if kind == "morris" else
               "Sobol': S1 is the variance share of a parameter alone, ST including its "
               "interactions (Saltelli 2002). Intervals that straddle zero mean the sample is "
               "too small to tell.", ""]
        for name in outputs:
            df = sens[name]
            csv = f"{kind}_{slug(name)}.csv"
            _write_csv(df, tmp / csv)
            png = f"{kind}_{slug(name)}.png"
            what = f"`{name}`" if name != "p_hit" else "P(target reached)"
            fig_sensitivity(kind, df, what if name != "p_hit" else "P(target reached)",
                            tmp / png)
            md += [f"### {what}", "", f"![{kind} {name}]({png})", "",
                   _md_table(df), "", f"Table: [{csv}]({csv})", ""]
            if f"{name}_S2" in sens:
                s2 = f"sobol_{slug(name)}_S2.csv"
                _write_csv(sens[f"{name}_S2"], tmp / s2)
                md += [f"Second-order indices: [{s2}]({s2})", ""]
        ranking = list(sens[metric]["parameter"])
    elif why_not:
        md += ["## Sensitivity", "", why_not, ""]
    else:
        num = [k for k in params if numeric[k] and ok[k].nunique() > 1]
        if num:
            rho = ok[num + [metric]].corr(method="spearman")[metric].drop(metric)
            t = pd.DataFrame({"parameter": rho.index, f"spearman_rho_{metric}": rho.to_numpy()})
            t = t.reindex(t[f"spearman_rho_{metric}"].abs().sort_values(ascending=False).index)
            _write_csv(t, tmp / "rank_correlation.csv")
            md += ["## Which parameters move the outcome", "",
                   f"Spearman rank correlation of each parameter with `{metric}` over runs "
                   "(a morris or sobol design gives proper sensitivity indices):", "",
                   _md_table(t), "", "Table: [rank_correlation.csv](rank_correlation.csv)", ""]
            ranking = list(t["parameter"])

    # heatmap over two parameters
    pair = [k for k in (ranking or params) if ok[k].nunique() > 1][:2]
    if len(pair) == 2:
        ky, kx = pair
        gy = _levels(ok[ky], numeric[ky], kind)
        gx = _levels(ok[kx], numeric[kx], kind)
        cell = ok.groupby([gy, gx], observed=True)["target_hit"].agg(["mean", "size"])
        grid = cell["mean"].unstack(kx)
        grid.index = [_label(i) for i in grid.index]
        grid.columns = [_label(c) for c in grid.columns]
        long = cell.reset_index()
        long.columns = [ky, kx, "p_hit", "runs"]
        long[ky] = long[ky].map(_label)
        long[kx] = long[kx].map(_label)
        _write_csv(long, tmp / "p_hit_heatmap.csv")
        fig_heatmap(grid, kx, ky, target, tyear, tmp / "p_hit_heatmap.png")
        others = [k for k in params if k not in pair]
        md += ["## Two parameters together", "",
               f"P(target reached) over `{ky}` and `{kx}`"
               + (f", averaging over {', '.join(f'`{k}`' for k in others)}" if others else "")
               + ".", "", "![heatmap](p_hit_heatmap.png)", "",
               "Table: [p_hit_heatmap.csv](p_hit_heatmap.csv)", ""]

    _discovery(md, tmp, ok, [k for k in params if numeric[k]],
               {f"share >= {target:g}% in {tyear}": "target_hit"})

    # best and worst points
    pts = point_table(ok, runs, params, metric)
    _write_csv(pts, tmp / "design_points.csv")
    order = pts.sort_values(f"mean_{metric}", ascending=False, kind="stable")
    k = min(10, max(1, len(pts) // 2))
    show = ["point", *params, "runs_ok", f"mean_{metric}", f"sd_{metric}", "p_hit"]
    md += ["## Best and worst design points", "", f"By mean `{metric}` over seeds "
           "(all points: [design_points.csv](design_points.csv)).", "", "Best:", "",
           _md_table(order.head(k)[show]), "", "Worst:", "",
           _md_table(order.tail(k).iloc[::-1][show]), ""]
    _write_csv(order.head(k)[show], tmp / "best_points.csv")
    _write_csv(order.tail(k).iloc[::-1][show], tmp / "worst_points.csv")
    _failures(md, failed)


def _discovery(md, tmp, ok, numeric_params, targets: dict[str, str]):
    """Scenario discovery (PRIM) for each target: label -> boolean column of the runs."""
    if not numeric_params:
        return
    md += ["## Scenario discovery: where the target is reached", "",
           "PRIM from the EMA Workbench over the runs (each run one case, its swept parameters "
           "the uncertainties). Coverage is the share of all target-reaching runs inside the "
           "box, density the share of runs inside the box that reach the target; the box "
           f"described is the most covering one at least {discovery.DENSITY_GOAL:.0%} dense "
           "(else the densest). A quasi-p value above 0.05 marks a restriction that may be "
           "chance.", ""]
    for label, col in targets.items():
        d = discovery.discover(ok[numeric_params], ok[col], label)
        md += [f"### {label}", ""]
        if d.why_not:
            md += [f"No box: {d.why_not} ({d.hits} of {d.runs} runs reach it).", ""]
            continue
        name = slug(label)
        _write_csv(d.trajectory, tmp / f"discovery_{name}_tradeoff.csv")
        _write_csv(d.limits, tmp / f"discovery_{name}_box.csv")
        discovery.fig_tradeoff(d, tmp / f"discovery_{name}.png")
        b = d.box
        md += [f"{d.hits} of {d.runs} runs reach it (base density {d.hits / d.runs:.2f}). "
               f"Described box: coverage **{b['coverage']:.2f}**, density "
               f"**{b['density']:.2f}**, {int(b['n'])} runs, {int(b['res_dim'])} restricted "
               "parameter(s):", ""]
        md += [_md_table(d.limits) if len(d.limits) else
               "(no restriction: the whole swept space)", "",
               f"![PRIM trade-off](discovery_{name}.png)", "",
               f"Tables: [box](discovery_{name}_box.csv), "
               f"[peeling trajectory](discovery_{name}_tradeoff.csv)", ""]


def _failures(md, failed):
    if failed.empty:
        return
    md += ["## Failed runs", "", f"{len(failed)} run(s) raised; each traceback is in "
           "`../errors/<run_id>.txt`.", ""]
    show = failed[["run_id", "point", "seed", "error"]].head(20)
    md += [_md_table(show), ""]
    if len(failed) > 20:
        md += [f"... and {len(failed) - 20} more (`status == 'failed'` in the runs).", ""]
