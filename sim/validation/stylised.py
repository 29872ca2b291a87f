"""Estimators for the stylised facts of firm dynamics, applied to simulated firms.

All take firms.csv-like data (sim/outputs.FIRM_COLUMNS): one row per agent and year-end, each
agent standing for `weight` real firms of identical size.

- Firm-size upper tail: Pareto exponent alpha of the CCDF, P(S > s) ~ s^-alpha, by the Hill
  maximum-likelihood estimator with frequency weights, the lower bound xmin chosen by the
  Kolmogorov-Smirnov criterion of Clauset, Shalizi & Newman (2009, SIAM Review 51:661); the
  confidence interval by bootstrap over agents (scipy.stats.bootstrap). Chinese firms: 1.0-1.5
  (Heinrich & Dai 2016; Axtell 2001 finds 1.06 for US firms).
- Growth rates g = ln S_t+1 - ln S_t, net of the sub-sector x year mean: Laplace against
  Gaussian by maximum likelihood (log-likelihood and AIC), the Subbotin (generalised normal)
  shape b (1 = Laplace, 2 = Gaussian; Bottazzi & Secchi 2006) and excess kurtosis (3 for a
  Laplace, 0 for a Gaussian). Chinese firms: Laplace (Zou 2019, 1998-2008).
- Volatility and size: sd(g | S) ~ S^-beta, beta from OLS of log sd on median log size over
  size bins (Stanley et al. 1996: 0.15-0.2).
- Agglomeration premium: OLS of log labour productivity on log employment density of the
  firm's cluster with sub-sector x year fixed effects, standard errors clustered by cluster
  (statsmodels); weighted by real firms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


# --------------------------------------------------------------------------- Pareto tail

def hill(sizes, weights, xmin) -> float:
    """Weighted Hill (maximum-likelihood) estimate of the CCDF exponent above xmin."""
    s, w = np.asarray(sizes, float), np.asarray(weights, float)
    m = s >= xmin
    return float(w[m].sum() / np.sum(w[m] * np.log(s[m] / xmin)))


def _ks_distance(s, w, xmin, alpha) -> float:
    """Largest gap between the weighted empirical CDF of the tail and the fitted Pareto CDF."""
    order = np.argsort(s)
    s, w = s[order], w[order]
    emp = np.cumsum(w) / w.sum()
    fit = 1.0 - (s / xmin) ** -alpha
    return float(np.max(np.abs(emp - fit)))


@dataclass
class TailFit:
    alpha: float
    ci_low: float
    ci_high: float
    xmin: float
    tail_agents: int
    tail_real_firms: float
    tail_share_pct: float   # share of real firms in the tail
    ks: float


def pareto_tail(sizes, weights=None, min_tail_agents=50, max_tail_share=0.2, candidates=60,
                rng=None, n_resamples=999, confidence=0.95) -> TailFit:
    """Clauset et al. (2009) xmin by minimum KS distance over candidate bounds between the top
    `max_tail_share` of real firms and `min_tail_agents` agents; weighted Hill alpha; bootstrap
    percentile CI over the tail agents with xmin held fixed."""
    s = np.asarray(sizes, float)
    w = np.ones_like(s) if weights is None else np.asarray(weights, float)
    keep = s > 0
    s, w = s[keep], w[keep]
    order = np.argsort(-s)
    s_desc, w_desc = s[order], w[order]
    cw = np.cumsum(w_desc) / w.sum()
    hi = max(int(np.searchsorted(cw, max_tail_share)), min_tail_agents + 1)
    ks_idx = np.unique(np.geomspace(min_tail_agents, min(hi, len(s) - 1), candidates).astype(int))
    best = None
    for k in ks_idx:
        xmin = s_desc[k]
        m = s >= xmin
        alpha = hill(s[m], w[m], xmin)
        d = _ks_distance(s[m], w[m], xmin, alpha)
        if best is None or d < best[0]:
            best = (d, xmin, alpha)
    d, xmin, alpha = best
    m = s >= xmin
    st, wt = s[m], w[m]
    rng = np.random.default_rng(0) if rng is None else rng
    boot = stats.bootstrap((st, wt), lambda a, b: hill(a, b, xmin), paired=True,
                           vectorized=False, n_resamples=n_resamples, confidence_level=confidence,
                           method="percentile", rng=rng)
    return TailFit(alpha, float(boot.confidence_interval.low),
                   float(boot.confidence_interval.high), float(xmin), int(m.sum()),
                   float(wt.sum()), float(100 * wt.sum() / w.sum()), d)


# --------------------------------------------------------------------------- growth rates

def growth_rates(firms: pd.DataFrame, size: str = "value_added_bn_yuan") -> pd.DataFrame:
    """Annual log growth of each agent's size between consecutive year-ends, net of the
    sub-sector x year mean (common shocks are not what the stylised facts are about).
    Columns: replicate, year (of the end), firm_id, sector, weight, log_size (start), growth."""
    df = firms[firms[size] > 0][["replicate", "year", "firm_id", "sector", "weight", size]]
    prev = df.assign(year=df["year"] + 1).rename(columns={size: "start"})
    both = df.merge(prev[["replicate", "year", "firm_id", "start"]],
                    on=["replicate", "year", "firm_id"])
    both["log_size"] = np.log(both["start"])
    both["growth"] = np.log(both[size]) - both["log_size"]
    both["growth"] -= both.groupby(["replicate", "year", "sector"])["growth"].transform("mean")
    return both[["replicate", "year", "firm_id", "sector", "weight", "log_size", "growth"]]


def by_real_firms(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """As many rows as `frame`, drawn with replacement in proportion to `weight`: a sample of
    real firms. Agents are not one (big firms are drawn more often and weigh less, see
    sim/population.py), so a pooled distribution is taken over this resample."""
    return frame.sample(n=len(frame), replace=True, weights="weight", random_state=seed,
                        ignore_index=True)


def growth_shape(growth) -> dict:
    """Laplace vs Gaussian by maximum likelihood, Subbotin shape, excess kurtosis."""
    g = np.asarray(growth, float)
    lap = stats.laplace.fit(g)
    nor = stats.norm.fit(g)
    ll_lap = float(stats.laplace.logpdf(g, *lap).sum())
    ll_nor = float(stats.norm.logpdf(g, *nor).sum())
    shape = stats.gennorm.fit(g)[0]
    return {"n": int(len(g)), "sd": float(g.std(ddof=1)),
            "excess_kurtosis": float(stats.kurtosis(g)),
            "laplace_loglik": ll_lap, "gaussian_loglik": ll_nor,
            "aic_laplace": 2 * 2 - 2 * ll_lap, "aic_gaussian": 2 * 2 - 2 * ll_nor,
            "laplace_scale": float(lap[1]), "gaussian_sd": float(nor[1]),
            "subbotin_shape": float(shape),
            "better_fit": "Laplace" if ll_lap > ll_nor else "Gaussian"}


def volatility_size(log_size, growth, bins=20) -> dict:
    """beta in sd(g | S) ~ S^-beta: OLS of log sd(g) on median log size over equal-count bins."""
    import statsmodels.api as sm  # heavy (~1 s): only validate-model and calibrate fit OLS

    d = pd.DataFrame({"x": np.asarray(log_size, float), "g": np.asarray(growth, float)})
    d["bin"] = pd.qcut(d["x"], bins, labels=False, duplicates="drop")
    table = d.groupby("bin").agg(log_size=("x", "median"), sd=("g", "std"), n=("g", "size"))
    fit = sm.OLS(np.log(table["sd"]), sm.add_constant(table["log_size"])).fit()
    return {"beta": float(-fit.params["log_size"]), "se": float(fit.bse["log_size"]),
            "bins": table.reset_index(drop=True)}


# --------------------------------------------------------------------------- agglomeration

def with_density(firms: pd.DataFrame, area_km2: dict[str, float]) -> pd.DataFrame:
    """Adds the cluster's core-digital employment density (workers per km2) in the same
    replicate and year, computed from the firms themselves."""
    jobs = (firms["weight"] * firms["employment"]).groupby(
        [firms["replicate"], firms["year"], firms["region"]]).sum().rename("jobs").reset_index()
    jobs["density"] = jobs["jobs"] / jobs["region"].map(area_km2)
    return firms.merge(jobs[["replicate", "year", "region", "density"]],
                       on=["replicate", "year", "region"])


def agglomeration_premium(firms: pd.DataFrame, area_km2: dict[str, float]) -> dict:
    """Elasticity of labour productivity with respect to cluster employment density, with
    sub-sector x year x replicate fixed effects, errors clustered by cluster."""
    import statsmodels.formula.api as smf  # heavy, as statsmodels.api

    d = with_density(firms[(firms["productivity"] > 0)], area_km2)
    d = d.assign(log_prod=np.log(d["productivity"]), log_density=np.log(d["density"]),
                 fe=d["sector"] + "|" + d["year"].astype(str) + "|" + d["replicate"].astype(str))
    fit = smf.wls("log_prod ~ log_density + C(fe)", data=d, weights=d["weight"]).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["region"])[0]})
    return {"elasticity": float(fit.params["log_density"]), "se": float(fit.bse["log_density"]),
            "n": int(fit.nobs), "clusters": int(d["region"].nunique()), "data": d}
