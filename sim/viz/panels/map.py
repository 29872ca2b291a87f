"""The cluster map: a circle per cluster, its area value added, its colour growth or exposure."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import Normalize

from sim.viz import geo
from sim.viz.labels import label_positions, short_name
from sim.viz.panels.base import Panel
from sim.viz.panels.map_key import KEY_BOX, circle_area, draw_key
from sim.viz.style import INK

COLOUR_MODES = {"growth": "Gaining or losing share", "exposure": "Hit by chip controls"}
# Fixed colour scales, so that the colour bar is part of the static background and a colour
# means the same thing at every date: beyond the ends the colour saturates (arrow ends).
SHARE_CHANGE_RANGE = 40.0   # % change in the cluster's share of national core VA
EXPOSURE_RANGE = 30.0       # % of potential output lost to chip caps


def map_bbox(model) -> tuple[float, float, float, float]:
    r = model.inputs.regions
    lon, lat = r["lon"].to_numpy(float), r["lat"].to_numpy(float)
    return (float(np.floor(lon.min() - 4)), float(np.floor(lat.min() - 3)),
            float(np.ceil(lon.max() + 3.5)), float(np.ceil(lat.max() + 3)))


def map_values(model, colour_by: str) -> np.ndarray:
    """The colour of each cluster, in the units of its colour bar.

    growth: % change of the cluster's share of national core VA since the first month
    (positive = growing faster than China). exposure: % of this month's potential output
    (value added + what chip caps took) lost to the caps.
    """
    h = model.history
    if colour_by == "exposure":
        if not h.region_va:
            return np.zeros(model.n_regions)
        va, lost = h.region_va[-1], h.region_lost[-1]
        return 100 * np.divide(lost, va + lost, out=np.zeros_like(va), where=(va + lost) > 0)
    if len(h.region_va) < 2:
        return np.zeros(model.n_regions)
    first, now = h.region_va[0], h.region_va[-1]
    share0, share = first / first.sum(), now / now.sum()
    return 100 * (np.divide(share, share0, out=np.ones_like(share), where=share0 > 0) - 1)


class MapPanel(Panel):
    size = (6.0, 7.0)
    LABEL_PT = 7.5

    def draw_static(self) -> None:
        m, colour_by = self.model, self.options.get("colour_by", "growth")
        self.bbox = bbox = map_bbox(m)
        self.aspect = aspect = 1 / np.cos(np.radians(0.5 * (bbox[1] + bbox[3])))
        ax = self.ax = self.fig.add_axes((0.012, 0.03, 0.976, self.below_top(44) - 0.03))
        ax.set_xlim(bbox[0], bbox[2])
        ax.set_ylim(bbox[1], bbox[3])
        ax.set_aspect(aspect, anchor="N")
        ax.set_facecolor("#e9f0f5")
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_color("#b8c4cc")
        shapes = geo.outlines(bbox)
        if shapes is not None:
            ax.add_collection(PolyCollection(shapes.land, facecolors="#fbfaf7",
                                             edgecolors="none", zorder=0))
            ax.add_collection(LineCollection(shapes.provinces, colors="#d3cdc1",
                                             linewidths=0.5, zorder=1))
            ax.add_collection(LineCollection(shapes.border, colors="#a29a8a", linewidths=0.9,
                                             zorder=1))
            self.fig.text(0.012, 0.008, "Outlines: " + shapes.source, fontsize=6.5,
                          color="#9a9a9a")
        if colour_by == "exposure":
            self.norm, self.cmap = Normalize(0, EXPOSURE_RANGE), "OrRd"
            label, extend = "Output lost to chip caps this month, %", "max"
            sub = "Colour: share of output lost to chip caps."
        else:
            self.norm, self.cmap = Normalize(-SHARE_CHANGE_RANGE, SHARE_CHANGE_RANGE), "RdBu"
            label, extend = "Change of share of China's core VA, %", "both"
            sub = "Blue: gaining share of China's core VA; red: losing."
        self.heading("Clusters,")
        self.date_x = self.fig.texts[-1].get_window_extent(
            self.canvas.get_renderer()).x1 / self.fig.bbox.width
        self.subheading("Circle area: core digital value added. " + sub)
        ax.apply_aspect()
        draw_key(self, label, extend)
        self._draw_labels()

    def _draw_labels(self) -> None:
        """Labels sit in the static layer, placed clear of the circles (allowing for 50%
        growth), which are drawn over them with some transparency."""
        m, ax, bbox, aspect = self.model, self.ax, self.bbox, self.aspect
        r = m.inputs.regions
        names = [short_name(row) for _, row in r.iterrows()]
        lon, lat = r["lon"].to_numpy(float), r["lat"].to_numpy(float)
        pos = ax.get_position()
        deg_per_pt = (bbox[3] - bbox[1]) / (pos.height * self.size[1] * 72)
        ref = m.initial_region_va
        radius = 0.5 * np.sqrt(circle_area(1.5 * ref, ref)) * deg_per_pt
        kx0, ky0, kx1, ky1 = KEY_BOX
        key_box = (bbox[0] + kx0 * (bbox[2] - bbox[0]), bbox[1] + ky0 * (bbox[3] - bbox[1]),
                   bbox[0] + kx1 * (bbox[2] - bbox[0]), bbox[1] + ky1 * (bbox[3] - bbox[1]))
        spots = label_positions(lon, lat, names, radius, bbox, aspect,
                                char_deg=0.58 * self.LABEL_PT * deg_per_pt,
                                line_deg=1.25 * self.LABEL_PT * deg_per_pt, avoid=[key_box])
        for (x, y), name in zip(spots, names):
            ax.text(x, y, name, fontsize=self.LABEL_PT, ha="center", va="center", color=INK,
                    zorder=4)
        self.lon, self.lat = lon, lat

    def draw_data(self) -> list:
        m, colour_by = self.model, self.options.get("colour_by", "growth")
        h = m.history
        va = h.region_va[-1] if h.region_va else m.initial_region_va
        area = circle_area(va, m.initial_region_va)
        order = np.argsort(-area, kind="stable")  # small circles on top of large ones
        value = map_values(m, colour_by)
        dots = self.ax.scatter(self.lon[order], self.lat[order], s=area[order],
                               c=value[order], cmap=self.cmap, norm=self.norm,
                               edgecolors="#333333", linewidths=0.6, alpha=0.8, zorder=3)
        date = self.fig.text(self.date_x + 0.01, self.below_top(7), m.date_label, fontsize=11,
                             fontweight="bold", color=INK, va="top")
        return [dots, date]

