"""The page's look: figure resolution, colours and the axes style every chart shares."""

from __future__ import annotations

DPI = 100
INK, MUTED, GRIDLINE = "#222222", "#6b6b6b", "#e6e6e6"
TARGET_COLOUR = "#c0392b"
# Tiers take colours by their position in sim/data/tiers.csv, so a new tier needs no edit here.
TIER_PALETTE = ("#d62728", "#9467bd", "#1f77b4", "#ff7f0e", "#2ca02c", "#8c564b", "#e377c2")
SECTOR_COLOURS = ["#4c72b0", "#dd8452", "#55a868", "#8172b3"]
MACRO_COLOURS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
                 "#8c8c8c", "#ccb974", "#64b5cd"]


def tier_colour(position: int) -> str:
    return TIER_PALETTE[position % len(TIER_PALETTE)]


def style_axes(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#9a9a9a")
    ax.tick_params(colors=INK, labelsize=8.5, length=3)
    ax.grid(True, color=GRIDLINE, linewidth=0.7)
    ax.set_axisbelow(True)
