"""The browser page: Mesa's SolaraViz around VizModel, with the cluster map and the charts.

Served by `clustersim viz [SCENARIO]` (sim/viz/cli.py), which sets up Solara's offline assets;
`solara run sim.viz.app` also works once the environment of docs/viz-offline.md is set.
The sliders start at the values of the scenario the page was started with; whatever the
picked file says, the slider values are the ones run (the summary line shows them).
"""

from __future__ import annotations

import os

import solara
from mesa.visualization import Slider, SolaraViz

from sim.viz.components import COMPONENTS, grid_layout
from sim.viz.model import (DEFAULT_FIRMS, ENV_FIRMS, SLIDERS, VizModel, build_config,
                           check_scenarios, default_scenario_path, scenario_files)
from sim.viz.panels import render_all
from sim.viz.widgets.summary import NOTICES

# slider -> (min, max, step); ranges cover the literature values quoted in sim/parameters.py
SLIDER_RANGES = {
    "severity": (0.0, 1.0, 0.05),
    "spillover": (0.0, 0.1, 0.005),
    "agglomeration": (0.0, 0.3, 0.01),
    "rd_subsidy": (0.0, 75.0, 1.25),
    "cooperation": (0.0, 1.0, 0.05),
}
TITLE = "clustersim: China's digital industry clusters"


def model_params(start=None) -> dict:
    """The page's inputs, starting at the values of scenario file `start`."""
    start = default_scenario_path() if start is None else start
    base = build_config(start)
    files, problems = check_scenarios(scenario_files(extra=start))
    NOTICES[:] = [f"Not in the scenario list, it does not load: {p}" for p in problems.values()]
    start_name = next(name for name, path in files.items() if path == start.resolve())
    params: dict = {
        "scenario_file": {"type": "Select", "value": start_name, "values": list(files),
                          "label": "Scenario file (scenarios/)"},
    }
    for name, (key, label) in SLIDERS.items():
        lo, hi, step = SLIDER_RANGES[name]
        value = float(base[key])
        params[name] = Slider(label, value=value, min=min(lo, value), max=max(hi, value),
                              step=step, dtype=float)
    params["seed"] = {"type": "InputText", "value": str(base["run.seed"]),
                      "label": "Seed (a number, or any text)"}
    firms = int(os.environ.get(ENV_FIRMS, DEFAULT_FIRMS))
    params["firms"] = Slider("Firm agents", value=firms, min=500, max=max(20000, firms),
                             step=500, dtype=int)
    return params


params = model_params()
start_model = VizModel(**{k: (v.value if isinstance(v, Slider) else v["value"])
                          for k, v in params.items()})
# Warm the map outlines and fonts before the first visitor (about 1-2 s, once per server).
render_all(start_model)


@solara.component
def Charts(model: VizModel):
    """The page's components in their own grid cells, which users can drag and resize."""
    layout, set_layout = solara.use_state(grid_layout())
    solara.GridDraggable(items=[component(model) for component in COMPONENTS],
                         grid_layout=layout, resizable=True, draggable=True,
                         on_grid_layout=set_layout)


@solara.component
def Page():
    """SolaraViz's sidebar (controls, inputs, step count) and the page's own grid.

    SolaraViz (Mesa 3.5.1) places its components in a grid of equal half-width cells and has no
    argument for another layout, so it gets no components here and the grid is drawn beside
    it; the two share the model through one reactive value, which Reset replaces.
    """
    model = solara.use_reactive(start_model)
    SolaraViz(model, components=[], model_params=params, name=TITLE, play_interval=150)
    Charts(model.value)


__all__ = ["Page", "model_params", "TITLE"]
