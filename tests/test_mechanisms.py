"""Each mechanism on its own: direction and size, without building a model."""

import math

import numpy as np
import pytest

from sim.mechanisms import (agglomeration, entry_exit, export_controls, innovation, policy,
                            production, spillover)


# --------------------------------------------------------------------------- agglomeration
def test_density_premium_equals_elasticity_without_congestion():
    d = np.array([100.0, 200.0])
    lg = agglomeration.log_factor(d, 100.0, 0.12, 0.0, 2.0, 1e9)
    assert lg[1] - lg[0] == pytest.approx(0.12 * np.log(2))


def test_doubling_elasticity_doubles_premium():
    d = np.array([50.0, 400.0])
    one = np.diff(agglomeration.log_factor(d, 100, 0.1, 0, 2, 1e9))[0]
    two = np.diff(agglomeration.log_factor(d, 100, 0.2, 0, 2, 1e9))[0]
    assert two == pytest.approx(2 * one)


def test_congestion_makes_an_inverted_u_peaking_where_documented():
    eps, kappa, eta, scale = 0.12, 0.05, 2.0, 1000.0
    peak = agglomeration.peak_density(eps, kappa, eta, scale)
    d = np.array([peak * 0.5, peak, peak * 2])
    lg = agglomeration.log_factor(d, 100, eps, kappa, eta, scale)
    assert lg[1] > lg[0] and lg[1] > lg[2]
    grid = np.linspace(peak * 0.2, peak * 3, 2001)
    assert grid[np.argmax(agglomeration.log_factor(grid, 100, eps, kappa, eta, scale))] == \
        pytest.approx(peak, rel=2e-3)


# --------------------------------------------------------------------------- spillover
def test_absorptive_capacity_rises_with_rd_and_saturates():
    g = spillover.absorptive_capacity(np.array([0.0, 0.01, 0.05, 1.0]), 20.0)
    assert g[0] == 0 and np.all(np.diff(g) > 0) and g[-1] < 1
    assert g[2] == pytest.approx(1 - np.exp(-1.0))


def test_region_weights_decay_with_distance():
    dist = np.array([[0, 600, 1200], [600, 0, 600], [1200, 600, 0.0]])
    w = spillover.region_weights(dist, 600.0, 1.0)
    assert w[0, 1] == pytest.approx(np.exp(-1)) and w[0, 2] == pytest.approx(np.exp(-2))
    assert np.all(np.diag(w) == 1.0)


def test_pool_is_higher_next_to_knowledgeable_cluster():
    # three regions on a line, one sub-sector; region 0 knows most
    dist = np.array([[0, 300, 2000], [300, 0, 1700], [2000, 1700, 0.0]])
    w = spillover.region_weights(dist, 600.0, 1.0)
    mass = np.ones((3, 1))
    k = np.array([[1.0], [0.5], [0.5]])
    pool = spillover.knowledge_pool(mass, k, w, np.ones((1, 1)))
    assert pool[1, 0] > pool[2, 0]  # the near neighbour reaches more


def test_cross_sector_weight_matters():
    h_sep = spillover.sector_weights(np.array([0, 1]), 0.0)
    h_joint = spillover.sector_weights(np.array([0, 1]), 1.0)
    mass, k = np.ones((1, 2)), np.array([[1.0, 0.2]])
    w = np.ones((1, 1))
    assert spillover.knowledge_pool(mass, k, w, h_sep)[0, 1] == pytest.approx(0.2)
    assert spillover.knowledge_pool(mass, k, w, h_joint)[0, 1] == pytest.approx(0.6)


def _knowledge_gain(k, pool, gamma, strength, frontier, openness, foreign_strength):
    """The spillover gain alone: knowledge_next without own R&D, minus K."""
    return np.array([spillover.knowledge_next(ki, pi, gi, strength, frontier, openness,
                                              foreign_strength, 0.0, 0.0) - ki
                     for ki, pi, gi in zip(k, pool, gamma)])


def test_knowledge_gain_scales_with_strength_and_openness():
    k, pool, gamma = np.array([0.5, 1.2]), np.array([1.0, 1.0]), np.array([0.5, 0.5])
    base = _knowledge_gain(k, pool, gamma, 0.02, 1.0, 0.0, 0.01)
    assert base[0] == pytest.approx(0.02 * 0.5 * 0.5) and base[1] == 0  # above the pool: nothing
    double = _knowledge_gain(k, pool, gamma, 0.04, 1.0, 0.0, 0.01)
    assert double[0] == pytest.approx(2 * base[0])
    open_ = _knowledge_gain(k, pool, gamma, 0.02, 1.0, 1.0, 0.01)
    assert open_[0] - base[0] == pytest.approx(0.01 * 0.5 * 0.5)


def test_own_rd_adds_to_knowledge_in_proportion():
    k = spillover.knowledge_next(0.5, 0.0, 0.0, 0.02, 0.0, 0.0, 0.01, 0.2, 0.1)
    assert k == pytest.approx(0.5 * (1 + 0.1 * 0.2))


# --------------------------------------------------------------------------- innovation
def _innovate(rng, technology, rd_share, zeta, low, high, a, b):
    new = technology.copy()
    return new, innovation.innovate_rows(rng, new, np.arange(len(new)), rd_share, zeta, low,
                                         high, a, b)


def _best_practice(technology, weight, cell, n_cells):
    return innovation.best_practice_rows(np.arange(len(technology)), technology, weight, cell,
                                         n_cells)


def test_innovation_never_lowers_technology_and_gains_match_expectation():
    rng = np.random.default_rng(0)
    n = 200_000
    tech = np.ones(n)
    rd = np.full(n, 0.2)
    new, _ = _innovate(rng, tech, rd, 1.0, -0.06, 0.08, 3.0, 3.0)
    assert np.all(new >= tech)
    p = 1 - np.exp(-0.2)
    draws = -0.06 + 0.14 * np.random.default_rng(1).beta(3, 3, 1_000_000)
    expected = p * np.maximum(draws, 0).mean()
    assert np.log(new).mean() == pytest.approx(expected, rel=0.03)


def test_more_rd_means_more_innovation():
    rng = np.random.default_rng(1)
    lo = _innovate(rng, np.ones(50_000), np.full(50_000, 0.05), 1, -0.06, 0.08, 3, 3)[0]
    hi = _innovate(rng, np.ones(50_000), np.full(50_000, 0.3), 1, -0.06, 0.08, 3, 3)[0]
    assert np.log(hi).mean() > 3 * np.log(lo).mean()


def test_imitation_closes_the_set_share_of_the_gap():
    rng = np.random.default_rng(2)
    tech = np.array([1.0, 2.0])
    cell = np.array([0, 0])
    best = _best_practice(tech, np.ones(2), cell, 1)
    new = tech.copy()
    ok = innovation.imitate_rows(rng, new, np.arange(2), best, cell, np.array([1e3, 1e3]), 1.0,
                                 0.1)
    assert ok.all() and new[0] == pytest.approx(1.1) and new[1] == 2.0
    assert innovation.imitated(1.0, 2.0, 0.1) == new[0]


def test_best_practice_is_the_mean_of_the_better_real_firms_whatever_the_agent_count():
    # cell 0: weighted mean (3 x 1 + 1 x 3) / 4 = 1.5, so only the firm at 3 is "better";
    # cell 1: one firm, its own best practice
    tech, weight = np.array([1.0, 3.0, 2.0]), np.array([3.0, 1.0, 5.0])
    best = _best_practice(tech, weight, np.array([0, 0, 1]), 3)
    assert best.tolist() == [3.0, 2.0, 0.0]
    # the same population drawn as 100 or 100,000 agents: the maximum would climb with the
    # draw (about +1.7 log-sd), the best practice stays within sampling error
    rng = np.random.default_rng(3)
    small, large = (np.exp(rng.standard_normal(n)) for n in (100, 100_000))
    b_small, b_large = (_best_practice(t, np.ones(len(t)), np.zeros(len(t), np.intp), 1)[0]
                        for t in (small, large))
    # E[e^Z | e^Z >= E e^Z] = e^0.5 Phi(0.5) / (1 - Phi(0.5)) for Z standard normal
    phi = 0.5 * (1 + math.erf(0.5 / math.sqrt(2)))
    assert b_large == pytest.approx(math.exp(0.5) * phi / (1 - phi), rel=0.02)
    assert b_small == pytest.approx(b_large, rel=0.15)
    assert np.log(large.max()) - np.log(small.max()) > 1.0


def test_replicator_reallocates_without_changing_total():
    comp = np.array([1.0, 2.0, 3.0, 1.0])
    jobs = np.array([10.0, 5.0, 1.0, 4.0])
    group = np.array([0, 0, 0, 1])
    mean = np.bincount(group, jobs * comp, 2) / np.bincount(group, jobs, 2)
    g = np.array([innovation.selection_growth(c, mean[k], 0.05) for c, k in zip(comp, group)])
    assert g[2] > g[1] > 0 > g[0]
    assert np.sum(jobs[:3] * g[:3]) == pytest.approx(0, abs=1e-12)
    assert g[3] == pytest.approx(0)


def test_shock_volatility_falls_with_size_as_documented():
    rng = np.random.default_rng(3)
    small = innovation.size_scaled_shocks(rng, np.full(200_000, 10.0), 10.0, 0.04, 0.18)
    big = innovation.size_scaled_shocks(rng, np.full(200_000, 1000.0), 10.0, 0.04, 0.18)
    slope = np.log(big.std() / small.std()) / np.log(100)
    assert slope == pytest.approx(-0.18, abs=0.01)
    assert np.exp(small).mean() == pytest.approx(1.0, abs=1e-3)  # no drift


def test_a_yearly_exponential_shock_variance_makes_annual_growth_laplace():
    """Twelve monthly shocks with one Exp(1) variance per firm-year sum to a Laplace growth
    rate (excess kurtosis 3, Subbotin shape 1); with a fixed variance, to a Gaussian (0, 2).
    The mean variance is one, so the spread of growth rates is the same either way."""
    from scipy import stats
    rng = np.random.default_rng(8)
    n, size = 100_000, np.full(100_000, 10.0)
    out = {}
    for lumpy in (False, True):
        v = innovation.yearly_shock_variance(rng, n, lumpy)
        annual = sum(innovation.size_scaled_shocks(rng, size, 10.0, 0.04, 0.18, v)
                     for _ in range(12))
        out[lumpy] = annual
    assert stats.kurtosis(out[False]) == pytest.approx(0.0, abs=0.1)
    assert stats.kurtosis(out[True]) == pytest.approx(3.0, abs=0.4)
    assert stats.gennorm.fit(out[True])[0] == pytest.approx(1.0, abs=0.1)
    assert out[True].std() == pytest.approx(out[False].std(), rel=0.02)
    assert innovation.yearly_shock_variance(rng, 400_000).mean() == pytest.approx(1.0, abs=0.01)


# --------------------------------------------------------------------------- entry and exit
def test_location_without_pull_follows_attractiveness():
    a = np.array([1.0, 3.0])
    p = entry_exit.location_probabilities(a, np.array([[100.0, 1.0]]), np.array([0.0]))
    assert p[0] == pytest.approx([0.25, 0.75])


def test_pull_draws_entrants_to_existing_firms():
    a = np.array([1.0, 1.0])
    counts = np.array([[90.0, 10.0]])
    weak = entry_exit.location_probabilities(a, counts, np.array([0.5]))
    strong = entry_exit.location_probabilities(a, counts, np.array([5.0]))
    assert 0.5 < weak[0, 0] < strong[0, 0]
    assert strong.sum() == pytest.approx(1)
    # the reference form (a_l + b n_l) / sum(a_k + b n_k) with n scaled to mean one
    n = counts[0] / counts[0].sum() * 2
    assert strong[0, 0] == pytest.approx((1 + 5 * n[0]) / (2 + 5 * n.sum()))


def test_sample_categorical_matches_probabilities():
    rng = np.random.default_rng(4)
    probs = np.array([[0.2, 0.8], [0.9, 0.1]])
    draws = entry_exit.sample_categorical(rng, probs, np.zeros(100_000, int))
    assert draws.mean() == pytest.approx(0.8, abs=0.01)


def test_exit_on_losses_and_by_hazard():
    rng = np.random.default_rng(5)
    nw = np.array([-1.0, 1.0])
    assert entry_exit.exits(rng, nw, 0.0).tolist() == [True, False]
    many = entry_exit.exits(rng, np.ones(400_000), 0.12)
    assert 1 - (1 - many.mean()) ** 12 == pytest.approx(0.12, rel=0.03)


def test_entrant_count_keeps_expected_rate():
    rng = np.random.default_rng(6)
    counts = [entry_exit.entrant_count(rng, 1000, 0.1) for _ in range(12_000)]
    assert np.mean(counts) == pytest.approx(1000 * 0.1 / 12, rel=0.01)


# --------------------------------------------------------------------------- export controls
def test_rule_severity_and_loosening():
    s = export_controls.ControlState()
    tight = export_controls.apply_rule(s, {"hbm": 0.2}, 0.5, severity=1.0)
    assert tight.availability[1] == pytest.approx(0.2) and tight.openness == 0.5
    half = export_controls.apply_rule(s, {"hbm": 0.2}, None, severity=0.5)
    assert half.availability[1] == pytest.approx(0.6) and half.openness == 1.0
    eased = export_controls.apply_rule(tight, {"hbm": 0.7}, None, severity=1.0)
    assert eased.availability[1] == pytest.approx(0.7)


def test_stockpile_covers_shortfall_until_it_runs_out():
    dep, supply = [0.5, 0, 0, 0], [0.5, 1, 1, 1]  # no domestic substitute, half the imports
    inv = [3.0, 0, 0, 0]  # three months of critical use
    caps = []
    for _ in range(8):
        cap = 1.0
        for t in range(4):
            short = 1 - supply[t] if dep[t] > 0 else 0.0
            usable, inv[t] = export_controls.stock_draw(inv[t], short, supply[t], 3.0,
                                                        0.1 if short <= 1e-12 else 0.0)
            cap = min(cap, export_controls.tier_cap(dep[t], usable))
        caps.append(cap)
    # shortfall 0.5/month: six months covered, then output loses dep * 0.5 = 25%
    assert caps[:6] == pytest.approx([1.0] * 6)
    assert caps[6:] == pytest.approx([0.75, 0.75])


def test_output_capped_by_scarcest_tier():
    dep, usable = [0.2, 0.6, 0.0, 0.1], [0.5, 0.5, 0.0, 0.9]
    cap = min(export_controls.tier_cap(d, u) for d, u in zip(dep, usable))
    assert cap == pytest.approx(1 - 0.6 * 0.5)


def test_domestic_substitution_learns_with_cumulative_rd():
    idx = export_controls.learning_index(np.array([1.0, 2.0, 4.0]), 1.0, 0.3)
    assert idx[0] == 1 and idx[1] == pytest.approx(2 ** -0.3) and idx[2] < idx[1]
    dom = export_controls.domestic_share(np.array([0.2, 0.2, 0.2]), idx, 2)
    assert dom.shape == (2, 3) and np.array_equal(dom[0], dom[1])
    assert dom[0, 0] == pytest.approx(0.2) and dom[0, 2] > dom[0, 1] > 0.2
    assert dom[0, 1] == pytest.approx(1 - 0.8 * 2 ** -0.3)  # the unmet share times the index


def test_listed_firms_get_the_listed_share():
    a = export_controls.firm_availability(np.array([0.5, 1, 1, 1]), np.array([1.0, 0.2]))
    assert a[0, 0] == 0.5 and a[1, 0] == pytest.approx(0.1) and a[1, 1] == pytest.approx(0.2)


def test_cooperation_softens():
    assert export_controls.soften(0.2, 0.5) == pytest.approx(0.6)


# --------------------------------------------------------------------------- policy, production
def test_rd_subsidy_raises_rd_with_unit_elasticity():
    assert policy.rd_multiplier(policy.SUBSIDY_2020_PCT, 1.0) == pytest.approx(1.0)
    assert policy.rd_multiplier(50, 1.0) == pytest.approx((1 - 0.1875) / 0.5)
    assert policy.rd_multiplier(50, 0.0) == 1.0


def test_designation_boosts_designated_regions_once_active():
    base = np.array([1.0, 1.0])
    des = np.array([True, False])
    assert policy.attractiveness(base, des, 0.3, False).tolist() == [1.0, 1.0]
    assert policy.attractiveness(base, des, 0.3, True).tolist() == [1.3, 1.0]


def test_infrastructure_grows_at_set_rate():
    assert policy.infrastructure(np.array([0.5]), 10.0, 24)[0] == pytest.approx(0.5 * 1.21)


def test_value_added_units_and_multipliers():
    # 100 workers at 600 thousand yuan/year: 60 million/year = 0.005 bn/month
    assert production.value_added(100.0, 600.0) == pytest.approx(0.005)
    y = production.labour_productivity(100.0, 0.5, 0.1, 1.2, 1.0, 0.05, 0.8)
    assert y == pytest.approx(100 * 0.5**0.1 * 1.2 * 0.8)


def test_wage_is_labour_share_of_group_average():
    jobs, prod = np.array([1.0, 1.0]), np.array([100.0, 300.0])
    w = production.sector_wage(np.array([np.sum(jobs * prod)]), np.array([jobs.sum()]), 0.5)
    assert w[0] == pytest.approx(100.0)
    # a firm at the average keeps half its VA minus R&D, net of the subsidy
    va = production.value_added(1.0, 200.0)
    assert production.firm_profit(va, 1.0, 100.0, 0.0, 0.75) == pytest.approx(va / 2)
    assert production.firm_profit(va, 1.0, 100.0, 0.001, 0.75) == pytest.approx(va / 2 - 0.00075)


def test_rd_responds_to_the_subsidy_and_a_year_after_listing():
    assert production.rd_response(0.1, 1.2, -1, 30, 1.5) == pytest.approx(0.12)
    assert production.rd_response(0.1, 1.2, 20, 31, 1.5) == pytest.approx(0.12)  # 11 months
    assert production.rd_response(0.1, 1.2, 20, 32, 1.5) == pytest.approx(0.18)


def test_rule_direction_keeps_a_stricter_level_or_a_looser_one():
    cut = export_controls.apply_rule(export_controls.ControlState(), {"hbm": 0.0}, 0.3, 1.0)
    milder = export_controls.apply_rule(cut, {"hbm": 0.2}, 0.7, 1.0, direction="tighten")
    assert milder.availability[1] == 0.0 and milder.openness == pytest.approx(0.3)
    eased = export_controls.apply_rule(cut, {"hbm": 0.2}, 0.7, 1.0, direction="loosen")
    assert eased.availability[1] == pytest.approx(0.2) and eased.openness == pytest.approx(0.7)
    back = export_controls.apply_rule(eased, {"hbm": 0.1}, None, 1.0, direction="loosen")
    assert back.availability[1] == pytest.approx(0.2)
