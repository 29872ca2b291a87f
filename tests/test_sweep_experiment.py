"""Experiment files and designs: validation with file, line and key; design sizes and
coverage; seeds that depend on nothing but (master seed, point, replicate). No model runs."""

from pathlib import Path

import numpy as np
import pytest

from sim import reporters
from sim.cli import main
from sim.scenario import ScenarioError
from sim.sweep.designs import build_design, expected_points, run_seed
from sim.sweep.experiment import load_experiment, point_scenario
from sim.sweep.jobs import plan_jobs

BASE = Path("scenarios/baseline.yaml").resolve()
SHIPPED = sorted(Path("experiments").glob("*.yaml"))


def write(tmp_path, body: str, name="exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"scenario: {BASE}\n" + body)
    return path


# ------------------------------------------------------------------------ bad input

BAD = [
    # (body after the `scenario:` line, line, key, words in the message)
    ("design: grid\nparameters:\n  export_controls.severty: [0, 1]\n", 4,
     "parameters.export_controls.severty", "did you mean 'export_controls.severity'"),
    ("design: grid\nparameters:\n  export_controls.severity:\n    - 0.5\n    - 1.5\n", 6,
     "parameters.export_controls.severity.1", "out of range [0, 1]"),
    ("design: grid\nparameters:\n  production.trend_growth_pct.05: [1, 2]\n", 4,
     "parameters.production.trend_growth_pct.05", "unknown sector '05'"),
    ("design: sobol\nsamples: 100\nparameters:\n  innovation.zeta: {min: 0.1, max: 0.3}\n"
     "  spillover.strength: {min: 0.01, max: 0.03}\n", 3, "samples", "power of two"),
    ("design: grid\nreplicate: 3\nparameters:\n  innovation.zeta: [0.1]\n", 3, "replicate",
     "did you mean 'replicates'"),
    ("design: list\nparameters:\n  innovation.zeta: [0.1, 0.2]\n"
     "  spillover.strength: [0.01, 0.02, 0.03]\n", 5, "parameters.spillover.strength",
     "3 values here, 2 for innovation.zeta"),
    ("design: lhs\nsamples: 8\nparameters:\n  innovation.zeta: {min: 0.3, max: 0.1}\n", 5,
     "parameters.innovation.zeta.max", "must be above min"),
    ("design: lhs\nsamples: 8\nparameters:\n  innovation.zeta: {min: 0.1, max: 200}\n", 5,
     "parameters.innovation.zeta.max", "out of the parameter's range"),
    ("design: grid\nparameters:\n  run.end: ['2024-12']\n", 4, "parameters.run.end",
     "not a design parameter"),
    ("design: grid\nparameters:\n  innovation.zeta: {min: 0.1, max: 0.2}\n", 4,
     "parameters.innovation.zeta", "needs a list of values"),
    ("design: latin\nparameters:\n  innovation.zeta: [0.1]\n", 2, "design", "designs are"),
    ("design: grid\nfixed:\n  run.firms: 10\nparameters:\n  innovation.zeta: [0.1]\n", 4,
     "fixed.run.firms", "out of range"),
    ("design: grid\nparameters:\n  innovation.zeta: [0.1]\noutputs:\n  metrics: [firms_ends]\n",
     6, "outputs.metrics.0", "did you mean 'firms_end'"),
    ("design: grid\nparameters:\n  innovation.zeta: [0.1\n", 5, None, "malformed YAML"),
]


@pytest.mark.parametrize("body,line,key,words", BAD)
def test_bad_experiment_exits_2_with_file_line_and_key(tmp_path, capsys, body, line, key, words):
    path = write(tmp_path, body)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}: " in err, err
    if key:
        assert f": {key}: " in err, err
    assert words in err, err
    assert not out.exists()  # nothing half-written


def test_missing_scenario_file_is_named(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("scenario: nowhere.yaml\ndesign: grid\nparameters:\n  innovation.zeta: [1]\n")
    with pytest.raises(ScenarioError) as exc:
        load_experiment(path)
    assert exc.value.line == 1 and exc.value.key == "scenario"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_experiments_are_valid(path, capsys):
    assert main(["sweep", str(path), "--check"]) == 0
    assert "design points" in capsys.readouterr().out


def test_sweep_metrics_are_the_reporters_and_check_lists_their_meanings(tmp_path, capsys):
    path = write(tmp_path, "design: grid\nparameters:\n  innovation.zeta: [0.2]\n")
    exp = load_experiment(path)
    declared = {r.sweep_metric: r for r in reporters.national() if r.sweep_metric}
    assert exp.metrics and set(exp.metrics) <= set(declared)
    assert main(["sweep", str(path), "--check"]) == 0
    out = capsys.readouterr().out
    for m in exp.metrics:
        assert f"    {m}: {declared[m].meaning}" in out


# ------------------------------------------------------------------------ designs

def test_grid_is_every_combination_first_parameter_slowest(tmp_path):
    exp = load_experiment(write(tmp_path, "design: grid\nparameters:\n"
                                "  export_controls.severity: [0, 0.5, 1]\n"
                                "  policy.rd_subsidy_pct: [10, 20]\n"))
    d = build_design(exp)
    assert len(d) == expected_points(exp) == 6
    assert d.points[0] == {"export_controls.severity": 0.0, "policy.rd_subsidy_pct": 10.0}
    assert d.points[1] == {"export_controls.severity": 0.0, "policy.rd_subsidy_pct": 20.0}
    assert d.points[5] == {"export_controls.severity": 1.0, "policy.rd_subsidy_pct": 20.0}
    sc = point_scenario(exp.base, d.points[3])
    assert sc["export_controls.severity"] == 0.5 and sc["policy.rd_subsidy_pct"] == 20.0


def test_sobol_and_morris_sizes_and_bounds(tmp_path):
    params = ("parameters:\n  innovation.zeta: {min: 0.1, max: 0.4}\n"
              "  spillover.strength: {min: 0.005, max: 0.05, distribution: loguniform}\n"
              "  production.trend_growth_pct.03: {min: 8, max: 18}\n")
    sob = load_experiment(write(tmp_path, "design: sobol\nsamples: 16\n" + params))
    assert len(build_design(sob)) == 16 * (2 * 3 + 2)
    sob1 = load_experiment(write(tmp_path, "design: sobol\nsamples: 16\nsecond_order: false\n"
                                 + params, "s1.yaml"))
    assert len(build_design(sob1)) == 16 * (3 + 2)
    mor = load_experiment(write(tmp_path, "design: morris\nsamples: 5\nlevels: 4\n" + params,
                                "m.yaml"))
    d = build_design(mor)
    assert len(d) == expected_points(mor) == 5 * 4
    X = d.X
    assert X[:, 0].min() >= 0.1 and X[:, 0].max() <= 0.4
    # a Morris trajectory changes one parameter at a time
    steps = np.diff(X.reshape(5, 4, 3), axis=1)
    assert ((np.abs(steps) > 1e-12).sum(axis=2) == 1).all()
    sc = point_scenario(mor.base, d.points[0])
    assert sc["production.trend_growth_pct"]["03"] == d.points[0]["production.trend_growth_pct.03"]


def test_lhs_puts_one_point_in_each_stratum_also_on_a_log_scale(tmp_path):
    exp = load_experiment(write(tmp_path, "design: lhs\nsamples: 20\nparameters:\n"
                                "  innovation.zeta: {min: 0.1, max: 0.5}\n"
                                "  spillover.strength: {min: 0.001, max: 0.1, "
                                "distribution: loguniform}\n"))
    X = build_design(exp).X
    lin = np.floor((X[:, 0] - 0.1) / 0.4 * 20).astype(int)
    log = np.floor(np.log(X[:, 1] / 0.001) / np.log(100) * 20).astype(int)
    assert sorted(lin) == list(range(20)) and sorted(log) == list(range(20))


def test_event_field_of_the_base_scenario_can_be_swept(tmp_path):
    scen = tmp_path / "with_event.yaml"
    scen.write_text(f"extends: {BASE}\nexport_controls:\n  extra_events:\n"
                    "    - {date: 2025-03-01, name: cut-off, avail_equipment: 0.5}\n")
    path = tmp_path / "exp.yaml"
    path.write_text(f"scenario: {scen}\ndesign: grid\nparameters:\n"
                    "  export_controls.extra_events.0.avail_equipment: [0.1, 0.9]\n")
    exp = load_experiment(path)
    d = build_design(exp)
    sc = point_scenario(exp.base, d.points[0])
    assert sc["export_controls.extra_events"][0]["avail_equipment"] == 0.1
    assert exp.base["export_controls.extra_events"][0]["avail_equipment"] == 0.5  # base intact
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"scenario: {scen}\ndesign: grid\nparameters:\n"
                   "  export_controls.extra_events.3.avail_equipment: [0.1]\n")
    with pytest.raises(ScenarioError, match="has 1 extra event"):
        load_experiment(bad)


# ------------------------------------------------------------------------ seeds

def test_seeds_depend_only_on_master_point_and_replicate():
    a = [run_seed(7, p, r) for p in range(20) for r in range(5)]
    assert a == [run_seed(7, p, r) for p in range(20) for r in range(5)]
    assert len(set(a)) == len(a)
    assert run_seed(8, 0, 0) != run_seed(7, 0, 0)
    assert all(0 <= s < 2**31 for s in a)
    # common random numbers: the same seeds at every point
    assert run_seed(7, 3, 2, common=True) == run_seed(7, 11, 2, common=True)


def test_plan_is_the_same_runs_whatever_the_worker_count(tmp_path):
    exp = load_experiment(write(tmp_path, "design: grid\nreplicates: 7\nparameters:\n"
                                "  export_controls.severity: [0, 0.5, 1]\n"))
    d = build_design(exp)
    runs = {}
    for slots in (1, 2, 16):
        jobs, total = plan_jobs(exp, d, set(), slots)
        runs[slots] = sorted((j.point, *run) for j in jobs for run in j.runs)
        assert total == 21 and len(runs[slots]) == 21
        assert all(len({j.point}) == 1 for j in jobs)
    assert runs[1] == runs[2] == runs[16]
    done = {runs[1][0][1], runs[1][5][1]}
    jobs, _ = plan_jobs(exp, d, done, 2)
    assert sum(len(j.runs) for j in jobs) == 19


# ------------------------------------------------------------------------ a run's figures

def test_metrics_row_reduces_a_run_to_shares_target_and_extras(tmp_path):
    import pandas as pd

    from sim.sweep.jobs import metrics_row

    exp = load_experiment(write(tmp_path, "fixed: {run.end: 2022-12, target.year: 2022}\n"
                                "design: grid\nparameters:\n  innovation.zeta: [0.2]\n"))
    annual = pd.DataFrame({"year": [2020, 2021, 2022], "core_va_bn_yuan": [7910.0, 9000, 9900],
                           "core_va_share_gdp_pct": [7.8, 10.2, 9.9],
                           "software_business_revenue_bn_yuan": [8200.0, 9500, 14500]})
    national = pd.DataFrame({"chip_self_sufficiency_pct": [6.0, 12.5], "firms": [1e6, 2e6],
                             "employment": [3e7, 4e7], "direct_loss_bn_yuan": [1.0, 2.5]})
    result = type("R", (), {"annual": annual, "national": national})
    extras = ["core_va_end_bn_yuan", "chip_self_sufficiency_end_pct", "firms_end",
              "employment_end", "direct_loss_bn_yuan"]
    row = metrics_row(result, exp.base, exp.years, extras)
    assert exp.years == [2020, 2021, 2022]
    assert row["share_2021_pct"] == 10.2 and row["share_2022_pct"] == 9.9
    # reached in 2021 but not in the target year: first_year_hit yes, target_hit no
    assert row["target_hit"] is False and row["first_year_hit"] == 2021
    # one reached/first-year pair per target: the explicit target.year target first, then the
    # base's list (10% by 2025, 12.5% by 2030, software 14 trn by 2025), judged beyond the run
    # as None; software revenue passes 14,000 bn yuan in 2022
    assert [t.year for t in exp.targets] == [2022, 2025, 2030, 2025]
    assert (row["target_1_reached"], row["target_1_first_year"]) == (False, 2021)
    assert (row["target_2_reached"], row["target_2_first_year"]) == (None, 2021)
    assert (row["target_3_reached"], row["target_3_first_year"]) == (None, None)
    assert (row["target_4_reached"], row["target_4_first_year"]) == (None, 2022)
    assert row["core_va_end_bn_yuan"] == 9900 and row["chip_self_sufficiency_end_pct"] == 12.5
    assert row["firms_end"] == 2e6 and row["employment_end"] == 4e7
    assert row["direct_loss_bn_yuan"] == 3.5
    annual.loc[1, "core_va_share_gdp_pct"] = float("nan")
    with pytest.raises(FloatingPointError, match="2021"):
        metrics_row(result, exp.base, exp.years, [])
