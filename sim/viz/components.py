"""What the browser page draws: the cluster map and the charts, as server-rendered PNGs.

Each panel is a matplotlib figure kept for the life of the model (one per browser session and
Reset). Its static part (axes, ticks, titles, target line, map outlines, colour bar) is drawn
once and kept as a bitmap; after each step only the data (lines, areas, circles, legends with
the current values) is drawn over a copy of that bitmap ("blitting"), which makes a redraw
about ten times cheaper than drawing the figure from scratch. When an axis range must change
(value added outgrows its axis), the static part is drawn again.

`panel(model, name).render()` gives the PNG (tests, benchmarks/viz_step.py); the Solara
components at the end put the panels on the page and redraw them after every Step.
"""

from __future__ import annotations

import io
import textwrap
import threading

import numpy as np
import reacton.ipywidgets as rw
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedLocator, NullLocator
from mesa.visualization.utils import update_counter
from PIL import Image

from sim.mechanisms.export_controls import TIERS
from sim.viz import geo
from sim.viz.model import VizModel

DPI = 100
INK, MUTED, GRID = "#222222", "#6b6b6b", "#e6e6e6"
TARGET_COLOUR = "#c0392b"
TIER_LABELS = {"frontier_ai": "Frontier AI chips", "hbm": "HBM",
               "advanced_foundry": "Advanced foundry", "equipment": "Chip equipment"}
TIER_COLOURS = {"frontier_ai": "#d62728", "hbm": "#9467bd", "advanced_foundry": "#1f77b4",
                "equipment": "#ff7f0e"}
SECTOR_COLOURS = ["#4c72b0", "#dd8452", "#55a868", "#8172b3"]
MACRO_COLOURS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
                 "#8c8c8c", "#ccb974", "#64b5cd"]
COLOUR_MODES = {"growth": "Gaining or losing share", "exposure": "Hit by chip controls"}
# Fixed colour scales, so that the colour bar is part of the static background and a colour
# means the same thing at every date: beyond the ends the colour saturates (arrow ends).
SHARE_CHANGE_RANGE = 40.0   # % change in the cluster's share of national core VA
EXPOSURE_RANGE = 30.0       # % of potential output lost to chip caps


# --------------------------------------------------------------------------- helpers

def style_axes(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#9a9a9a")
    ax.tick_params(colors=INK, labelsize=8.5, length=3)
    ax.grid(True, color=GRID, linewidth=0.7)
    ax.set_axisbelow(True)


def month_x(label: str) -> float:
    """'2023-10' -> 2023.79 (the middle of the month) on a numeric time axis."""
    y, m = label.split("-")[:2]
    return int(y) + (int(m) - 0.5) / 12


def date_x(date: str) -> float:
    y, m, d = (date.split("-") + ["15"])[:3]
    return int(y) + (int(m) - 1 + (int(d) - 1) / 30.4) / 12


def time_axis(ax, model: VizModel) -> None:
    start, end = month_x(model.config["run.start"]), month_x(model.config["run.end"])
    ax.set_xlim(start - 0.5 / 12, end + 0.5 / 12)
    years = np.arange(int(np.ceil(start - 0.5 / 12)), int(end) + 1)
    ax.xaxis.set_major_locator(FixedLocator(years))
    ax.set_xticklabels([str(y) for y in years])
    ax.xaxis.set_minor_locator(NullLocator())


def short_name(row) -> str:
    """A map label: the city of a named cluster ('Hefei smart voice cluster' -> 'Hefei'),
    '<macro-region> hub' for a hub, the name itself for 'Rest of ...'."""
    kind, name = str(row.get("kind", "")), str(row["name"])
    if kind == "hub":
        return f"{row['macro_region']} hub"
    if kind == "rest" or name.lower().startswith("rest of"):
        return name
    return name.split(" (")[0].split(" ")[0]


def annual_trn(monthly_bn) -> np.ndarray:
    """Monthly value added in bn yuan -> annual rate in trillion yuan."""
    return np.asarray(monthly_bn, float) * 12 / 1000


def calendar_years(model: VizModel) -> list[tuple[int, float]]:
    """(year, core VA share of GDP in %) for each year simulated in full: annual VA over annual
    GDP, the indicator of the 14th Five-Year Plan target."""
    h = model.history
    years = np.array([int(d[:4]) for d in h.dates])
    va, gdp = np.asarray(h.core_va), np.asarray(h.gdp)
    return [(int(y), 100 * float(va[years == y].sum() / gdp[years == y].sum()))
            for y in np.unique(years) if (years == y).sum() == 12]


def nice_ceiling(value: float) -> float:
    """An axis top above `value` with 8% room, from 1, 1.5, 2, 3, 4, 5, 7.5 x 10^k: coarse steps,
    so that a growing series changes its axis (and so redraws its static part) rarely."""
    value = max(float(value), 1e-12) * 1.08
    decade = 10 ** np.floor(np.log10(value))
    return float(next(m * decade for m in (1, 1.5, 2, 3, 4, 5, 7.5, 10) if m * decade >= value))


def ccdf(values: np.ndarray, weights: np.ndarray, points: int = 400):
    """(sizes, share of real firms at least that size), each agent counted `weight` times;
    thinned to about `points` points (log-spaced ranks: every large firm is kept)."""
    order = np.argsort(-values, kind="stable")
    s, w = values[order], weights[order]
    p = np.cumsum(w) / w.sum()
    if len(s) > points:
        keep = np.unique(np.geomspace(1, len(s), points).astype(int) - 1)
        s, p = s[keep], p[keep]
    return s, p


def png_bytes(canvas: FigureCanvasAgg) -> bytes:
    """The canvas as a 256-colour PNG: a third of the bytes and half the time of a full-colour
    one (measured: 48 vs 146 kB, 7 vs 16 ms for the map), with no visible difference on these
    flat-coloured charts."""
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw",
                             "RGBA", 0, 1).convert("RGB")
    image = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    # the octree merges the white background with the near-white land: keep it white, as the
    # page around it (the top-left pixel is always the figure's white background)
    palette = image.getpalette()
    k = 3 * image.getpixel((0, 0))
    palette[k:k + 3] = [255, 255, 255]
    image.putpalette(palette)
    buf = io.BytesIO()
    image.save(buf, format="png", compress_level=1)
    return buf.getvalue()


# --------------------------------------------------------------------------- panel base

class Panel:
    """A figure whose static part is drawn once and whose data is blitted over it."""

    size = (5.6, 3.2)  # inches at DPI

    def __init__(self, model: VizModel, **options):
        self.model, self.options = model, options
        self.fig = Figure(figsize=self.size, dpi=DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(self.fig)
        self._background = None
        self._key = None
        self._lock = threading.Lock()

    # subclasses ---------------------------------------------------------------
    def layout_key(self):
        """What the static part depends on besides the model (e.g. an axis range)."""
        return None

    def draw_static(self) -> None:
        raise NotImplementedError

    def draw_data(self) -> list:
        """Add the data artists for the current state; return them (drawn, then removed)."""
        raise NotImplementedError

    # ---------------------------------------------------------------------------
    def render(self) -> bytes:
        with self._lock:
            key = self.layout_key()
            if self._background is None or key != self._key:
                self.fig.clear()
                self.draw_static()
                self.canvas.draw()
                self._background = self.canvas.copy_from_bbox(self.fig.bbox)
                self._key = key
            else:
                self.canvas.restore_region(self._background)
            artists = self.draw_data()
            renderer = self.canvas.get_renderer()
            for a in artists:
                a.draw(renderer)
            for a in artists:
                a.remove()
            return png_bytes(self.canvas)

    # shared pieces ------------------------------------------------------------
    def axes(self, rect):
        ax = self.fig.add_axes(rect)
        style_axes(ax)
        return ax

    def below_top(self, points: float) -> float:
        """Figure y coordinate `points` below the top edge."""
        return 1 - points / (self.size[1] * 72)

    def heading(self, main: str, x: float = 0.015):
        return self.fig.text(x, self.below_top(7), main, fontsize=11, fontweight="bold",
                             color=INK, va="top")

    def subheading(self, text: str, x: float = 0.015):
        return self.fig.text(x, self.below_top(24), text, fontsize=8.5, color=MUTED, va="top")

    def waiting(self, ax):
        return ax.text(0.5, 0.5, f"Starts {self.model.config['run.start']}: press Step or \u25b6",
                       transform=ax.transAxes, ha="center", va="center", fontsize=9.5,
                       color=MUTED)


# --------------------------------------------------------------------------- map

def map_bbox(model: VizModel) -> tuple[float, float, float, float]:
    r = model.inputs.regions
    lon, lat = r["lon"].to_numpy(float), r["lat"].to_numpy(float)
    return (float(np.floor(lon.min() - 4)), float(np.floor(lat.min() - 3)),
            float(np.ceil(lon.max() + 3.5)), float(np.ceil(lat.max() + 3)))


def circle_area(va, reference) -> np.ndarray:
    """Marker area in points^2, proportional to value added; the largest 2020 cluster = 900."""
    return 900 * np.asarray(va, float) / max(float(np.max(reference)), 1e-12)


def label_positions(lon, lat, names, radius, bbox, aspect, char_deg, line_deg, avoid=()):
    """Where to write each cluster's name: beside its circle, clear of other circles and labels.

    Greedy, largest cluster first: eight directions at growing distances, the first spot whose
    text box overlaps nothing placed so far. radius: circle radii; char_deg, line_deg: width of
    a character and height of a line; all in degrees of latitude. avoid: boxes (lon0, lat0,
    lon1, lat1) to keep clear (the key). Depends only on the region table: runs once per panel.
    """
    lon0, lat0, lon1, lat1 = bbox
    boxes: list[tuple[float, float, float, float]] = list(avoid)
    spots: dict[int, tuple[float, float]] = {}
    directions = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1)]

    def free(x0, y0, x1, y1) -> bool:
        if x0 < lon0 + 0.1 or x1 > lon1 - 0.1 or y0 < lat0 + 0.1 or y1 > lat1 - 0.1:
            return False
        if any(not (x1 < b[0] or x0 > b[2] or y1 < b[1] or y0 > b[3]) for b in boxes):
            return False
        for cx, cy, r in zip(lon, lat, radius):
            nx, ny = min(max(cx, x0), x1), min(max(cy, y0), y1)
            if ((nx - cx) / aspect) ** 2 + (ny - cy) ** 2 < r ** 2:
                return False
        return True

    for i in np.argsort(-np.asarray(radius), kind="stable"):
        w, h = char_deg * len(names[i]) * aspect, line_deg
        spot = None
        for gap in (0.1, 0.4, 0.8, 1.3, 1.9, 2.6):
            for dx, dy in directions:
                cx = lon[i] + dx * ((radius[i] + gap) * aspect + w / 2)
                cy = lat[i] + dy * (radius[i] + gap + h / 2)
                if free(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2):
                    spot = (cx, cy)
                    break
            if spot:
                break
        if spot is None:
            spot = (lon[i] + radius[i] * aspect + w / 2, lat[i])
        boxes.append((spot[0] - w / 2, spot[1] - h / 2, spot[0] + w / 2, spot[1] + h / 2))
        spots[int(i)] = spot
    return [spots[i] for i in range(len(names))]


def map_values(model: VizModel, colour_by: str) -> np.ndarray:
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
    KEY = (0.60, 0.012, 0.985, 0.25)  # the key's box, in axes fractions (bottom right: sea)

    def draw_static(self) -> None:
        m, colour_by = self.model, self.options.get("colour_by", "growth")
        r = m.inputs.regions
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
        self._draw_key(label, extend)
        # Labels sit in the static layer, placed clear of the circles (allowing for 50%
        # growth), which are drawn over them with some transparency.
        names = [short_name(row) for _, row in r.iterrows()]
        lon, lat = r["lon"].to_numpy(float), r["lat"].to_numpy(float)
        pos = ax.get_position()
        deg_per_pt = (bbox[3] - bbox[1]) / (pos.height * self.size[1] * 72)
        ref = m.initial_region_va
        radius = 0.5 * np.sqrt(circle_area(1.5 * ref, ref)) * deg_per_pt
        kx0, ky0, kx1, ky1 = self.KEY
        key_box = (bbox[0] + kx0 * (bbox[2] - bbox[0]), bbox[1] + ky0 * (bbox[3] - bbox[1]),
                   bbox[0] + kx1 * (bbox[2] - bbox[0]), bbox[1] + ky1 * (bbox[3] - bbox[1]))
        spots = label_positions(lon, lat, names, radius, bbox, aspect,
                                char_deg=0.58 * self.LABEL_PT * deg_per_pt,
                                line_deg=1.25 * self.LABEL_PT * deg_per_pt, avoid=[key_box])
        for (x, y), name in zip(spots, names):
            ax.text(x, y, name, fontsize=self.LABEL_PT, ha="center", va="center", color=INK,
                    zorder=4)
        self.lon, self.lat = lon, lat

    def _draw_key(self, label: str, extend: str) -> None:
        """Colour bar and circle sizes in a box in the map's bottom-right corner."""
        ax, (kx0, ky0, kx1, ky1) = self.ax, self.KEY
        ax.add_patch(Rectangle((kx0, ky0), kx1 - kx0, ky1 - ky0, transform=ax.transAxes,
                               facecolor="white", edgecolor="#c8d2d9", linewidth=0.6,
                               alpha=0.92, zorder=5))
        pos = ax.get_position()
        w = kx1 - kx0

        def to_fig(x, y, width, height):
            return (pos.x0 + x * pos.width, pos.y0 + y * pos.height, width * pos.width,
                    height * pos.height)

        cax = self.fig.add_axes(to_fig(kx0 + 0.06 * w, ky0 + 0.19 * (ky1 - ky0), 0.86 * w,
                                       0.075 * (ky1 - ky0)))
        cb = self.fig.colorbar(ScalarMappable(self.norm, self.cmap), cax=cax, extend=extend,
                               orientation="horizontal")
        cb.ax.tick_params(labelsize=7, colors=INK, length=2, pad=1.5)
        cb.outline.set_edgecolor("#9a9a9a")
        cax.set_title(label, fontsize=7, color=MUTED, loc="left", pad=3)
        ref = self.model.initial_region_va
        keys = [v for v in (0.1, 0.25, 0.5, 1.0, 2.0) if v <= 1.6 * ref.max() * 12 / 1000][-3:]
        ax.text(kx0 + 0.04 * w, ky1 - 0.012, "Circle area: core VA, trn yuan/yr", fontsize=7,
                color=MUTED, va="top", transform=ax.transAxes, zorder=6)
        for k, x in zip(keys, (0.13, 0.43, 0.74)):
            ax.scatter([kx0 + x * w], [ky1 - 0.085], s=circle_area(k * 1000 / 12, ref),
                       transform=ax.transAxes, facecolors="none", edgecolors="#555555",
                       linewidths=0.7, zorder=6)
            ax.text(kx0 + (x + 0.1) * w, ky1 - 0.085, f"{k:g}", fontsize=7, color=INK,
                    va="center", transform=ax.transAxes, zorder=6)

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


# --------------------------------------------------------------------------- legends

class ValueLegend:
    """A legend drawn once with the static part, plus this month's value beside each entry.

    Laying out a legend is the dearest part of a redraw; here only the numbers are redrawn,
    at positions taken from the static legend's texts.
    """

    def __init__(self, panel: "Panel", ax, handles, labels, *, below: bool, **kwargs):
        self.panel, self.below = panel, below
        # a blank second line makes room for the value under each name
        shown = [f"{lab}\n " for lab in labels] if below else labels
        self.legend = ax.legend(handles, shown, frameon=False, alignment="left", **kwargs)
        self.fontsize = kwargs.get("fontsize", 7.5)
        self.spots = None

    def _place(self) -> None:
        """Positions from the legend as drawn (Panel.render draws the static part first)."""
        renderer = self.panel.canvas.get_renderer()
        boxes = [t.get_window_extent(renderer) for t in self.legend.get_texts()]
        w, h = self.panel.fig.bbox.width, self.panel.fig.bbox.height
        if self.below:
            self.spots = [(b.x0 / w, (b.y0 + 1) / h) for b in boxes]
        else:
            right = max(b.x1 for b in boxes)
            self.spots = [((right + 6) / w, (b.y0 + b.y1) / 2 / h) for b in boxes]

    def values(self, texts: list[str]) -> list:
        if self.spots is None:
            self._place()
        return [self.panel.fig.text(x, y, t, fontsize=self.fontsize, color=INK,
                                    va="bottom" if self.below else "center", ha="left")
                for (x, y), t in zip(self.spots, texts)]


# --------------------------------------------------------------------------- national share

class SharePanel(Panel):
    size = (5.6, 2.8)

    def layout_key(self):
        target = self.model.config["target.share_pct"]
        lo, hi = 6.0, target + 1.0
        if self.model.history.share_pct:
            y = np.asarray(self.model.history.share_pct)
            lo, hi = min(lo, np.floor(y.min() - 0.3)), max(hi, np.ceil(y.max() + 0.3))
        return float(lo), float(hi)

    def draw_static(self) -> None:
        m = self.model
        ax = self.ax = self.axes((0.09, 0.12, 0.88, 0.66))
        time_axis(ax, m)
        ax.set_ylim(*self.layout_key())
        target, year = m.config["target.share_pct"], int(m.config["target.year"])
        ax.axhline(target, color=TARGET_COLOUR, linestyle="--", linewidth=1.2, zorder=1)
        ax.text(ax.get_xlim()[0] + 0.06, target + 0.07, f"Target: {target:g}% of GDP in {year}",
                color=TARGET_COLOUR, fontsize=8.5, va="bottom")
        ax.axvspan(year, year + 1, color="#f7e6e4", zorder=0, linewidth=0)
        ax.set_ylabel("% of GDP", fontsize=8.5, color=INK)
        ax.legend([Line2D([], [], color="#2b6cb0", linewidth=1.6),
                   Line2D([], [], marker="o", linestyle="none", color="#1a365d", markersize=5)],
                  ["monthly", "calendar year"], loc="lower right", fontsize=7.5, frameon=False,
                  ncol=2)
        self.heading("Core digital economy value added, share of GDP")

    def draw_data(self) -> list:
        m, ax = self.model, self.ax
        h = m.history
        if not h.dates:
            return [self.waiting(ax), self.subheading("monthly value; dots: calendar-year share")]
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
        out.append(self.subheading(f"{y[-1]:.2f}% in {h.dates[-1]}; dots: calendar-year share "
                                   "(annual VA / annual GDP)"))
        return out


# --------------------------------------------------------------------------- VA over time

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


class RegionsPanel(StackPanel):
    title = "Core value added by macro-region"
    note = "stacked; each month at an annual rate"

    def groups(self):
        m = self.model
        macro = m.inputs.regions["macro_region"].astype(str).to_numpy()
        names = list(dict.fromkeys(macro))
        size = np.array([m.initial_region_va[macro == g].sum() for g in names])
        names = [names[i] for i in np.argsort(-size, kind="stable")]
        colours = [MACRO_COLOURS[i % len(MACRO_COLOURS)] for i in range(len(names))]
        if not m.history.region_va:
            return names, colours, None
        va = np.array(m.history.region_va)  # (T, R)
        return names, colours, np.array([va[:, macro == g].sum(axis=1) for g in names])


class SectorsPanel(StackPanel):
    title = "Core value added by sector"
    note = "stacked; NBS 2021 core digital economy industries"

    def groups(self):
        m = self.model
        s = m.inputs.sectors
        names = dict(zip(s["sector"], s["sector_name"] if "sector_name" in s else s["sector"]))
        labels = [textwrap.fill(f"{c} {names.get(c, '')}".strip(), 24) for c in m.sector_codes]
        if not m.history.sector_va:
            return labels, SECTOR_COLOURS, None
        return labels, SECTOR_COLOURS, np.array(m.history.sector_va).T


# --------------------------------------------------------------------------- chips

class ChipsPanel(Panel):
    size = (5.6, 3.3)

    def draw_static(self) -> None:
        m = self.model
        ax = self.ax = self.axes((0.09, 0.12, 0.56, 0.66))
        time_axis(ax, m)
        ax.set_ylim(0, 105)
        ax.set_ylabel("%", fontsize=8.5, color=INK)
        self.heading("Chip availability and self-sufficiency")
        self.fig.text(0.015, 0.015, "Vertical lines: export-control rules (solid: in force; "
                      "dotted: to come in this scenario)", fontsize=6.8, color=MUTED)
        handles = [Line2D([], [], color=TIER_COLOURS[t], linewidth=1.5) for t in TIERS]
        handles.append(Line2D([], [], color=INK, linewidth=2.2))
        self.legend = ValueLegend(
            self, ax, handles, [TIER_LABELS[t] for t in TIERS] + ["Self-sufficiency"],
            below=False, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7.5,
            handlelength=1.4, title="Imported supply open to\nordinary firms, by tier;\n"
                                    "black: domestic share\nof critical chip needs",
            title_fontsize=7.2)
        x0, x1 = ax.get_xlim()
        self.rules = [(date_x(ev.date), (ev.date, ev.name)) for ev in m.events
                      if x0 <= date_x(ev.date) <= x1]

    def draw_data(self) -> list:
        m, ax = self.model, self.ax
        h = m.history
        applied = set(m.event_log)
        out = []
        for done, colour, style in ((True, "#8a8a8a", "-"), (False, "#c4c4c4", ":")):
            xs = [x for x, ev in self.rules if (ev in applied) == done]
            if xs:
                out.append(ax.vlines(xs, 0, 105, colors=colour, linewidth=0.8, linestyles=style,
                                     zorder=1))
        if h.dates:
            x = np.array([month_x(d) for d in h.dates])
            avail = 100 * np.array(h.availability)  # (T, tiers)
            for t, tier in enumerate(TIERS):
                out += ax.step(x, avail[:, t], where="mid", color=TIER_COLOURS[tier],
                               linewidth=1.5)
            ss = np.asarray(h.self_sufficiency_pct)
            out += ax.plot(x, ss, color=INK, linewidth=2.2)
            out += self.legend.values([f"{v:.0f}%" for v in avail[-1]] + [f"{ss[-1]:.1f}%"])
        else:
            out.append(self.waiting(ax))
        latest = next((ev for ev in reversed(m.events) if (ev.date, ev.name) in applied), None)
        sub = "no rule in force yet" if latest is None else \
            f"Latest rule, {latest.date}: {textwrap.shorten(latest.name, 62, placeholder='...')}"
        out.append(self.subheading(sub))
        return out


# --------------------------------------------------------------------------- firm sizes

def _decade_label(v: float) -> str:
    for unit, div in (("m", 1e6), ("k", 1e3)):
        if v >= div:
            return f"{v / div:g}{unit}"
    return f"{v:g}"


class SizesPanel(Panel):
    size = (5.6, 3.3)

    def _limits(self, sizes, shares):
        lo = 10 ** np.floor(np.log10(max(float(sizes[sizes > 0].min()), 1e-3)))
        hi = 10 ** np.ceil(np.log10(float(sizes.max()) * 1.5))
        ylo = 10 ** np.floor(np.log10(max(float(shares.min()), 1e-12)))
        return float(lo), float(hi), float(ylo)

    def layout_key(self):
        rows = self.model.firms.rows
        self._now = ccdf(self.model.firms.employment[rows], self.model.firms.weight[rows])
        self._agents, self._real = len(rows), float(self.model.firms.weight[rows].sum())
        a = self._limits(*ccdf(*self.model.initial_sizes))
        b = self._limits(*self._now)
        return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2])

    def draw_static(self) -> None:
        m = self.model
        lo, hi, ylo = self._key_now = self.layout_key()
        ax = self.ax = self.axes((0.16, 0.15, 0.81, 0.63))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(ylo, 1.6)
        xt = 10.0 ** np.arange(np.log10(lo), np.log10(hi) + 1)
        yt = 10.0 ** np.arange(np.log10(ylo), 1)
        ax.xaxis.set_major_locator(FixedLocator(xt))
        ax.set_xticklabels([_decade_label(v) for v in xt])
        ax.yaxis.set_major_locator(FixedLocator(yt))
        ax.set_yticklabels([f"{v:g}" for v in yt])
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_minor_locator(NullLocator())
        s0, p0 = ccdf(*m.initial_sizes)
        start = ax.step(s0, p0, color="#b0b0b0", linewidth=1.4, where="post")[0]
        ax.set_xlabel("employees per firm", fontsize=8.5, color=INK)
        ax.set_ylabel("share of firms\nthis size or larger", fontsize=8.5, color=INK)
        ax.legend([start, Line2D([], [], color="#2b6cb0", linewidth=1.6),
                   Line2D([], [], color=TARGET_COLOUR, linestyle="--", linewidth=1.0)],
                  [f"start ({m.config['run.start']})", "now",
                   "slope -1 (Zipf's law; Axtell 2001)"],
                  loc="lower left", fontsize=7.5, frameon=False)
        self.heading("Firm size distribution")

    def draw_data(self) -> list:
        m, ax = self.model, self.ax
        s, p = self._now
        out = []
        if m.started:
            out += ax.step(s, p, color="#2b6cb0", linewidth=1.6, where="post")
        # Zipf's law (tail exponent 1) through the firm at the 90th size percentile
        i = int(np.searchsorted(p, 0.10))
        if 0 < i < len(s):
            xs = np.array([s[i], s[0]])
            out += ax.plot(xs, p[i] * (xs / s[i]) ** -1.0, "--", color=TARGET_COLOUR,
                           linewidth=1.0)
        out.append(self.subheading(f"{self._agents:,} agents standing for {self._real / 1e6:.2f} m "
                                   "real firms; log-log (a straight line is a Pareto tail)"))
        return out


# --------------------------------------------------------------------------- registry

PANELS: dict[str, type[Panel]] = {
    "map": MapPanel, "share": SharePanel, "chips": ChipsPanel, "regions": RegionsPanel,
    "sectors": SectorsPanel, "sizes": SizesPanel,
}


def panel(model: VizModel, name: str, **options) -> Panel:
    """The model's figure for a panel (made on first use, then kept with the model)."""
    cache = model.__dict__.setdefault("_viz_panels", {})
    key = (name, *sorted(options.items()))
    if key not in cache:
        cache[key] = PANELS[name](model, **options)
    return cache[key]


def render_all(model: VizModel, map_colour: str = "growth") -> dict[str, bytes]:
    """Every panel as a PNG, as the page draws them after a step (benchmarks, tests)."""
    return {name: panel(model, name, **({"colour_by": map_colour} if name == "map" else {}))
            .render() for name in PANELS}


# --------------------------------------------------------------------------- Solara

# Largest height of each image on the page, in CSS pixels: what its cell in app.GRID leaves
# (rows of 30 px with 10 px gaps, less the map's colour switch). An image fills its cell's
# width up to this height and keeps its proportions, on narrow and wide screens alike.
MAX_HEIGHT_PX = {"map": 585, "share": 270, "chips": 350, "regions": 390, "sectors": 390,
                 "sizes": 350}


@solara.component
def PanelImage(name: str, model: VizModel, **options):
    """A panel as a PNG, redrawn when the model steps or is replaced (Reset)."""
    counter = update_counter.value  # read to subscribe: SolaraViz bumps it after each step
    png = solara.use_memo(lambda: panel(model, name, **options).render(),
                          [model, counter, len(model.history), *options.values()])
    with solara.Div(classes=[f"clustersim-panel-{name}"],
                    style={"width": "100%", "display": "flex", "justify-content": "center"}) as main:
        rw.Image(value=png, format="png",
                 layout={"max_width": "100%", "max_height": f"{MAX_HEIGHT_PX[name]}px",
                         "width": "auto", "height": "auto", "object_fit": "contain"})
    return main


@solara.component
def ClusterMap(model: VizModel):
    colour_by, set_colour_by = solara.use_state("growth")
    labels = list(COLOUR_MODES.values())
    with solara.Column(gap="0px", style={"width": "100%"}) as main:
        with solara.Row(style={"padding": "2px 8px 0 8px", "align-items": "center"}):
            solara.Text("Colour:", style={"font-size": "12px", "color": MUTED})
            solara.ToggleButtonsSingle(
                value=COLOUR_MODES[colour_by], values=labels, dense=True,
                on_value=lambda v: set_colour_by(next(k for k, t in COLOUR_MODES.items() if t == v)))
        PanelImage("map", model, colour_by=colour_by)
    return main


def _chart(name: str):
    @solara.component
    def Chart(model: VizModel):
        return PanelImage(name, model)

    Chart.__name__ = Chart.__qualname__ = f"{name.title()}Chart"
    return Chart


ShareChart = _chart("share")
ChipsChart = _chart("chips")
RegionsChart = _chart("regions")
SectorsChart = _chart("sectors")
SizesChart = _chart("sizes")


# Page-level messages shown under the headline figures (set by app.py: e.g. a scenario file
# left out of the picker because it does not load).
NOTICES: list[str] = []


@solara.component
def Summary(model: VizModel):
    """The date and the headline figures, and what is being run."""
    update_counter.value  # noqa: B018 - read to subscribe to steps
    c = model.config
    started = model.started
    cards = [
        ("Date", model.date if started else c["run.start"],
         "last month simulated" if started else "not started: press Step or \u25b6", "date"),
        ("Core digital VA / GDP", f"{model.core_va_share_gdp_pct:.2f}%" if started else "\u2013",
         f"target {c['target.share_pct']:g}% in {int(c['target.year'])}", "share"),
        ("Core digital VA", f"{model.core_va_bn_yuan * 12 / 1000:.2f}" if started else "\u2013",
         "trn yuan, annual rate", "va"),
        ("Chip self-sufficiency", f"{model.chip_self_sufficiency_pct:.1f}%" if started else "\u2013",
         "domestic share of critical needs", "selfsufficiency"),
        ("Lost to chip caps", f"{model.direct_loss_bn_yuan * 12:,.0f}" if started else "\u2013",
         "bn yuan/yr, direct", "loss"),
        ("Firms", f"{model.real_firms / 1e6:.2f} m", f"{len(model.firms.rows):,} agents", "firms"),
    ]
    settings = [("severity", "export_controls.severity"), ("spillover", "spillover.strength"),
                ("agglomeration", "agglomeration.elasticity"),
                ("R&D subsidy", "policy.rd_subsidy_pct"),
                ("cooperation", "policy.international_cooperation")]
    text = ", ".join(f"{name} {c[key]:g}" for name, key in settings)
    with solara.Column(gap="2px", style={"padding": "6px 12px", "width": "100%"}) as main:
        with solara.Row(gap="36px", style={"flex-wrap": "wrap", "align-items": "flex-end"}):
            for label, value, note, css in cards:
                with solara.Column(gap="0px"):
                    solara.Text(label, style={"font-size": "12px", "color": MUTED})
                    solara.Text(value, classes=[f"clustersim-{css}"],
                                style={"font-size": "22px", "font-weight": "600",
                                       "line-height": "1.25", "color": INK})
                    solara.Text(note, style={"font-size": "11px", "color": MUTED})
        solara.Text(f"Scenario '{c.name}' ({model.scenario_path.name}), seed {model.seed}, "
                    f"{text}. Changed model parameters apply on Reset.",
                    classes=["clustersim-settings"],
                    style={"font-size": "12px", "color": MUTED, "padding-top": "4px"})
        for notice in NOTICES:
            solara.Text(notice, classes=["clustersim-notice"],
                        style={"font-size": "12px", "color": TARGET_COLOUR})
    return main


@solara.component
def RulesList(model: VizModel):
    """The export-control rules of the scenario, ticked once in force."""
    update_counter.value  # noqa: B018 - read to subscribe to steps
    applied = set(model.event_log)
    start = model.config["run.start"]
    rows = []
    for ev in model.events:
        done = (ev.date, ev.name) in applied
        tiers = ", ".join(f"{TIER_LABELS[t]} {100 * v:.0f}%" for t, v in ev.avail.items()
                          if t in TIER_LABELS)
        rows.append((ev.date, ev.name, tiers, done, ev.date[:7] < start))
    with solara.Column(gap="0px", style={"padding": "6px 12px", "width": "100%",
                                         "overflow-y": "auto", "max-height": "350px"}) as main:
        solara.Text("Export-control rules in this scenario",
                    style={"font-size": "15px", "font-weight": "700", "color": INK})
        solara.Text(f"\u2713 in force by {model.date if model.started else start}; levels: "
                    "imported supply left open to ordinary firms (before severity and "
                    "cooperation)", style={"font-size": "11.5px", "color": MUTED,
                                           "padding-bottom": "4px"})
        for date, name, tiers, done, before in rows:
            style = {"font-size": "12px", "color": INK if done else "#8a8a8a",
                     "line-height": "1.35"}
            mark = "\u2713" if done else "\u00a0\u00a0"
            note = " (before the run)" if before else ""
            solara.Text(f"{mark} {date}  {name}{note}" + (f"  [{tiers}]" if tiers else ""),
                        style=style, classes=["clustersim-rule" + ("-done" if done else "")])
    return main


__all__ = ["RulesList", "PANELS", "panel", "render_all", "ClusterMap", "ShareChart", "ChipsChart",
           "RegionsChart", "SectorsChart", "SizesChart", "Summary", "short_name", "ccdf",
           "map_values", "calendar_years"]
