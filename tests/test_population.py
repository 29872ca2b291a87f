"""The initial population: importance-sampled sizes represent the same real firms at any
number of agents."""

import numpy as np
import pytest

from sim.inputs import load_inputs
from sim.population import SIZE_SAMPLING, build, sampling_exponent
from sim.scenario import load_scenario, month_index
from sim.validation.stylised import hill

BASE = "scenarios/baseline.yaml"


def test_sampling_exponent_flattens_only_as_far_as_weights_of_one_allow():
    assert sampling_exponent(1.1, 1e4, 292.0) == pytest.approx(1.1 * SIZE_SAMPLING)
    assert sampling_exponent(1.1, 1e4, 1.0) == 1.1     # 1:1 scale: equal weights
    assert sampling_exponent(1.1, 1e4, 0.5) == 1.1     # more agents than firms
    mid = [sampling_exponent(1.1, 1e4, r) for r in (2.0, 10.0, 58.0)]
    assert 1.1 > mid[0] > mid[1] > mid[2] > 0.55


@pytest.mark.parametrize("firms_million,agents", [(2.92, 4000), (0.0201, 4000)])
def test_weights_add_up_and_keep_the_real_firm_size_tail(firms_million, agents):
    """At 730 firms per agent sizes are drawn flat and reweighted; at 5 they are nearly equal
    weights. Either way the weights are real firms (>= 1, summing to the firm count) and the
    real firms' employment tail has the set exponent."""
    sc = load_scenario(BASE)
    sc.set("calibration.firm_count_million", firms_million)
    sc.validate()
    init = build(sc, load_inputs(sc), agents, np.random.default_rng(11), month_index("2020-01"))
    c = init.columns
    generic = c["named"] < 0
    w = c["weight"][generic]
    assert w.min() >= 1.0
    assert c["weight"].sum() == pytest.approx(firms_million * 1e6, rel=0.01)
    # employment within a cell is the Pareto draw times the cell's scale: divide it out
    cell = (c["region"] * 100 + c["subsector"])[generic]
    emp = c["employment"][generic]
    lowest = np.full(cell.max() + 1, np.inf)
    np.minimum.at(lowest, cell, emp)
    relative = emp / lowest[cell]
    assert hill(relative, w, xmin=3.0) == pytest.approx(1.1, abs=0.1)
    # unweighted, the agents' own sizes are the flatter sample
    agents_alpha = hill(relative, np.ones(len(w)), xmin=3.0)
    assert agents_alpha == pytest.approx(0.55 if firms_million > 1 else 0.92, abs=0.08)


def test_named_firms_start_on_their_own_accounts():
    """Each named firm's 2020 VA is its revenue times its own VA ratio (Inspur 0.067, SMIC
    0.83, not their sub-sectors' 0.17 and 0.42), its net worth its 2020 equity, and selection
    is neutral at its 2020 productivity relative to its sub-sector."""
    sc = load_scenario(BASE)
    inputs = load_inputs(sc)
    init = build(sc, inputs, 3000, np.random.default_rng(3), month_index("2020-01"))
    c, named = init.columns, inputs.named_firms
    rows = np.flatnonzero(c["named"] >= 0)
    table = named.iloc[c["named"][rows]]
    va_year = 12 * c["value_added"][rows]
    np.testing.assert_allclose(va_year, table["revenue_2020_bn_yuan"] * table["va_to_revenue"],
                               rtol=1e-9)
    np.testing.assert_allclose(c["net_worth"][rows], table["equity_2020_bn_yuan"])
    assert (c["selection_reference"][c["named"] < 0] == 1).all()
    assert (c["selection_reference"][rows] != 1).all()


def _build(agents, seed=7):
    sc = load_scenario(BASE)
    inputs = load_inputs(sc)
    return sc, inputs, build(sc, inputs, agents, np.random.default_rng(seed),
                             month_index("2020-01")).columns


def test_2020_value_added_by_sub_sector_is_the_calibrated_one():
    """The census back-cast moves firms, jobs and revenue, never value added: each sub-sector
    starts with its share of the 7.91 trn (sectors.csv va_share_2020_pct), the IC makers (few
    firms, much VA) included, which agents in proportion to firms alone left 10% short."""
    sc, inputs, c = _build(10000)
    va = np.bincount(c["subsector"], 12 * c["weight"] * c["value_added"], len(inputs.sectors))
    target = (sc["calibration.core_va_2020_bn_yuan"]
              * inputs.sectors["va_share_2020_pct"].to_numpy(float) / 100)
    np.testing.assert_allclose(va, target, rtol=3e-3)


def test_2020_firms_follow_both_the_regions_and_the_census_categories():
    sc, inputs, c = _build(10000)
    total = sc["calibration.firm_count_million"] * 1e6
    sub = np.bincount(c["subsector"], c["weight"], len(inputs.sectors))
    share = inputs.sectors["firms_share_2020_pct"].to_numpy(float)
    np.testing.assert_allclose(sub, total * share / share.sum(), rtol=0.02)
    reg = np.bincount(c["region"], c["weight"], len(inputs.regions))
    rshare = inputs.regions["firms_share_2020_pct"].to_numpy(float)
    np.testing.assert_allclose(reg, total * rshare / rshare.sum(), rtol=0.03)


def test_agents_follow_firms_and_value_added_but_never_outnumber_the_firms():
    from sim.population import allocate_agents
    firms = np.array([1000.0, 10.0, 0.4, 0.0])
    va = np.array([10.0, 10.0, 1.0, 0.0])
    # shares 0.5 x firms + 0.5 x VA = 0.733, 0.243, 0.024: 44, 14.6 and 1.4 of 60 agents; the
    # 10-firm cell keeps 10 and the fraction of a firm one, the first cell takes the rest
    np.testing.assert_array_equal(allocate_agents(firms, va, 60), [49, 10, 1, 0])
    # with as many agents as firms, agents follow firms (weights of one)
    np.testing.assert_array_equal(allocate_agents(firms[[0, 1, 3]], va[[0, 1, 3]], 1010),
                                  [1000, 10, 0])
