"""Calibration: the targets file, the moments, the objective, parameter recovery and the
`clustersim calibrate` command."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration import fit as fitmod
from sim.calibration.moments import MOMENTS, MomentRecorder
from sim.cli import main
from sim.runner import build_model, run_replicate
from sim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "calibration" / "targets_baseline.csv"
BASE = ROOT / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASE)


def test_shipped_targets_have_source_grade_and_known_moments():
    targets, frees = fitmod.read_targets(TARGETS)
    named = {t.name for t in targets if not t.name.startswith("observed:")}
    assert named <= set(MOMENTS)
    for t in targets:
        assert t.source.strip() and t.grade.strip() and t.sd > 0
        assert ("figures_to_2020.csv" in t.source or "seed" in t.source
                or "sim/data/observed.csv" in t.source), t.name
    observed = {t.name.split(":")[1] for t in targets if t.name.startswith("observed:")}
    assert {"core_va_share_gdp_official_pct", "software_business_revenue_bn_yuan",
            "eim_revenue_bn_yuan"} <= observed
    assert any(t.name == "core_share_2020" and t.value == 7.8 for t in targets)
    assert {f.key for f in frees} >= {"measurement.census_basis_factor", "innovation.selection",
                                      "production.demand_absorption"}


def _write(tmp_path, rows):
    path = tmp_path / "t.csv"
    path.write_text("type,name,value,low,high,sd,grade,source,note\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("row,where,words", [
    ("target,core_share_202,7.8,,,0.05,A,s,", ":2: core_share_202", "did you mean 'core_share_2020'"),
    ("target,core_share_2020,seven,,,0.05,A,s,", ":2: core_share_2020.value", "expected a number"),
    ("target,core_share_2020,7.8,,,0,A,s,", ":2: core_share_2020.sd", "must be positive"),
    ("free,innovation.selektion,,0,1,,,,", ":2: innovation.selektion", "did you mean"),
    ("free,innovation.selection,,0,5,,,,", ":2: innovation.selection", "range"),
    ("free,production.trend_growth_pct.07,,0,5,,,,", ":2: production.trend_growth_pct.07", "fitted"),
    ("fre,innovation.selection,,0,1,,,,", ":2: type", "expected 'target' or 'free'"),
])
def test_bad_targets_name_file_line_and_key(tmp_path, row, where, words):
    path = _write(tmp_path, [row] if row.startswith("target") else
                  ["target,core_share_2020,7.8,,,0.05,A,s,", row])
    if not row.startswith("target"):
        where = where.replace(":2:", ":3:")
    with pytest.raises(ScenarioError) as exc:
        fitmod.read_targets(path)
    assert str(path) + where in str(exc.value) and words in str(exc.value)


def test_bad_free_option_and_cli_exit_status(tmp_path, capsys):
    with pytest.raises(ScenarioError, match="key=min:max"):
        fitmod.parse_free(["innovation.selection=0..1"])
    bad = _write(tmp_path, ["target,nonsense,1,,,1,A,s,"])
    out = tmp_path / "fit"
    assert main(["calibrate", str(BASE), "--targets", str(bad), "--out", str(out)]) == 2
    assert "nonsense" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".fit*"))


def test_moments_agree_with_the_run_outputs(baseline):
    """The recorder's moments and the output contract are computed independently."""
    model = build_model(baseline, seed=3, firms=1500)
    rec = MomentRecorder(model)
    model.observers.append(rec)
    model.run()
    result = run_replicate(baseline, seed=3, firms=1500)
    share = result.annual.set_index("year").loc[2020, "core_va_share_gdp_pct"]
    assert MOMENTS["core_share_2020"].compute(rec) == pytest.approx(share, rel=1e-9)
    # region and sub-sector series add up to the national value added of annual.csv
    annual = result.annual.set_index("year")["core_va_bn_yuan"]
    for year in (2020, 2021, 2025):
        assert rec.annual("reg", year).sum() == pytest.approx(annual[year], rel=1e-9)
        assert rec.annual("sub", year).sum() == pytest.approx(annual[year], rel=1e-9)
    i = rec.region_index("hefei")
    assert MOMENTS["hefei_growth_2021"].compute(rec) == pytest.approx(
        100 * (rec.annual("reg", 2021)[i] / rec.annual("reg", 2020)[i] - 1))
    assert MOMENTS["chip_self_sufficiency_2020"].compute(rec) == pytest.approx(
        result.national[result.national["date"] < "2021"]["chip_self_sufficiency_pct"].mean())
    assert 0.5 < MOMENTS["size_tail_exponent"].compute(rec) < 4
    assert 0 < MOMENTS["volatility_size_beta"].compute(rec) < 0.5


def test_objective_weighs_misses_by_target_and_simulation_uncertainty():
    t = [fitmod.Target("a", 1.0, 0.5, None, None, "", "", "", 2),
         fitmod.Target("b", 10.0, 2.0, None, None, "", "", "", 3)]
    exact = np.array([[1.0, 10.0], [1.0, 10.0]])
    assert fitmod.objective(exact, t) == 0.0
    miss = np.array([[2.0, 10.0], [2.0, 10.0]])
    assert fitmod.objective(miss, t) == pytest.approx(4.0)   # (1/0.5)^2
    noisy = np.array([[1.5, 10.0], [2.5, 10.0]])             # same mean, seed variance 0.5
    assert fitmod.objective(noisy, t) == pytest.approx(1 / (0.25 + 0.5 / 2))


def test_fit_recovers_a_known_trend_growth(baseline):
    """Targets simulated at trend growth 20%/year for NBS 03; the search starts from 13%."""
    truth = baseline.copy()
    truth.set("production.trend_growth_pct.03", 20.0)
    truth.validate()
    names = ["software_growth_2020", "software_growth_2020_2022"]
    seeds, firms = [11, 12], 800
    sim = fitmod.simulate(truth, seeds, firms, names)
    targets = [fitmod.Target(n, float(v), 1.0, None, None, "", "", "", 2)
               for n, v in zip(names, sim.mean(axis=0))]
    free = [fitmod.Free("production.trend_growth_pct.03", 5.0, 30.0)]
    result = fitmod.fit(baseline, targets, free, seeds, firms, budget=16, search_seed=1)
    assert result.start["production.trend_growth_pct.03"] == 14.74
    assert result.best["production.trend_growth_pct.03"] == pytest.approx(20.0, abs=2.0)
    assert result.j_best < result.j_start / 10


def test_calibrate_command_writes_a_loadable_fitted_scenario(tmp_path, baseline):
    targets = _write(tmp_path, [
        "target,software_growth_2020_2022,32.3,,,4,C,src,",
        "target,eim_growth_2020_2022,27.3,,,6,D,src,",
        "free,production.trend_growth_pct.01,,0,25,,,,"])
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert main(["calibrate", str(BASE), "--targets", str(targets), "--seeds", "2",
                     "--budget", "3", "--firms", "400", "--out", str(out), "--quiet",
                     "--free", "production.trend_growth_pct.03=5:20"]) == 0
        outs.append(out)
    a, b = outs
    fitted = load_scenario(a / "fitted.yaml")
    assert fitted.name == "baseline_fitted"
    text = (a / "fitted.yaml").read_text()
    assert "extends: ../../" in text or "extends: " in text
    assert fitted["run.end"] == baseline["run.end"]  # everything else from the input scenario
    report = pd.read_csv(a / "fit_report.csv")
    assert list(report["target"]) == ["software_growth_2020_2022", "eim_growth_2020_2022"]
    trials = pd.read_csv(a / "trials.csv")
    assert len(trials) == 3 and trials["value"].notna().all()
    assert {"production.trend_growth_pct.01", "production.trend_growth_pct.03"} <= set(trials)
    # trial 0 is the scenario's own values
    assert trials["production.trend_growth_pct.01"].iloc[0] == 7.66
    md = (a / "fit_report.md").read_text()
    assert "held-out seeds" in md and "| software_growth_2020_2022 |" in md
    # reproducible: same inputs and seeds, same numbers
    for name in ("fit_report.csv", "trials.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    strip = lambda p: [x for x in p.read_text().splitlines() if not x.startswith("# Written")]  # noqa: E731
    assert strip(a / "fitted.yaml") == strip(b / "fitted.yaml")
