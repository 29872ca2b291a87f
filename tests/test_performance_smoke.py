"""Fast correctness checks of the speed-ups (docs/performance.md).

Each one-pass (numba) form of a mechanism must compute, bit for bit, what its equation
functions (sim/mechanisms/, shared with the tests and benchmarks/reference.py) and plain
numpy sums compute firm by firm; the firm table must keep its contract while it
grows; batch-created Firm agents must be ordinary Mesa agents, one per live row.
"""

from types import SimpleNamespace

import mesa
import numpy as np
import pytest
from mesa.experimental.mesa_signals import ModelSignals

from sim import registry
from sim.firms import FirmTable, Firm
from sim.mechanisms import entry_exit, export_controls, innovation, production, spillover
from sim.mechanisms.census import GroupIndex, _take_stock
from sim.runner import build_model
from sim.scenario import load_scenario

N, S, R, T = 3000, 9, 15, 4


@pytest.fixture()
def rng():
    return np.random.default_rng(20260601)


@pytest.fixture()
def table(rng):
    """A firm table with random state, a fifth of its firms exited (holes in `rows`)."""
    f = FirmTable(N // 2)  # grows while filling
    dep = rng.choice([0.0, 0.05, 0.3, 0.8], size=(S, T))
    sub = rng.integers(0, S, N)
    f.add(N, region=rng.integers(0, R, N), subsector=sub, sector=sub // 3,
          weight=rng.uniform(1, 300, N), employment=rng.pareto(1.1, N) + 1,
          technology=rng.lognormal(5, 0.5, N), knowledge=rng.uniform(0.05, 1.2, N),
          rd_intensity=rng.uniform(0, 0.2, N), net_worth=rng.normal(1, 1, N),
          value_added=rng.uniform(0, 0.1, N), output_cap=rng.uniform(0.3, 1, N),
          productivity=rng.lognormal(6, 0.4, N),
          listed_month=rng.choice([-1, -1, -1, 24250, 24255, 24270], N),
          listed_share=rng.choice([0.2, 0.05], N),
          inventory=np.where(dep[sub] > 0, rng.choice([0.0, 0.4, 6.0], (N, T)), 0.0),
          selection_reference=rng.choice([1.0, 0.6, 1.8], N),
          growth_penalty=rng.uniform(-0.003, 0.01, N))
    f.remove(np.flatnonzero(rng.random(N) < 0.2))
    f.dependence = dep
    return f


def test_firm_table_grows_without_losing_state_and_keeps_rows_current(rng):
    f = FirmTable(16)
    first = f.add(10, employment=np.arange(10.0), inventory=np.ones((10, T)))
    f.remove(first[[2, 5]])
    assert list(f.rows) == [0, 1, 3, 4, 6, 7, 8, 9]
    more = f.add(100, employment=np.arange(100.0) + 10, region=7)
    assert f.capacity >= 110 and list(more) == list(range(10, 110))
    assert np.array_equal(f.employment[:110], np.arange(110.0))
    assert len(f.rows) == 108 and not f.alive[5] and f.alive[109]
    assert f.inventory.shape == (f.capacity, T) and f.inventory[:10].sum() == 40
    assert f.inventory.T.flags["C_CONTIGUOUS"]  # each tier's column is contiguous
    assert f.named[109] == -1 and f.listed_month[109] == -1  # defaults hold after growth
    with pytest.raises(ValueError):
        f.rows[0] = 3  # the cached row index is read-only


def test_supply_by_group_equals_the_firm_by_firm_equations(table, rng):
    f, month = table, 24258
    rows = f.rows
    domestic = rng.uniform(0, 1, (S, T))
    availability = np.array([0.3, 1.0, 0.55, 1.0])  # tiers with and without controls
    bonus = rng.uniform(0, 0.004, S)  # substitution demand by sub-sector
    terms = SimpleNamespace(restock_rate=0.1, reroute_share=0.3, growth_penalty=0.01)
    # firm by firm: re-routing recovers 30% of each gap; a listed firm gets its own
    # listed_share of the result; the last tier (equipment) is capital, not a current input
    assert registry.TIER_CURRENT_INPUT == (True, True, True, False)
    routed = availability + 0.3 * (1.0 - availability)
    listed = (f.listed_month[rows] >= 0) & (f.listed_month[rows] <= month)
    sub, share = f.subsector[rows], f.listed_share[rows]
    cap, penalty, inventory = np.ones(len(rows)), np.empty(len(rows)), f.inventory[rows].copy()
    shortfall, cut = np.zeros(len(rows)), np.zeros(len(rows), bool)
    capital_out = np.zeros(len(rows), bool)  # equipment short with its stock gone
    capital_short = np.zeros(len(rows), bool)  # equipment short after the stock
    for i, s in enumerate(sub):
        chips, capital, exhausted = 1.0, 1.0, False
        for t in range(T):
            dom, dep = domestic[s, t], f.dependence[s, t]
            a = routed[t] * (share[i] if listed[i] else 1.0)
            supply = dom + (1.0 - dom) * a
            short = 1.0 - supply if dep > 0 else 0.0
            usable, inventory[i, t] = export_controls.stock_draw(
                inventory[i, t], short, supply, 6.0, 0.1 if short <= 1e-12 else 0.0)
            tier = export_controls.tier_cap(dep, usable)
            out = tier < 1.0 and inventory[i, t] <= 0.0
            if t < T - 1:
                exhausted |= out
                chips = min(chips, tier)
            else:
                capital_out[i] = out
                capital = min(capital, tier)
        shortfall[i], capital_short[i] = 1.0 - min(chips, capital), capital < 1.0
        # the chip shortfall cuts output of a listed firm out of chip stock, else every
        # shortfall slows its growth (equipment's always)
        cut[i] = listed[i] and exhausted
        cap[i] = chips if cut[i] else 1.0
        penalty[i] = 0.01 * (1.0 - (capital if cut[i] else min(chips, capital))) - bonus[s]
    export_controls.supply_by_group(f.dependence, domestic, availability, terms, 6.0, rows,
                                    f.columns, month, bonus)
    assert np.array_equal(f.output_cap[rows], cap)
    assert np.array_equal(f.growth_penalty[rows], penalty)
    assert np.array_equal(f.inventory[rows], inventory)
    # every branch is taken: listed firms cut, listed firms still covered by their stock,
    # ordinary firms slowed, firms without a shortfall left with the substitution bonus alone
    assert cut.any() and (listed & ~cut).any()
    assert (~listed & (shortfall > 0)).any() and (shortfall == 0).any()
    assert (cap[cut] < 1).all() and (cap[~cut] == 1).all()
    # equipment out of stock slows a listed firm without cutting it, also while chips cut it
    assert (listed & capital_out & ~cut).any() and (cut & capital_short).any()


def test_production_and_profit_rows_equal_the_equations_firm_by_firm(table, rng):
    f, rows, month = table, table.rows, 24258
    n = len(rows)
    agg, infra, va_ratio = rng.uniform(0.8, 1.2, R), rng.uniform(0.8, 1.3, R), rng.uniform(0.2, 0.5, S)
    # two named firms (40 agents each) with VA / revenue of their own accounts
    named_ratio = np.array([0.12, 0.6])
    f.named[rows[:40]], f.named[rows[40:80]] = 0, 1
    reg, sub, cap, emp, w = (f.region[rows], f.subsector[rows], f.output_cap[rows],
                             f.employment[rows], f.weight[rows])
    named = f.named[rows]
    ratio = np.where(named >= 0, named_ratio[np.maximum(named, 0)], va_ratio[sub])
    prod = production.labour_productivity(f.technology[rows], f.knowledge[rows], 0.3, agg[reg],
                                          infra[reg], 0.05, cap)
    va = production.value_added(emp, prod)
    wage = production.sector_wage(np.bincount(sub, w * emp * prod, S), np.bincount(sub, w * emp, S),
                                  0.5)
    rd = np.array([production.rd_response(x, 1.1, listed, month, 1.17)
                   for x, listed in zip(f.rd_intensity[rows], f.listed_month[rows])])
    net_worth = f.net_worth[rows] + np.array([
        production.firm_profit(*args, 1 - 0.25)
        for args in zip(va, emp, wage[sub], rd * (va / ratio))])

    w_va, loss, rd_now, rd_share, chip = (np.empty(n) for _ in range(5))
    jobs, output, va_sub = np.zeros(S), np.zeros(S), np.zeros(S)
    k = production.produce_rows(rows, f.columns, f.knowledge[rows] ** 0.3, agg, infra ** 0.05,
                                w_va, loss, production.SubsectorSums(jobs, output, va_sub))
    assert np.array_equal(f.productivity[rows], prod) and np.array_equal(f.value_added[rows], va)
    assert np.array_equal(0.5 * output / np.maximum(jobs, 1e-12), wage)
    assert np.array_equal(va_sub, np.bincount(sub, w * va, S))
    capped = cap < 1
    assert np.sum(loss[:k]) == np.sum((w * va)[capped] * (1 / cap[capped] - 1))
    c = production.profit_rows(rows, f.columns, month, production.RDTerms(1.1, 1.17, 1 - 0.25),
                               production.RevenueRatios(va_ratio, named_ratio), wage, rd_now,
                               rd_share, chip)
    assert np.array_equal(f.net_worth[rows], net_worth)
    assert np.array_equal(rd_now, rd) and np.array_equal(rd_share, rd / ratio)
    chip_makers = f.sector[rows] == 0
    assert np.sum(chip[:c]) == np.sum((w * rd * (va / ratio))[chip_makers])
    assert (chip_makers & (named >= 0)).any()  # named chip makers' R&D on their own revenue


def test_learning_and_growth_rows_equal_the_equations_firm_by_firm(table, rng):
    f, rows = table, table.rows
    n = len(rows)
    sub, reg = f.subsector[rows], f.region[rows]
    cell = reg * S + sub
    tech, know, rd_share = f.technology[rows], f.knowledge[rows], rng.uniform(0, 0.5, n)
    # best practice and imitation (same random draws)
    best = innovation.best_practice_rows(rows, f.technology, f.weight, cell, R * S)
    w = f.weight[rows]
    mean = np.bincount(cell, w * tech, R * S) / np.maximum(np.bincount(cell, w, R * S), 1e-300)
    w_better = np.where(tech >= mean[cell], w, 0.0)
    ref_best = (np.bincount(cell, w_better * tech, R * S)
                / np.maximum(np.bincount(cell, w_better, R * S), 1e-300))
    assert np.allclose(best, ref_best, rtol=1e-12, atol=0) and (best > 0).any()
    success = np.random.default_rng(1).random(n) < innovation.success_probability(rd_share, 3.0)
    innovation.imitate_rows(np.random.default_rng(1), f.technology, rows, best, cell, rd_share,
                            3.0, 0.05)
    expected = tech + np.where(success, 0.05 * np.maximum(best[cell] - tech, 0.0), 0.0)
    assert np.array_equal(f.technology[rows], expected) and success.any()
    # knowledge
    pool, gamma = rng.uniform(0.2, 1.0, R * S), rng.uniform(0, 0.3, n)
    domestic = 0.02 * gamma * np.maximum(0.0, pool[cell] - know)
    foreign = 0.01 * gamma * 0.6 * np.maximum(0.0, 1.1 - know)
    spillover.knowledge_rows(rows, f.knowledge, cell, pool, gamma, rd_share,
                             spillover.SpilloverTerms(0.02, 1.1, 0.6, 0.01, 0.01))
    assert np.array_equal(f.knowledge[rows], know + (domestic + foreign + 0.01 * rd_share * know))
    # selection and trend
    jobs = f.weight[rows] * f.employment[rows]
    mean = (np.bincount(sub, jobs * f.productivity[rows], S)
            / np.maximum(np.bincount(sub, jobs, S), 1e-300))
    trend = rng.uniform(0, 0.01, 4)
    growth, size = np.empty(n), np.empty(n)
    innovation.growth_rows(rows, f.columns, mean, trend, 0.005, growth, size)
    # named firms are selected relative to their own reference; the chip penalty is subtracted
    neutral = np.maximum(mean[sub] * f.selection_reference[rows], 1e-300)
    ref = 0.005 * (f.productivity[rows] / neutral - 1.0)
    ref = ref + trend[f.sector[rows]] - f.growth_penalty[rows]
    assert np.array_equal(growth, ref) and np.array_equal(size, f.employment[rows])


def test_month_sums_equal_bincounts_and_group_medians_equal_np_median(table, rng):
    f, rows = table, table.rows
    n = len(rows)
    sub, reg, w, emp, k = (f.subsector[rows], f.region[rows], f.weight[rows],
                           f.employment[rows], f.knowledge[rows])
    cell = reg * S + sub
    out_sub, size, out_cell = np.empty(n, np.intp), np.empty(n), np.empty(n, np.intp)
    region_jobs, mass, k_mass = np.zeros(R), np.zeros(R * S), np.zeros(R * S)
    generic = _take_stock(rows, f.columns, S, out_sub, size, out_cell, region_jobs, mass, k_mass)
    assert generic == n and np.array_equal(out_cell, cell) and np.array_equal(size, emp)
    assert np.array_equal(region_jobs, np.bincount(reg, w * emp, R))
    assert np.array_equal(mass, np.bincount(cell, w * emp, R * S))
    assert np.array_equal(k_mass, np.bincount(cell, w * emp * k, R * S))
    stay = rng.random(n) > 0.1
    sums = [np.zeros(R * S) for _ in range(4)] + [np.zeros(S) for _ in range(3)]
    starts = GroupIndex(sub, S).starts
    pools = entry_exit.WeightPools(starts, np.empty_like(starts), np.empty(n, np.intp),
                                   np.empty(n))
    entry_exit._staying_sums(rows, stay, cell, sub, f.columns, entry_exit.StayingSums(*sums),
                             pools)
    for s in range(S):  # each sub-sector's firms that stay, in row order, cumulative weights
        members = rows[(sub == s) & stay]
        assert np.array_equal(pools.rows[starts[s]:pools.ends[s]], members)
        assert np.array_equal(pools.cum[starts[s]:pools.ends[s]], np.cumsum(f.weight[members]))
    jobs = w * emp * stay  # zero weight for the firms that leave
    assert np.array_equal(sums[0], np.bincount(cell, w * stay, R * S))
    # entrants inherit technology net of a named firm's own accounts (comparable_technology)
    comparable = f.technology[rows] / f.selection_reference[rows]
    assert np.array_equal(sums[2], np.bincount(cell, jobs * comparable, R * S))
    assert np.array_equal(sums[6], np.bincount(sub, jobs * k, S))
    index = GroupIndex(sub, S)
    expected = [np.median(emp[sub == s]) for s in range(S)]
    assert np.array_equal(index.median(emp), expected)
    # with last month's medians as a guess (near, far off, missing) and even and odd groups
    guess = np.array(expected) * rng.choice([0.99, 1.01, 1.0, 3.0, 0.0], S)
    assert {len(emp[sub == s]) % 2 for s in range(S)} == {0, 1}
    assert np.array_equal(index.median(emp, guess), expected)
    assert all(np.array_equal(index.members(s), np.flatnonzero(sub == s)) for s in range(S))


@pytest.fixture(scope="module")
def stepped():
    model = build_model(load_scenario("scenarios/baseline.yaml"), seed=11, firms=3000)
    for _ in range(14):
        model.step()
    return model


def test_entry_and_exit_keep_one_mesa_agent_per_live_row(stepped):
    f, rows = stepped.firms, stepped.firms.rows
    assert f.n > len(rows) > 0 and f.n > 3000  # firms left and entered
    assert len(stepped.agents) == len(rows) == len(stepped.agents_by_type[Firm])
    agents = [stepped.agent_of_row[r] for r in rows]
    assert all(a is not None and a.row == r for a, r in zip(agents, rows))
    assert set(agents) == set(stepped.agents)
    ids = [a.unique_id for a in agents]
    assert len(set(ids)) == len(ids) and ids == sorted(ids)  # ids follow row order
    assert all(stepped.agent_of_row[r] is None for r in np.flatnonzero(~f.alive[: f.n]))


def test_batch_created_firms_are_ordinary_mesa_agents():
    model = mesa.Model(rng=3)
    batch = Firm.create_batch(model, np.arange(5))
    one = Firm(model, 5)
    assert [a.unique_id for a in batch + [one]] == list(range(1, 7))
    assert all(isinstance(a, mesa.Agent) and a.model is model and a.pos is None for a in batch)
    assert list(model.agents) == batch + [one] and len(model.agents_by_type[Firm]) == 6
    assert len(model.agents.select(lambda a: a.row < 3)) == 3
    Firm.remove_batch(model, batch[:2])
    batch[2].remove()
    assert list(model.agents) == batch[3:] + [one] and len(model.agents_by_type[Firm]) == 3


def test_batch_creation_falls_back_to_mesa_signals_when_observed():
    class Watcher:
        def __init__(self):
            self.seen = []

        def __call__(self, signal):  # Mesa keeps a weak reference: a method of a live object
            self.seen.append(signal)

    model, watcher = mesa.Model(rng=3), Watcher()
    model.observe("agents", ModelSignals.AGENT_ADDED, watcher.__call__)
    Firm.create_batch(model, np.arange(4))
    assert len(watcher.seen) == 4 and len(model.agents) == 4
