"""Export controls act on capacity growth: re-routing, stockpile, listed-firm cut, substitution."""

from types import SimpleNamespace

import numpy as np
import pytest

from sim.firms import COLUMNS, FirmColumns
from sim.mechanisms import export_controls as ec


def _firms(n_tiers, listed_month, inventory, listed_share=0.2):
    # the columns _supply_rows reads and writes
    cols = {k: np.zeros((1, *shape), dtype) for k, (dtype, shape) in COLUMNS.items()}
    cols.update(listed_month=np.array([listed_month], np.int32), output_cap=np.ones(1),
                inventory=np.full((n_tiers, 1), float(inventory)).T,
                listed_share=np.array([listed_share]))
    return FirmColumns(**cols)


def _step(f, avail, penalty=0.01, bonus=0.0, dep=(0.5, 0.0), current=(True, True)):
    """One month for one firm of one sub-sector needing tier 0 for share dep[0] of output."""
    tables = ec.SupplyTables(np.zeros((1, 2)), np.array([dep]), np.asarray(avail, float),
                             np.array(current), 0.0)
    ec._supply_rows(np.array([0]), f, 10, tables, 6.0, penalty, np.array([bonus]))


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


def test_each_listing_sets_its_own_share():
    """A listing of US-origin items (share 0.8) leaves a firm 4x the supply of an FDP-rule
    cut-off (0.1): with no stock, output falls by dep x (1 - share), 10% against 45%."""
    mild, severe = _firms(2, 0, 0.0, listed_share=0.8), _firms(2, 0, 0.0, listed_share=0.1)
    for f in (mild, severe):
        _step(f, np.array([1.0, 1.0]))
    assert mild.output_cap[0] == pytest.approx(1 - 0.5 * 0.2)
    assert severe.output_cap[0] == pytest.approx(1 - 0.5 * 0.9)


def test_equipment_shortfall_slows_growth_but_never_cuts_output():
    """Equipment is capital: a listed firm with no stock and half its tools keeps its output
    and grows slower by penalty x dep x shortfall."""
    f = _firms(2, 0, 0.0, listed_share=0.5)
    _step(f, np.array([1.0, 1.0]), dep=(0.8, 0.0), current=(False, True))
    assert f.output_cap[0] == 1.0
    assert f.growth_penalty[0] == pytest.approx(0.01 * 0.8 * 0.5)


def _listing_model(severity=1.0):
    events = [SimpleNamespace(month=10, avail={}, foreign_knowledge=None, direction="tighten",
                              entity_list_add=("a",), listed_availability=0.8, date="d0",
                              name="listing"),
              SimpleNamespace(month=20, avail={}, foreign_knowledge=None, direction="tighten",
                              entity_list_add=("a",), listed_availability=0.1, date="d1",
                              name="fdp")]
    firms = _firms(2, -1, 6.0, listed_share=1.0)
    table = SimpleNamespace(view=lambda name: {"named": np.array([0])}[name],
                            listed_month=firms.listed_month, listed_share=firms.listed_share)
    model = SimpleNamespace(
        p=SimpleNamespace(export_controls=SimpleNamespace(severity=severity,
                                                          listed_availability=0.2)),
        inputs=SimpleNamespace(named_firms={"firm_id": ["a"]}), events=events, _next_event=0,
        controls=ec.ControlState(), firms=table, event_log=[])
    return model, firms


def test_later_rule_lowers_a_listed_firms_share_but_keeps_its_listing_date():
    """The 2020-08-17 FDP rule names Huawei, listed since 2019-05: its share falls from 0.8
    to 0.1, its listing month (which times the R&D response) stays."""
    model, firms = _listing_model()
    ec.apply_rules_up_to(model, 15)
    assert firms.listed_month[0] == 10 and firms.listed_share[0] == pytest.approx(0.8)
    ec.apply_rules_up_to(model, 25)
    assert firms.listed_month[0] == 10 and firms.listed_share[0] == pytest.approx(0.1)


def test_severity_scales_a_listing_as_any_tightening():
    """At half severity the FDP level 0.1 bites half as hard: 1 - 0.5 x 0.9 = 0.55; at zero
    severity a listing takes nothing."""
    for severity, expected in ((0.5, 0.55), (0.0, 1.0)):
        model, firms = _listing_model(severity)
        ec.apply_rules_up_to(model, 25)
        assert firms.listed_share[0] == pytest.approx(expected)
