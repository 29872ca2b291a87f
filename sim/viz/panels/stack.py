"""Core value added over time, stacked by group: the base of the region and sector charts."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.patches import Rectangle

from sim.viz.panels.base import Panel
from sim.viz.panels.legend import ValueLegend
from sim.viz.scales import annual_trn, month_x, nice_ceiling, time_axis
from sim.viz.style import INK


class StackPanel(Panel):
    """Core value added over time, stacked by group (subclasses choose the groups)."""

    size = (5.6, 3.9)
    title = ""
    note = ""
    legend_title = "trn yuan/yr now\n(change since start)"

    def groups(self) -> tuple[list[str], list[str], np.ndarray | None]:
        """(labels, colours, (groups, T) monthly bn yuan or None before the first step)."""
        raise NotImplementedError

    def layout_key(self):
        self._groups = self.groups()
        series = self._groups[2]
        top = float(annual_trn(series.sum(axis=0)).max()) if series is not None else \
            float(annual_trn(self.model.initial_region_va.sum()))
        return nice_ceiling(top)

    def draw_static(self) -> None:
        ax = self.ax = self.axes((0.09, 0.10, 0.56, 0.74))
        time_axis(ax, self.model)
        ax.set_ylim(0, self.layout_key())
        ax.set_ylabel("trn yuan per year", fontsize=8.5, color=INK)
        self.heading(self.title)
        self.subheading(self.note)
        labels, colours, _ = self._groups
        handles = [Rectangle((0, 0), 1, 1, facecolor=c, alpha=0.92) for c in colours][::-1]
        self.legend = ValueLegend(self, ax, handles, labels[::-1], below=True,
                                  loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7.2,
                                  labelspacing=0.35, handlelength=1.2,
                                  title=self.legend_title, title_fontsize=7.2)

    def draw_data(self) -> list:
        labels, colours, series = self._groups
        h = self.model.history
        if series is None:
            return [self.waiting(self.ax)]
        x = np.array([month_x(d) for d in h.dates])
        # one collection of polygons: a tenth of what ax.stackplot costs per redraw
        top = np.cumsum(annual_trn(series), axis=0)
        bottom = np.vstack([np.zeros_like(x), top[:-1]])
        polygons = [np.column_stack([np.r_[x, x[::-1]], np.r_[hi, lo[::-1]]])
                    for hi, lo in zip(top, bottom)]
        areas = PolyCollection(polygons, facecolors=colours, edgecolors="white",
                               linewidths=0.3, alpha=0.92)
        self.ax.add_collection(areas, autolim=False)
        out = [areas]
        last, first = annual_trn(series[:, -1]), annual_trn(series[:, 0])
        values = [f"{v:.2f}  ({100 * (v / f - 1):+.0f}%)" if f > 0 else f"{v:.2f}"
                  for v, f in zip(last, first)]
        return out + self.legend.values(values[::-1])
