"""The browser page: Mesa's SolaraViz around VizModel, with the cluster map and the charts.

Served by `clustersim viz [SCENARIO]` (sim/viz/cli.py), which sets up Solara's offline assets;
`solara run sim.viz.app` also works once the environment of docs/viz-offline.md is set.
The sliders start at the values of the scenario the page was started with; whatever the
picked file says, the slider values are the ones run (the summary line shows them).
"""

from __future__ import annotations

import os

from mesa.visualization import Slider, SolaraViz
from mesa.visualization import solara_viz

from sim.viz import components as C
from sim.viz.model import (DEFAULT_FIRMS, ENV_FIRMS, SLIDERS, VizModel, build_config,
                           check_scenarios, default_scenario_path, scenario_files)

# slider -> (min, max, step); ranges cover the literature values quoted in sim/parameters.py
SLIDER_RANGES = {
    "severity": (0.0, 1.0, 0.05),
    "spillover": (0.0, 0.1, 0.005),
    "agglomeration": (0.0, 0.3, 0.01),
    "rd_subsidy": (0.0, 75.0, 1.25),
    "cooperation": (0.0, 1.0, 0.05),
}

# SolaraViz gives every component the same half-width cell; this page sets its own grid
# (12 columns, rows of 30 px plus 10 px gaps). Users can still drag and resize the cells.
COMPONENTS = [C.Summary, C.ClusterMap, C.ShareChart, C.ChipsChart, C.RegionsChart,
              C.SectorsChart, C.SizesChart, C.RulesList]
GRID = [
    dict(x=0, y=0, w=12, h=3),    # summary
    dict(x=0, y=3, w=6, h=16),    # map
    dict(x=6, y=3, w=6, h=7),     # national share
    dict(x=6, y=10, w=6, h=9),    # chips
    dict(x=0, y=19, w=6, h=10),   # VA by region
    dict(x=6, y=19, w=6, h=10),   # VA by sector
    dict(x=0, y=29, w=6, h=9),    # firm sizes
    dict(x=6, y=29, w=6, h=9),    # rules
]


def grid_layout(n: int) -> list[dict]:
    if n == len(GRID):
        return [{"i": i, "moved": False, **cell} for i, cell in enumerate(GRID)]
    return _mesa_grid_layout(n)


_mesa_grid_layout = solara_viz.make_initial_grid_layout
solara_viz.make_initial_grid_layout = grid_layout


def model_params(start=None) -> dict:
    """The page's inputs, starting at the values of scenario file `start`."""
    start = default_scenario_path() if start is None else start
    base = build_config(start)
    files, problems = check_scenarios(scenario_files(extra=start))
    C.NOTICES[:] = [f"Not in the scenario list, it does not load: {p}" for p in problems.values()]
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
model = VizModel(**{k: (v.value if isinstance(v, Slider) else v["value"])
                    for k, v in params.items()})
# Warm the map outlines and fonts before the first visitor (about 1-2 s, once per server).
C.render_all(model)

page = SolaraViz(
    model,
    components=COMPONENTS,
    model_params=params,
    name="clustersim: China's digital industry clusters",
    play_interval=150,
)
page  # noqa: B018

__all__ = ["page", "model_params", "grid_layout", "GRID", "COMPONENTS"]
