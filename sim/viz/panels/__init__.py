"""The page's charts, one module each, and the figure each model keeps per chart.

`panel(model, name).render()` gives the PNG the page shows (tests, benchmarks/viz_step.py);
sim/viz/widgets/ puts the panels on the page and redraws them after every Step.
"""

from __future__ import annotations

from sim.viz.panels.base import Panel
from sim.viz.panels.chips import ChipsPanel
from sim.viz.panels.map import MapPanel
from sim.viz.panels.regions import RegionsPanel
from sim.viz.panels.sectors import SectorsPanel
from sim.viz.panels.share import SharePanel
from sim.viz.panels.sizes import SizesPanel

PANELS: dict[str, type[Panel]] = {
    "map": MapPanel, "share": SharePanel, "chips": ChipsPanel, "regions": RegionsPanel,
    "sectors": SectorsPanel, "sizes": SizesPanel,
}


def panel(model, name: str, **options) -> Panel:
    """The model's figure for a panel (made on first use, then kept with the model)."""
    cache = model.__dict__.setdefault("_viz_panels", {})
    key = (name, *sorted(options.items()))
    if key not in cache:
        cache[key] = PANELS[name](model, **options)
    return cache[key]


def render_all(model, map_colour: str = "growth") -> dict[str, bytes]:
    """Every panel as a PNG, as the page draws them after a step (benchmarks, tests)."""
    return {name: panel(model, name, **({"colour_by": map_colour} if name == "map" else {}))
            .render() for name in PANELS}


__all__ = ["PANELS", "Panel", "panel", "render_all"]
