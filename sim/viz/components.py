"""What the page shows, and where: each component with its cell in the page's grid.

SolaraViz would give every component the same half-width cell; the page sets its own grid
(12 columns, rows of 30 px plus 10 px gaps), which users can still drag and resize. The
headline cards at the top grow by a row when the reporter registry has more national figures
than fit in one, and the charts move down with them.
"""

from __future__ import annotations

from sim.viz.widgets.charts import (ChipsChart, ClusterMap, RegionsChart, SectorsChart,
                                    ShareChart, SizesChart)
from sim.viz.widgets.rules import RulesList
from sim.viz.widgets.summary import Summary, shown_reporters

CARDS_PER_ROW = 6  # headline cards that fit side by side in a 1440 px wide window

# Below the headline cards: (component, cell), y counted from the cards' bottom edge
BELOW_SUMMARY = [
    (ClusterMap, dict(x=0, y=0, w=6, h=16)),
    (ShareChart, dict(x=6, y=0, w=6, h=7)),
    (ChipsChart, dict(x=6, y=7, w=6, h=9)),
    (RegionsChart, dict(x=0, y=16, w=6, h=10)),
    (SectorsChart, dict(x=6, y=16, w=6, h=10)),
    (SizesChart, dict(x=0, y=26, w=6, h=9)),
    (RulesList, dict(x=6, y=26, w=6, h=9)),
]
COMPONENTS = [Summary, *(component for component, _ in BELOW_SUMMARY)]


def summary_rows() -> int:
    """Grid rows of the headline cards and the settings line: 3 for one row of cards, 2 more
    for each further row (80 px, a card's height)."""
    card_rows = -(-len(shown_reporters()) // CARDS_PER_ROW)
    return 1 + 2 * card_rows


def grid_layout() -> list[dict]:
    """The cells in the form solara.GridDraggable takes (item i is COMPONENTS[i])."""
    top = summary_rows()
    cells = [dict(x=0, y=0, w=12, h=top)]
    cells += [{**cell, "y": cell["y"] + top} for _, cell in BELOW_SUMMARY]
    return [{"i": i, "moved": False, **cell} for i, cell in enumerate(cells)]
