"""The headline figures: one card per national reporter (sim/reporters.py), and the settings run.

A reporter the page has no card style for is shown with its own label and unit, so a new
national figure appears here without an edit under sim/viz/. CARDS only says how this page
prints a figure it shows in other units (VA at an annual rate) or with a note of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import solara
from mesa.visualization.utils import update_counter

from sim import reporters
from sim.reporters import Reporter
from sim.viz.model import SLIDERS
from sim.viz.style import INK, MUTED, TARGET_COLOUR

DASH = "\u2013"  # a figure not simulated yet


@dataclass(frozen=True)
class Card:
    """How the page prints one reporter: value(v, model) -> text, note(model) -> text."""

    value: Callable
    note: Callable
    label: str | None = None   # None: the reporter's label
    before_start: bool = False  # has a value before the first step (else a dash)


# In page order; other reporters follow in registry order.
CARDS: dict[str, Card] = {
    "date": Card(lambda v, m: v if m.started else m.config["run.start"],
                 lambda m: "last month simulated" if m.started
                 else "not started: press Step or \u25b6", label="Date", before_start=True),
    "core_va_share_gdp_pct": Card(
        lambda v, m: f"{v:.2f}%",
        lambda m: f"target {m.config['target.share_pct']:g}% in {int(m.config['target.year'])}",
        label="Core digital VA / GDP"),
    "core_va_bn_yuan": Card(lambda v, m: f"{v * 12 / 1000:.2f}",
                            lambda m: "trn yuan, annual rate"),
    "chip_self_sufficiency_pct": Card(lambda v, m: f"{v:.1f}%",
                                      lambda m: "domestic share of critical needs"),
    "direct_loss_bn_yuan": Card(lambda v, m: f"{v * 12:,.0f}", lambda m: "bn yuan/yr, direct",
                                label="Lost to chip caps"),
    "firms": Card(lambda v, m: f"{v / 1e6:.2f} m", lambda m: f"{len(m.firms.rows):,} agents",
                  before_start=True),
}
# Reporters the page leaves out: GDP is an input; employment has no chart to go with it.
NOT_SHOWN = frozenset({"gdp_bn_yuan", "employment"})

# The settings line repeats every slider's value: (name shown, scenario key)
SETTINGS = [({"rd_subsidy": "R&D subsidy"}.get(name, name), key)
            for name, (key, _) in SLIDERS.items()]

# Page-level messages shown under the headline figures (set by app.py: e.g. a scenario file
# left out of the picker because it does not load).
NOTICES: list[str] = []


def plain_number(value) -> str:
    """A figure with no card style: text as is, numbers to three or more significant digits."""
    if isinstance(value, str):
        return value
    return f"{value:,.0f}" if abs(float(value)) >= 100 else f"{value:.3g}"


def shown_reporters() -> list[Reporter]:
    """The national reporters with a card, in page order."""
    styled = [reporters.get(name) for name in CARDS]
    return styled + [r for r in reporters.national()
                     if r.name not in CARDS and r.name not in NOT_SHOWN]


def card(r: Reporter, model) -> tuple[str, str, str]:
    """(label, value, note) of reporter r's card for the model's state."""
    style = CARDS.get(r.name)
    if style is None:
        return r.label, plain_number(r.read(model)) if model.started else DASH, r.unit
    value = style.value(r.read(model), model) if model.started or style.before_start else DASH
    return style.label or r.label, value, style.note(model)


@solara.component
def Summary(model):
    """The date and the headline figures, and what is being run."""
    update_counter.value  # noqa: B018 - read to subscribe to steps
    c = model.config
    text = ", ".join(f"{name} {c[key]:g}" for name, key in SETTINGS)
    with solara.Column(gap="2px", style={"padding": "6px 12px", "width": "100%"}) as main:
        with solara.Row(gap="36px", style={"flex-wrap": "wrap", "align-items": "flex-end"}):
            for r in shown_reporters():
                label, value, note = card(r, model)
                with solara.Column(gap="0px"):
                    solara.Text(label, style={"font-size": "12px", "color": MUTED})
                    solara.Text(value, classes=[f"clustersim-{r.name}"],
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
