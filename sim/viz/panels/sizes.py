"""The firm size distribution (share of real firms at least a given size), log-log, vs Zipf."""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, NullLocator

from sim.viz.panels.base import Panel
from sim.viz.style import INK, TARGET_COLOUR


def ccdf(values: np.ndarray, weights: np.ndarray, points: int = 400):
    """(sizes, share of real firms at least that size), each agent counted `weight` times;
    thinned to about `points` points (log-spaced ranks: every large firm is kept)."""
    order = np.argsort(-values, kind="stable")
    s, w = values[order], weights[order]
    p = np.cumsum(w) / w.sum()
    if len(s) > points:
        keep = np.unique(np.geomspace(1, len(s), points).astype(int) - 1)
        s, p = s[keep], p[keep]
    return s, p


def _decade_label(v: float) -> str:
    for unit, div in (("m", 1e6), ("k", 1e3)):
        if v >= div:
            return f"{v / div:g}{unit}"
    return f"{v:g}"


class SizesPanel(Panel):
    size = (5.6, 3.3)

    def _limits(self, sizes, shares):
        lo = 10 ** np.floor(np.log10(max(float(sizes[sizes > 0].min()), 1e-3)))
        hi = 10 ** np.ceil(np.log10(float(sizes.max()) * 1.5))
        ylo = 10 ** np.floor(np.log10(max(float(shares.min()), 1e-12)))
        return float(lo), float(hi), float(ylo)

    def layout_key(self):
        rows = self.model.firms.rows
        self._now = ccdf(self.model.firms.employment[rows], self.model.firms.weight[rows])
        self._agents, self._real = len(rows), float(self.model.firms.weight[rows].sum())
        a = self._limits(*ccdf(*self.model.initial_sizes))
        b = self._limits(*self._now)
        return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2])

    def draw_static(self) -> None:
        m = self.model
        lo, hi, ylo = self._key_now = self.layout_key()
        ax = self.ax = self.axes((0.16, 0.15, 0.81, 0.63))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(ylo, 1.6)
        xt = 10.0 ** np.arange(np.log10(lo), np.log10(hi) + 1)
        yt = 10.0 ** np.arange(np.log10(ylo), 1)
        ax.xaxis.set_major_locator(FixedLocator(xt))
        ax.set_xticklabels([_decade_label(v) for v in xt])
        ax.yaxis.set_major_locator(FixedLocator(yt))
        ax.set_yticklabels([f"{v:g}" for v in yt])
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_minor_locator(NullLocator())
        s0, p0 = ccdf(*m.initial_sizes)
        start = ax.step(s0, p0, color="#b0b0b0", linewidth=1.4, where="post")[0]
        ax.set_xlabel("employees per firm", fontsize=8.5, color=INK)
        ax.set_ylabel("share of firms\nthis size or larger", fontsize=8.5, color=INK)
        ax.legend([start, Line2D([], [], color="#2b6cb0", linewidth=1.6),
                   Line2D([], [], color=TARGET_COLOUR, linestyle="--", linewidth=1.0)],
                  [f"start ({m.config['run.start']})", "now",
                   "slope -1 (Zipf's law; Axtell 2001)"],
                  loc="lower left", fontsize=7.5, frameon=False)
        self.heading("Firm size distribution")

    def draw_data(self) -> list:
        m, ax = self.model, self.ax
        s, p = self._now
        out = []
        if m.started:
            out += ax.step(s, p, color="#2b6cb0", linewidth=1.6, where="post")
        # Zipf's law (tail exponent 1) through the firm at the 90th size percentile
        i = int(np.searchsorted(p, 0.10))
        if 0 < i < len(s):
            xs = np.array([s[i], s[0]])
            out += ax.plot(xs, p[i] * (xs / s[i]) ** -1.0, "--", color=TARGET_COLOUR,
                           linewidth=1.0)
        out.append(self.subheading(f"{self._agents:,} agents standing for {self._real / 1e6:.2f} m "
                                   "real firms; log-log (a straight line is a Pareto tail)"))
        return out
