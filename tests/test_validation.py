"""validate-model: the estimators recover known answers, the model's mechanisms show up in its
simulated firms as set, and the report is complete and reproducible."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.inputs import load_inputs
from sim.runner import build_model
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
    # through 2025, the year these checks read (the shipped scenario runs on to 2030)
    config = load_scenario(BASE, ["run.end=2025-12"])
    cf = config.copy()
    cf.set("export_controls.enabled", False)
    cf.name = "no_export_controls"  # as validate-model names it: the report tells the two apart
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


def _far_over_near(by_region):
    """Median pool change of clusters beyond 1,500 km over those within 500 km of the source."""
    d = by_region["distance_km"]
    return (by_region.loc[d > 1500, "pool_change"].median()
            / by_region.loc[d < 500, "pool_change"].median())


def _link_weight_ratio(config, source):
    """The same ratio of the link weights w'(d) = (1 - pi) exp(-d / delta) + pi the model uses
    in the month spillover_decay steps (platform.py): what the pool change should follow."""
    m = build_model(config, seed=5, firms=300)
    m.step()
    src = list(m.region_ids).index(source)
    w, d = m.w_region[:, src], m.inputs.dist_km[src]
    return np.median(w[d > 1500]) / np.median(w[(d > 0) & (d < 500)])


def test_spillovers_decay_with_distance_at_about_the_set_length(results):
    # without platform links the estimator recovers the set decay length, and every near
    # cluster gains more than any far one ...
    config = load_scenario(BASE, ["platform.reach=0"])
    sp0 = ex.spillover_decay(config, 5, 1500)
    assert sp0["decay_km_ci"][0] < sp0["set_decay_km"] < sp0["decay_km_ci"][1]
    b = sp0["by_region"]
    near, far = b[b["distance_km"] < 500], b[b["distance_km"] > 1500]
    assert near["pool_change"].min() > far["pool_change"].max()
    # ... platform links, distance-free, make the measured decay longer ...
    sp = results.spill
    assert sp["decay_km"] > sp0["decay_km"]
    # ... and in both, far clusters get the share of the shock their link weights give them:
    # about 6% of a near cluster's gain by distance alone, about 75% with reach 0.70 (measured
    # 0.82-1.10 times the weight ratio at reach 0, 0.3 and 0.70, seeds 5-7, 1,500-3,000 agents;
    # the rest is each cluster's own pool size)
    for cfg, s in ((config, sp0), (results.config, sp)):
        assert _far_over_near(s["by_region"]) == pytest.approx(
            _link_weight_ratio(cfg, s["source"]), rel=0.25)
    assert _far_over_near(sp["by_region"]) > 5 * _far_over_near(b)


def test_longer_decay_distance_is_measured_as_longer():
    config = load_scenario(BASE, ["platform.reach=0"])  # the distance-dependent links alone
    longer = config.copy()
    longer.set("spillover.decay_km", 1200.0)
    longer.validate()
    a = ex.spillover_decay(config, 5, 1500)["decay_km"]
    b = ex.spillover_decay(longer, 5, 1500)["decay_km"]
    assert b > 1.5 * a


@pytest.fixture(scope="module")
def escalation():
    """The severe scenario (full embargo from 2023, allies joining) and the same without
    controls, to 2024: at the fitted baseline the control loss is near zero (docs/validation.md),
    so the split is read where it is measurable."""
    config = load_scenario(BASE.parent / "escalation.yaml", ["run.end=2024-12", "target.year=2024"])
    free = config.copy()
    free.set("export_controls.enabled", False)
    free.validate()
    base, cf = (ex.run_replicates(c, [5, 6], 3000) for c in (config, free))
    return config, base, cf, ex.shock_split(base, cf)


def test_shock_split_adds_up_and_names_the_chip_dependent_clusters(results, escalation):
    """Direct loss is now the current output an Entity-List firm loses once its chip stockpile
    is empty; the capacity-growth channel lands in the indirect part. By cluster that channel
    is 1-2% of value added in 2024, within the paired-run noise at 3,000 agents (about +-5% per
    cluster), so clusters are named by the direct loss and the capacity channel is read on the
    sub-sector it shows most clearly in."""
    assert results.reporter_gap < 1e-6  # per-cluster direct losses add up to the reporter
    config, base, cf, s = escalation
    nat = base.losses.groupby(["replicate", "date"]).agg(
        direct=("direct_loss", "sum"), reporter=("national_direct_reporter", "first"))
    assert np.max(np.abs(nat["direct"] - nat["reporter"])) < 1e-6
    # the clusters that lose output directly are those hosting a named firm on the Entity List
    # (named_firms.csv, the list additions in the rule table), with Shenzhen (Huawei) among them
    inputs = load_inputs(config)
    listed = {f for ev in inputs.events if ev.date <= "2024-12" for f in ev.entity_list_add}
    named = inputs.named_firms
    hosts = set(named.loc[named["firm_id"].isin(listed), "region_id"])
    last = s[s["year"] == 2024].groupby("region")[["direct_loss", "va_no_controls"]].sum()
    hit = set(last.index[last["direct_loss"] > 0])
    assert {"shenzhen", "hefei", "shanghai"} <= hit <= hosts and "nanjing" not in hosts
    rate = last["direct_loss"] / last["va_no_controls"]
    assert rate["shenzhen"] > 0.02 and rate["nanjing"] == 0  # measured 3.9%
    # Huawei loses current output from the 2020 foreign-direct-product rules on (2021: -28.6%)
    shenzhen = s[s["region"] == "shenzhen"].groupby(["replicate", "year"])["direct_loss"].sum()
    assert (shenzhen.xs(2021, level="year") > 0).all()
    # the import gap shifts demand to domestic chip makers: 01_ic, with the highest equipment
    # dependence (sectors.csv), gains value added from the controls in every replicate
    # (measured +14%; SMIC's revenue grew from 3.9 to 7.27 bn USD over 2020-22)
    def ic_va(rep):
        f = rep.firms[(rep.firms["year"] == 2024) & (rep.firms["sector"] == "01_ic")]
        return (f["weight"] * f["value_added_bn_yuan"]).groupby(f["replicate"]).sum()
    assert (ic_va(base) > 1.05 * ic_va(cf)).all()


def _within_beta(firms):
    """beta of employment growth on size within sub-sector x year, as the report measures it."""
    g = st.growth_rates(firms, "employment")
    within = g["log_size"] - g.groupby(["replicate", "year", "sector"])["log_size"].transform("median")
    return st.volatility_size(within, g["growth"])


def test_firm_statistics_are_measured_on_real_firms(results):
    t = results.tail[(2025, "value_added_bn_yuan")]
    assert t.ci_low < t.alpha < t.ci_high and t.tail_agents >= 50
    g = results.growth["employment"]
    assert g["n"] > 5000
    # the model scales shocks by size^-0.18 within the sub-sector; with the size-free sources
    # of firm growth switched off (innovation jumps, imitation, selection) the estimator sees
    # the set exponent (measured 0.178, se 0.010, seed 5) ...
    quiet = load_scenario(BASE, ["run.end=2022-12", "target.year=2022", "innovation.zeta=0",
                                 "innovation.imitation_zeta=0", "innovation.selection=0"])
    alone = _within_beta(ex.run_replicates(quiet, [5], 3000).firms)["beta"]
    assert alone == pytest.approx(results.config["production.shock_size_exponent"], abs=0.03)
    # ... and in the scenario, at the refitted values (selection 0.0013, near off), the
    # size-free sources move it little at this size (0.185 vs 0.177, 3,000 agents, seeds 5-6;
    # 0.12-0.13 at 10,000 agents in docs/validation.md): still the set slope's order, well
    # above zero. How it compares with the published 0.15-0.2 is a finding the report states
    # (next test), not a property of the estimator.
    scenario = results.volatility["employment/within"]
    assert 5 * scenario["se"] < scenario["beta"] < alone + 0.05


def test_report_states_the_volatility_slope_against_the_published_range(results):
    files = {name: f"figures/validation/{name}.png" for name in
             ("agglomeration_premium", "growth_distribution", "shock_split", "size_tail",
              "spillover_decay", "volatility_size")}
    text = report.markdown(results, files, "clustersim validate-model")
    row = next(line for line in text.splitlines() if line.startswith("| volatility-size slope"))
    betas = [results.volatility[m]["beta"] for m in ("value_added_bn_yuan", "employment")]
    lo, hi = report.BETA_RANGE
    verdicts = ["inside" if lo <= b <= hi else "OUTSIDE" for b in betas]
    assert row == (f"| volatility-size slope beta, value added / employment | {betas[0]:.3f} / "
                   f"{betas[1]:.3f} | {lo}-{hi} | {verdicts[0]} / {verdicts[1]} |")
    assert (lo, hi) == (0.15, 0.2)  # Stanley et al. 1996


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


# --------------------------------------------------------------------------- the back-test

def test_report_prints_the_backtest_section_after_the_decomposition(results, tmp_path):
    """--backtest FILE: the '## Back-test' section of `clustersim backtest`'s report (what comes
    before its heading, like docs/backtest.md's preface, is left out) is printed whole, before
    the stylised facts, with where to read it."""
    import dataclasses

    bt = tmp_path / "backtest.md"
    bt.write_text("# preface, not printed: it names the ## Back-test heading\n\n"
                  "## Back-test: fit through 2022, predict 2023 and later\n\n"
                  "| held-out series | in 50% | in 90% |\n|---|---|---|\n"
                  "| observed:x:2023:all | yes | NO |\n\nCoverage: 1 of 1.\n\n")
    section = report.backtest_section(bt.read_text(), str(bt))
    assert section.startswith("## Back-test: fit through 2022") and section.endswith("1 of 1.")
    files = {name: f"figures/validation/{name}.png" for name in
             ("agglomeration_premium", "growth_distribution", "shock_split", "size_tail",
              "spillover_decay", "volatility_size")}
    text = report.markdown(dataclasses.replace(results, backtest=section), files,
                           "clustersim validate-model --backtest backtest.md")
    assert "preface, not printed" not in text
    assert text.index(section) < text.index("## 1. Firm-size upper tail")
    assert "docs/backtest.md" in text[text.index(section):text.index("## 1. Firm-size")]
    # without --backtest there is no such section
    assert "## Back-test" not in report.markdown(results, files, "clustersim validate-model")


def test_a_backtest_file_without_the_section_is_refused_before_any_run(tmp_path, capsys):
    bt = tmp_path / "notes.md"
    bt.write_text("# some other page\n")
    out = tmp_path / "v.md"
    for given in (bt, tmp_path / "missing.md"):
        assert main(["validate-model", str(BASE), "--out", str(out), "--backtest",
                     str(given)]) == 2
        assert f"--backtest {given}" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.md"]


def test_committed_report_has_the_committed_backtest():
    """docs/validation.md prints the back-test of docs/backtest.md as it stands (fit through
    2022, 50% and 90% coverage of each held-out 2023 series), and says it was made so."""
    docs = BASE.parent.parent / "docs"
    text = (docs / "validation.md").read_text()
    section = report.backtest_section((docs / "backtest.md").read_text(), "docs/backtest.md")
    assert section in text and "--backtest docs/backtest.md" in text.splitlines()[2]
    assert "## Back-test: fit through 2022, predict 2023" in section
    assert "in 50% | in 90%" in section
