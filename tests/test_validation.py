"""validate-model: the estimators recover known answers, the model's mechanisms show up in its
simulated firms as set, and the report is complete and reproducible."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.scenario import load_scenario
from sim.validation import experiments as ex
from sim.validation import report
from sim.validation import stylised as st

BASE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"


# --------------------------------------------------------------------------- estimators

def test_pareto_tail_recovers_the_exponent_and_respects_weights():
    rng = np.random.default_rng(1)
    body = rng.lognormal(0, 0.5, 4000)                   # not a power law
    tail = 3 * (1 - rng.random(1500)) ** (-1 / 1.2)      # Pareto, alpha 1.2, above 3
    sizes = np.concatenate([body[body < 3], tail])
    fit = st.pareto_tail(sizes, rng=np.random.default_rng(2))
    assert fit.ci_low < 1.2 < fit.ci_high and abs(fit.alpha - 1.2) < 0.12
    assert fit.xmin > 1.0  # the lognormal body is left out
    # a weight of k is k identical firms
    small = tail[:300]
    w = rng.integers(1, 4, len(small)).astype(float)
    assert st.hill(small, w, 3.0) == pytest.approx(st.hill(np.repeat(small, w.astype(int)),
                                                           np.ones(int(w.sum())), 3.0))


def test_growth_shape_tells_laplace_from_gaussian():
    rng = np.random.default_rng(3)
    lap = st.growth_shape(rng.laplace(0, 0.1, 5000))
    gau = st.growth_shape(rng.normal(0, 0.1, 5000))
    assert lap["better_fit"] == "Laplace" and abs(lap["subbotin_shape"] - 1) < 0.15
    assert gau["better_fit"] == "Gaussian" and abs(gau["subbotin_shape"] - 2) < 0.3
    assert lap["excess_kurtosis"] > 2 > abs(gau["excess_kurtosis"])


def test_volatility_size_recovers_beta():
    rng = np.random.default_rng(4)
    log_size = rng.normal(0, 2, 30000)
    growth = 0.2 * np.exp(-0.18 * log_size) * rng.normal(size=30000)
    fit = st.volatility_size(log_size, growth)
    assert fit["beta"] == pytest.approx(0.18, abs=0.02)


def test_agglomeration_regression_recovers_a_known_elasticity():
    rng = np.random.default_rng(5)
    regions = [f"r{i}" for i in range(20)]
    area = {r: float(a) for r, a in zip(regions, rng.uniform(100, 5000, 20))}
    rows = []
    for rep in (0, 1):
        for r in regions:
            emp = rng.uniform(50, 500, 40)
            jobs = emp.sum() * 10
            dens = jobs / area[r]
            for sector, level in (("a", 100.0), ("b", 300.0)):
                prod = level * dens**0.15 * rng.lognormal(0, 0.3, 40)
                rows.append(pd.DataFrame({"replicate": rep, "year": 2025, "region": r,
                                          "sector": sector, "weight": 5.0, "employment": emp,
                                          "productivity": prod}))
    firms = pd.concat(rows, ignore_index=True)
    fit = st.agglomeration_premium(firms, area)
    assert fit["elasticity"] == pytest.approx(0.15, abs=0.03) and fit["clusters"] == 20


# --------------------------------------------------------------------------- the model

@pytest.fixture(scope="module")
def results():
    config = load_scenario(BASE)
    cf = config.copy()
    cf.set("export_controls.enabled", False)
    cf.validate()
    return report.run(config, cf, 3000, [5, 6], progress=lambda *a: None)


def test_agglomeration_premium_lands_near_the_set_elasticity(results):
    eps = results.config["agglomeration.elasticity"]
    p = results.premium.set_index(["arm", "year"])["elasticity"]
    arms = list(dict.fromkeys(results.premium["arm"]))
    scenario, no_congestion, off = arms
    assert abs(p[(scenario, 2020)] - eps) < 0.025          # measured 0.109 for 0.12
    assert abs(p[(no_congestion, 2020)] - eps) < 0.02
    assert abs(p[(off, 2020)]) < 0.01 and abs(p[(off, 2025)]) < 0.02   # no spurious premium
    assert p[(scenario, 2025)] > 0.5 * eps
    # congestion lowers the local elasticity most where density is highest
    le = results.local_elasticity.sort_values("density")
    assert le["local_elasticity"].iloc[-1] < le["local_elasticity"].iloc[0] <= eps


def test_spillovers_decay_with_distance_at_about_the_set_length(results):
    # without platform links the estimator recovers the set decay length ...
    config = load_scenario(BASE, ["platform.reach=0"])
    sp0 = ex.spillover_decay(config, 5, 1500)
    assert sp0["decay_km_ci"][0] < sp0["set_decay_km"] < sp0["decay_km_ci"][1]
    # ... and platform links, distance-free, make the measured decay longer
    sp = results.spill
    assert sp["decay_km"] > sp0["decay_km"]
    b = sp["by_region"]
    near, far = b[b["distance_km"] < 500], b[b["distance_km"] > 1500]
    assert near["pool_change"].min() > far["pool_change"].max()


def test_longer_decay_distance_is_measured_as_longer():
    config = load_scenario(BASE, ["platform.reach=0"])  # the distance-dependent links alone
    longer = config.copy()
    longer.set("spillover.decay_km", 1200.0)
    longer.validate()
    a = ex.spillover_decay(config, 5, 1500)["decay_km"]
    b = ex.spillover_decay(longer, 5, 1500)["decay_km"]
    assert b > 1.5 * a


@pytest.mark.xfail(strict=True, reason='the control loss is about zero at the fitted baseline, so no cluster stands out (docs/validation.md; issue 11, open)')
def test_shock_split_adds_up_and_names_the_chip_dependent_clusters(results):
    assert results.reporter_gap < 1e-6  # per-cluster direct losses add up to the reporter
    s = results.shock
    nat = s[s["year"] == 2024].groupby("replicate")[["total_loss", "direct_loss"]].sum()
    assert (nat["total_loss"] > 0).all() and (nat["direct_loss"] > 0).all()
    # before the 2022 rules only the Entity-List firms are capped: direct losses are small
    early = s[s["year"] == 2021]["direct_loss"].sum() / s[s["year"] == 2024]["direct_loss"].sum()
    assert early < 0.5
    # the share of value added lost directly is larger in Shenzhen (phones, servers, Huawei)
    # than in a software-heavy cluster
    last = s[s["year"] == 2024].groupby("region")[["direct_loss", "va_no_controls"]].sum()
    rate = last["direct_loss"] / last["va_no_controls"]
    assert rate["shenzhen"] > rate["nanjing"]


@pytest.mark.xfail(strict=True, reason='the volatility-size beta fell to 0.13 with demand-driven growth (OUTSIDE in docs/validation.md; issue 11, open)')
def test_firm_statistics_are_measured_on_real_firms(results):
    t = results.tail[(2025, "value_added_bn_yuan")]
    assert t.ci_low < t.alpha < t.ci_high and t.tail_agents >= 50
    g = results.growth["employment"]
    assert g["n"] > 5000
    # the model scales shocks by size^-0.18 within the sub-sector; the estimator sees it
    assert results.volatility["employment/within"]["beta"] == pytest.approx(
        results.config["production.shock_size_exponent"], abs=0.04)


# --------------------------------------------------------------------------- the command

def test_validate_model_writes_a_complete_reproducible_report(tmp_path):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name / "validation.md"
        out.parent.mkdir()
        assert main(["validate-model", str(BASE), "--firms", "800", "--replicates", "2",
                     "--out", str(out), "--quiet"]) == 0
        outs.append(out)
    a, b = outs
    text = a.read_text()
    for section in ("## Summary", "## 1. Firm-size upper tail", "## 2. Firm growth rates",
                    "## 3. Agglomeration premium", "## 4. Spillover decay with distance",
                    "## 5. Shock response: direct and indirect losses"):
        assert section in text
    figs = sorted((a.parent / "figures" / "validation").glob("*.png"))
    assert [f.stem for f in figs] == ["agglomeration_premium", "growth_distribution",
                                      "shock_split", "size_tail", "spillover_decay",
                                      "volatility_size"]
    for f in figs:
        assert f"figures/validation/{f.name}" in text and f.stat().st_size > 10_000
        assert f.read_bytes() == (b.parent / "figures" / "validation" / f.name).read_bytes()
    assert text == b.read_text()
    assert not list(a.parent.glob(".*"))  # no temporary files left


def test_validate_model_rejects_bad_input_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "v.md"
    assert main(["validate-model", str(BASE), "--replicates", "1", "--out", str(out)]) == 2
    assert main(["validate-model", str(BASE), "--set", "agglomeration.elastcity=0.1",
                 "--out", str(out)]) == 2
    assert "did you mean 'agglomeration.elasticity'" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_validate_model_leaves_a_figure_folder_it_did_not_write(tmp_path, capsys):
    figs = tmp_path / "figs"
    figs.mkdir()
    (figs / "notes.txt").write_text("mine")
    out = tmp_path / "v.md"
    assert main(["validate-model", str(BASE), "--out", str(out), "--figures", str(figs)]) == 2
    assert "notes.txt, which validate-model does not write" in capsys.readouterr().err
    assert (figs / "notes.txt").read_text() == "mine" and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figs"]


def test_committed_report_is_from_the_default_command():
    text = (BASE.parent.parent / "docs" / "validation.md").read_text()
    assert text.startswith("# Validation report")
    assert "Generated by `clustersim validate-model" in text
