"""The reporter registry: every national figure a run reports, declared once.

A reporter is a name (the DataCollector key and national.csv column), its unit and label, and
the function that reads it from a model after a step. The DataCollector, national.csv, the
browser page and the sweep metrics all take their list from here (EMA Workbench's declared
outcomes), so a new figure is one entry, not one per consumer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

REDUCTIONS = ("last", "sum", "last_year")


@dataclass(frozen=True)
class Reporter:
    name: str                        # DataCollector key and national.csv column
    unit: str                        # e.g. "%", "bn yuan/month", "firms"
    label: str                       # short label for panels and figures
    read: Callable                   # read(model) -> float | str, the value after a step
    csv: bool = True                 # written to national.csv
    sweep_metric: str | None = None  # per-run sweep metric built from it
    reduce: str = "last"             # run -> metric: "last" month | "sum" | "last_year"
    meaning: str = ""                # one line for docs and `sweep --check`

    def __post_init__(self):
        if self.reduce not in REDUCTIONS:
            raise ValueError(f"reporter {self.name}: reduce must be one of {REDUCTIONS}")


# The model's own read-outs (calendar, counts); the mechanisms' figures follow in step order.
# Mesa's DataCollector calls a function reporter with the model (a plain def is a LambdaType).
def _date(m):
    return m.date


def _core_va(m):
    return m.core_va_bn_yuan


def _gdp(m):
    return m.gdp_bn_yuan


def _share(m):
    return m.core_va_share_gdp_pct


def _firms(m):
    return m.real_firms


def _employment(m):
    return m.employment


def _self_sufficiency(m):
    return m.chip_self_sufficiency_pct


def _direct_loss(m):
    return m.direct_loss_bn_yuan


_NATIONAL = (
    Reporter("date", "", "Month", _date, meaning="calendar month, YYYY-MM"),
    Reporter("core_va_bn_yuan", "bn yuan/month", "Core digital VA", _core_va,
             sweep_metric="core_va_end_bn_yuan", reduce="last_year",
             meaning="core digital value added in the last simulated year (bn yuan)"),
    Reporter("gdp_bn_yuan", "bn yuan/month", "GDP", _gdp, meaning="GDP of the month (input)"),
    Reporter("core_va_share_gdp_pct", "%", "Core digital VA share of GDP", _share,
             meaning="core digital value added over GDP"),
    Reporter("firms", "firms", "Firms", _firms, sweep_metric="firms_end",
             meaning="real firms the agents stand for in the last month"),
    Reporter("employment", "workers", "Employment", _employment, sweep_metric="employment_end",
             meaning="employment in the last month"),
    Reporter("chip_self_sufficiency_pct", "%", "Chip self-sufficiency", _self_sufficiency,
             sweep_metric="chip_self_sufficiency_end_pct",
             meaning="domestic share of chip supply in the last month (%)"),
    Reporter("direct_loss_bn_yuan", "bn yuan/month", "Output lost to chip caps", _direct_loss,
             csv=False, sweep_metric="direct_loss_bn_yuan", reduce="sum",
             meaning="output lost to chip caps, summed over the run (bn yuan)"),
)
_BY_NAME = {r.name: r for r in _NATIONAL}


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
