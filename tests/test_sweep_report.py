"""`clustersim report`: the analysis is checked on sweeps whose answer is known (outputs made
from a formula), then once on a small Morris sweep of the model itself."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.sweep import store as st
from sim.sweep.designs import build_design, run_seed
from sim.sweep.experiment import load_experiment
from sim.sweep.report import wilson
from sim.sweep.jobs import run_id
from sim.sweep.manifest import prepare

BASE = Path("scenarios/baseline.yaml").resolve()
HEAD = f"""scenario: {BASE}
fixed: {{run.firms: 300, run.end: 2021-12, target.year: 2021, target.share_pct: 10}}
"""
KEYS = ("innovation.zeta", "spillover.strength", "agglomeration.elasticity")


def fake_sweep(tmp_path, body: str, share2021, replicates=1, noise=0.0) -> Path:
    """A sweep directory whose 2021 share is share2021(values) (+ seed noise), no model runs."""
    path = tmp_path / "exp.yaml"
    path.write_text(HEAD + body + f"replicates: {replicates}\n")
    exp = load_experiment(path)
    design = build_design(exp)
    out = tmp_path / "out"
    prepare(exp, design, out, False, "synthetic", [])
    store = st.Store(out, exp).open()
    rng = np.random.default_rng(0)
    for point, values in enumerate(design.points):
        for r in range(exp.replicates):
            seed = run_seed(exp.seed, point, r)
            y = share2021(values) + noise * rng.standard_normal()
            row = {"run_id": run_id(point, seed), "point": point, "replicate": r, "seed": seed,
                   "status": "ok", "error": None, **values, "share_2020_pct": 7.8,
                   "share_2021_pct": y, "target_hit": bool(y >= 10),
                   "first_year_hit": 2021 if y >= 10 else None}
            row.update({m: 1.0 for m in exp.metrics})
            store.add(row)
    store.close()
    return out


def test_sobol_indices_recover_a_known_variance_split(tmp_path):
    # y = 10 + 4 a + 2 b (a, b, c uniform on [0, 1]): S1 = 16/20, 4/20, 0 and ST = S1
    ranges = "".join(f"  {k}: {{min: 0.1, max: 0.2}}\n" for k in KEYS)
    out = fake_sweep(tmp_path, f"design: sobol\nsamples: 256\nsecond_order: false\n"
                     f"parameters:\n{ranges}",
                     lambda v: 10 + 40 * (v[KEYS[0]] - 0.15) + 20 * (v[KEYS[1]] - 0.15))
    assert main(["report", str(out), "--quiet"]) == 0
    s = pd.read_csv(out / "report" / "sobol_share_2021_pct.csv").set_index("parameter")
    assert s.loc[KEYS[0], "S1"] == pytest.approx(0.8, abs=0.05)
    assert s.loc[KEYS[1], "S1"] == pytest.approx(0.2, abs=0.05)
    assert abs(s.loc[KEYS[2], "ST"]) < 0.02
    assert (s.loc[list(KEYS[:2]), ["S1_conf95", "ST_conf95"]] > 0).all().all()
    assert list(s.index) == list(KEYS)  # ranked by ST
    assert (out / "report" / "sobol_share_2021_pct.png").stat().st_size > 10_000


def test_morris_ranks_parameters_by_their_effect_over_seeds(tmp_path):
    # y = 10 + 30 (a - .15) + 5 (b - .15), c inert; seed noise averages out over 4 seeds
    ranges = "".join(f"  {k}: {{min: 0.1, max: 0.2}}\n" for k in KEYS)
    out = fake_sweep(tmp_path, f"design: morris\nsamples: 12\nparameters:\n{ranges}",
                     lambda v: 10 + 30 * (v[KEYS[0]] - 0.15) + 5 * (v[KEYS[1]] - 0.15),
                     replicates=4, noise=0.01)
    assert main(["report", str(out), "--quiet"]) == 0
    m = pd.read_csv(out / "report" / "morris_share_2021_pct.csv").set_index("parameter")
    # an elementary effect is scaled to the whole range (0.1 here)
    assert m.loc[KEYS[0], "mu_star"] == pytest.approx(30 * 0.1, rel=0.02)
    assert m.loc[KEYS[1], "mu_star"] == pytest.approx(5 * 0.1, rel=0.05)
    assert m.loc[KEYS[2], "mu_star"] < 0.02
    assert list(m.index) == list(KEYS)


def test_grid_report_probabilities_heatmap_and_links(tmp_path):
    out = fake_sweep(tmp_path, "design: grid\nparameters:\n"
                     "  export_controls.severity: [0.0, 0.5, 1.0]\n"
                     "  policy.rd_subsidy_pct: [10, 30]\n",
                     lambda v: 10.4 - v["export_controls.severity"] + 0.01 *
                     v["policy.rd_subsidy_pct"], replicates=20, noise=0.3)
    assert main(["report", str(out), "--quiet"]) == 0
    rep = out / "report"
    runs = st.read_runs(out)
    t = pd.read_csv(rep / "p_hit_by_export_controls_severity.csv")
    direct = runs.groupby("export_controls.severity")["target_hit"].mean()
    assert np.allclose(t["p_hit"], direct.to_numpy(), atol=1e-6)
    assert t["p_hit"].is_monotonic_decreasing and t["p_hit"].iloc[0] > 0.8
    assert (t["p_hit_low95"] <= t["p_hit"]).all() and (t["p_hit"] <= t["p_hit_high95"]).all()
    heat = pd.read_csv(rep / "p_hit_heatmap.csv")
    assert len(heat) == 6 and (heat["runs"] == 20).all()
    best = pd.read_csv(rep / "best_points.csv")
    assert best.iloc[0]["export_controls.severity"] == 0.0
    assert best.iloc[0]["policy.rd_subsidy_pct"] == 30
    md = (rep / "report.md").read_text()
    links = re.findall(r"\]\(([^)]+)\)", md)
    assert {"p_hit_heatmap.png", "fan_share.png", "p_hit_by_parameter.png"} <= set(links)
    for link in links:
        if not link.startswith(".."):
            assert (rep / link).exists(), link
    assert not list(out.glob(".report*"))


def test_wilson_interval():
    lo, hi = wilson(0, 10)
    assert lo == 0 and hi == pytest.approx(0.2775, abs=1e-3)  # Wilson (1927) for 0 of 10
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-3) and hi == pytest.approx(0.7634, abs=1e-3)


def test_report_of_an_empty_or_foreign_directory_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a sweep directory" in capsys.readouterr().err


def test_morris_sweep_of_the_model_ranks_sector_growth_above_designation(tmp_path):
    """The whole chain on the model: sector-03 demand growth moves the share far more than the
    attractiveness boost of designated clusters (tiny runs, common seeds). 2021-23 demand is
    the observed market growth, so the trend acts from 2024: the runs go to 2025."""
    exp = tmp_path / "morris.yaml"
    # 1,000 agents and two seeds: at 300 agents a single seed can turn the effect around
    exp.write_text(f"scenario: {BASE}\nfixed: {{run.firms: 1000, run.end: 2025-12, "
                   "target.year: 2025}\ndesign: morris\nsamples: 4\nseeds: common\n"
                   "parameters:\n  production.trend_growth_pct.03: {min: 5, max: 20}\n"
                   "  policy.designation_boost: {min: 0, max: 0.6}\nreplicates: 2\n")
    out = tmp_path / "out"
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    assert main(["report", str(out), "--quiet"]) == 0
    m = pd.read_csv(out / "report" / "morris_share_2025_pct.csv").set_index("parameter")
    growth, boost = m.loc["production.trend_growth_pct.03"], m.loc["policy.designation_boost"]
    # faster software demand in 2024-25 raises the 2025 share (pp over the range): sector 03
    # is about 45% of core VA, and (1.20 / 1.05)^2 more demand for it, passed to labour input
    # net of rho, is of the order of 1 pp
    assert growth["mu"] > 0.5
    assert growth["mu_star"] > 10 * boost["mu_star"]
