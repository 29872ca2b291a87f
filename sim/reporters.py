"""The reporter registry: every national figure a run reports, declared once.

A reporter is a name (the DataCollector key and national.csv column), its unit and label, and
the function that reads it from a model after a step. Each mechanism declares its own
(sim/mechanisms/base.Mechanism.reporters); this module collects them. The DataCollector,
national.csv, the browser page and the sweep metrics all take their list from here (EMA
Workbench's declared outcomes), so a new figure is one entry, not one per consumer.
"""

from __future__ import annotations

import pandas as pd

from sim.mechanisms import MONTH
from sim.mechanisms.base import Reporter

# national.csv's columns are a published contract (sim/outputs.py): these come first, in this
# order; any other reporter follows in step order.
CONTRACT_ORDER = ("date", "core_va_bn_yuan", "gdp_bn_yuan", "core_va_share_gdp_pct", "firms",
                  "employment", "chip_self_sufficiency_pct", "direct_loss_bn_yuan")
_DECLARED = [r for mechanism in MONTH for r in mechanism.reporters]
_NATIONAL = tuple(sorted(_DECLARED, key=lambda r: (CONTRACT_ORDER.index(r.name)
                                                   if r.name in CONTRACT_ORDER
                                                   else len(CONTRACT_ORDER))))
_BY_NAME = {r.name: r for r in _NATIONAL}
if len(_BY_NAME) < len(_NATIONAL):
    raise ValueError("two mechanisms declare a reporter of the same name")


def national() -> tuple[Reporter, ...]:
    """Every national reporter, in national.csv order (csv=False ones included)."""
    return _NATIONAL


def get(name: str) -> Reporter:
    return _BY_NAME[name]


def sweep_metrics() -> dict[str, Reporter]:
    """Sweep metric name -> its reporter, in national.csv order."""
    return {r.sweep_metric: r for r in _NATIONAL if r.sweep_metric}


def sweep_value(r: Reporter, national: pd.DataFrame, annual: pd.DataFrame) -> float:
    """One run's national (monthly) and annual frames reduced to r's sweep metric."""
    if r.reduce == "last":
        return float(national[r.name].iloc[-1])
    if r.reduce == "sum":
        return float(national[r.name].sum())
    return float(annual[r.name].iloc[-1])  # last_year: the last complete year's sum
