"""What the page shows, and where: each component with its cell in the page's grid.

SolaraViz would give every component the same half-width cell; the page sets its own grid
(12 columns, rows of 30 px plus 10 px gaps), which users can still drag and resize.
"""

from __future__ import annotations

from sim.viz.widgets.charts import (ChipsChart, ClusterMap, RegionsChart, SectorsChart,
                                    ShareChart, SizesChart)
from sim.viz.widgets.rules import RulesList
from sim.viz.widgets.summary import Summary

PAGE = [
    (Summary, dict(x=0, y=0, w=12, h=3)),
    (ClusterMap, dict(x=0, y=3, w=6, h=16)),
    (ShareChart, dict(x=6, y=3, w=6, h=7)),
    (ChipsChart, dict(x=6, y=10, w=6, h=9)),
    (RegionsChart, dict(x=0, y=19, w=6, h=10)),
    (SectorsChart, dict(x=6, y=19, w=6, h=10)),
    (SizesChart, dict(x=0, y=29, w=6, h=9)),
    (RulesList, dict(x=6, y=29, w=6, h=9)),
]
COMPONENTS = [component for component, _ in PAGE]
GRID = [cell for _, cell in PAGE]


def grid_layout() -> list[dict]:
    """The cells in the form solara.GridDraggable takes (item i is COMPONENTS[i])."""
    return [{"i": i, "moved": False, **cell} for i, cell in enumerate(GRID)]
