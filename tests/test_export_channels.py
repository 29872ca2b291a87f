"""Export controls act on capacity growth: re-routing, stockpile, listed-firm cut, substitution."""

import numpy as np

from sim.firms import COLUMNS, FirmColumns
from sim.mechanisms import export_controls as ec


def _firms(n_tiers, listed_month, inventory):
    # the columns _supply_rows reads and writes
    cols = {k: np.zeros((1, *shape), dtype) for k, (dtype, shape) in COLUMNS.items()}
    cols.update(listed_month=np.array([listed_month], np.int32), output_cap=np.ones(1),
                inventory=np.full((n_tiers, 1), float(inventory)).T)
    return FirmColumns(**cols)


def _step(f, avail, penalty=0.01, bonus=0.0, listed_share=0.2):
    dep = np.array([[0.5, 0.0]])
    dom = np.zeros((1, 2))
    supply = np.vstack([dom + (1 - dom) * avail, dom + (1 - dom) * avail * listed_share])
    depg = np.vstack([dep, dep])
    short = np.where(depg > 0, 1 - supply, 0.0)
    tables = ec.SupplyTables(supply, short, depg, np.zeros_like(short))
    ec._supply_rows(np.array([0]), f, 10, 1, tables, 6.0, penalty, np.array([bonus]))


def test_rerouting_reduces_shortfall():
    a = np.array([0.4, 1.0])
    assert np.allclose(ec.rerouted(a, 0.3), [0.4 + 0.3 * 0.6, 1.0])
    gap0 = ec.import_gap(np.array([[1.0, 0.0]]), np.zeros((1, 2)), a, np.ones(1))
    gap1 = ec.import_gap(np.array([[1.0, 0.0]]), np.zeros((1, 2)), ec.rerouted(a, 0.3), np.ones(1))
    assert np.isclose(gap0, 0.6) and np.isclose(gap1, 0.42)


def test_stockpile_delays_penalty_and_output_is_not_cut():
    f = _firms(2, -1, inventory=0.5)
    _step(f, np.array([0.0, 1.0]))   # shortfall 1.0 of tier 0, stock 0.5 covers half
    assert np.isclose(f.growth_penalty[0], 0.01 * 0.5 * 0.5)
    assert f.output_cap[0] == 1.0    # ordinary firms keep current output
    _step(f, np.array([0.0, 1.0]))   # stock gone: full penalty, still no output cut
    assert np.isclose(f.growth_penalty[0], 0.01 * 0.5) and f.output_cap[0] == 1.0


def test_listed_firm_with_exhausted_stock_is_cut():
    f = _firms(2, 0, inventory=0.0)
    _step(f, np.array([1.0, 1.0]))   # listed: 20% of supply, no stock
    assert np.isclose(f.output_cap[0], 1 - 0.5 * 0.8) and f.growth_penalty[0] == 0.0


def test_substitution_demand_raises_growth():
    f = _firms(2, -1, inventory=6.0)
    _step(f, np.array([1.0, 1.0]), bonus=0.004)
    assert np.isclose(f.growth_penalty[0], -0.004)
