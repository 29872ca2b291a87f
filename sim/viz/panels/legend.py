"""A legend whose names are drawn with the static part and whose numbers change every month."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.viz.style import INK

if TYPE_CHECKING:
    from sim.viz.panels.base import Panel


class ValueLegend:
    """A legend drawn once with the static part, plus this month's value beside each entry.

    Laying out a legend is the dearest part of a redraw; here only the numbers are redrawn,
    at positions taken from the static legend's texts.
    """

    def __init__(self, panel: Panel, ax, handles, labels, *, below: bool, **kwargs):
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
