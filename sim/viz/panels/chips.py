"""Imported chip supply by tier, domestic self-sufficiency, and the scenario's rules."""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.lines import Line2D

from sim.registry import TIER_LABELS, TIERS
from sim.viz.panels.base import Panel
from sim.viz.panels.legend import ValueLegend
from sim.viz.scales import date_x, month_x, time_axis
from sim.viz.style import INK, MUTED, tier_colour


class ChipsPanel(Panel):
    size = (5.6, 3.3)

    def draw_static(self) -> None:
        m = self.model
        ax = self.ax = self.axes((0.09, 0.12, 0.56, 0.66))
        time_axis(ax, m)
        ax.set_ylim(0, 105)
        ax.set_ylabel("%", fontsize=8.5, color=INK)
        self.heading("Chip availability and self-sufficiency")
        self.fig.text(0.015, 0.015, "Vertical lines: export-control rules (solid: in force; "
                      "dotted: to come in this scenario)", fontsize=6.8, color=MUTED)
        handles = [Line2D([], [], color=tier_colour(t), linewidth=1.5) for t in range(len(TIERS))]
        handles.append(Line2D([], [], color=INK, linewidth=2.2))
        self.legend = ValueLegend(
            self, ax, handles, [TIER_LABELS[t] for t in TIERS] + ["Self-sufficiency"],
            below=False, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7.5,
            handlelength=1.4, title="Imported supply open to\nordinary firms, by tier;\n"
                                    "black: domestic share\nof critical chip needs",
            title_fontsize=7.2)
        x0, x1 = ax.get_xlim()
        self.rules = [(date_x(ev.date), (ev.date, ev.name)) for ev in m.events
                      if x0 <= date_x(ev.date) <= x1]

    def draw_data(self) -> list:
        m, ax = self.model, self.ax
        h = m.history
        applied = set(m.event_log)
        out = []
        for done, colour, style in ((True, "#8a8a8a", "-"), (False, "#c4c4c4", ":")):
            xs = [x for x, ev in self.rules if (ev in applied) == done]
            if xs:
                out.append(ax.vlines(xs, 0, 105, colors=colour, linewidth=0.8, linestyles=style,
                                     zorder=1))
        if h.dates:
            x = np.array([month_x(d) for d in h.dates])
            avail = 100 * np.array(h.availability)  # (T, tiers)
            for t in range(len(TIERS)):
                out += ax.step(x, avail[:, t], where="mid", color=tier_colour(t), linewidth=1.5)
            ss = np.asarray(h.self_sufficiency_pct)
            out += ax.plot(x, ss, color=INK, linewidth=2.2)
            out += self.legend.values([f"{v:.0f}%" for v in avail[-1]] + [f"{ss[-1]:.1f}%"])
        else:
            out.append(self.waiting(ax))
        latest = next((ev for ev in reversed(m.events) if (ev.date, ev.name) in applied), None)
        sub = "no rule in force yet" if latest is None else \
            f"Latest rule, {latest.date}: {textwrap.shorten(latest.name, 62, placeholder='...')}"
        out.append(self.subheading(sub))
        return out
