"""Throwaway probe: the smallest Mesa 3.5 SolaraViz page, to check that it renders offline.

Run:  SOLARA_ASSETS_PROXY_CACHE_DIR=$PWD/.cache/solara-assets \
      .venv/bin/solara run scripts/viz_probe_app.py --production --no-open
Used by tests/test_viz_offline_probe.py. VIZ_PROBE_BACKEND=altair swaps the plot backend
(default matplotlib) so both backends can be checked offline.
"""

import os

import solara
from mesa import Agent, Model
from mesa.datacollection import DataCollector
from mesa.visualization import Slider, SolaraViz, make_plot_component

BACKEND = os.environ.get("VIZ_PROBE_BACKEND", "matplotlib")


class ProbeAgent(Agent):
    def __init__(self, model):
        super().__init__(model)
        self.value = 1.0

    def step(self):
        self.value += self.random.random()


class ProbeModel(Model):
    def __init__(self, n=5, rng=None):
        # Typing a seed into a SolaraViz InputText passes a string (Mesa issue 3516).
        if isinstance(rng, str):
            rng = int(rng) if rng.strip() else None
        super().__init__(rng=rng)
        ProbeAgent.create_agents(self, int(n))
        self.datacollector = DataCollector(
            model_reporters={"Mean value": lambda m: m.agents.agg("value", lambda v: sum(v) / len(v))}
        )
        self.datacollector.collect(self)

    def step(self):
        self.agents.shuffle_do("step")
        self.datacollector.collect(self)


def Notes(model):
    # solara.Markdown makes the browser load katex and mermaid from the CDN proxy: probe that too.
    return solara.Markdown(f"**Agents: {len(model.agents)}** (backend: {BACKEND})")


model_params = {
    "n": Slider("Number of agents", value=5, min=1, max=20, step=1),
}

model = ProbeModel(n=5, rng=42)
page = SolaraViz(
    model,
    components=[make_plot_component("Mean value", backend=BACKEND), Notes],
    model_params=model_params,
    name="Viz offline probe",
)
page  # noqa: B018
