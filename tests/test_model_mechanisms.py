"""Each mechanism, switched off or doubled in the whole model, moves the outputs in the direction
its documentation (docs/ODD.md, sim/mechanisms/*.py) says.

Every comparison runs both arms with the same seeds (common random numbers) at 2,000 agents, so
the paired difference is the effect; the thresholds sit well inside the effects measured when
the tests were written (paired t-statistics noted per case, 4 seeds).
"""

from pathlib import Path

import numpy as np
import pytest

from sim.inputs import load_inputs
from sim.model import ClusterModel
from sim.scenario import load_scenario

BASE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
SEEDS = (1, 2, 3, 4)
FIRMS = 2000


def share_2025(m):
    df = m.datacollector.get_model_vars_dataframe()
    return 100 * df[df["date"].str.startswith("2025")]["core_va_bn_yuan"].sum() / m.gdp_by_year[2025]


def _live(m):
    f, rows = m.firms, m.firms.rows
    return f, rows, f.weight[rows] * f.employment[rows]


def labour_productivity(m):
    f, rows, jobs = _live(m)
    return np.average(f.productivity[rows], weights=jobs)


def mean_knowledge(m):
    f, rows, jobs = _live(m)
    return np.average(f.knowledge[rows], weights=jobs)


def mean_technology(m):
    f, rows, jobs = _live(m)
    return np.average(f.technology[rows], weights=jobs)


def real_firms(m):
    return m.real_firms


def firm_share_designated(m):
    f, rows, _ = _live(m)
    firms = np.bincount(f.region[rows], f.weight[rows], m.n_regions)
    return firms[m.inputs.designated].sum() / firms.sum()


def specialisation(m):
    """Krugman dissimilarity between each sub-sector's location pattern and all firms',
    firm-weighted mean over sub-sectors: 0 when every sector locates alike."""
    f, rows, _ = _live(m)
    c = np.zeros((m.n_subsectors, m.n_regions))
    np.add.at(c, (f.subsector[rows], f.region[rows]), f.weight[rows])
    by_sub = c / c.sum(1, keepdims=True)
    overall = c.sum(0) / c.sum()
    return np.average(np.abs(by_sub - overall).sum(1), weights=c.sum(1))


def densest_relative_productivity(m):
    """Labour productivity of the densest cluster over the national mean."""
    f, rows, jobs = _live(m)
    R = m.n_regions
    jobs_r = np.bincount(f.region[rows], jobs, R)
    out_r = np.bincount(f.region[rows], jobs * f.productivity[rows], R)
    i = np.argmax(jobs_r / m.area)
    return (out_r[i] / jobs_r[i]) / (out_r.sum() / jobs_r.sum())


def self_sufficiency(m):
    return m.chip_self_sufficiency_pct


def direct_loss_2025(m):
    df = m.datacollector.get_model_vars_dataframe()
    return df[df["date"].str.startswith("2025")]["direct_loss_bn_yuan"].sum()


_cache: dict = {}


def run(changes: dict, seed: int) -> ClusterModel:
    key = (tuple(sorted(changes.items())), seed)
    if key not in _cache:
        c = load_scenario(BASE)
        for k, v in changes.items():
            c.set(k, v)
        c.validate()
        _cache[key] = ClusterModel(c, seed=seed, firms=FIRMS, inputs=load_inputs(c)).run()
    return _cache[key]


def paired(low: dict, high: dict, metric) -> np.ndarray:
    """metric(high) - metric(low) for each seed."""
    return np.array([metric(run(high, s)) - metric(run(low, s)) for s in SEEDS])


def rises(d, t_min=2.0):
    """A rise beyond replicate noise: paired t above t_min, and in all seeds but at most one."""
    t = d.mean() / (d.std(ddof=1) / np.sqrt(len(d)))
    return d.mean() > 0 and t > t_min and (d > 0).sum() >= len(d) - 1


# (parameter, switched off, doubled or strengthened, metric, +1 if the metric rises with the
#  parameter, what the documentation says); measured paired t in the comment
CASES = [
    ("agglomeration.elasticity", 0.0, 0.24, labour_productivity, +1,
     "density raises productivity (t=11)"),
    ("agglomeration.elasticity", 0.0, 0.24, firm_share_designated, +1,
     "firms concentrate in the dense, designated clusters (t=51)"),
    ("agglomeration.congestion", 0.0, 0.10, densest_relative_productivity, -1,
     "congestion costs the densest cluster most (all seeds)"),
    ("spillover.strength", 0.0, 0.04, mean_knowledge, +1, "knowledge diffuses (t=22)"),
    ("spillover.foreign_strength", 0.0, 0.02, mean_knowledge, +1,
     "foreign knowledge flows in (t=36)"),
    ("innovation.zeta", 0.0, 0.4, mean_technology, +1, "innovation raises technology (t=17)"),
    ("innovation.zeta", 0.0, 0.4, share_2025, +1, "and value added (t=5)"),
    ("innovation.imitation_zeta", 0.0, 0.2, share_2025, +1, "imitation spreads best practice (t=7)"),
    ("innovation.selection", 0.0, 0.01, labour_productivity, +1,
     "selection moves jobs to productive firms (t=8)"),
    ("entry_exit.entry_rate_pct", 0.0, 20.0, real_firms, +1, "entry adds firms (t=100)"),
    ("entry_exit.entry_rate_pct", 0.0, 20.0, share_2025, +1, "and value added (t=15)"),
    ("entry_exit.spinoff_share", 0.0, 0.6, specialisation, +1,
     "spin-offs make entry local, so sectors stay where they are (all seeds)"),
    ("entry_exit.pull_scale", 0.0, 2.0, specialisation, +1,
     "sector pull makes entrants follow their sector (all seeds)"),
    ("export_controls.severity", 0.0, 1.0, share_2025, -1, "controls cost value added (t=8)"),
    ("export_controls.severity", 0.0, 1.0, direct_loss_2025, +1, "through chip caps (t=49)"),
    ("policy.international_cooperation", 0.0, 1.0, share_2025, +1,
     "cooperation softens the controls (t=8)"),
    ("export_controls.learning_elasticity", 0.0, 0.2, self_sufficiency, +1,
     "domestic substitutes learn with chip R&D (t=65)"),
    ("export_controls.learning_elasticity", 0.0, 0.2, direct_loss_2025, -1,
     "so chip caps bite less (t=25)"),
    ("policy.rd_subsidy_pct", 0.0, 37.5, share_2025, +1, "R&D subsidy raises value added (t=13)"),
    ("policy.rd_subsidy_pct", 0.0, 37.5, mean_knowledge, +1, "and knowledge (t=12)"),
    ("policy.designation_boost", 0.0, 0.6, firm_share_designated, +1,
     "designation attracts entrants (t=5)"),
    ("policy.infrastructure_growth_pct", 0.0, 10.0, labour_productivity, +1,
     "infrastructure raises productivity (t=10)"),
]


@pytest.mark.parametrize("key,off,on,metric,sign,claim", CASES,
                         ids=[f"{c[0]}-{c[3].__name__}" for c in CASES])
def test_mechanism_moves_outputs_in_documented_direction(key, off, on, metric, sign, claim):
    d = sign * paired({key: off}, {key: on}, metric)
    assert rises(d), f"{key} {off} -> {on}: {metric.__name__} should move {sign:+d} ({claim}); " \
                     f"paired differences {sign * d}"


@pytest.mark.xfail(strict=True, reason=(
    "Model issue reported to the lead: listed giants (Huawei, Hikvision, Dahua, iFlytek) go "
    "bankrupt under the net-worth exit rule, sooner the more R&D they do, so a larger listing "
    "R&D boost lowers cumulative chip R&D and self-sufficiency. With a 240-month equity buffer "
    "the documented direction holds (next test)."))
def test_listing_rd_boost_raises_self_sufficiency():
    d = paired({"export_controls.listed_rd_boost_pct": 0.0},
               {"export_controls.listed_rd_boost_pct": 33.16}, self_sufficiency)
    assert rises(d)


def test_listing_rd_boost_raises_self_sufficiency_when_listed_firms_survive():
    buffer = {"entry_exit.initial_net_worth_months": 240.0}
    d = paired({**buffer, "export_controls.listed_rd_boost_pct": 0.0},
               {**buffer, "export_controls.listed_rd_boost_pct": 33.16}, self_sufficiency)
    assert rises(d), d
