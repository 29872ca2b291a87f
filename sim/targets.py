"""Named targets and the run's horizon: what a plan asks for, what it is judged on, and where a
run leaves its data.

A scenario lists its targets (`targets:`, each indicator, value, year, source; schema and
errors in sim/scenario.py). Each indicator is an annual.csv column measured as the
statistical office publishes it (sim/measurement.py):

  core_va_share_gdp_official_pct      % of GDP   NBS core digital VA share, official basis
  software_business_revenue_bn_yuan   bn yuan    MIIT software business revenue

A scenario without a `targets:` list has the single legacy target `target.share_pct` by
`target.year`; one that sets those keys explicitly (in its file chain or by --set) has that
target first, before its list. The first core-share target is the headline: summary.json's
`target_*` fields, the sweeps' target_hit and the figures judge it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import measurement
from sim.inputs import GRADES
from sim.parameters import BY_KEY
from sim.registry import TARGET_INDICATORS

SHARE = "core_va_share_gdp_official_pct"
SOFTWARE = "software_business_revenue_bn_yuan"


@dataclass(frozen=True)
class Target:
    indicator: str
    value: float
    year: int
    source: str
    name: str = ""

    @property
    def label(self) -> str:
        what = {SHARE: "core share", SOFTWARE: "software revenue"}[self.indicator]
        unit = "%" if self.indicator == SHARE else " bn yuan"
        return self.name or f"{what} {self.value:g}{unit} by {self.year}"


def targets_of(sc) -> list[Target]:
    """Every target of a validated scenario, the legacy one first when it is in effect."""
    listed = [Target(t["indicator"], float(t["value"]), int(t["year"]), str(t["source"]),
                     str(t.get("name", ""))) for t in sc.tree.get("targets") or []]
    if not sc.legacy_target_in_effect():
        return listed
    legacy = Target(SHARE, float(sc.get("target.share_pct")), int(sc.get("target.year")),
                    BY_KEY["target.share_pct"].source, "")
    return [legacy] + [t for t in listed
                       if (t.indicator, t.value, t.year) != (SHARE, legacy.value, legacy.year)]


def headline(targets: list[Target]) -> Target | None:
    return next((t for t in targets if t.indicator == SHARE), None)


# --------------------------------------------------------------------------- annual columns

class SubsectorRecorder:
    """Observer summing each month's value added by sub-sector into calendar years (bn yuan),
    the input of the MIIT revenue measurements."""

    def __init__(self):
        self.by_year: dict[int, np.ndarray] = {}

    def __call__(self, model) -> None:
        producers = model.last_month
        sub = model.firms.subsector[producers.rows]
        va = np.bincount(sub, producers.w_va, model.n_subsectors)
        year = model.month // 12
        self.by_year[year] = self.by_year.get(year, 0.0) + va
        self.ids = model.subsector_ids

    def frame(self, years) -> pd.DataFrame:
        return pd.DataFrame([{"year": y, "subsector": sid, "core_va_bn_yuan": float(v)}
                             for y in years for sid, v in zip(self.ids, self.by_year[y])])


def with_indicators(annual: pd.DataFrame, subsectors: pd.DataFrame, params,
                    gdp_kind: dict[int, str]) -> pd.DataFrame:
    """annual.csv's rows (one replicate) with the software revenue indicator and the
    `projected` flag (the year's GDP is the projection, not data)."""
    soft = measurement.software_business_revenue_bn_yuan(
        measurement.Simulated(annual, subsectors), params)
    by_year = dict(zip(soft["year"], soft["value"]))
    return annual.assign(
        software_business_revenue_bn_yuan=annual["year"].map(by_year).to_numpy(float),
        projected=[gdp_kind.get(int(y)) == "projected" for y in annual["year"]])


# --------------------------------------------------------------------------- judging

def column(annual: pd.DataFrame, t: Target) -> str:
    """The annual column a target is judged on (a share: the official one when present)."""
    from sim.outputs import share_column
    return share_column(annual) if t.indicator == SHARE else t.indicator


def jeffreys_interval(k: int, n: int) -> list[float]:
    """90% Jeffreys interval of a binomial proportion k/n."""
    from scipy.stats import beta  # heavy: imported only when a summary is made

    lo = 0.0 if k == 0 else float(beta.ppf(0.05, k + 0.5, n - k + 0.5))
    hi = 1.0 if k == n else float(beta.ppf(0.95, k + 0.5, n - k + 0.5))
    return [lo, hi]


def first_years(annual: pd.DataFrame, t: Target) -> dict[str, float]:
    """Share of replicates whose indicator first reaches the target value in each year
    (years no replicate first reached it left out), and 'never' within the run: sums to 1."""
    firsts = []
    for _, g in annual.groupby("replicate"):
        reached = g[g[column(annual, t)] >= t.value]["year"]
        firsts.append(str(int(reached.min())) if len(reached) else "never")
    counts = pd.Series(firsts).value_counts()
    keys = sorted(k for k in counts.index if k != "never") + ["never"]
    return {k: float(counts.get(k, 0)) / len(firsts) for k in keys}


def judge(annual: pd.DataFrame, t: Target) -> dict:
    """One target's report: probability of reaching it in its year (share of replicates) with
    a 90% interval, the indicator's band that year and the first-year distribution."""
    n = int(annual["replicate"].nunique())
    out = {"name": t.label, "indicator": t.indicator, "unit": TARGET_INDICATORS[t.indicator],
           "value": t.value, "year": t.year, "source": t.source}
    in_year = annual[annual["year"] == t.year]
    if in_year["replicate"].nunique() < n or n == 0:
        last = int(annual["year"].max()) if len(annual) else None
        out.update(judged=False, probability=None,
                   note=f"{t.year} is after the run's last whole year ({last})")
    else:
        s = in_year[column(annual, t)].to_numpy(float)
        k = int((s >= t.value).sum())
        out.update(judged=True, probability=k / n, probability_90pct_interval=
                   jeffreys_interval(k, n),
                   value_in_year={"median": float(np.median(s)),
                                  "p05": float(np.percentile(s, 5)),
                                  "p95": float(np.percentile(s, 95))})
    out["first_year_reached"] = first_years(annual, t)
    return out


def uncertainty_split(values: np.ndarray, draws: np.ndarray, target: float) -> dict | None:
    """What parameter uncertainty and what replicate noise each contribute to a target, from
    replicates that each ran one posterior draw (rows of `draws`) with its own seed.

    A least-squares fit of the indicator on the standardised draws separates the expected value
    of each draw from its replicate noise (the residual, with its unbiased variance on n - p - 1
    degrees of freedom; the in-sample residual understates it when the draws are few). Then:
    variance = parameters + stochastic, the parameter part total minus the residual's; and
    P(target) three ways: `both` (the share of replicates reaching it, as reported),
    `parameters_only` (each draw at its expected value, the fitted values shrunk to the
    parameter variance: no replicate noise) and `stochastic_only` (the draws' mean plus the
    rescaled residuals: the parameters known). A non-linear effect of the parameters counts as
    noise, so the parameter part is a lower bound. None when the replicates are too few."""
    y, x = np.asarray(values, float), np.asarray(draws, float)
    n, p = x.shape
    if n <= p + 2:
        return None
    sd = x.std(0)
    design = np.column_stack([np.ones(n), (x - x.mean(0)) / np.where(sd > 0, sd, 1)])
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    resid = y - fitted
    dof = n - np.linalg.matrix_rank(design)
    noise = float(resid @ resid / max(dof, 1))
    total = float(y.var(ddof=1))
    parameters = max(total - noise, 0.0)
    spread = fitted - fitted.mean()
    shrink = np.sqrt(parameters / spread.var(ddof=1)) if spread.var(ddof=1) > 0 else 0.0
    scaled_resid = resid * np.sqrt((n - 1) / max(dof, 1))
    return {"variance": {"total": total, "parameters": parameters,
                         "stochastic_and_nonlinear": noise},
            "probability": {"both": float(np.mean(y >= target)),
                            "parameters_only": float(np.mean(fitted.mean() + shrink * spread
                                                             >= target)),
                            "stochastic_only": float(np.mean(fitted.mean() + scaled_resid
                                                             >= target))}}


def metric_columns(target_list: list[Target]) -> list[str]:
    """A sweep's per-run columns: whether target k (1-based, in scenario order) was reached in
    its year, and the first year it was reached."""
    return [c for k in range(1, len(target_list) + 1)
            for c in (f"target_{k}_reached", f"target_{k}_first_year")]


def run_metrics(annual: pd.DataFrame, target_list: list[Target]) -> dict:
    """One run's metric_columns: reached None when its year is outside the run, first year
    None when never reached within it."""
    row = {}
    for k, t in enumerate(target_list, start=1):
        by_year = dict(zip(annual["year"].astype(int), annual[column(annual, t)].astype(float)))
        row[f"target_{k}_reached"] = bool(by_year[t.year] >= t.value) if t.year in by_year \
            else None
        reached = [y for y, v in by_year.items() if v >= t.value]
        row[f"target_{k}_first_year"] = min(reached) if reached else None
    return row


# --------------------------------------------------------------------------- horizon

def horizon_notes(config, inputs) -> list[str]:
    """Where the run leaves the horizon of its data, its calibration or its rule table: one
    note each, empty for a run inside all three."""
    end_year = int(config.get("run.end")[:4])
    end_month = config.get("run.end")
    notes = []
    data_years = [y for y, k in inputs.gdp_kind.items() if k != "projected"]
    projected = sorted(y for y, k in inputs.gdp_kind.items() if k == "projected"
                       and y <= end_year)
    if projected:
        notes.append(f"GDP: data to {max(data_years)}; {projected[0]}-{projected[-1]} projected "
                     f"at {config.get('macro.gdp_growth_after_data_pct'):g}% +- "
                     f"{config.get('macro.gdp_growth_after_data_sd_pct'):g} pp nominal growth a "
                     "year, one draw per replicate (annual.csv `projected`)")
    observed = int(measurement.observed_table()["year"].max())
    if end_year > observed:
        notes.append(f"observed series (sim/data/observed.csv, demand_growth.csv) end in "
                     f"{observed}: later years are not checked against data")
    fitted = int(config.get("calibration.last_fitted_year"))
    if end_year > fitted:
        notes.append(f"calibration: parameters fitted to data through {fitted}; later years "
                     "extrapolate the fitted rules (and the demand saturation, "
                     "production.saturation_share_pct, a judgement)")
    history = [e for e in inputs.events if e.source != "scenario"]
    if history and end_month > history[-1].date[:7]:
        last = history[-1]
        grade = f"; `grade` {last.grade}: {GRADES.get(last.grade, '?')}" if last.grade else ""
        notes.append(f"export-control rules: the table ends with {last.date} ({last.name}"
                     f"{grade}); later months keep the levels then in force")
    return notes
