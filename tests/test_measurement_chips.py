"""IC imports, IC production and named-firm revenue as their publishers measure them."""

import numpy as np
import pandas as pd
import pytest

from sim import measurement as m
from sim.calibration.moments import MomentRecorder, _simulated
from sim.runner import build_model
from sim.scenario import load_scenario

BASES = m.shipped_bases()


def params():
    return m.Params(1.1, m.Basis(None, None, False), {}, {})


def chips(index_by_year, replicate=0):
    return pd.DataFrame({"replicate": replicate, "year": list(index_by_year),
                         "chip_import_index": list(index_by_year.values())})


def test_imports_are_the_2020_count_times_imported_use_relative_to_2020():
    sim = m.Simulated(pd.DataFrame(), chips=chips({2020: 12.0, 2021: 10.8, 2022: 9.0}))
    out = m.ic_imports_units(sim, params()).set_index("year")["value"]
    assert out[2020] == pytest.approx(543.5)          # GACC 2020, A
    assert out[2021] == pytest.approx(543.5 * 0.9)    # 10% less imported use
    assert out[2022] == pytest.approx(543.5 * 0.75)
    value = m.ic_imports_value_bn_usd(sim, params()).set_index("year")["value"]
    assert value[2022] == pytest.approx(350.04 * 0.75)


def test_each_replicate_is_indexed_on_its_own_2020():
    sim = m.Simulated(pd.DataFrame(), chips=pd.concat(
        [chips({2020: 12.0, 2021: 12.0}, 0), chips({2020: 6.0, 2021: 12.0}, 1)]))
    out = m.ic_imports_units(sim, params())
    assert out[out["year"] == 2021]["value"].tolist() == pytest.approx([543.5, 2 * 543.5])


def test_production_follows_ic_value_added_only():
    sub = pd.DataFrame({"year": [2020, 2020, 2022, 2022],
                        "subsector": ["01_ic", "03_software_it"] * 2,
                        "core_va_bn_yuan": [373.0, 2000.0, 466.25, 9000.0]})
    out = m.ic_production_units(m.Simulated(pd.DataFrame(), subsectors=sub), params())
    assert out.set_index("year")["value"][2022] == pytest.approx(261.47 * 1.25)


def test_an_index_series_needs_its_base_year():
    with pytest.raises(ValueError, match="must cover 2020"):
        m.ic_imports_units(m.Simulated(pd.DataFrame(), chips=chips({2021: 1.0})), params())


def test_dollar_revenue_uses_the_years_average_rate_and_skips_years_without_one():
    named = pd.DataFrame({"year": [2022, 2023, 2024], "firm": "smic",
                          "revenue_bn_yuan": [48.92, 44.55, 50.0]})
    sim = m.Simulated(pd.DataFrame(), named=named)
    usd = m.named_firm_revenue_bn_usd(sim, params()).set_index("year")["value"]
    assert usd[2022] == pytest.approx(48.92 / 6.7261) and usd[2023] == pytest.approx(44.55 / 7.0467)
    assert 2024 not in usd.index  # no rate shipped: no dollar figure is formed
    yuan = m.named_firm_revenue_bn_yuan(sim, params())
    assert yuan["category"].tolist() == ["smic"] * 3 and yuan["value"].tolist() == [48.92, 44.55, 50.0]


def test_every_observed_chip_and_firm_row_has_a_measurement_and_its_base():
    obs = m.observed_table()
    for series in ("ic_imports_units", "ic_imports_value_bn_usd", "ic_production_units"):
        assert len(obs[obs["series"] == series]) >= 2 and (series, m.BASE_YEAR) in BASES
    firms = obs[obs["series"].str.startswith("named_firm_revenue")]
    assert set(firms["category"]) == {"huawei", "smic"}
    assert all(("cny_per_usd", y) in BASES
               for y in firms[firms["series"] == "named_firm_revenue_bn_usd"]["year"])


@pytest.fixture(scope="module")
def run_2020_2021():
    sc = load_scenario("scenarios/baseline.yaml", ["run.end=2021-12", "target.year=2021"])
    model = build_model(sc, seed=3, firms=1000)
    rec = MomentRecorder(model)
    model.observers.append(rec)
    model.run()
    return _simulated(rec), model


def test_a_run_measures_huaweis_2020_revenue_near_its_report_and_2021_well_below(run_2020_2021):
    """Built from Huawei's 2020 accounts, the model's 2020 revenue (annual sum at its own VA
    ratio) is within 5% of the reported 891.4 bn; the FDP rules of 2020 take more than a
    tenth of it in 2021 (measured -18% at the refitted values against the reported -28.6%:
    OUTSIDE in docs/validation.md, with its reason), while ZTE, not listed, grows."""
    sim, model = run_2020_2021
    rev = sim.named.pivot(index="firm", columns="year", values="revenue_bn_yuan")
    assert rev.loc["huawei", 2020] == pytest.approx(891.4, rel=0.05)
    assert rev.loc["huawei", 2021] / rev.loc["huawei", 2020] < 0.9
    assert rev.loc["zte", 2021] > rev.loc["zte", 2020]
    # SMIC's mild 2020 listing (0.9, tools for <=10 nm only) leaves it growing
    assert rev.loc["smic", 2021] > rev.loc["smic", 2020]


def test_a_run_measures_imports_from_the_2020_level(run_2020_2021):
    sim, model = run_2020_2021
    out = m.ic_imports_units(sim, m.params_for(model.config, model.inputs))
    assert out[out["year"] == 2020]["value"].iloc[0] == pytest.approx(543.5)
    assert np.isfinite(out["value"]).all() and (out["value"] > 0).all()
