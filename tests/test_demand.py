"""Sector demand (sim/mechanisms/demand.py): labour input grows with demand net of the absorbed
share of productivity growth, and that share decides how much a productivity mechanism adds."""

from pathlib import Path

import numpy as np
import pytest

from sim.mechanisms import demand
from sim.runner import build_model
from sim.scenario import load_scenario

BASE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"


def test_labour_trend_nets_out_the_absorbed_productivity_gain():
    g = np.array([0.12, 0.05])
    dlog_y = np.array([0.01, 0.002])
    assert demand.labour_trend(g, dlog_y, 0.0) == pytest.approx(np.log1p(g) / 12)
    # rho = 1: labour growth + productivity growth = demand growth, whatever the gain
    assert demand.labour_trend(g, dlog_y, 1.0) + dlog_y == pytest.approx(np.log1p(g) / 12)
    assert demand.labour_trend(g, dlog_y, 0.5) == pytest.approx(np.log1p(g) / 12 - dlog_y / 2)


def test_yearly_growth_is_mean_plus_sd_times_z_and_floored():
    assert demand.yearly_growth([10.0, 5.0], [2.0, 1.0], np.array([1.0, -2.0])) == \
        pytest.approx([0.12, 0.03])
    assert demand.yearly_growth([0.0], [50.0], np.array([-5.0]))[0] == -0.9


def _core_va_2021(overrides):
    config = load_scenario(BASE, ["run.end=2021-12", "target.year=2021", "export_controls.enabled=false"] + overrides)
    config.set("run.firms", 1000)
    config.validate()
    model = build_model(config, seed=3)
    model.run()
    df = model.datacollector.get_model_vars_dataframe()
    return df[df["date"].str.startswith("2021")]["core_va_bn_yuan"].sum()


@pytest.mark.parametrize("rho", [0.0, 1.0])
def test_absorption_decides_what_innovation_adds(rho):
    """Doubling the innovation rate raises 2021 core VA by a few percent when demand absorbs
    nothing, and by much less when demand absorbs every productivity gain."""
    sets = [f"production.demand_absorption={rho}"] + [
        f"production.demand_sd_pct.{c}=0" for c in ("01", "02", "03", "04")]
    gain = _core_va_2021(sets + ["innovation.zeta=0.8"]) / _core_va_2021(sets) - 1
    if rho == 0.0:
        assert gain > 0.01
    else:
        assert abs(gain) < 0.01


def test_demand_sd_spreads_outcomes_on_its_own_stream():
    """sd 0 vs the default: other draws unchanged (own stream), the sector paths differ
    (2021 is drawn here: with observed years on, 2021 is data and the sd does not touch it)."""
    zero = [f"production.demand_sd_pct.{c}=0" for c in ("01", "02", "03", "04")]
    drawn = ["production.demand_observed_years=false"]
    assert _core_va_2021(zero + drawn) != _core_va_2021(drawn)
    assert _core_va_2021(zero) == _core_va_2021([])


def test_decompose_writes_a_row_per_mechanism_and_its_delta(tmp_path):
    from sim import cli
    assert cli.main(["decompose", str(BASE), "--firms", "1000", "--replicates", "1",
                     "--set", "run.end=2021-12", "--set", "target.year=2021", "--only", "innovation", "--quiet",
                     "--out", str(tmp_path)]) == 0
    import pandas as pd
    df = pd.read_csv(tmp_path / "decomposition.csv")
    assert list(df["mechanism"]) == ["none", "innovation", "observed"]
    assert df["cluster_growth_sd_pp"].iloc[:2].isna().all()  # the run ends before 2023
    assert df.loc[1, "switched_off_by"] == "innovation.zeta=0"
    # delta is scenario minus switched off (its sign at 1,000 agents and one year is noise;
    # the sizes are in docs/decomposition.md at 10,000 agents x 3 seeds)
    assert df.loc[1, "delta_pp"] == pytest.approx(df.loc[0, "share_2025_pct"]
                                                  - df.loc[1, "share_2025_pct"], abs=1e-4)
    assert df.loc[0, "share_2025_pct"] != df.loc[1, "share_2025_pct"]


def test_decompose_refuses_an_unknown_mechanism(tmp_path, capsys):
    from sim import cli
    assert cli.main(["decompose", str(BASE), "--only", "magic", "--out", str(tmp_path)]) == 2
    assert "magic" in capsys.readouterr().err


def test_observed_years_take_the_published_growth_and_later_years_draw():
    from sim.mechanisms.demand import observed_growth
    from sim.runner import build_model
    from sim.scenario import load_scenario
    obs = observed_growth(["01", "02", "03", "04"])
    assert sorted(obs) == [2021, 2022, 2023]
    assert obs[2023][0] == pytest.approx(15.1 / 15.4 - 1, abs=1e-4)      # EIM levels
    assert obs[2022][2] == pytest.approx(10.81 / 9.4994 - 1, abs=1e-4)   # software levels
    growth = {}
    for seed in (1, 2):
        m = build_model(load_scenario("scenarios/baseline.yaml"), seed=seed, firms=500)
        by_year = {}
        while m.month < 12 * 2025 + 1:
            m.step()
            by_year[m.month // 12] = m.demand_growth.copy()
        growth[seed] = by_year
    for year in (2021, 2022, 2023):  # data: the same whatever the seed
        assert growth[1][year] == pytest.approx(obs[year])
        assert growth[1][year] == pytest.approx(growth[2][year])
    assert not np.allclose(growth[1][2025], growth[2][2025])  # after the data: draws


def test_validation_report_shows_each_mechanisms_contribution_to_growth():
    """docs/validation.md's decomposition table carries the log-growth contribution the issue
    asks for (it was dropped under a misspelt column name) and the cluster cross-section."""
    import pandas as pd
    from types import SimpleNamespace
    from sim.validation.report import _decomposition_section
    d = pd.read_csv(BASE.parent.parent / "docs" / "decomposition.csv")
    text = "\n".join(_decomposition_section(SimpleNamespace(decomposition=d)))
    header = next(line for line in text.splitlines() if line.startswith("| mechanism"))
    assert "contribution_log_growth" in header and "cluster_growth_slope_pp" in header
    assert "nan" not in text
    innovation = next(line for line in text.splitlines() if line.startswith("| innovation |"))
    cells = [c.strip() for c in innovation.strip("|").split("|")]
    assert float(cells[5]) == pytest.approx(d.set_index("mechanism").loc["innovation",
                                                                         "contribution_log_growth"],
                                            abs=5e-4)
