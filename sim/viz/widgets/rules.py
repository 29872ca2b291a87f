"""The scenario's export-control rules, each with its date and tier levels, ticked once in force."""

from __future__ import annotations

import solara
from mesa.visualization.utils import update_counter

from sim.registry import TIER_LABELS
from sim.viz.style import INK, MUTED


@solara.component
def RulesList(model):
    """The export-control rules of the scenario, ticked once in force."""
    update_counter.value  # noqa: B018 - read to subscribe to steps
    applied = set(model.event_log)
    start = model.config["run.start"]
    rows = []
    for ev in model.events:
        done = (ev.date, ev.name) in applied
        tiers = ", ".join(f"{TIER_LABELS[t]} {100 * v:.0f}%" for t, v in ev.avail.items()
                          if t in TIER_LABELS)
        rows.append((ev.date, ev.name, tiers, done, ev.date[:7] < start))
    with solara.Column(gap="0px", style={"padding": "6px 12px", "width": "100%",
                                         "overflow-y": "auto", "max-height": "350px"}) as main:
        solara.Text("Export-control rules in this scenario",
                    style={"font-size": "15px", "font-weight": "700", "color": INK})
        solara.Text(f"\u2713 in force by {model.date if model.started else start}; levels: "
                    "imported supply left open to ordinary firms (before severity and "
                    "cooperation)", style={"font-size": "11.5px", "color": MUTED,
                                           "padding-bottom": "4px"})
        for date, name, tiers, done, before in rows:
            style = {"font-size": "12px", "color": INK if done else "#8a8a8a",
                     "line-height": "1.35"}
            mark = "\u2713" if done else "\u00a0\u00a0"
            note = " (before the run)" if before else ""
            solara.Text(f"{mark} {date}  {name}{note}" + (f"  [{tiers}]" if tiers else ""),
                        style=style, classes=["clustersim-rule" + ("-done" if done else "")])
    return main
