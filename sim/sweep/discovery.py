"""Scenario discovery: which region of the swept parameters reaches a target.

PRIM (Friedman and Fisher 1999) as the EMA Workbench implements it (Kwakkel 2017): peel the
parameter box toward the runs that reach the target, then paste back. Each box on the peeling
trajectory trades coverage (the share of all target-reaching runs inside the box) against density
(the share of runs inside the box that reach the target); the report shows the whole trade-off
and describes one box: the one with the largest coverage among those at least DENSITY_GOAL
dense, else the densest. Restricted dimensions are listed with the quasi-p value of each
restriction (EMA Workbench's test that the restriction is not chance; < 0.05 is the usual bar).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

DENSITY_GOAL = 0.8   # EMA Workbench tutorials' usual bar for a policy-relevant box
PEEL_ALPHA = 0.05    # EMA Workbench defaults: peel and paste 5% of the remaining runs a step
MASS_MIN = 0.05      # the smallest box PRIM may return, as a share of all runs


@dataclass
class Discovery:
    target: str
    runs: int
    hits: int
    trajectory: pd.DataFrame   # coverage, density, mass, res_dim per peeling step
    chosen: int | None         # row of the trajectory described, None when no split exists
    limits: pd.DataFrame       # parameter, min, max, qp_value of the chosen box's restrictions
    why_not: str | None = None

    @property
    def box(self) -> pd.Series | None:
        return None if self.chosen is None else self.trajectory.iloc[self.chosen]


def _prim():
    # the workbench warns at import about optional parallel back-ends the report does not use
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


def discover(x: pd.DataFrame, hit: pd.Series, target: str) -> Discovery:
    """PRIM on the numeric swept parameters `x` (one row per run) against `hit` (bool)."""
    y = hit.astype(bool).to_numpy()
    n, hits = len(y), int(y.sum())
    empty = pd.DataFrame(columns=["parameter", "min", "max", "qp_value"])
    x = x.loc[:, x.nunique() > 1].astype(float)
    why = None
    if x.shape[1] == 0:
        why = "no numeric parameter varies across the runs"
    elif hits == 0 or hits == n:
        why = (f"every run {'reaches' if hits else 'misses'} the target, so there is no "
               "region to separate")
    if why:
        return Discovery(target, n, hits, pd.DataFrame(), None, empty, why)
    prim = _prim()
    alg = prim.Prim(x.reset_index(drop=True), y, peel_alpha=PEEL_ALPHA, paste_alpha=PEEL_ALPHA,
                    mass_min=MASS_MIN)
    box = alg.find_box()
    traj = box.peeling_trajectory[["coverage", "density", "mass", "res_dim", "n"]] \
        .reset_index(drop=True)
    dense = traj.index[traj["density"] >= DENSITY_GOAL]
    chosen = int(traj.loc[dense, "coverage"].idxmax()) if len(dense) else \
        int(traj["density"].idxmax())
    _, lims = box.inspect(chosen, style="data")[0]
    rows = []
    initial = box.box_lims[0]
    for param in lims.index:
        lo, hi, qp_lo, qp_hi = lims.loc[param].to_numpy(float)
        restricted_lo = lo > initial[param].iloc[0]
        restricted_hi = hi < initial[param].iloc[1]
        if not (restricted_lo or restricted_hi):
            continue
        qps = [q for q, r in ((qp_lo, restricted_lo), (qp_hi, restricted_hi)) if r]
        rows.append({"parameter": param, "min": lo, "max": hi,
                     "qp_value": float(np.nanmax(qps)) if qps else float("nan")})
    limits = pd.DataFrame(rows, columns=empty.columns)
    return Discovery(target, n, hits, traj, chosen, limits)


def fig_tradeoff(d: Discovery, path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    sc = ax.scatter(d.trajectory["coverage"], d.trajectory["density"],
                    c=d.trajectory["res_dim"], cmap="viridis", s=22)
    b = d.box
    ax.scatter([b["coverage"]], [b["density"]], s=140, facecolors="none", edgecolors="tab:red",
               label=f"described box (coverage {b['coverage']:.2f}, density {b['density']:.2f})")
    ax.axhline(DENSITY_GOAL, color="grey", ls=":", lw=1)
    fig.colorbar(sc, ax=ax, label="restricted dimensions")
    ax.set_xlabel("coverage: share of target-reaching runs inside the box")
    ax.set_ylabel("density: share of runs in the box that reach it")
    ax.set_title(f"PRIM peeling trajectory: {d.target}", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
