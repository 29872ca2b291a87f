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
