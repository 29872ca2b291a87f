"""The back-test's pieces (sim/calibration/backtest.py): which targets are held out, what the
model is not told, and how coverage is counted; then the command end to end at a tiny size (the
ABC run itself is tested in tests/test_abc_runs.py). Its full-size figures are in
docs/backtest.md."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.calibration import abc, backtest
from sim.calibration.fit import Target
from sim.cli import main


def _t(name, value=0.0, sd=1.0):
    return Target(name, value, sd, None, None, "", "", "", 0)


def test_targets_are_split_by_their_year_and_yearless_facts_stay_in_the_fit():
    ts = [_t("observed:eim_revenue_bn_yuan:2023:all"), _t("observed:eim_revenue_bn_yuan:2022:all"),
          _t("hefei_growth_2021"), _t("size_tail_exponent")]
    fit, held = backtest.split(ts, 2023)
    assert [t.name for t in held] == ["observed:eim_revenue_bn_yuan:2023:all"]
    assert [t.name for t in fit] == [t.name for t in ts[1:]]


def test_the_model_is_not_told_the_held_out_years_demand():
    model = SimpleNamespace(demand_observed={2021: np.array([0.10, 0.20]),
                                             2022: np.array([0.30, 0.20]),
                                             2023: np.array([-0.5, 0.9])},
                            demand_mean_pct=np.array([0.0, 0.0]), demand_sd_pct=np.zeros(2))
    abc.hide_demand_data(model, 2023)
    assert sorted(model.demand_observed) == [2021, 2022]
    # geometric mean and sd of 2021-22 only: the 2023 figures leave no trace
    assert model.demand_mean_pct == pytest.approx(100 * (np.sqrt([1.1 * 1.3, 1.2 * 1.2]) - 1))
    assert model.demand_sd_pct == pytest.approx([100 * np.std([0.1, 0.3], ddof=1), 0.0])


def test_coverage_counts_a_published_value_inside_and_outside_the_bands():
    rng = np.random.default_rng(0)
    pred = pd.DataFrame({"hefei_growth_2021": rng.normal(10, 1, 4000),
                         "hangzhou_growth_2021": rng.normal(10, 1, 4000)})
    held = [_t("hefei_growth_2021", 10.2, 0.5), _t("hangzhou_growth_2021", 13.0, 0.5)]
    cov = backtest.coverage(pred, held, 1).set_index("target")
    assert cov.loc["hefei_growth_2021", "covered_50"] and cov.loc["hefei_growth_2021", "covered_90"]
    assert not cov.loc["hangzhou_growth_2021", "covered_90"]  # 2.7 sd from the median
    # the band of the published figure adds the target's sd to the model's spread
    width = cov.loc["hefei_growth_2021", "p90_high"] - cov.loc["hefei_growth_2021", "p90_low"]
    assert width == pytest.approx(2 * 1.645 * np.sqrt(1 + 0.25), rel=0.05)


def test_a_holdout_year_that_holds_nothing_out_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "bt"
    assert main(["backtest", "scenarios/baseline.yaml", "--targets",
                 "calibration/targets_baseline.csv", "--holdout-from", "2030",
                 "--out", str(out)]) == 2
    assert "--holdout-from 2030" in capsys.readouterr().err and not out.exists()


def test_a_history_left_by_a_calibration_with_other_targets_is_refused(tmp_path):
    import pyabc

    from sim.errors import UsageError
    from sim.scenario import load_scenario

    db = tmp_path / "h.db"
    free = abc.Free("innovation.selection", 0, 0.02)
    pyabc.ABCSMC(lambda p: {"core_share_2020": 7.8}, pyabc.Distribution(p0=abc._rv(free)),
                 lambda x, y: 0.0).new(f"sqlite:///{db}", {"core_share_2020": 7.8})
    with pytest.raises(UsageError) as e:  # before any simulation runs
        abc.run_abc(load_scenario("scenarios/baseline.yaml"), [_t("software_growth_2020", 13.3)],
                    [free], 400, 10, 2, 0, db)
    assert "h.db" in str(e.value) and "core_share_2020" in str(e.value)


def test_backtest_command_end_to_end_writes_coverage_of_the_held_out_series(tmp_path):
    """The command as a user runs it, at a tiny size (400 agents, 2020-22, 20 simulations):
    the targets dated before the hold-out year are fitted, the later one is predicted, and
    coverage.csv, backtest.md and the manifest agree on what was held out and whether the
    published value fell in its 50% and 90% bands. backtest.md is what `validate-model
    --backtest` prints in docs/validation.md."""
    import json

    from sim.calibration.fit import read_targets
    from sim.validation import report

    held_name = "observed:software_business_revenue_bn_yuan:2022:all"
    targets = tmp_path / "t.csv"
    targets.write_text("type,name,value,low,high,sd,grade,source,note\n"
                       "target,software_growth_2020,13.3,,,3.0,A,test,\n"
                       "target,hefei_growth_2021,30.1,,,10.0,A,test,\n"
                       f"target,{held_name},,,,,A,test,\n"
                       "free,production.trend_growth_pct.03,,0,25,,,test,\n")
    out = tmp_path / "bt"
    assert main(["backtest", "scenarios/baseline.yaml", "--targets", str(targets),
                 "--holdout-from", "2022", "--set", "run.end=2022-12", "--firms", "400",
                 "--budget", "20", "--population", "5", "--predictive", "10", "--seed", "3",
                 "--quiet", "--out", str(out)]) == 0
    published = next(t for t in read_targets(str(targets))[0] if t.name == held_name)
    cov = pd.read_csv(out / "coverage.csv")
    assert list(cov["target"]) == [held_name]
    r = cov.iloc[0]
    assert r["observed"] == pytest.approx(published.value) and r["sd"] == pytest.approx(published.sd)
    # nested bands around the median, and the flags say whether the published value is inside
    assert r["p90_low"] <= r["p50_low"] <= r["predictive_median"] <= r["p50_high"] <= r["p90_high"]
    for k in (50, 90):
        assert bool(r[f"covered_{k}"]) == (r[f"p{k}_low"] <= r["observed"] <= r[f"p{k}_high"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["held_out"] == [held_name] and manifest["holdout_from"] == 2022
    assert manifest["fit_targets"] == ["software_growth_2020", "hefei_growth_2021"]
    post = pd.read_parquet(out / "posterior.parquet")
    assert post["production.trend_growth_pct.03"].between(0, 25).all()
    md = (out / "backtest.md").read_text()
    section = report.backtest_section(md, "backtest.md")
    assert section.startswith("## Back-test: fit through 2021, predict 2022 and later")
    covered = f"{int(cov['covered_50'].sum())} of 1 held-out series in the 50% band"
    assert held_name in section and covered in section
