"""`clustersim validate-model`: run the validation experiments and write docs/validation.md
with its figures, so the report always describes the code as it is.

The report is deterministic: the same scenario, firm count, replicates and seed give the same
Markdown and the same PNG bytes (no time stamps; matplotlib's Software tag dropped).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim import atomic
from sim.errors import UsageError
from sim.inputs import load_inputs
from sim.outputs import package_versions
from sim.runner import build_model
from sim.scenario import Scenario
from sim.validation import experiments as ex
from sim.controls_loss import CGE_COMPLETE_CUTOFF_PCT_GDP
from sim.validation import observed_fit
from sim.validation import stylised as st

# Reference values (sources in the report and in /work/shared/data/figures_to_2020.csv)
TAIL_RANGE = (1.0, 1.5)      # Chinese firms (Heinrich & Dai 2016); Axtell 2001: 1.06 (US)
BETA_RANGE = (0.15, 0.20)    # Stanley et al. 1996 (0.15-0.2); Stanley group summary 0.14-0.2
FIGURE_SUFFIX = ".png"       # the only files validate-model writes into its figure folder


@dataclass
class Results:
    config: Scenario
    firms: int
    seeds: list[int]
    tail: dict = field(default_factory=dict)          # (year, measure) -> TailFit
    tail_data: dict = field(default_factory=dict)     # year -> (sizes, weights)
    growth: dict = field(default_factory=dict)        # measure -> shape dict
    growth_data: dict = field(default_factory=dict)   # measure -> growth frame
    volatility: dict = field(default_factory=dict)    # measure -> slope dict
    premium: pd.DataFrame | None = None
    premium_data: pd.DataFrame | None = None
    local_elasticity: pd.DataFrame | None = None
    spill: dict = field(default_factory=dict)
    shock: pd.DataFrame | None = None
    shares: pd.DataFrame | None = None
    reporter_gap: float = 0.0
    observed: pd.DataFrame | None = None          # observed_fit.fit_table
    decomposition: pd.DataFrame | None = None     # decomposition.csv of clustersim decompose
    backtest: str | None = None                   # "## Back-test" section of clustersim backtest


def run(config: Scenario, counterfactual: Scenario, firms: int, seeds: list[int],
        progress=print, decomposition: pd.DataFrame | None = None,
        backtest: str | None = None) -> Results:
    res = Results(config, firms, list(seeds), decomposition=decomposition, backtest=backtest)
    progress(f"published series 2020-2023, measured as published: {len(seeds)} replicates")
    res.observed = observed_fit.fit_table(config, seeds, firms)
    inputs = load_inputs(config)
    area = dict(zip(inputs.regions["region_id"], inputs.regions["area_km2"].astype(float)))

    progress(f"agglomeration arms and the scenario itself: {len(seeds)} replicates x 3")
    arms = ex.agglomeration_arms(config, seeds, firms)
    base = next(iter(arms.values()))
    f = base.firms
    first, last = int(f["year"].min()), int(f["year"].max())

    # firm-size tail, value added per real firm
    for year in (first, last):
        snap = f[f["year"] == year]
        for measure in ("value_added_bn_yuan", "employment"):
            res.tail[(year, measure)] = st.pareto_tail(snap[measure], snap["weight"],
                                                      rng=np.random.default_rng(year))
        res.tail_data[year] = (snap["value_added_bn_yuan"].to_numpy(), snap["weight"].to_numpy())

    # growth rates and volatility
    for measure in ("value_added_bn_yuan", "employment"):
        g = st.growth_rates(f, measure)
        real = st.by_real_firms(g)
        res.growth_data[measure] = real
        res.growth[measure] = st.growth_shape(real["growth"])
        res.volatility[measure] = st.volatility_size(g["log_size"], g["growth"])
        within = g["log_size"] - g.groupby(["replicate", "year", "sector"])["log_size"].transform("median")
        res.volatility[measure + "/within"] = st.volatility_size(within, g["growth"])

    # agglomeration premium in each arm, first and last year
    rows = []
    for label, arm in arms.items():
        for year in (first, last):
            snap = arm.firms[arm.firms["year"] == year]
            p = st.agglomeration_premium(snap, area)
            rows.append({"arm": label, "year": year, "elasticity": p["elasticity"], "se": p["se"],
                         "n": p["n"], "clusters": p["clusters"]})
            if arm is base and year == last:
                res.premium_data = p["data"]
    res.premium = pd.DataFrame(rows)
    m0 = build_model(config, seed=seeds[0], firms=firms, inputs=inputs)
    res.local_elasticity = ex.congestion_slope(config, m0)

    progress("spillover decay: one month, twin models")
    res.spill = ex.spillover_decay(config, seeds[0], firms)

    progress(f"counterfactual without controls: {len(seeds)} replicates")
    cf = ex.run_replicates(counterfactual, seeds, firms, snapshots=False)
    res.shock = ex.shock_split(base, cf)
    nat = base.losses.groupby(["replicate", "date"]).agg(
        direct=("direct_loss", "sum"), reporter=("national_direct_reporter", "first"))
    res.reporter_gap = float(np.max(np.abs(nat["direct"] - nat["reporter"])))
    res.shares = pd.concat([base.annual.assign(scenario=config.name),
                            cf.annual.assign(scenario=counterfactual.name)])
    return res


# --------------------------------------------------------------------------- figures

def _figures(res: Results, out: Path) -> dict[str, str]:
    import matplotlib  # the Agg backend is chosen only here, where the report draws

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = {}

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(out / f"{name}{FIGURE_SUFFIX}", dpi=110, metadata={"Software": None})
        plt.close(fig)
        files[name] = f"figures/validation/{name}.png"

    # 1 tail
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for year, colour in zip(sorted(res.tail_data), ("tab:blue", "tab:red")):
        s, w = res.tail_data[year]
        o = np.argsort(-s)
        s, w = s[o], w[o]
        ccdf = np.cumsum(w) / w.sum()
        ax.loglog(s * 1e3, ccdf, ".", ms=2, color=colour, label=f"{year}")
        t = res.tail[(year, "value_added_bn_yuan")]
        xs = np.geomspace(t.xmin, s.max(), 50)
        ax.loglog(xs * 1e3, t.tail_share_pct / 100 * (xs / t.xmin) ** -t.alpha, "-", color=colour,
                  lw=1, label=f"Pareto fit {year}: alpha={t.alpha:.2f}")
    ax.set_xlabel("value added per real firm, million yuan/year")
    ax.set_ylabel("share of real firms larger (CCDF)")
    ax.legend(fontsize=8)
    ax.set_title("Firm-size upper tail")
    save(fig, "size_tail")

    # 2 growth distribution
    fig, ax = plt.subplots(figsize=(6, 4.2))
    g = res.growth_data["value_added_bn_yuan"]["growth"].to_numpy()
    lim = np.percentile(np.abs(g), 99.9)
    hist, edges = np.histogram(g, bins=80, range=(-lim, lim), density=True)
    mid = (edges[1:] + edges[:-1]) / 2
    ax.semilogy(mid[hist > 0], hist[hist > 0], "k.", label="simulated firms")
    ax.semilogy(mid, stats.laplace.pdf(mid, *stats.laplace.fit(g)), "tab:red", label="Laplace fit")
    ax.semilogy(mid, stats.norm.pdf(mid, *stats.norm.fit(g)), "tab:blue", label="Gaussian fit")
    ax.set_ylim(max(hist[hist > 0].min() / 3, 1e-4), hist.max() * 3)
    ax.set_xlabel("annual log growth of value added, net of sub-sector x year mean")
    ax.set_ylabel("density (log scale)")
    ax.legend(fontsize=8)
    ax.set_title("Firm growth rates: tent (Laplace) or bell (Gaussian)?")
    save(fig, "growth_distribution")

    # 3 volatility vs size
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for measure, colour, label in (("value_added_bn_yuan", "tab:blue", "value added"),
                                   ("employment", "tab:green", "employment")):
        v = res.volatility[measure]
        b = v["bins"]
        ax.plot(b["log_size"], np.log(b["sd"]), "o", color=colour, ms=4,
                label=f"{label}: beta={v['beta']:.3f}")
        x = b["log_size"].to_numpy()
        ax.plot(x, np.log(b["sd"]).mean() - v["beta"] * (x - x.mean()), "-", color=colour, lw=1)
        ax.plot(x, np.log(b["sd"]).mean() - 0.18 * (x - x.mean()), ":", color="grey", lw=1)
    ax.set_xlabel("log size at the start of the year (median of bin)")
    ax.set_ylabel("log sd of annual growth")
    ax.set_title("Volatility falls with size (dotted: slope -0.18)")
    ax.legend(fontsize=8)
    save(fig, "volatility_size")

    # 4 agglomeration premium (binned by cluster: mean residual log productivity)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    d = res.premium_data.copy()
    fe = d["fe"]
    d["res_prod"] = d["log_prod"] - d.groupby(fe)["log_prod"].transform("mean")
    d["res_dens"] = d["log_density"] - d.groupby(fe)["log_density"].transform("mean")
    by = d.groupby("region").apply(lambda x: pd.Series({
        "x": np.average(x["res_dens"], weights=x["weight"]),
        "y": np.average(x["res_prod"], weights=x["weight"]),
        "w": x["weight"].sum()}), include_groups=False)
    ax.scatter(by["x"], by["y"], s=by["w"] / by["w"].max() * 200, alpha=0.6)
    for name, row in by.iterrows():
        ax.annotate(name, (row["x"], row["y"]), fontsize=6)
    xs = np.linspace(by["x"].min(), by["x"].max(), 10)
    last = res.premium[(res.premium["arm"] == res.premium["arm"].iloc[0])].iloc[-1]
    eps = res.config["agglomeration.elasticity"]
    ax.plot(xs, last["elasticity"] * xs, "tab:red", label=f"measured {last['elasticity']:.3f}")
    ax.plot(xs, eps * xs, "k--", lw=1, label=f"set eps = {eps:g}")
    ax.set_xlabel("log density of the cluster (within sub-sector x replicate)")
    ax.set_ylabel("log labour productivity (within)")
    ax.set_title(f"Agglomeration premium, {int(last['year'])}")
    ax.legend(fontsize=8)
    save(fig, "agglomeration_premium")

    # 5 spillover decay
    fig, ax = plt.subplots(figsize=(6, 4.2))
    b = res.spill["by_region"]
    ax.semilogy(b["distance_km"], b["pool_change"], "o")
    for _, row in b.iterrows():
        ax.annotate(row["region"], (row["distance_km"], row["pool_change"]), fontsize=6)
    xs = np.linspace(0, b["distance_km"].max(), 50)
    y0 = np.exp(np.log(b["pool_change"]).mean() + b["distance_km"].mean() / res.spill["decay_km"])
    ax.semilogy(xs, y0 * np.exp(-xs / res.spill["decay_km"]), "tab:red",
                label=f"fitted decay {res.spill['decay_km']:.0f} km")
    y1 = np.exp(np.log(b["pool_change"]).mean() + b["distance_km"].mean() / res.spill["set_decay_km"])
    ax.semilogy(xs, y1 * np.exp(-xs / res.spill["set_decay_km"]), "k--", lw=1,
                label=f"set delta {res.spill['set_decay_km']:g} km")
    ax.set_xlabel(f"distance from {res.spill['source']}, km")
    ax.set_ylabel("knowledge reaching the cluster (median dK / s*gamma)")
    ax.set_title("Spillover decay with distance")
    ax.legend(fontsize=8)
    save(fig, "spillover_decay")

    # 6 shock split by region, last year
    fig, ax = plt.subplots(figsize=(7, 4.6))
    t = _shock_table(res, int(res.shock["year"].max())).iloc[:-1]
    t = t.sort_values("total_loss", ascending=False)
    ax.bar(t.index, t["direct_loss"], label="direct (chip caps)", color="tab:red")
    ax.bar(t.index, t["indirect_loss"], bottom=np.where(t["indirect_loss"] > 0, t["direct_loss"], 0),
           label="indirect", color="tab:orange")
    ax.plot(t.index, t["total_loss"], "k_", ms=12, label="total vs no controls")
    ax.set_ylabel("bn yuan of value added")
    ax.set_title(f"Loss from export controls by cluster, {int(res.shock['year'].max())}")
    ax.tick_params(axis="x", rotation=90, labelsize=7)
    ax.legend(fontsize=8)
    save(fig, "shock_split")
    return files


# --------------------------------------------------------------------------- tables

def _shock_table(res: Results, year: int | None = None) -> pd.DataFrame:
    """Mean over replicates by region (plus a national row), bn yuan; year None = cumulative."""
    s = res.shock if year is None else res.shock[res.shock["year"] == year]
    per_rep = s.groupby(["replicate", "region"])[["va", "va_no_controls", "total_loss",
                                                   "direct_loss", "indirect_loss"]].sum()
    mean = per_rep.groupby("region").mean()
    nat_rep = per_rep.groupby("replicate").sum()
    nat = nat_rep.mean().rename("China")
    nat_sd = nat_rep.std(ddof=1)
    t = pd.concat([mean, nat.to_frame().T])
    t["total_pct"] = 100 * t["total_loss"] / t["va_no_controls"]
    t["direct_share_pct"] = 100 * t["direct_loss"] / t["total_loss"]
    t.attrs["national_sd"] = nat_sd
    return t


def _md_table(df: pd.DataFrame, fmt: dict[str, str]) -> str:
    cols = list(fmt)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(f.format(row[c]) if not isinstance(row[c], str) else row[c]
                                       for c, f in fmt.items()) + " |")
    return "\n".join(lines)


def verdict(value, lo, hi) -> str:
    return "inside" if lo <= value <= hi else "OUTSIDE"


def markdown(res: Results, files: dict[str, str], command: str) -> str:
    c = res.config
    eps = c["agglomeration.elasticity"]
    last = int(max(y for y, _ in res.tail))
    first = int(min(y for y, _ in res.tail))
    t_last = res.tail[(last, "value_added_bn_yuan")]
    gva, gemp = res.growth["value_added_bn_yuan"], res.growth["employment"]
    vva, vemp = res.volatility["value_added_bn_yuan"], res.volatility["employment"]
    prem = res.premium
    arm0 = prem["arm"].iloc[0]
    p_last = prem[(prem["arm"] == arm0) & (prem["year"] == last)].iloc[0]
    p_first = prem[(prem["arm"] == arm0) & (prem["year"] == first)].iloc[0]
    p_off = prem[(prem["arm"].str.contains("switched off")) & (prem["year"] == last)].iloc[0]
    sp = res.spill
    shock_last = _shock_table(res, last)
    shock_cum = _shock_table(res, None)
    nat_last, nat_cum = shock_last.loc["China"], shock_cum.loc["China"]
    v = package_versions()

    out = [
        "# Validation report",
        "",
        f"Generated by `{command}`; do not edit by hand (the command rewrites this file and "
        "`docs/figures/validation/`).",
        "",
        f"Scenario `{c.name}` ({c.path.name if c.path else 'defaults'}), {res.firms:,} firm "
        f"agents, {len(res.seeds)} replicates (seeds {res.seeds[0]}-{res.seeds[-1]}), "
        f"{first}-{last}. Counterfactual for the shock split: the same scenario with "
        "`export_controls.enabled: false`, same seeds. "
        f"Versions: clustersim {v.get('clustersim', '?')}, mesa {v.get('mesa', '?')}, "
        f"numpy {v.get('numpy', '?')}, scipy {v.get('scipy', '?')}.",
        "",
        "## Summary",
        "",
        "| check | simulated | reference | verdict |",
        "|---|---|---|---|",
        f"| firm-size tail, Pareto exponent of value added per firm, {last} | "
        f"{t_last.alpha:.2f} (95% CI {t_last.ci_low:.2f}-{t_last.ci_high:.2f}) | "
        f"{TAIL_RANGE[0]}-{TAIL_RANGE[1]} (Chinese firms) | "
        f"{verdict(t_last.alpha, *TAIL_RANGE)} |",
        f"| growth-rate shape, value added (Subbotin b; 1 Laplace, 2 Gaussian) | "
        f"b = {gva['subbotin_shape']:.2f}; {gva['better_fit']} fits better | Laplace (b near 1) | "
        f"{'inside' if gva['better_fit'] == 'Laplace' else 'OUTSIDE'} |",
        f"| volatility-size slope beta, value added / employment | {vva['beta']:.3f} / "
        f"{vemp['beta']:.3f} | {BETA_RANGE[0]}-{BETA_RANGE[1]} | "
        f"{verdict(vva['beta'], *BETA_RANGE)} / {verdict(vemp['beta'], *BETA_RANGE)} |",
        f"| agglomeration premium (FE regression), {first} / {last} | {p_first['elasticity']:.3f} / "
        f"{p_last['elasticity']:.3f} | set eps = {eps:g} | see below |",
        f"| spillover decay length | {sp['decay_km']:.0f} km (95% CI {sp['decay_km_ci'][0]:.0f}-"
        f"{sp['decay_km_ci'][1]:.0f}) | set delta = {sp['set_decay_km']:g} km, lengthened by "
        f"platform links (reach {c['platform.reach']:g}) | "
        f"{verdict(sp['set_decay_km'], *sp['decay_km_ci'])} (distance-free links) |",
        f"| loss from controls {last}, % of no-control value added / pp of GDP share | "
        f"{nat_last['total_pct']:.1f}% / {_share_loss(res, last):.2f} pp | "
        f"{CGE_COMPLETE_CUTOFF_PCT_GDP}% of real GDP for a *complete* chip-import cut-off "
        "(dynamic CGE, MODEL_BRIEF); controls are partial | "
        f"{'below' if _share_loss(res, last) < -CGE_COMPLETE_CUTOFF_PCT_GDP else 'ABOVE'} "
        "the complete cut-off |",
        "",
        "Verdicts compare a point estimate with a published range; `OUTSIDE` is a finding about the "
        "model to act on, not a test failure.",
        "",
        *_observed_section(res),
        *_decomposition_section(res),
        *_backtest_section(res),
        "## 1. Firm-size upper tail",
        "",
        "Each agent stands for `weight` real firms of equal size, so the tail is estimated on real "
        "firms: the Hill maximum-likelihood estimator with frequency weights, the lower bound xmin "
        "chosen by the Kolmogorov-Smirnov criterion (Clauset, Shalizi & Newman 2009), the 95% "
        "interval by bootstrap over the agents in the tail (999 resamples, xmin fixed). Alpha is "
        "the exponent of the CCDF, P(S > s) ~ s^-alpha (Zipf: alpha = 1). References: Axtell "
        "(2001) 1.06 for US firms; Chinese firms 1.0-1.5 (Heinrich & Dai 2016: CCDF 1.0-1.5 across "
        "provinces); Zipf in the top 500 Chinese firms (Zhang & Wang). The initial population "
        f"draws employment with `calibration.size_tail_exponent` = "
        f"{c['calibration.size_tail_exponent']:g}; value added adds the productivity spread.",
        "",
        "| year | size measure | alpha | 95% CI | xmin | agents in tail | share of real firms in tail | KS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (year, measure), t in sorted(res.tail.items()):
        unit = "mn yuan" if measure == "value_added_bn_yuan" else "workers"
        xmin = t.xmin * 1e3 if measure == "value_added_bn_yuan" else t.xmin
        out.append(f"| {year} | {'value added' if unit == 'mn yuan' else 'employment'} | "
                   f"{t.alpha:.3f} | {t.ci_low:.3f}-{t.ci_high:.3f} | {xmin:,.1f} {unit} | "
                   f"{t.tail_agents} | {t.tail_share_pct:.2f}% | {t.ks:.3f} |")
    out += ["", f"![size tail]({files['size_tail']})", "",
            "## 2. Firm growth rates",
            "",
            "Annual log growth of each surviving agent between year-ends, net of the sub-sector x "
            "year mean, pooled over years and replicates as real firms (agents resampled in "
            "proportion to their weight: big firms are drawn more often and weigh less). "
            "Laplace and Gaussian fitted by maximum likelihood (both two parameters, so AIC "
            "ranks as the log-likelihood); the Subbotin "
            "(generalised normal) shape b nests both (b = 1 Laplace, b = 2 Gaussian; Bottazzi & "
            "Secchi 2006). Chinese firms 1998-2008 show the Laplace tent (Zou 2019).",
            "",
            "| size measure | growth rates | sd | excess kurtosis | log-lik Laplace | log-lik Gaussian | Subbotin b | better fit |",
            "|---|---|---|---|---|---|---|---|"]
    for measure, g in res.growth.items():
        out.append(f"| {'value added' if measure.startswith('value') else 'employment'} | "
                   f"{g['n']:,} | {g['sd']:.3f} | {g['excess_kurtosis']:.2f} | "
                   f"{g['laplace_loglik']:.0f} | {g['gaussian_loglik']:.0f} | "
                   f"{g['subbotin_shape']:.2f} | {g['better_fit']} |")
    out += ["", f"![growth distribution]({files['growth_distribution']})", "",
            "**Volatility and size.** beta in sd(g | S) ~ S^-beta from OLS of log sd on the median "
            "log size of 20 equal-count size bins; pooled across sub-sectors and within sub-sector "
            "(size relative to the sub-sector median, the reference the model's shocks use: "
            "`production.shock_size_exponent` = "
            f"{c['production.shock_size_exponent']:g} scales monthly shocks that way). "
            "Reference 0.15-0.2 (Stanley et al. 1996).",
            "",
            "| size measure | beta pooled | se | beta within sub-sector | se |",
            "|---|---|---|---|---|"]
    for measure, label in (("value_added_bn_yuan", "value added"), ("employment", "employment")):
        a, w = res.volatility[measure], res.volatility[measure + "/within"]
        out.append(f"| {label} | {a['beta']:.3f} | {a['se']:.3f} | {w['beta']:.3f} | {w['se']:.3f} |")
    out += ["", f"![volatility and size]({files['volatility_size']})", "",
            "## 3. Agglomeration premium",
            "",
            "Weighted least squares of log labour productivity (value added per worker, after every "
            "multiplier) on the log core-digital employment density of the firm's cluster, with "
            "sub-sector x replicate fixed effects, standard errors clustered by cluster; density is "
            "computed from the simulated firms. Three arms with the same seeds: the scenario; "
            "congestion switched off (`agglomeration.congestion` = 0); the density elasticity "
            "switched off (`agglomeration.elasticity` = 0), which shows what sorting, knowledge "
            "and infrastructure alone put into the cross-section.",
            "",
            _md_table(prem, {"arm": "{}", "year": "{:.0f}", "elasticity": "{:.4f}", "se": "{:.4f}",
                             "n": "{:,.0f}", "clusters": "{:.0f}"}),
            "",
            f"Set eps = {eps:g}. Measured {p_first['elasticity']:.3f} at the end of {first} and "
            f"{p_last['elasticity']:.3f} in {last}; with the elasticity switched off the measured "
            f"premium is {p_off['elasticity']:.3f}, so the premium the regression finds is the "
            "mechanism's, not a by-product of sorting. "
            "Congestion: the local elasticity eps - kappa*eta*(D/Dbar)^eta at 2020 densities "
            f"ranges from {res.local_elasticity['local_elasticity'].min():.3f} (densest cluster, "
            f"{res.local_elasticity.sort_values('density').iloc[-1]['region']}) to "
            f"{res.local_elasticity['local_elasticity'].max():.3f}, so congestion takes little at "
            f"today's densities (`agglomeration.congestion_scale` = "
            f"{c['agglomeration.congestion_scale']:g} x the densest 2020 cluster); the no-congestion "
            "arm confirms it. What remains between the set and the measured value is the "
            "dispersion of own technology, knowledge and chip caps across clusters, which the "
            "regression cannot separate from density with 24 clusters.",
            "",
            f"![agglomeration premium]({files['agglomeration_premium']})", "",
            "## 4. Spillover decay with distance",
            "",
            f"Twin models with the same seed; in one, every firm in {sp['source']} (the highest R&D "
            "intensity) starts with 1.5 times its knowledge. After one month, a firm elsewhere has "
            "gained dK = s * gamma_i * dP more, dP the change of its reachable knowledge pool, so "
            "dK / (s * gamma_i) measures how much of the shock reaches its cluster. OLS of the log of "
            "its cluster median on distance gives the decay length; the model sets "
            "w(d) = exp(-d / delta) between clusters, and the pool is normalised by all reachable "
            "mass, so the fitted length need not equal delta exactly.",
            "",
            f"Fitted decay length {sp['decay_km']:.0f} km (95% CI {sp['decay_km_ci'][0]:.0f}-"
            f"{sp['decay_km_ci'][1]:.0f} km, R2 {sp['r2']:.2f}) against delta = "
            f"{sp['set_decay_km']:g} km (`spillover.decay_km`; Bottazzi & Peri 2003: 300 km, "
            "Keller 2002: about 1,200 km).",
            "",
            f"![spillover decay]({files['spillover_decay']})", "",
            "## 5. Shock response: direct and indirect losses",
            "",
            "Total loss = value added without controls minus value added with them (same seeds). "
            "Direct loss = the output the chip caps take from capped firms, all else equal (the "
            "model's `direct_loss_bn_yuan` reporter, split by cluster; the split sums to the "
            f"reporter within {res.reporter_gap:.1e} bn yuan a month). Indirect = total - direct: "
            "slower knowledge growth as foreign openness falls, exit and lost market share of "
            "capped firms, entry elsewhere, net of the R&D response of listed firms and learning "
            "by domestic substitutes. Means over replicates, bn yuan.",
            "",
            f"National: {last} total loss {nat_last['total_loss']:.0f} bn yuan "
            f"(sd across replicates {shock_last.attrs['national_sd']['total_loss']:.0f}), "
            f"{nat_last['total_pct']:.1f}% of no-control value added, of which direct "
            f"{nat_last['direct_loss']:.0f} ({nat_last['direct_share_pct']:.0f}%) and indirect "
            f"{nat_last['indirect_loss']:.0f}. Cumulative {first}-{last}: total "
            f"{nat_cum['total_loss']:.0f}, direct {nat_cum['direct_loss']:.0f}, indirect "
            f"{nat_cum['indirect_loss']:.0f} bn yuan.",
            "",
            f"By cluster, {last}:",
            "",
            _md_table(shock_last.sort_values("total_loss", ascending=False).reset_index(
                names="region"),
                {"region": "{}", "va_no_controls": "{:,.0f}", "total_loss": "{:,.1f}",
                 "total_pct": "{:.1f}", "direct_loss": "{:,.1f}", "indirect_loss": "{:,.1f}",
                 "direct_share_pct": "{:.0f}"}),
            "",
            "(va_no_controls, losses in bn yuan; total_pct = total / va_no_controls in %; "
            "direct_share_pct = direct / total in %, above 100 where the indirect effects offset.)",
            "",
            f"![shock split]({files['shock_split']})", "",
            "## Share of GDP in the two arms",
            "",
            _md_table(res.shares.groupby(["scenario", "year"])["core_va_share_gdp_pct"]
                      .agg(["mean", "std"]).reset_index(),
                      {"scenario": "{}", "year": "{:.0f}", "mean": "{:.3f}", "std": "{:.3f}"}),
            ""]
    return "\n".join(out) + "\n"


def _share_loss(res: Results, year: int) -> float:
    """Mean paired loss of the GDP share from controls in `year`, pp (counterfactual - scenario)."""
    sh = res.shares[res.shares["year"] == year]
    by = sh.groupby("scenario")["core_va_share_gdp_pct"].mean()
    return float(by.drop(res.config.name).iloc[0] - by[res.config.name])


def _observed_section(res: Results) -> list[str]:
    obs = res.observed
    if obs is None or obs.empty:
        return []
    counts = obs["verdict"].value_counts()
    return [
        "## Published series 2020-2023, simulated against observed",
        "",
        "Every series in `sim/data/observed.csv`, measured from the runs as its publisher measures "
        "it (`sim/measurement.py`: the NBS share and core VA on the census basis from 2023, MIIT "
        "and CSIA revenue from sub-sector value added, census counts at the year end). "
        "`inside`: the mean of the replicates lies within the stated uncertainty of the "
        "published figure (mostly its rounding); `inside 2%`: within the 2% mapping band the "
        "calibration uses as its sd floor; `OUTSIDE` otherwise, with the reason where it is "
        f"known. Counts: {', '.join(f'{k} {v}' for k, v in counts.items())}.",
        "",
        _md_table(obs[["series", "year", "category", "observed", "uncertainty", "grade",
                       "simulated", "sd_across_seeds", "error_pct", "verdict", "reason"]],
                  {"series": "`{}`", "year": "{:.0f}", "category": "{}", "observed": "{:,.4g}",
                   "uncertainty": "{:,.3g}", "grade": "{}", "simulated": "{:,.4g}",
                   "sd_across_seeds": "{:,.3g}", "error_pct": "{:+.1f}", "verdict": "{}",
                   "reason": "{}"}),
        ""]


def _decomposition_section(res: Results) -> list[str]:
    d = res.decomposition
    if d is None or d.empty:
        return []
    cols = [c for c in ("mechanism", "share_2025_pct", "share_2025_official_pct", "delta_pp",
                        "delta_official_pp", "contribution_log_growth", "cluster_growth_sd_pp",
                        "cluster_growth_slope_pp") if c in d.columns]
    # the `observed` row carries only the cluster cross-section: a dash, not nan, elsewhere
    shown = d[cols].astype(object).where(d[cols].notna(), "-")
    return [
        "## What each mechanism contributes (switch-off decomposition)",
        "",
        "From `clustersim decompose` (paired seeds; what 'off' means for each mechanism is "
        "`sim/decompose.SWITCH_OFF`, listed in docs/decomposition.md). delta = scenario minus "
        "switched off, pp of the 2025 share; contribution_log_growth = the same difference in "
        "log growth of core VA 2020-25 (the scenario's own: `none`'s log_growth_2020_25 "
        f"{d['log_growth_2020_25'].iloc[0]:.3f}). The last two columns are the cluster "
        "cross-section of 2020-23 growth (sd across clusters and slope on log initial size, "
        "pp), simulated beside the `observed` row from sim/data/cluster_growth.csv."
        if "log_growth_2020_25" in d.columns else
        "From `clustersim decompose` (paired seeds). delta = scenario minus switched off.",
        "",
        _md_table(shown, {c: ("{}" if c == "mechanism" else "{:.3f}") for c in cols}),
        ""]


BACKTEST_HEADING = "## Back-test"


def backtest_section(text: str, source: str) -> str:
    """The back-test section of a `clustersim backtest` report (its backtest.md, or a page that
    quotes it, as docs/backtest.md does): from its "## Back-test" heading to the end. Taken as
    written rather than re-run: a back-test is a calibration of its own (minutes to an hour),
    and its markdown already names the command, the budget and the ESS it was made with."""
    # a heading starts a line: prose that names the heading (docs/backtest.md's) is not one
    found = re.search(rf"^{re.escape(BACKTEST_HEADING)}", text, re.MULTILINE)
    if found is None:
        raise UsageError(f"--backtest {source}: has no '{BACKTEST_HEADING}' section; give the "
                         "backtest.md written by `clustersim backtest`")
    return text[found.start():].rstrip()


def _backtest_section(res: Results) -> list[str]:
    if not res.backtest:
        return []
    return [res.backtest, "",
            "How to read it (what the fit is told, why 2023 is hard to predict, and whether the "
            "run had the full budget): docs/backtest.md; the command: calibration/README.md.",
            ""]


def check_targets(md_path: Path, fig_dir: Path) -> None:
    """Refuse, before any run, to replace what validate-model did not write: the report is a file
    (or new), the figure folder a real folder holding nothing but PNG figures (or new)."""
    md_path, fig_dir = Path(md_path), Path(fig_dir)
    if md_path.is_dir():
        raise UsageError(f"--out {md_path}: is a directory; name the report file, e.g. "
                         "docs/validation.md")
    if fig_dir.is_symlink() or (fig_dir.exists() and not fig_dir.is_dir()):
        raise UsageError(f"--figures {fig_dir}: is not a directory (or is a symbolic link); "
                         "nothing was written")
    if fig_dir.is_dir():
        strangers = sorted(p.name for p in fig_dir.iterdir()
                           if p.suffix != FIGURE_SUFFIX or not p.is_file())
        if strangers:
            raise UsageError(f"--figures {fig_dir}: holds {', '.join(strangers[:5])}, which "
                             "validate-model does not write; it is left as it is: name "
                             "another folder")


def write(res: Results, md_path: Path, fig_dir: Path, command: str) -> None:
    """Figures into a staged folder that replaces `fig_dir` whole, then the Markdown through a
    staged file: a failure leaves the previous report whole."""
    fig_dir = Path(fig_dir)
    with atomic.replaced_directory(fig_dir, "clustersim validate-model") as tmp:
        files = _figures(res, tmp)
        rel = os.path.relpath(fig_dir, Path(md_path).parent)
        files = {k: f"{rel}/{k}{FIGURE_SUFFIX}" for k in files}
        text = markdown(res, files, command)
    atomic.write_text(Path(md_path), text)
