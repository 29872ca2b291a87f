"""The map's key, in a box in its bottom-right corner (the sea): colour bar and circle sizes."""

from __future__ import annotations

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.patches import Rectangle

from sim.viz.style import INK, MUTED

KEY_BOX = (0.60, 0.012, 0.985, 0.25)  # in axes fractions


def circle_area(va, reference) -> np.ndarray:
    """Marker area in points^2, proportional to value added; the largest 2020 cluster = 900."""
    return 900 * np.asarray(va, float) / max(float(np.max(reference)), 1e-12)


def draw_key(panel, label: str, extend: str) -> None:
    """The colour bar of `panel.norm`/`panel.cmap`, titled `label`, and three circle sizes."""
    ax, (kx0, ky0, kx1, ky1) = panel.ax, KEY_BOX
    ax.add_patch(Rectangle((kx0, ky0), kx1 - kx0, ky1 - ky0, transform=ax.transAxes,
                           facecolor="white", edgecolor="#c8d2d9", linewidth=0.6,
                           alpha=0.92, zorder=5))
    pos = ax.get_position()
    w = kx1 - kx0

    def to_fig(x, y, width, height):
        return (pos.x0 + x * pos.width, pos.y0 + y * pos.height, width * pos.width,
                height * pos.height)

    cax = panel.fig.add_axes(to_fig(kx0 + 0.06 * w, ky0 + 0.19 * (ky1 - ky0), 0.86 * w,
                                    0.075 * (ky1 - ky0)))
    cb = panel.fig.colorbar(ScalarMappable(panel.norm, panel.cmap), cax=cax, extend=extend,
                            orientation="horizontal")
    cb.ax.tick_params(labelsize=7, colors=INK, length=2, pad=1.5)
    cb.outline.set_edgecolor("#9a9a9a")
    cax.set_title(label, fontsize=7, color=MUTED, loc="left", pad=3)
    ref = panel.model.initial_region_va
    keys = [v for v in (0.1, 0.25, 0.5, 1.0, 2.0) if v <= 1.6 * ref.max() * 12 / 1000][-3:]
    ax.text(kx0 + 0.04 * w, ky1 - 0.012, "Circle area: core VA, trn yuan/yr", fontsize=7,
            color=MUTED, va="top", transform=ax.transAxes, zorder=6)
    for k, x in zip(keys, (0.13, 0.43, 0.74)):
        ax.scatter([kx0 + x * w], [ky1 - 0.085], s=circle_area(k * 1000 / 12, ref),
                   transform=ax.transAxes, facecolors="none", edgecolors="#555555",
                   linewidths=0.7, zorder=6)
        ax.text(kx0 + (x + 0.1) * w, ky1 - 0.085, f"{k:g}", fontsize=7, color=INK,
                va="center", transform=ax.transAxes, zorder=6)
