"""The cluster cross-section (sim/cluster_growth.py, sim/data/cluster_growth.csv)."""

import numpy as np
import pandas as pd
import pytest

from sim import cluster_growth
from sim.inputs import load_inputs
from sim.scenario import load_scenario


def test_statistics_are_the_sd_and_the_slope_on_log_initial_share():
    share = np.array([1.0, np.e, np.e**2])
    stats = cluster_growth.statistics([30.0, 20.0, 10.0], share)
    assert stats["cluster_growth_slope_pp"] == pytest.approx(-10.0)
    assert stats["cluster_growth_sd_pp"] == pytest.approx(10.0)


def test_every_row_is_a_model_region_and_growth_rows_have_a_rate():
    inputs = load_inputs(load_scenario())
    df = pd.read_csv(cluster_growth.FILE)
    assert set(df["region"]) <= set(inputs.regions["region_id"])
    assert len(df) == 8 and set(df["use"]) == {"growth", "level_only"}
    growth = cluster_growth.observed()
    assert list(growth["region"]) == ["hefei", "hangzhou", "wuxi", "shenzhen"]
    assert growth["growth_pct_per_year"].notna().all()
    assert (growth["year_from"] >= 2020).all() and (growth["year_to"] <= 2023).all()


def test_simulated_growth_uses_each_rows_window():
    # region a doubles from 2020 to 2022 (two years: 41.4%/yr); two replicates agree
    regions = pd.DataFrame(dict(
        replicate=[0, 0, 0, 1, 1, 1], region=["a"] * 6,
        date=["2020-06", "2021-06", "2022-06"] * 2, core_va_bn_yuan=[1.0, 1.5, 2.0] * 2))
    rows = pd.DataFrame(dict(region=["a", "a"], year_from=[2020, 2021], year_to=[2022, 2022]))
    got = cluster_growth.simulated_growth(regions, rows)
    assert got == pytest.approx([100 * (np.sqrt(2) - 1), 100 * (2 / 1.5 - 1)])
