"""The charts on the page: each panel's PNG, redrawn when the model steps or is replaced."""

from __future__ import annotations

import reacton.ipywidgets as rw
import solara
from mesa.visualization.utils import update_counter

from sim.viz.panels import panel
from sim.viz.panels.map import COLOUR_MODES
from sim.viz.style import MUTED

# Largest height of each image on the page, in CSS pixels: what its cell in components.BELOW_SUMMARY
# leaves (rows of 30 px with 10 px gaps, less the map's colour switch). An image fills its
# cell's width up to this height and keeps its proportions, on narrow and wide screens alike.
MAX_HEIGHT_PX = {"map": 585, "share": 270, "chips": 350, "regions": 390, "sectors": 390,
                 "sizes": 350}


@solara.component
def PanelImage(name: str, model, **options):
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
def ClusterMap(model):
    """The map, with the switch between its two colourings."""
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


def chart(name: str):
    """The page component that shows panel `name`."""
    @solara.component
    def Chart(model):
        return PanelImage(name, model)

    Chart.__name__ = Chart.__qualname__ = f"{name.title()}Chart"
    return Chart


ShareChart = chart("share")
ChipsChart = chart("chips")
RegionsChart = chart("regions")
SectorsChart = chart("sectors")
SizesChart = chart("sizes")
