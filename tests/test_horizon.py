"""The 2030 horizon: GDP projection drawn per replicate, demand saturation past the data, named
targets (schema errors, first-year distribution), the projected flag and horizon notes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim import targets
from sim.inputs import for_replicate, load_inputs, projected_growth_pct
from sim.mechanisms.demand import saturated_absorption, saturated_mean_pct, saturation
from sim.runner import run_replicate
from sim.scenario import ScenarioError, load_scenario

BASE = "scenarios/baseline.yaml"


# ------------------------------------------------------------------ GDP projection

def test_gdp_projection_is_seeded_reproducible_and_leaves_the_data_alone():
    sc = load_scenario(BASE)
    inputs = load_inputs(sc)
    a, b, c = (for_replicate(sc, inputs, s) for s in (42, 42, 43))
    assert a.gdp_by_year == b.gdp_by_year and a.gdp_by_month == b.gdp_by_month
    assert a.gdp_by_year[2030] != c.gdp_by_year[2030]
    for year in range(2020, 2026):  # data years are data whatever the draw
        assert a.gdp_by_year[year] == c.gdp_by_year[year] == inputs.gdp_by_year[year]
    g = projected_growth_pct(sc, 42) / 100
    assert a.gdp_by_year[2030] == pytest.approx(inputs.gdp_by_year[2025] * (1 + g) ** 5)
    # the draws centre on the stated mean with the stated sd
    draws = np.array([projected_growth_pct(sc, s) for s in range(400)])
    assert abs(draws.mean() - 4.1) < 0.15 and 0.85 < draws.std() < 1.15
    flat = load_scenario(BASE, ["macro.gdp_growth_after_data_sd_pct=0"])
    assert for_replicate(flat, inputs, 42).gdp_by_year[2030] == \
        pytest.approx(inputs.gdp_by_year[2030])  # the mean path


def test_a_run_inside_the_gdp_data_has_no_projection():
    sc = load_scenario(BASE, ["run.end=2025-12"])
    inputs = load_inputs(sc)
    assert "projected" not in inputs.gdp_kind.values()
    assert for_replicate(sc, inputs, 7) is inputs


# ------------------------------------------------------------------ demand saturation

def test_saturation_rule_scales_the_excess_over_gdp_growth():
    mean = np.array([7.66, 14.74])
    assert saturation(None, 20) == 1.0 and saturation(10, 0) == 1.0  # unknown S, rule off
    assert saturation(5, 20) == pytest.approx(0.75)
    np.testing.assert_allclose(saturated_mean_pct(mean, 4.0, 1.0), mean)
    np.testing.assert_allclose(saturated_mean_pct(mean, 4.0, 0.0), [4.0, 4.0])
    np.testing.assert_allclose(saturated_mean_pct(mean, 4.0, 0.5), [5.83, 9.37])
    assert saturated_absorption(0.5, 1.0) == 0.5 and saturated_absorption(0.5, 0.0) == 1.0
    assert saturated_mean_pct(mean, 4.0, -0.2)[1] < 4.0  # above K the market lags GDP


@pytest.fixture(scope="module")
def to_2030():
    """Baseline to 2030 at 1,000 agents, with and without the saturation (same seed)."""
    runs = {}
    for k in (20.0, 0.0):
        sc = load_scenario(BASE, [f"production.saturation_share_pct={k}",
                                  "macro.gdp_growth_after_data_sd_pct=0"])
        runs[k] = run_replicate(sc, seed=5, firms=1000, firm_snapshots=False).annual \
            .set_index("year")["core_va_share_gdp_pct"]
    return runs


def test_saturation_slows_growth_past_the_data_only(to_2030):
    on, off = to_2030[20.0], to_2030[0.0]
    # the data years 2020-23 are the same run (observed demand, fitted absorption)
    np.testing.assert_allclose(on.loc[2020:2023], off.loc[2020:2023], rtol=1e-12)
    # from 2024 the share grows more slowly: by 2030 at least 3 pp lower on the internal
    # basis (measured: 11.9 against 16.0 at 1,000 agents, seed 5), and never higher
    assert (on.loc[2024:] < off.loc[2024:]).all()
    assert off[2030] - on[2030] > 3.0
    # size: the share's growth over GDP is scaled by f = 1 - S/K, about 0.5 at S ~ 10%, K 20%
    # (measured 4.7 against 9.1 %/yr over 2025-30)
    ratio = np.log(on[2030] / on[2025]) / np.log(off[2030] / off[2025])
    assert 0.3 < ratio < 0.75


def test_2040_share_stays_below_20_percent():
    sc = load_scenario(BASE, ["run.end=2040-12"])
    annual = run_replicate(sc, seed=42, firms=1000, firm_snapshots=False).annual
    share = annual.set_index("year")["core_va_share_gdp_official_pct"]
    assert share[2040] < 20.0
    assert share[2040] > share[2025]  # still a growing sector, only slower


# ------------------------------------------------------------------ targets in the schema

def bad_targets(tmp_path, body: str):
    path = tmp_path / "t.yaml"
    path.write_text(f"extends: {__import__('pathlib').Path(BASE).resolve()}\nname: t\n"
                    "targets:\n" + body)
    return path


@pytest.mark.parametrize("body, line, key, words", [
    ("  - {indicator: gdp_share, value: 10, year: 2025, source: x}\n", 4, "targets.0.indicator",
     "unknown indicator 'gdp_share'"),
    ("  - {indicator: core_va_share_gdp_official_pct, value: 10, year: 2025}\n", 4, "targets.0",
     "'source' missing"),
    ("  - {indicator: core_va_share_gdp_official_pct, value: 10, year: 2025, source: x}\n"
     "  - {indicator: core_va_share_gdp_official_pct, value: 12, yaer: 2030, source: x}\n", 5,
     "targets.1.yaer", "did you mean 'year'"),
    ("  - {indicator: core_va_share_gdp_official_pct, value: -1, year: 2025, source: x}\n", 4,
     "targets.0.value", "out of range"),
    ("  - {indicator: core_va_share_gdp_official_pct, value: 10, year: 2019, source: x}\n", 4,
     "targets.0.year", "out of range"),
])
def test_target_errors_name_file_line_and_key(tmp_path, body, line, key, words):
    path = bad_targets(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.line == line and err.value.key == key and words in err.value.problem
    assert err.value.file.endswith("t.yaml")


def test_target_error_exits_2_and_writes_nothing(tmp_path):
    path = bad_targets(tmp_path, "  - {indicator: nope, value: 1, year: 2025, source: x}\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(path), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "t.yaml:4: targets.0.indicator" in proc.stderr
    assert not out.exists()


def test_legacy_target_is_first_when_set_and_alone_without_a_list(tmp_path):
    listed = targets.targets_of(load_scenario(BASE))
    assert [(t.indicator, t.value, t.year) for t in listed] == [
        (targets.SHARE, 10.0, 2025), (targets.SHARE, 12.5, 2030), (targets.SOFTWARE, 14000, 2025)]
    explicit = targets.targets_of(load_scenario(BASE, ["target.share_pct=11"]))
    assert [(t.value, t.year) for t in explicit][:2] == [(11.0, 2025), (10.0, 2025)]
    assert len(explicit) == 4
    alone = targets.targets_of(load_scenario(None))
    assert [(t.value, t.year) for t in alone] == [(10.0, 2025)]
    # a listed target after the run's end is reported, not refused; the legacy one is refused
    load_scenario(BASE, ["run.end=2024-12"])
    with pytest.raises(ScenarioError, match="target.year"):
        load_scenario(BASE, ["run.end=2024-12", "target.year=2025"])


# ------------------------------------------------------------------ judging

def annual_of(shares: dict[int, list[float]]) -> pd.DataFrame:
    rows = [{"replicate": r, "year": y, targets.SHARE: v}
            for y, values in shares.items() for r, v in enumerate(values)]
    return pd.DataFrame(rows)


def test_first_year_distribution_sums_to_one_and_counts_never():
    annual = annual_of({2024: [9.0, 10.1, 9.5, 9.0], 2025: [10.2, 10.3, 9.9, 9.0],
                        2026: [10.5, 10.4, 10.0, 9.5]})
    t = targets.Target(targets.SHARE, 10.0, 2025, "test")
    report = targets.judge(annual, t)
    assert report["first_year_reached"] == {"2024": 0.25, "2025": 0.25, "2026": 0.25,
                                            "never": 0.25}
    assert sum(report["first_year_reached"].values()) == pytest.approx(1.0)
    assert report["probability"] == 0.5  # reached in 2025 by replicates 0 and 1
    lo, hi = report["probability_90pct_interval"]
    assert lo < 0.5 < hi and hi - lo > 0.5  # four replicates say little
    late = targets.judge(annual, targets.Target(targets.SHARE, 12.5, 2030, "test"))
    assert late["judged"] is False and late["probability"] is None
    assert late["first_year_reached"] == {"never": 1.0}


# ------------------------------------------------------------------ a run to 2030

def test_run_to_2030_flags_projected_years_and_reports_every_target(tmp_path):
    out = tmp_path / "run"
    subprocess.run([sys.executable, "-m", "sim", "run", BASE, "--firms", "1000", "--replicates",
                    "2", "--out", str(out), "--quiet", "--no-figures"], check=True)
    annual = pd.read_csv(out / "annual.csv")
    assert (annual["projected"] == (annual["year"] > 2025)).all()
    assert annual["software_business_revenue_bn_yuan"].gt(8000).all()
    summary = json.loads((out / "summary.json").read_text())
    assert [t["year"] for t in summary["targets"]] == [2025, 2030, 2025]
    assert summary["target_year"] == 2025  # the 2025 answer stays the headline
    for t in summary["targets"]:
        assert t["judged"] and 0 <= t["probability"] <= 1
        assert sum(t["first_year_reached"].values()) == pytest.approx(1.0)
    notes = " ".join(summary["horizon"])
    assert "2026-2030 projected" in notes and "through 2023" in notes
    assert "2026-01-15" in notes and "`grade` D" in notes and len(summary["horizon"]) == 4


def test_a_run_inside_every_horizon_has_no_notes():
    sc = load_scenario(BASE, ["run.end=2023-12", "calibration.last_fitted_year=2023"])
    assert targets.horizon_notes(sc, load_inputs(sc)) == []


def test_the_printed_table_gives_each_horizon_note_once_and_the_files_written(tmp_path, capsys):
    from sim.cli import main
    out = tmp_path / "run"
    assert main(["run", BASE, "--firms", "400", "--set", "run.end=2026-12", "--out", str(out),
                 "--no-figures"]) == 0
    printed = capsys.readouterr().out
    notes = json.loads((out / "summary.json").read_text())["horizon"]
    assert len(notes) == 4  # past the GDP data, the observed series, the fit and the rule table
    for note in notes:
        assert printed.count(note) == 1 and f"  horizon: {note}\n" in printed
    # the outputs line names what is there: no firms.csv without --firm-snapshots, no figures/
    listed = next(line for line in printed.splitlines() if line.startswith("  outputs: "))
    assert "annual.csv" in listed and "summary.json" in listed
    assert "firms.csv" not in listed.replace("named_firms.csv", "") and "figures/" not in listed
    assert not (out / "firms.csv").exists()
