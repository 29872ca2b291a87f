"""Model experiments behind the validation report: replicates with firm snapshots and
per-region shock accounting, the agglomeration premium under switched mechanisms, and the
distance decay of knowledge spillovers.

Every experiment runs the same seeds in each arm (common random numbers), so differences
between arms are effects, not noise, as far as the model's random paths stay aligned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.inputs import load_inputs
from sim.mechanisms import spillover
from sim.model import ClusterModel
from sim.outputs import Recorder, annual_from_national
from sim.runner import build_model


class LossRecorder:
    """Per month and region: value added and the direct loss from chip caps, i.e. what the
    capped firms would have produced uncapped, all else equal (the per-region split of the
    model's direct_loss_bn_yuan reporter). The firms that produced this month are those alive
    at its start: exits and entry come later in the step, and an exited firm's row keeps its
    last value added and cap."""

    def __init__(self, model):
        self.records: list[dict] = []
        self.producers = model.firms.rows

    def __call__(self, model) -> None:
        f, rows = model.firms, self.producers
        self.producers = model.firms.rows  # entrants produce from next month
        w, va, cap, reg = f.weight[rows], f.value_added[rows], f.output_cap[rows], f.region[rows]
        capped = cap < 1
        direct = np.zeros(len(rows))
        direct[capped] = (w * va)[capped] * (1 / np.maximum(cap[capped], 1e-12) - 1)
        R = model.n_regions
        self.records.append({"date": model.date, "region": model.region_ids,
                             "va": np.bincount(reg, w * va, R),
                             "direct_loss": np.bincount(reg, direct, R),
                             "national_direct_reporter": model.direct_loss_bn_yuan})

    def frame(self) -> pd.DataFrame:
        parts = [pd.DataFrame({"date": r["date"], "region": r["region"], "va": r["va"],
                               "direct_loss": r["direct_loss"],
                               "national_direct_reporter": r["national_direct_reporter"]})
                 for r in self.records]
        return pd.concat(parts, ignore_index=True)


@dataclass
class Replicates:
    """Replicates of one scenario: national (monthly), annual, firms (year-end snapshots) and
    losses (monthly, by region)."""

    national: pd.DataFrame
    annual: pd.DataFrame
    firms: pd.DataFrame
    losses: pd.DataFrame


def run_replicates(config, seeds, firms=None, snapshots=True) -> Replicates:
    inputs = load_inputs(config)
    nat, fr, loss = [], [], []
    for r, seed in enumerate(seeds):
        model = build_model(config, seed=seed, firms=firms, inputs=inputs)
        rec, lrec = Recorder(r, snapshots), LossRecorder(model)
        model.observers += [rec, lrec]
        model.run()
        df = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df.insert(0, "seed", seed)
        df.insert(0, "replicate", r)
        nat.append(df)
        fr.append(rec.frames()[2])
        loss.append(lrec.frame().assign(replicate=r))
    national = pd.concat(nat, ignore_index=True)
    return Replicates(national, annual_from_national(national),
                      pd.concat(fr, ignore_index=True), pd.concat(loss, ignore_index=True))


# --------------------------------------------------------------------------- shock split

def shock_split(base: Replicates, counterfactual: Replicates) -> pd.DataFrame:
    """Loss from export controls by replicate, year and region, bn yuan:
    total = VA(no controls) - VA(scenario) with the same seeds; direct = output the chip caps
    take in the scenario, all else equal; indirect = total - direct (knowledge cut off,
    selection and exit of capped firms, entry elsewhere, and the offsetting R&D response and
    learning by domestic substitutes)."""
    def annual(df):
        df = df.assign(year=df["date"].str[:4].astype(int))
        return df.groupby(["replicate", "year", "region"], as_index=False)[["va", "direct_loss"]].sum()

    b, c = annual(base.losses), annual(counterfactual.losses)
    m = b.merge(c[["replicate", "year", "region", "va"]], on=["replicate", "year", "region"],
                suffixes=("", "_no_controls"))
    m["total_loss"] = m["va_no_controls"] - m["va"]
    m["indirect_loss"] = m["total_loss"] - m["direct_loss"]
    return m


# --------------------------------------------------------------------------- agglomeration

def agglomeration_arms(config, seeds, firms=None) -> dict[str, Replicates]:
    """The scenario as set, without congestion, and with the density elasticity switched off
    (what sorting, knowledge and infrastructure alone put into the cross-section)."""
    eps = config["agglomeration.elasticity"]
    arms = {}
    for label, changes in ((f"eps={eps:g} (scenario)", {}),
                           (f"eps={eps:g}, no congestion", {"agglomeration.congestion": 0.0}),
                           ("eps=0 (switched off)", {"agglomeration.elasticity": 0.0})):
        c = config.copy()
        for k, v in changes.items():
            c.set(k, v)
        c.validate()
        arms[label] = run_replicates(c, seeds, firms)
    return arms


def congestion_slope(config, model: ClusterModel) -> pd.DataFrame:
    """d ln G / d ln D = eps - kappa*eta*(D/Dbar)^eta for each cluster at the model's current
    density: the local elasticity congestion leaves."""
    p = config.tree["agglomeration"]
    f, rows = model.firms, model.firms.rows
    jobs = np.bincount(f.region[rows], f.weight[rows] * f.employment[rows], model.n_regions)
    d = jobs / model.area
    local = p["elasticity"] - p["congestion"] * p["congestion_exponent"] * \
        (d / model.congestion_density) ** p["congestion_exponent"]
    return pd.DataFrame({"region": model.region_ids, "density": d, "local_elasticity": local})


# --------------------------------------------------------------------------- spillover

def spillover_decay(config, seed, firms=None, source=None, factor=1.5) -> dict:
    """Raise the knowledge of every firm in one cluster by `factor` and step one month, next to
    an unchanged twin with the same seed. A firm elsewhere gains s*gamma_i*dP from the change
    of its reachable pool P, so dK_i / (s*gamma_i) measures how much of the shock reaches it.
    The decay length is fitted by OLS of the log of its cluster median on distance."""
    import statsmodels.api as sm  # heavy (~1 s): only validate-model and calibrate fit OLS

    inputs = load_inputs(config)
    twins = [build_model(config, seed=seed, firms=firms, inputs=inputs) for _ in range(2)]
    a, b = twins
    regions = list(a.region_ids)
    if source is None:  # the most knowledge-intensive cluster: highest R&D / GDP
        source = regions[int(np.argmax(inputs.regions["rd_intensity_pct"].to_numpy(float)))]
    src = regions.index(source)
    rows = a.firms.rows
    start_k = a.firms.knowledge[rows].copy()
    in_src = b.firms.region[rows] == src
    b.firms.knowledge[rows[in_src]] *= factor
    gamma = spillover.absorptive_capacity(a._rd_intensity(rows),
                                          config["spillover.absorptive_lambda"])
    a.step()
    b.step()
    alive = a.firms.alive[rows] & b.firms.alive[rows] & ~in_src
    r = rows[alive]
    dk = b.firms.knowledge[r] - a.firms.knowledge[r]
    implied = dk / (config["spillover.strength"] * gamma[alive])
    dist = inputs.dist_km[src]
    df = pd.DataFrame({"region": np.asarray(regions)[a.firms.region[r]],
                       "distance_km": dist[a.firms.region[r]], "pool_change": implied,
                       "knowledge_2020": start_k[alive]})
    by_region = df[df["pool_change"] > 0].groupby(["region", "distance_km"], as_index=False)[
        "pool_change"].median()
    by_region = by_region[by_region["distance_km"] > 0]
    fit = sm.OLS(np.log(by_region["pool_change"]), sm.add_constant(by_region["distance_km"])).fit()
    slope, se = float(fit.params["distance_km"]), float(fit.bse["distance_km"])
    lo, hi = slope - 1.96 * se, slope + 1.96 * se
    return {"source": source, "by_region": by_region.sort_values("distance_km"),
            "decay_km": -1 / slope if slope < 0 else float("inf"),
            "decay_km_ci": (-1 / lo if lo < 0 else float("inf"),
                            -1 / hi if hi < 0 else float("inf")),
            "set_decay_km": config["spillover.decay_km"], "r2": float(fit.rsquared)}
