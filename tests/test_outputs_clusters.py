"""clusters.csv, the direct loss in national.csv and the regional balance of annual.csv."""

import math

import numpy as np
import pandas as pd
import pytest

from sim.targets import SHARE, Target
from sim.outputs import (ANNUAL_COLUMNS, CLUSTER_COLUMNS, NATIONAL_COLUMNS, regional_balance,
                         summarise, theil)
from sim.runner import run_replicate
from sim.scenario import ScenarioError, load_scenario

TWO_YEARS = ["run.end=2021-12", "target.year=2021"]


@pytest.fixture(scope="module")
def result():
    config = load_scenario("scenarios/baseline.yaml", overrides=TWO_YEARS)
    return run_replicate(config, seed=5, firms=1500, firm_snapshots=False)


def test_national_csv_carries_the_direct_loss_reporter(result):
    assert "direct_loss_bn_yuan" in NATIONAL_COLUMNS
    assert list(result.national.columns) == NATIONAL_COLUMNS
    # the 2019-20 Entity-List rules bind Huawei's chips in the baseline: the loss is positive
    assert (result.national["direct_loss_bn_yuan"] >= 0).all()
    assert result.national["direct_loss_bn_yuan"].sum() > 0


def test_clusters_add_up_to_the_national_figures_each_year(result):
    c = result.clusters
    assert list(c.columns) == CLUSTER_COLUMNS
    assert sorted(set(c["year"])) == [2020, 2021] and len(c) == 2 * 24
    nat = result.national.assign(year=result.national["date"].str[:4].astype(int))
    by_year = nat.groupby("year")[["core_va_bn_yuan", "direct_loss_bn_yuan"]].sum()
    sums = c.groupby("year")[["value_added_bn_yuan", "direct_loss_bn_yuan"]].sum()
    assert np.allclose(sums["value_added_bn_yuan"], by_year["core_va_bn_yuan"], rtol=1e-12)
    assert np.allclose(sums["direct_loss_bn_yuan"], by_year["direct_loss_bn_yuan"], rtol=1e-9)
    assert np.allclose(c.groupby("year")["share_of_national_pct"].sum(), 100, rtol=1e-12)
    dec = nat[nat["date"].str.endswith("-12")].set_index("year")
    assert np.allclose(c.groupby("year")["firms"].sum(), dec["firms"], rtol=1e-12)
    assert np.allclose(c.groupby("year")["employment"].sum(), dec["employment"], rtol=1e-12)


def test_clusters_carry_names_and_the_nbs_region_of_their_province(result):
    c = result.clusters.set_index("cluster_id")
    assert c.loc["shenzhen", "cluster"].iloc[0].startswith("Shenzhen")
    assert set(c.loc["shenzhen", "region"]) == {"East"}
    assert set(c.loc["hefei", "region"]) == {"Central"}          # Anhui: NBS Central
    assert set(c.loc["chengdu_chongqing", "region"]) == {"West"}
    assert set(c.loc["rest_northeast", "region"]) == {"Northeast"}
    # Huawei, the capped Entity-List firm of 2020-21, sits in Shenzhen: most of the loss is there
    loss = result.clusters.groupby("cluster_id")["direct_loss_bn_yuan"].sum()
    assert loss.idxmax() == "shenzhen" and loss["shenzhen"] > 0.5 * loss.sum()


def test_theil_is_zero_for_equal_clusters_and_ln_n_when_one_holds_all():
    assert theil(np.full(24, 3.0)) == pytest.approx(0, abs=1e-15)
    assert theil(np.r_[1.0, np.zeros(23)]) == pytest.approx(math.log(24))
    # moving value from a small cluster to a big one raises it
    assert theil([1, 2, 3, 6]) > theil([2, 2, 3, 5]) > 0


def test_regional_balance_of_a_made_up_table():
    c = pd.DataFrame({"replicate": 0, "year": 2030, "region": ["East", "East", "West", "Central"],
                      "value_added_bn_yuan": [30.0, 30.0, 20.0, 20.0]})
    b = regional_balance(c).iloc[0]
    assert b["east_share_core_va_pct"] == pytest.approx(60.0)
    assert b["theil_core_va_clusters"] == pytest.approx(theil([30, 30, 20, 20]))
    even = regional_balance(c.assign(value_added_bn_yuan=25.0)).iloc[0]
    assert even["theil_core_va_clusters"] == pytest.approx(0, abs=1e-15)


def test_annual_and_summary_carry_the_regional_balance(result):
    a = result.annual
    assert list(a.columns) == ANNUAL_COLUMNS
    # the data put 73.6% of 2020 core VA in the NBS East (sim/data/SOURCES.md)
    east = a.set_index("year")["east_share_core_va_pct"]
    assert 70 < east[2020] < 78
    s = summarise(a, [Target(SHARE, 10.0, 2021, "test")])
    bands = s["regional_balance_by_year"]["theil_core_va_clusters"]["2021"]
    assert bands["median"] == pytest.approx(a.set_index("year").loc[2021, "theil_core_va_clusters"])


def test_nbs_regions_table_is_the_nbs_division_and_names_unknown_provinces(tmp_path):
    from sim.inputs import DATA_DIR, load_inputs
    table = pd.read_csv(DATA_DIR / "nbs_regions.csv")
    assert len(table) == 31 and table["province"].is_unique
    assert table["nbs_region"].value_counts().to_dict() == {"West": 12, "East": 10,
                                                            "Central": 6, "Northeast": 3}
    assert table["source"].notna().all() and table["grade"].notna().all()
    regions = (DATA_DIR / "regions.csv").read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "regions.csv"
    bad.write_text("\n".join([regions[0], regions[1].replace(",Guangdong,", ",Atlantis,", 1),
                              *regions[2:]]) + "\n", encoding="utf-8")
    config = load_scenario("scenarios/baseline.yaml", overrides=[f"data.regions_file={bad}"])
    with pytest.raises(ScenarioError, match=r"regions.csv:2: province: unknown province 'Atlantis'"):
        load_inputs(config)
