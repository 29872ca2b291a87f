"""Scenario discovery in `clustersim report`: PRIM finds a region of the swept parameters that
is known because the outputs are made from a formula (no model runs)."""

import pandas as pd
import numpy as np

from sim.cli import main
from sim.sweep.discovery import DENSITY_GOAL, discover
from test_sweep_report import KEYS, fake_sweep

A, B, C = KEYS


def test_prim_recovers_the_box_where_the_target_is_reached(tmp_path):
    # the target (10%) is reached exactly when A > 0.16 and B < 0.13: C plays no part
    ranges = "".join(f"  {k}: {{min: 0.1, max: 0.2}}\n" for k in KEYS)
    out = fake_sweep(tmp_path, f"design: lhs\nsamples: 400\nparameters:\n{ranges}",
                     lambda v: 10.5 if v[A] > 0.16 and v[B] < 0.13 else 9.0)
    assert main(["report", str(out), "--quiet"]) == 0
    rep = out / "report"
    box = pd.read_csv(rep / "discovery_share_10_in_2021_box.csv").set_index("parameter")
    assert set(box.index) == {A, B}  # the irrelevant parameter is left unrestricted
    assert abs(box.loc[A, "min"] - 0.16) < 0.01 and abs(box.loc[B, "max"] - 0.13) < 0.01
    assert (box["qp_value"] < 0.05).all()
    trade = pd.read_csv(rep / "discovery_share_10_in_2021_tradeoff.csv")
    assert trade["coverage"].iloc[0] == 1.0 and trade["density"].iloc[-1] > DENSITY_GOAL
    md = (rep / "report.md").read_text()
    assert "Scenario discovery" in md and "discovery_share_10_in_2021.png" in md
    assert (rep / "discovery_share_10_in_2021.png").stat().st_size > 0


def test_discovery_says_why_when_there_is_nothing_to_separate():
    x = pd.DataFrame({"a": np.linspace(0, 1, 50)})
    d = discover(x, pd.Series([True] * 50), "share >= 10% in 2025")
    assert d.chosen is None and "every run reaches" in d.why_not
    d = discover(pd.DataFrame({"a": [1.0] * 50}), pd.Series([True, False] * 25), "t")
    assert "no numeric parameter varies" in d.why_not
