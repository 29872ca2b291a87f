"""The loss from export controls as a paired counterfactual: the same scenario and seed run
with and without controls; the difference in core VA, in % of core VA and of GDP, by year.
Published benchmark beside it: a dynamic CGE estimate of a COMPLETE chip-import cut-off,
-0.49% of real GDP (MODEL_BRIEF); the historical rules are a partial cut-off."""

from __future__ import annotations

import pandas as pd

from sim.runner import run_replicate
from sim.scenario import Scenario

CGE_COMPLETE_CUTOFF_PCT_GDP = -0.49


def controls_loss(config: Scenario, seed: int, firms: int | None = None) -> pd.DataFrame:
    """year, core VA with/without controls (bn yuan), loss in % of core VA and % of GDP."""
    runs = {}
    for on in (True, False):
        sc = config.copy()
        sc.set("export_controls.enabled", on)
        runs[on] = run_replicate(sc, seed, firms=firms, firm_snapshots=False).annual
    a, b = runs[True], runs[False]
    out = pd.DataFrame({"year": a["year"], "seed": seed,
                        "core_va_controls_bn_yuan": a["core_va_bn_yuan"],
                        "core_va_no_controls_bn_yuan": b["core_va_bn_yuan"]})
    out["loss_pct_core_va"] = 100 * (1 - a["core_va_bn_yuan"] / b["core_va_bn_yuan"])
    out["loss_pct_gdp"] = b["core_va_share_gdp_pct"] - a["core_va_share_gdp_pct"]
    out["share_controls_pct"] = a["core_va_share_gdp_pct"]
    out["share_no_controls_pct"] = b["core_va_share_gdp_pct"]
    return out
