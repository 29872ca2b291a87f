"""Talent migration (sim/mechanisms/talent_migration.py): direction, size, conservation, and
nothing at all when switched off (the shipped default)."""

import numpy as np
import pytest

from sim.mechanisms import MONTH
from sim.mechanisms.talent_migration import TALENT_MIGRATION, migration_factors
from sim.month import Month
from sim.runner import build_model
from sim.scenario import load_scenario


def test_workers_move_towards_the_more_productive_cluster_in_proportion_to_the_gap():
    # one sub-sector in two clusters: value added per worker 10 and 20 (mean 15)
    jobs, output = np.array([100.0, 100.0]), np.array([1000.0, 2000.0])
    factor = migration_factors(jobs, output, np.array([0, 0]), 1, rate=0.1)
    # gaps -1/3 and +1/3: 0.1 x 1/3 of each cluster's workers move
    assert np.allclose(factor, [1 - 0.1 / 3, 1 + 0.1 / 3], rtol=1e-14)
    assert np.isclose(np.sum(jobs * factor), 200.0, rtol=1e-14)  # none created or lost
    # twice the rate, twice the move; no gap, no move; other sub-sectors untouched
    assert np.allclose(migration_factors(jobs, output, np.array([0, 0]), 1, 0.2) - 1,
                       2 * (factor - 1), rtol=1e-12)
    same = migration_factors(np.array([50.0, 150.0, 10.0]), np.array([500.0, 1500.0, 70.0]),
                             np.array([0, 0, 1]), 2, 0.1)
    assert np.array_equal(same, [1.0, 1.0, 1.0])


def test_a_cluster_never_loses_more_workers_than_it_has():
    factor = migration_factors(np.array([10.0, 10.0]), np.array([1.0, 1000.0]),
                               np.array([0, 0]), 1, rate=0.5)
    assert (factor >= 0).all() and np.isclose(np.sum(10 * factor), 20.0)


def _model(enabled, rate=0.05):
    config = load_scenario("scenarios/baseline.yaml",
                           overrides=[f"talent_migration.enabled={str(enabled).lower()}",
                                      f"talent_migration.rate={rate}"])
    return build_model(config, seed=7, firms=1500)


def test_in_the_model_each_sub_sector_keeps_its_workers_and_the_productive_cells_gain():
    model = _model(True)
    month = Month(model.month + 1, model.firms)
    model.month += 1
    for mechanism in MONTH:
        if mechanism is TALENT_MIGRATION:
            break
        mechanism.step(model, month)
    f, S = model.firms, model.n_subsectors
    rows, cell = month.rows[month.stay], month.cell[month.stay]
    jobs_before = f.weight[rows] * f.employment[rows]
    y = np.bincount(cell, jobs_before * f.productivity[rows], model.n_regions * S) / np.maximum(
        np.bincount(cell, jobs_before, model.n_regions * S), 1e-300)
    TALENT_MIGRATION.step(model, month)
    jobs_after = f.weight[rows] * f.employment[rows]
    sub = cell % S
    assert np.allclose(np.bincount(sub, jobs_after, S), np.bincount(sub, jobs_before, S),
                       rtol=1e-12)
    change = jobs_after / jobs_before - 1
    y_sub = np.bincount(sub, jobs_before * f.productivity[rows], S) / np.bincount(sub, jobs_before, S)
    above = y[cell] > y_sub[sub] * 1.001
    below = y[cell] < y_sub[sub] * 0.999
    assert above.any() and below.any()
    assert (change[above] > 0).all() and (change[below] < 0).all()
    assert model.migrating_workers > 0


@pytest.mark.parametrize("enabled, rate", [(False, 0.05), (True, 0.0)])
def test_switched_off_it_changes_nothing(enabled, rate):
    off, baseline = _model(enabled, rate), _model(False, 0.0)
    for _ in range(3):
        off.step(), baseline.step()
    a = off.datacollector.get_model_vars_dataframe()
    b = baseline.datacollector.get_model_vars_dataframe()
    assert a.equals(b) and off.migrating_workers == 0.0
    assert np.array_equal(off.firms.employment, baseline.firms.employment)
