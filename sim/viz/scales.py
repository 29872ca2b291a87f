"""Axis scales the charts share: dates on a numeric time axis, value axes in coarse steps."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FixedLocator, NullLocator


def month_x(label: str) -> float:
    """'2023-10' -> 2023.79 (the middle of the month) on a numeric time axis."""
    y, m = label.split("-")[:2]
    return int(y) + (int(m) - 0.5) / 12


def date_x(date: str) -> float:
    y, m, d = (date.split("-") + ["15"])[:3]
    return int(y) + (int(m) - 1 + (int(d) - 1) / 30.4) / 12


def time_axis(ax, model) -> None:
    """The run's months, ticked at each year."""
    start, end = month_x(model.config["run.start"]), month_x(model.config["run.end"])
    ax.set_xlim(start - 0.5 / 12, end + 0.5 / 12)
    years = np.arange(int(np.ceil(start - 0.5 / 12)), int(end) + 1)
    ax.xaxis.set_major_locator(FixedLocator(years))
    ax.set_xticklabels([str(y) for y in years])
    ax.xaxis.set_minor_locator(NullLocator())


def annual_trn(monthly_bn) -> np.ndarray:
    """Monthly value added in bn yuan -> annual rate in trillion yuan."""
    return np.asarray(monthly_bn, float) * 12 / 1000


def nice_ceiling(value: float) -> float:
    """An axis top above `value` with 8% room, from 1, 1.5, 2, 3, 4, 5, 7.5 x 10^k: coarse steps,
    so that a growing series changes its axis (and so redraws its static part) rarely."""
    value = max(float(value), 1e-12) * 1.08
    decade = 10 ** np.floor(np.log10(value))
    return float(next(m * decade for m in (1, 1.5, 2, 3, 4, 5, 7.5, 10) if m * decade >= value))
