"""Named firms pay R&D at their reported intensity on their own revenue (own VA ratio)."""

import numpy as np
import pytest

from sim.firms import COLUMNS, FirmColumns
from sim.mechanisms import production


def _two_firms():
    """Row 0 a generic firm, row 1 named firm 0; same sub-sector (VA/revenue 0.17), same VA."""
    cols = {k: np.zeros((2, *shape), dtype) for k, (dtype, shape) in COLUMNS.items()}
    cols.update(named=np.array([-1, 0], np.int32), listed_month=np.full(2, -1, np.int32),
                weight=np.ones(2), value_added=np.full(2, 10.0), employment=np.zeros(2),
                rd_intensity=np.full(2, 0.159), sector=np.zeros(2, np.int32))
    return FirmColumns(**cols)


def test_a_named_firms_rd_is_its_intensity_times_its_own_revenue():
    """Huawei's accounts: VA/revenue 0.266 and R&D 15.9% of revenue. At its sub-sector's 0.17
    the same VA would imply 56% more revenue and R&D (0.266 / 0.17 = 1.56)."""
    f = _two_firms()
    ratios = production.RevenueRatios(np.array([0.17]), np.array([0.266]))
    rd_now, rd_share, chip = np.empty(2), np.empty(2), np.empty(2)
    k = production.profit_rows(np.array([0, 1]), f, 0, production.RDTerms(1.0, 1.0, 1.0),
                               ratios, np.zeros(1), rd_now, rd_share, chip)
    assert k == 2 and chip[1] == pytest.approx(0.159 * 10 / 0.266)
    assert chip[0] / chip[1] == pytest.approx(0.266 / 0.17)
    assert rd_share.tolist() == pytest.approx([0.159 / 0.17, 0.159 / 0.266])
    # with no wages, net worth falls by exactly the R&D paid
    assert f.net_worth[1] == pytest.approx(10 - 0.159 * 10 / 0.266)
    rd_now2, chip2 = np.empty(2), np.empty(2)
    production.rd_rows(np.array([0, 1]), f, 0, production.RDTerms(1.0, 1.0, 1.0), ratios,
                       rd_now2, chip2)
    assert np.array_equal(chip2, chip)


def test_firm_snapshots_book_a_named_firms_revenue_at_its_own_ratio():
    """firms.csv and named_firms.csv agree on a named firm's revenue: its VA over its own VA
    ratio (Huawei 0.266), not its sub-sector's (0.1357 after the census back-cast, which would
    double it)."""
    from pathlib import Path
    from sim.inputs import load_inputs
    from sim.runner import run_replicate
    from sim.scenario import load_scenario
    c = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml")
    c.set("run.end", "2021-12")
    c.validate()
    r = run_replicate(c, seed=1, firms=1000, inputs=load_inputs(c), firm_snapshots=True)
    both = r.named_firms.merge(r.firms, on=["year", "value_added_bn_yuan"], suffixes=("", "_f"))
    assert len(both) == len(r.named_firms) > 0
    assert np.allclose(both["revenue_bn_yuan_f"], both["revenue_bn_yuan"])
    huawei = both[both["firm"] == "huawei"].iloc[0]
    assert huawei["revenue_bn_yuan"] == pytest.approx(huawei["value_added_bn_yuan"] / 0.266)


def test_entrants_inherit_technology_net_of_a_named_firms_accounts():
    """A cell of a generic firm (technology 1, 100 jobs) and a named firm whose own accounts put
    its technology at 9x (selection_reference 9, 1,000 jobs): entrants inherit 1, the
    comparable technology of both, not the raw job-weighted 8.3 that let generic entrants
    outgrow their sub-sector by replicator dynamics."""
    from sim.mechanisms import entry_exit
    f = _two_firms()
    f.technology[:] = [1.0, 9.0]
    f.selection_reference[:] = [1.0, 9.0]
    f.employment[:] = [100.0, 1000.0]
    sums = entry_exit.StayingSums(*(np.zeros(1) for _ in range(7)))
    zero = np.zeros(2, np.intp)
    pools = entry_exit.WeightPools(np.zeros(1, np.int64), np.empty(1, np.int64),
                                   np.empty(2, np.intp), np.empty(2))
    entry_exit._staying_sums(np.array([0, 1]), np.ones(2, bool), zero, zero, f, sums, pools)
    assert sums.cell_tech[0] / sums.cell_jobs[0] == pytest.approx(1.0)
    assert sums.sub_tech[0] / sums.sub_jobs[0] == pytest.approx(1.0)
    assert entry_exit.comparable_technology(f, np.array([0, 1])).tolist() == pytest.approx([1, 1])
