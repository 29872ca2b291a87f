"""The browser page's model (sim/viz/model.py): inputs as typed, sliders, history; no browser."""

import inspect
from pathlib import Path

import numpy as np
import pytest
from mesa.visualization import Slider
from mesa.visualization import solara_viz

from sim.mechanisms import export_controls
from sim.registry import TIERS
from sim.scenario import ScenarioError, load_scenario
from sim.viz.model import (SCENARIO_DIR, SLIDERS, VizModel, build_config, check_scenarios,
                           coerce_seed, scenario_files)

FIRMS = 600


def test_typed_seed_becomes_an_integer():
    # Mesa's seed box passes what was typed as text (Mesa issue 3516)
    assert coerce_seed("42", default=1) == 42
    assert coerce_seed(" 7 ", default=1) == 7
    assert coerce_seed("3.0", default=1) == 3
    assert coerce_seed(12, default=1) == 12
    assert coerce_seed("", default=99) == 99
    assert coerce_seed(None, default=99) == 99
    # any other text gives a stable non-negative integer of its own
    word = coerce_seed("tariff", default=1)
    assert isinstance(word, int) and word >= 0
    assert coerce_seed("tariff", default=1) == word != coerce_seed("tariffs", default=1)
    assert coerce_seed("-5", default=1) >= 0
    with pytest.raises(TypeError):
        coerce_seed(True, default=1)


def test_a_typed_seed_runs_the_same_model_as_the_number():
    as_text, as_int = VizModel(seed="11", firms=FIRMS), VizModel(seed=11, firms=FIRMS)
    other = VizModel(seed="12", firms=FIRMS)
    for m in (as_text, as_int, other):
        for _ in range(3):
            m.step()
    assert as_text.seed == 11
    assert as_text.history.share_pct == as_int.history.share_pct
    assert as_text.history.share_pct != other.history.share_pct


def test_scenario_picker_lists_every_scenario_file(tmp_path):
    files = scenario_files()
    on_disk = sorted(p.name for p in SCENARIO_DIR.iterdir() if p.suffix in (".yaml", ".yml"))
    assert sorted(files) == on_disk and "baseline.yaml" in files
    assert all(p.is_absolute() and p.exists() for p in files.values())
    # the file `clustersim viz` was started with is listed even when it lies elsewhere
    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: " + str(SCENARIO_DIR / "baseline.yaml") + "\nname: mine\n")
    assert scenario_files(extra=mine)[str(mine.resolve())] == mine.resolve()
    assert VizModel(scenario_file=str(mine), firms=FIRMS).config.name == "mine"


def test_a_scenario_file_that_does_not_load_is_left_out_with_its_reason(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(f"extends: {SCENARIO_DIR / 'baseline.yaml'}\nname: good\n")
    bad.write_text("name: bad\nexport_controls:\n  severty: 0.5\n")
    ok, problems = check_scenarios(scenario_files(directory=tmp_path))
    assert list(ok) == ["good.yaml"]
    assert list(problems) == ["bad.yaml"]
    assert "bad.yaml:3: export_controls.severty: unknown key" in problems["bad.yaml"]


def test_sliders_set_their_parameters_and_none_keeps_the_file():
    base = load_scenario(SCENARIO_DIR / "baseline.yaml")
    config = build_config("baseline.yaml", severity=0.25, spillover=0.05, agglomeration=0.2,
                          rd_subsidy=40, cooperation=0.5)
    assert config["export_controls.severity"] == 0.25
    assert config["spillover.strength"] == 0.05
    assert config["agglomeration.elasticity"] == 0.2
    assert config["policy.rd_subsidy_pct"] == 40
    assert config["policy.international_cooperation"] == 0.5
    kept = build_config("baseline.yaml", severity=None)
    assert kept.flat() == base.flat()
    assert set(SLIDERS) == {"severity", "spillover", "agglomeration", "rd_subsidy", "cooperation"}


def test_a_slider_value_out_of_range_names_the_key():
    with pytest.raises(ScenarioError, match=r"export_controls\.severity.*out of range.*slider"):
        build_config("baseline.yaml", severity=1.5)


def test_severity_slider_changes_chip_supply_and_capacity_growth():
    """Severity 0: the rules leave every firm's supply whole (severity scales the Entity-List
    shares too), so none pays a growth penalty, no listed firm loses output and chip makers get
    no substitution demand. As
    written, the 2022-2023 rules cut supply; once the six-month stockpile is drawn down (by
    mid-2024 here) an ordinary firm's capacity growth is slowed by growth_penalty x its
    shortfall max_t dep_st (1 - dom_st)(1 - a_t), a_t after re-routing, and 01_ic grows faster by
    substitution_rate x the import gap (export_controls.py)."""
    free, bitten = (VizModel(severity=s, firms=FIRMS, seed=3) for s in (0.0, 1.0))
    gaps = {0.0: [], 1.0: []}
    for m in (free, bitten):
        while m.date < "2025-06":
            m.step()
            gaps[m.config["export_controls.severity"]].append(m.chip_import_gap_pct)
    assert np.allclose(free.history.availability, 1.0) and max(gaps[0.0]) == 0.0
    assert bitten.history.availability[-1].min() < 0.5  # frontier AI after the 2023-10-17 rule
    assert min(gaps[1.0][-12:]) > 15  # % of chip needs imports no longer supply
    for m in (free, bitten):
        f, rows = m.firms, m.firms.rows
        ordinary = rows[~((f.listed_month[rows] >= 0) & (f.listed_month[rows] <= m.month))]
        sub, penalty = f.subsector[ordinary], f.growth_penalty[ordinary]
        t = m.p.export_controls
        a = export_controls.rerouted(m.chip_availability(), t.reroute_share)
        by_tier = m.dependence * (1 - m.domestic) * (1 - a)[None, :]  # (sub-sector, tier)
        expected = t.growth_penalty * by_tier.max(axis=1)
        expected[m.ic_subsector] -= t.substitution_rate * m.chip_import_gap_pct / 100
        # entrants start with a full stockpile, so a firm pays at most the rule's penalty
        assert (penalty <= expected[sub] + 1e-15).all()
        # where frontier AI chips (cut most, from 2022-10) bind, the stock is gone by 2025-06
        # for most firms and the penalty is the rule's; the foundry stock lasts longer
        binding = by_tier.argmax(axis=1)
        median = {s: np.median(penalty[sub == s]) for s in np.unique(sub)}
        ai = [s for s in median
              if binding[s] == TIERS.index("frontier_ai") and s != m.ic_subsector]
        assert len(ai) >= 3
        assert all(median[s] == pytest.approx(expected[s], abs=1e-12) for s in ai)
        assert median[m.ic_subsector] == pytest.approx(expected[m.ic_subsector], abs=1e-12)
    ids = list(bitten.subsector_ids)
    cloud, platforms, software = (ids.index(s) for s in ("03_internet_cloud_ai", "04_platforms",
                                                         "03_software_it"))
    # ordered by dependence on frontier AI chips (sectors.csv: 0.45, 0.15, 0.05)
    assert median[cloud] > 2 * median[platforms] > 2 * median[software] > 0
    assert median[ids.index("01_ic")] < 0  # substitution demand
    assert median[cloud] > 0.1 * bitten.p.export_controls.growth_penalty
    # severity scales the Entity-List shares: no listed firm's output is cut at 0
    assert np.sum(free.history.region_lost[-1]) == 0 < np.sum(bitten.history.region_lost[-1])


def test_history_adds_up_to_the_national_figures():
    m = VizModel(firms=FIRMS, seed=5)
    for _ in range(14):
        m.step()
    h = m.history
    assert len(h) == 14 and h.dates[0] == "2020-01" and h.dates[-1] == "2021-02"
    national = m.datacollector.get_model_vars_dataframe()
    assert h.share_pct == pytest.approx(list(national["core_va_share_gdp_pct"]))
    assert np.sum(h.region_va, axis=1) == pytest.approx(h.core_va, rel=1e-9)
    assert np.sum(h.sector_va, axis=1) == pytest.approx(h.core_va, rel=1e-9)
    assert h.self_sufficiency_pct == pytest.approx(list(national["chip_self_sufficiency_pct"]))
    assert np.sum(h.region_lost, axis=1) == pytest.approx(list(national["direct_loss_bn_yuan"]),
                                                          rel=1e-9, abs=1e-12)


def test_solaraviz_can_rebuild_the_model_from_the_page_inputs():
    """Reset calls VizModel(**inputs): every input must be an argument, and none is `scenario`
    (SolaraViz would then build a mesa Scenario object instead of passing our values)."""
    from sim.viz.app import model_params

    params = model_params(SCENARIO_DIR / "baseline.yaml")
    m = VizModel(firms=FIRMS)
    solara_viz._check_model_params(m, params)  # raises on an unknown or missing argument
    assert "scenario" not in inspect.signature(VizModel.__init__).parameters
    values = {k: (v.value if isinstance(v, Slider) else v["value"]) for k, v in params.items()}
    values.update(seed="8", severity=0.5, firms=FIRMS)
    kwargs = solara_viz._build_model_init_kwargs(m, values, add_scenario_when_empty=True,
                                                 require_model_accepts_scenario=True)
    assert "scenario" not in kwargs
    rebuilt = type(m)(**kwargs)
    assert rebuilt.seed == 8 and rebuilt.config["export_controls.severity"] == 0.5
    # the inputs start at the scenario's values
    base = load_scenario(SCENARIO_DIR / "baseline.yaml")
    for name, (key, _) in SLIDERS.items():
        assert params[name].value == base[key]
    assert params["seed"]["value"] == str(base["run.seed"])
    assert params["scenario_file"]["values"] == list(check_scenarios(scenario_files())[0])
    assert Path(SCENARIO_DIR / params["scenario_file"]["value"]).exists()


def test_the_page_runs_the_model_a_run_runs():
    """Same scenario, seed and agents as `clustersim run`: the same months (calibrated level)."""
    from sim.runner import build_model

    page = VizModel(firms=FIRMS, seed=5)
    run = build_model(page.config, seed=5, firms=FIRMS)
    for _ in range(3):
        page.step()
        run.step()
    assert page.datacollector.get_model_vars_dataframe().equals(
        run.datacollector.get_model_vars_dataframe())
