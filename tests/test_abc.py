"""Bayesian calibration (sim/calibration/abc.py) and runs over a posterior (sim/runner.py)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration import abc
from sim.calibration import fit as fitmod
from sim.runner import posterior_draws, replicate_seeds
from sim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
HEAD = "type,name,value,low,high,sd,grade,source,note,prior,prior_mean,prior_sd\n"
TARGET = "target,core_share_2020,7.8,,,0.05,A,s,n,,,\n"


def _targets(tmp_path, free_row):
    p = tmp_path / "t.csv"
    p.write_text(HEAD + TARGET + free_row, encoding="utf-8")
    return p


@pytest.mark.parametrize("row, key", [
    ("free,innovation.selection,,0,0.02,,,s,,gamma,,\n", "innovation.selection.prior"),
    ("free,innovation.selection,,0,0.02,,,s,,normal,0.005,\n", "innovation.selection.prior_sd"),
    ("free,innovation.selection,,0,0.02,,,s,,lognormal,-1,0.5\n",
     "innovation.selection.prior_mean"),
])
def test_bad_prior_names_file_line_and_key(tmp_path, row, key):
    with pytest.raises(ScenarioError) as e:
        fitmod.read_targets(_targets(tmp_path, row))
    assert "t.csv:3" in str(e.value) and key in str(e.value)


def test_missing_prior_is_uniform_on_the_bounds(tmp_path):
    _, frees = fitmod.read_targets(_targets(tmp_path, "free,innovation.selection,,0,0.02,,,s,,,,\n"))
    f = frees[0]
    assert f.prior == "uniform"
    x = np.array([-0.001, 0.0, 0.01, 0.02, 0.021])
    assert np.allclose(abc.prior_density(f, x), [0, 50, 50, 50, 0])


def test_truncated_lognormal_prior_stays_in_bounds_and_integrates_to_one():
    f = fitmod.Free("innovation.selection", 0.002, 0.01, prior="lognormal", mean=0.005, sd=0.5)
    rv = abc._rv(f)
    np.random.seed(1)
    x = rv.rvs(2000)
    assert x.min() >= 0.002 and x.max() <= 0.01
    grid = np.linspace(0.002, 0.01, 4001)
    assert np.trapezoid(rv.pdf(grid), grid) == pytest.approx(1, abs=1e-3)
    # the median of the truncated draws sits near the untruncated median 0.005
    assert np.median(x) == pytest.approx(0.005, rel=0.1)


def test_distance_scales_each_miss_by_the_target_sd():
    t = [fitmod.Target("a", 10, 2, None, None, "", "", "", 0),
         fitmod.Target("b", 0, 0.5, None, None, "", "", "", 0)]
    d = abc.distance_for(t)
    assert d({"a": 14, "b": 0}, {"a": 10, "b": 0}) == pytest.approx(2)
    assert d({"a": 10, "b": 1.5}, {"a": 10, "b": 0}) == pytest.approx(3)


def _posterior_scenario(tmp_path, weights):
    pd.DataFrame({"innovation.selection": [0.001, 0.002, 0.003],
                  "weight": weights}).to_parquet(tmp_path / "post.parquet")
    (tmp_path / "s.yaml").write_text(
        f"extends: {ROOT / 'scenarios/baseline.yaml'}\ncalibration:\n  posterior: post.parquet\n",
        encoding="utf-8")
    return load_scenario(tmp_path / "s.yaml")


def test_posterior_draws_respect_weights_and_do_not_depend_on_replicate_count(tmp_path):
    config = _posterior_scenario(tmp_path, [0.0, 0.25, 0.75])
    d = posterior_draws(config, replicate_seeds(config, 400, 7))
    assert set(d["posterior_row"]) == {1, 2}  # a zero-weight row is never drawn
    assert d["posterior_row"].eq(2).mean() == pytest.approx(0.75, abs=0.07)
    few = posterior_draws(config, replicate_seeds(config, 5, 7))
    pd.testing.assert_frame_equal(few, d.iloc[:5])


def test_bad_posterior_weights_name_the_key(tmp_path):
    config = _posterior_scenario(tmp_path, [0.0, -1.0, 0.5])
    with pytest.raises(ScenarioError) as e:
        posterior_draws(config, [1])
    assert "calibration.posterior" in str(e.value) and "s.yaml" in str(e.value)


@pytest.mark.slow
def test_abc_recovers_a_known_trend_growth(tmp_path):
    """Simulate with software trend growth 18 %/year (default 13), take the simulated
    moments as targets, calibrate from a uniform 0..25 prior: the 5-95% posterior interval
    holds 18 and is narrower than the prior's."""
    config = load_scenario(ROOT / "scenarios/baseline.yaml")
    names = ["software_growth_2020", "software_growth_2020_2022"]
    free = fitmod.Free("production.trend_growth_pct.03", 0, 25)
    truth = abc.Simulator(config, [free], names, 1000, 0).moments(
        {free.key: 18.0}, 123)
    targets = [fitmod.Target(n, truth[n], 2.0, None, None, "", "", "", 0) for n in names]
    res = abc.run_abc(config, targets, [free], 1000, 240, 40, 5, tmp_path / "h.db")
    x, w = res.posterior[free.key].to_numpy(), res.posterior["weight"].to_numpy()
    lo, hi = abc.weighted_quantile(x, w, [0.05, 0.95])
    assert lo <= 18 <= hi
    assert hi - lo < 0.9 * 25  # the prior's 5-95% width


def _summary_over(values, draws, target):
    """posterior_summary of replicates with these 2025 shares and parameter draws."""
    from types import SimpleNamespace

    from sim.cli import posterior_summary

    n = len(values)
    annual = pd.DataFrame({"replicate": range(n), "year": 2025, "core_va_share_gdp_pct": values})
    params = pd.DataFrame({"replicate": range(n), "seed": range(n), "posterior_row": 0,
                           **{f"p{k}": draws[:, k] for k in range(draws.shape[1])}})
    hit = float(np.mean(values >= target))
    summary = {"target_year": 2025, "probability_target_hit": hit,
               "targets": [{"name": "t", "indicator": "core_va_share_gdp_official_pct",
                            "value": target, "year": 2025, "source": "test", "judged": True}]}
    return posterior_summary(summary, n, SimpleNamespace(annual=annual, parameters=params))


def test_variance_split_puts_a_parameter_driven_spread_in_the_parameter_part():
    rng = np.random.default_rng(0)
    theta = rng.uniform(0, 1, 40)
    noise = rng.normal(0, 0.1, 40)
    v = _summary_over(9 + 2 * theta + noise, theta[:, None], 10.3)
    split = v["target_year_share_variance"]
    assert split["parameters"] == pytest.approx(4 * theta.var(), rel=0.1)
    assert split["stochastic_and_nonlinear"] == pytest.approx(0.01, rel=0.5)
    lo, hi = v["probability_target_hit_90pct_interval"]
    assert lo < np.mean(9 + 2 * theta + noise >= 10.3) < hi
    # P(target) split: reaching 10.3 turns on the parameter (theta above 0.65), not on noise
    pr = v["targets"]["t"]["probability"]
    assert pr["parameters_only"] == pytest.approx(pr["both"], abs=0.08)
    assert pr["stochastic_only"] == 0.0


def test_probability_split_puts_a_noise_driven_hit_in_the_stochastic_part():
    rng = np.random.default_rng(1)
    theta = rng.uniform(0, 1, 40)
    values = 9.95 + 0.01 * theta + rng.normal(0, 0.2, 40)
    pr = _summary_over(values, theta[:, None], 10.0)["targets"]["t"]["probability"]
    assert pr["parameters_only"] == 0.0  # every draw's expected share is below 10
    assert pr["stochastic_only"] == pytest.approx(pr["both"], abs=0.1)
    assert 0.2 < pr["both"] < 0.6


def test_variance_split_does_not_credit_parameters_with_noise_when_draws_are_few():
    """20 replicates, 8 parameters that do nothing: a least-squares fit explains about 8/19 of
    the variance in sample; with the unbiased residual variance the parameters get nothing in
    half the samples and 0.11 on average (positive only because the split is floored at zero),
    where the in-sample split gave them 0.42."""
    shares = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        v = _summary_over(10 + rng.normal(0, 0.3, 20), rng.uniform(0, 1, (20, 8)), 10.0)
        split = v["target_year_share_variance"]
        shares.append(split["parameters"] / split["total"])
    assert np.mean(shares) < 0.2 and np.median(shares) < 0.05


def test_run_over_a_posterior_is_byte_identical_and_records_the_draws(tmp_path):
    from sim.cli import main

    _posterior_scenario(tmp_path, [0.2, 0.3, 0.5])
    outs = []
    for name in ("a", "b"):
        assert main(["run", str(tmp_path / "s.yaml"), "--firms", "300", "--replicates", "2",
                     "--no-figures", "--quiet", "--out", str(tmp_path / name)]) == 0
        outs.append(tmp_path / name)
    for f in ("annual.csv", "national.csv", "parameters.csv", "summary.json"):
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes()
    p = pd.read_csv(outs[0] / "parameters.csv")
    assert list(p["seed"]) == [42, 43] and set(p["innovation.selection"]) <= {0.001, 0.002, 0.003}
    # the manifest (which also holds the wall time, so is not byte-compared) records the same
    # draws and the posterior file they came from, so a run can be redone from it alone
    manifest = json.loads((outs[0] / "manifest.json").read_text())
    assert Path(manifest["posterior"]["file"]) == (tmp_path / "post.parquet").resolve()
    assert pd.DataFrame(manifest["posterior"]["draws"]).to_dict("list") == p.to_dict("list")
    # summary.json carries the posterior-predictive part: P(target) over the 2 draws with its
    # interval (too few replicates for the variance split, which needs more than parameters + 2)
    summary = json.loads((outs[0] / "summary.json").read_text())
    assert summary["posterior"]["draws"] == 2
    lo, hi = summary["posterior"]["probability_target_hit_90pct_interval"]
    assert 0 <= lo <= hi <= 1
