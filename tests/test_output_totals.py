"""regions.csv and sectors.csv add up to national.csv, month by month."""

import numpy as np
import pytest

from sim.runner import run_replicate
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def result():
    config = load_scenario("scenarios/escalation.yaml", overrides=["run.end=2023-12", "target.year=2023"])
    return run_replicate(config, seed=4, firms=1500, firm_snapshots=False)


@pytest.mark.parametrize("table, columns", [("regions", ["core_va_bn_yuan", "firms", "employment"]),
                                            ("sectors", ["core_va_bn_yuan", "firms"])])
def test_regions_and_sectors_sum_to_the_national_total_each_month(result, table, columns):
    national = result.national.set_index("date")
    sums = getattr(result, table).groupby("date", sort=False)[columns].sum()
    assert list(sums.index) == list(national.index) and len(sums) == 48
    for column in columns:
        assert np.allclose(sums[column], national[column], rtol=1e-12, atol=0), column
    assert (np.abs(sums["core_va_bn_yuan"] / national["core_va_bn_yuan"] - 1) < 1e-12).all()
