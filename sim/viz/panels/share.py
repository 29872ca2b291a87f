"""National core digital value added as a share of GDP, against the Five-Year Plan target."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from sim import measurement
from sim.figures import GRADE_MARKERS, observed_points
from sim.outputs import OFFICIAL_SHARE
from sim.targets import SHARE, targets_of
from sim.viz.panels.base import Panel
from sim.viz.scales import month_x, time_axis
from sim.viz.style import INK, TARGET_COLOUR


def calendar_years(model) -> list[tuple[int, float]]:
    """(year, core VA share of GDP in %) for each year simulated in full, as the NBS would
    publish it (the official basis of sim/measurement.py, on which targets are judged): annual
    VA over annual GDP, re-based from the census year."""
    h = model.history
    years = np.array([int(d[:4]) for d in h.dates])
    full = [y for y in np.unique(years) if (years == y).sum() == 12]
    if not full:
        return []
    va, gdp = np.asarray(h.core_va), np.asarray(h.gdp)
    annual = pd.DataFrame({"replicate": 0, "year": full,
                           "core_va_bn_yuan": [va[years == y].sum() for y in full],
                           "gdp_bn_yuan": [gdp[years == y].sum() for y in full]})
    annual["core_va_share_gdp_pct"] = 100 * annual["core_va_bn_yuan"] / annual["gdp_bn_yuan"]
    # the measurement parameters read the GDP table: once per model, not on every redraw
    params = model.__dict__.get("_measurement_params")
    if params is None:
        params = model.__dict__["_measurement_params"] = measurement.params_for(model.config,
                                                                                model.inputs)
    official = measurement.with_official_share(annual, params)
    return [(int(y), float(s)) for y, s in zip(full, official[OFFICIAL_SHARE])]


class SharePanel(Panel):
    size = (5.6, 2.8)

    def layout_key(self):
        shares = [t.value for t in targets_of(self.model.config) if t.indicator == SHARE]
        lo, hi = 6.0, max(shares or [self.model.config["target.share_pct"]]) + 1.0
        if self.model.history.share_pct:
            y = np.asarray(self.model.history.share_pct)
            lo, hi = min(lo, np.floor(y.min() - 0.3)), max(hi, np.ceil(y.max() + 0.3))
        return float(lo), float(hi)

    def draw_static(self) -> None:
        m = self.model
        ax = self.ax = self.axes((0.09, 0.12, 0.88, 0.66))
        time_axis(ax, m)
        ax.set_ylim(*self.layout_key())
        # every target of the scenario: the core-share ones drawn, the others named
        listed = targets_of(m.config)
        others = [t.label for t in listed if t.indicator != SHARE]
        for t in (t for t in listed if t.indicator == SHARE):
            ax.axhline(t.value, color=TARGET_COLOUR, linestyle="--", linewidth=1.2, zorder=1)
            ax.text(ax.get_xlim()[0] + 0.06, t.value + 0.07,
                    f"Target: {t.value:g}% of GDP in {t.year}", color=TARGET_COLOUR,
                    fontsize=8.5, va="bottom")
            ax.axvspan(t.year, t.year + 1, color="#f7e6e4", zorder=0, linewidth=0)
        if others:
            ax.text(0.99, 0.97, "Also targeted: " + "; ".join(others), transform=ax.transAxes,
                    ha="right", va="top", fontsize=7, color=TARGET_COLOUR)
        # the published official-basis shares, with their grades (sim/data/observed.csv)
        for _, o in observed_points().iterrows():
            ax.plot(int(o["year"]) + 0.5, o["value"], GRADE_MARKERS.get(o["grade"], "o"),
                    color="black", markersize=5, zorder=5)
            ax.annotate(f"NBS {o['value']:g} ({o['grade']})", (int(o["year"]) + 0.5, o["value"]),
                        textcoords="offset points", xytext=(4, -11), fontsize=7, color=INK)
        ax.set_ylabel("% of GDP", fontsize=8.5, color=INK)
        ax.legend([Line2D([], [], color="#2b6cb0", linewidth=1.6),
                   Line2D([], [], marker="o", linestyle="none", color="#1a365d", markersize=5),
                   Line2D([], [], marker="D", linestyle="none", color="black", markersize=4)],
                  ["monthly", "calendar year", "published (grade)"], loc="lower right",
                  fontsize=7.5, frameon=False, ncol=3)
        self.heading("Core digital economy value added, share of GDP")

    def draw_data(self) -> list:
        m, ax = self.model, self.ax
        h = m.history
        if not h.dates:
            return [self.waiting(ax),
                    self.subheading("monthly value; dots: calendar-year share, official basis")]
        x = np.array([month_x(d) for d in h.dates])
        y = np.asarray(h.share_pct)
        out = ax.plot(x, y, color="#2b6cb0", linewidth=1.6)
        years = calendar_years(m)
        if years:
            out += ax.plot([yr + 0.5 for yr, _ in years], [s for _, s in years], "o",
                           color="#1a365d", markersize=5, zorder=4)
            out += [ax.annotate(f"{s:.1f}", (yr + 0.5, s), textcoords="offset points",
                                xytext=(0, 7), ha="center", fontsize=7.5, color="#1a365d")
                    for yr, s in years]
        out.append(self.subheading(f"{y[-1]:.2f}% in {h.dates[-1]}; dots: calendar year, "
                                   "official (NBS) basis"))
        return out
