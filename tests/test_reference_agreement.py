"""The conventional-Mesa reference (benchmarks/reference.py) runs the model's rules: the speed-up
that benchmarks/scale.py reports against it is like for like.

Two checks on 1,500 firm agents:
- deterministic configuration (no shocks, innovation, imitation, exogenous exit or entry; exit
  on losses stays on), 2020-2024: both compute the same numbers, so the national paths agree
  to 1e-9 (they differ only in summation order and in numpy's vs libm's pow, i.e. last bits).
  Long enough that every rule of the export-control channel acts: the Entity-List cut
  (Huawei, SMIC) at each listing's own share, re-routing and the capacity-growth penalty of
  ordinary firms once the 2022-10 rule has run down their (two-month) stockpiles, equipment
  as capital (slows growth, never cuts output), the import index over chip tiers at last
  month's output, substitution demand for 01_ic; the observed demand growth of 2021-23, the
  named firms' own selection reference and R&D on their own revenue; and demand saturation,
  which starts in the first drawn year, 2024 (hence five years, not four). Checked by mutating
  the reference: dropping the growth penalty, the substitution bonus, re-routing, the listed
  cut, the named firms' selection reference or the observed demand years, giving every
  listing the default share, letting equipment cut output, counting equipment or 2020 weights
  in the import index, booking named firms' R&D at their sub-sector's VA ratio, or dropping
  saturation each fails this test;
- over 24 months, the stochastic rules amplified (innovation 50x and imitation 10x as likely, shocks 2.5x as
  large, exit hazard and entry 30%/year) so that each moves the aggregates well beyond seed
  noise. The two use different random streams, so the means over eight seeds must agree within
  four standard errors of their difference. Checked by mutating the reference: 20% more
  hazard exits or entrants, twice the imitation rate or a Beta(3, 6) innovation jump fail
  this test; twice the innovation rate or a missing -s^2/2 in the shocks do not (their
  effect on two-year aggregates is within seed noise at this size).
"""

import numpy as np
import pytest

from benchmarks.reference import ReferenceModel
from sim.model import ClusterModel
from sim.runner import build_model
from sim.scenario import load_scenario

FIRMS = 1500
TWO_YEARS = ["run.end=2021-12", "target.year=2021"]
# two months of chip stock instead of six, so that ordinary firms' stockpiles run out by 2023
# and the capacity-growth penalty acts (with six it starts after 2023); through 2024, since
# demand saturation acts from the first year after the observed demand years 2021-23
FIVE_YEARS = ["run.end=2024-12", "target.year=2024", "export_controls.inventory_months=2"]
DETERMINISTIC = ["production.shock_sd=0", "innovation.zeta=0", "innovation.imitation_zeta=0",
                 "entry_exit.exit_hazard_pct=0", "entry_exit.entry_rate_pct=0"]
AMPLIFIED = ["innovation.zeta=10", "innovation.imitation_zeta=1", "production.shock_sd=0.1",
             "entry_exit.exit_hazard_pct=30", "entry_exit.entry_rate_pct=30"]
SERIES = ["core_va_bn_yuan", "firms", "employment", "chip_self_sufficiency_pct",
          "direct_loss_bn_yuan", "chip_import_gap_pct", "chip_import_index"]


def run(model_class, config, seed):
    return build_model(config, seed=seed, firms=FIRMS, model_class=model_class).run()


def firm_means(model) -> list[float]:
    """Job-weighted mean log technology and firm-weighted mean log size of the live firms."""
    if isinstance(model, ClusterModel):
        f, rows = model.firms, model.firms.rows
        w, emp, tech = f.weight[rows], f.employment[rows], f.technology[rows]
    else:
        w, emp, tech = (np.array([getattr(a, k) for a in model.agents])
                        for k in ("weight", "employment", "technology"))
    return [np.average(np.log(tech), weights=w * emp), np.average(np.log(emp), weights=w)]


@pytest.mark.parametrize("seed", [1, 2])
def test_same_numbers_when_nothing_is_random(seed):
    config = load_scenario("scenarios/baseline.yaml", overrides=DETERMINISTIC + FIVE_YEARS)
    fast = run(ClusterModel, config, seed)
    model = fast.datacollector.get_model_vars_dataframe()
    reference = run(ReferenceModel, config, seed).datacollector.get_model_vars_dataframe()
    assert len(model) == len(reference) == 60
    # firms exit on losses in this configuration: the firm count is not constant
    assert model["firms"].iloc[-1] < 0.97 * model["firms"].iloc[0]
    # every part of the control channel acts, so agreement covers it: listed firms cut,
    # ordinary firms' growth slowed, 01_ic's growth raised
    assert model["direct_loss_bn_yuan"].iloc[-1] > 0 and model["chip_import_gap_pct"].iloc[-1] > 0
    penalty = fast.firms.growth_penalty[fast.firms.rows]
    assert penalty.max() > 0 > penalty.min()
    assert fast.demand_saturation < 1  # 2024's demand growth is saturated
    for column in SERIES:
        a, b = model[column].to_numpy(float), reference[column].to_numpy(float)
        np.testing.assert_allclose(b, a, rtol=1e-9, err_msg=column)


def test_same_means_over_seeds_with_the_stochastic_rules_amplified():
    config = load_scenario("scenarios/baseline.yaml", overrides=AMPLIFIED + TWO_YEARS)

    def figures(model_class, seed):
        model = build_model(config, seed=seed, firms=FIRMS, model_class=model_class).run()
        d = model.datacollector.get_model_vars_dataframe()
        return [d["core_va_bn_yuan"][:12].sum(), d["core_va_bn_yuan"][12:].sum(),
                d["firms"].iloc[-1], d["employment"].iloc[-1], *firm_means(model)]

    seeds = range(100, 108)
    model = np.array([figures(ClusterModel, s) for s in seeds])
    reference = np.array([figures(ReferenceModel, s) for s in seeds])
    assert model.std(axis=0, ddof=1).min() > 0  # the draws matter
    se = np.sqrt(model.var(axis=0, ddof=1) / len(seeds) + reference.var(axis=0, ddof=1) / len(seeds))
    gap = np.abs(model.mean(axis=0) - reference.mean(axis=0))
    names = ["VA 2020", "VA 2021", "firms Dec-2021", "employment Dec-2021",
             "mean log technology Dec-2021", "mean log size Dec-2021"]
    for name, g, s in zip(names, gap, se):
        assert g < 4 * s, f"{name}: means differ by {g:.4g}, {g / s:.1f} standard errors"
