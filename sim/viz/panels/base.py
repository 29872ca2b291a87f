"""A chart kept for the life of the model: its static part drawn once, its data blitted over it.

Each panel is a matplotlib figure kept for the life of the model (one per browser session and
Reset). Its static part (axes, ticks, titles, target line, map outlines, colour bar) is drawn
once and kept as a bitmap; after each step only the data (lines, areas, circles, legends with
the current values) is drawn over a copy of that bitmap ("blitting"), which makes a redraw
about ten times cheaper than drawing the figure from scratch. When an axis range must change
(value added outgrows its axis), the static part is drawn again.
"""

from __future__ import annotations

import io
import threading

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from sim.viz.style import DPI, INK, MUTED, style_axes


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


class Panel:
    """A figure whose static part is drawn once and whose data is blitted over it.

    Subclasses give `draw_static`, `draw_data` and, if the static part depends on more than
    the model (an axis range), `layout_key`.
    """

    size = (5.6, 3.2)  # inches at DPI

    def __init__(self, model, **options):
        self.model, self.options = model, options
        self.fig = Figure(figsize=self.size, dpi=DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(self.fig)
        self._background = None
        self._key = None
        self._lock = threading.Lock()  # a session may redraw while a step's redraw runs

    def layout_key(self):
        """What the static part depends on besides the model (e.g. an axis range)."""
        return None

    def draw_static(self) -> None:
        raise NotImplementedError

    def draw_data(self) -> list:
        """Add the data artists for the current state; return them (drawn, then removed)."""
        raise NotImplementedError

    def render(self) -> bytes:
        """The figure as a PNG for the model's current state."""
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
