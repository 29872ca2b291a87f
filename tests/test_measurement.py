"""The measurement step on small hand-made frames: each published series from simulated values."""

import numpy as np
import pandas as pd
import pytest

from sim import measurement as m
from sim.errors import NumericalError
from sim.inputs import DATA_DIR, load_inputs
from sim.parameters import BY_KEY
from sim.scenario import ScenarioError, load_scenario

SECTORS = pd.read_csv(DATA_DIR / "sectors.csv", dtype={"sector": str})
GDP_TABLE = pd.read_csv(DATA_DIR / "gdp.csv")
KIND_REVISED = {2021: "actual_final", 2022: "actual_preliminary", 2023: "census_revised",
                2024: "actual_preliminary", 2025: "projected"}


def params(factor=1.1, kind=KIND_REVISED, gdp_table=GDP_TABLE):
    return m.Params(factor, m.gdp_basis(gdp_table, kind),
                    dict(zip(SECTORS["subsector_id"], SECTORS["va_to_revenue"])),
                    dict(zip(SECTORS["subsector_id"], SECTORS["sector"])))


def annual(gdp_2023=129400.0):
    return pd.DataFrame({"replicate": 0, "seed": 42, "year": [2021, 2022, 2023, 2024, 2025],
                         "core_va_bn_yuan": [9000.0, 10000.0, 11000.0, 12000.0, 13000.0],
                         "gdp_bn_yuan": [114923.7, 121020.7, gdp_2023, 134908.4, 140187.9]})


def share(factor, **kw):
    out = m.core_va_share_gdp_official_pct(m.Simulated(annual(**kw.pop("a", {}))),
                                           params(factor, **kw))
    return dict(zip(out["year"], out["value"]))


def test_the_factor_moves_census_years_by_exactly_the_factor_and_earlier_years_not_at_all():
    one, more = share(1.027), share(1.2)
    for year in (2023, 2024, 2025):
        assert more[year] / one[year] == pytest.approx(1.2 / 1.027, rel=1e-12)
    a = annual()
    for year in (2021, 2022):  # pre-census basis: VA over GDP as simulated, no factor
        row = a[a["year"] == year].iloc[0]
        assert one[year] == more[year] == 100 * row["core_va_bn_yuan"] / row["gdp_bn_yuan"]
    assert one[2023] == pytest.approx(100 * 11000 * 1.027 / 129400)


def test_census_year_is_read_from_the_gdp_table():
    basis = m.gdp_basis(GDP_TABLE, KIND_REVISED)
    assert basis.census_year == 2023 and basis.revised_gdp_used
    assert basis.gdp_revision == pytest.approx(129400 / 126058)
    assert [basis.on_census_basis(y) for y in (2022, 2023, 2024)] == [False, True, True]
    without = GDP_TABLE[GDP_TABLE["kind"] != "census_revised"]
    assert share(1.2, gdp_table=without) == share(1.027, gdp_table=without)


def test_a_run_on_preliminary_2023_gdp_is_put_on_the_census_basis():
    kind = {**KIND_REVISED, 2023: "actual_preliminary"}
    prelim = share(1.1, kind=kind, a={"gdp_2023": 126058.0})
    assert prelim[2023] == pytest.approx(share(1.1)[2023])
    assert prelim[2024] == share(1.1)[2024]


def test_no_official_share_is_invented_for_2021_or_2022():
    obs = m.observed_table()
    official = obs[obs["series"] == "core_va_share_gdp_official_pct"]
    # the 2020 plan baseline (7.8%, pre-census basis, equal to the official one then) and the
    # NBS 2023 figure are published; nothing for 2021 or 2022
    assert set(official["year"]) == {2020, 2023}
    cmp = m.compare(m.Simulated(annual()), params(), (m.BY_NAME["core_va_share_gdp_official_pct"],))
    assert not {2021, 2022} & set(cmp["year"])
    assert cmp.set_index("year").loc[2023, "observed"] == 9.9


def test_official_core_va_and_the_annual_column():
    out = m.core_va_official_bn_yuan(m.Simulated(annual()), params(1.15))
    assert list(out["value"]) == [9000.0, 10000.0, 11000.0 * 1.15, 12000.0 * 1.15, 13000.0 * 1.15]
    a = annual().iloc[::-1].reset_index(drop=True)  # row order is kept
    with_col = m.with_official_share(a, params(1.15))
    assert list(with_col.columns) == list(a.columns) + ["core_va_share_gdp_official_pct"]
    np.testing.assert_allclose(with_col["core_va_share_gdp_official_pct"],
                               100 * a["core_va_bn_yuan"] * np.where(a["year"] >= 2023, 1.15, 1)
                               / a["gdp_bn_yuan"])


def test_a_zero_gdp_stops_with_a_numerical_error_not_a_quiet_number():
    a = annual()
    a.loc[a["year"] == 2024, "gdp_bn_yuan"] = 0.0
    with pytest.raises(NumericalError, match="2024: core_va_share_gdp_official_pct"):
        m.core_va_share_gdp_official_pct(m.Simulated(a), params())


def subsectors_2020(scale=1.0, year=2020):
    """Sub-sector VA of 2020 as sectors.csv builds it from 7.91 trn (bn yuan)."""
    return pd.DataFrame({"replicate": 0, "year": year, "subsector": SECTORS["subsector_id"],
                         "core_va_bn_yuan": SECTORS["va_share_2020_pct"] / 100 * 7910 * scale})


@pytest.mark.parametrize("series, published_2020", [
    ("software_business_revenue_bn_yuan", 8161.6),   # MIIT 2020 (A)
    ("eim_revenue_bn_yuan", 12100.0),                # MIIT 2020 (D)
    ("ic_industry_sales_bn_yuan", 884.8),            # CSIA 2020 (B)
])
def test_revenue_series_reproduce_the_2020_figures_the_sub_sectors_were_built_from(
        series, published_2020):
    out = m.BY_NAME[series].measure(m.Simulated(annual(), subsectors_2020()), params())
    assert out["value"].iloc[0] == pytest.approx(published_2020, rel=2e-3)


def test_revenue_mapping_inverts_the_statistics_ratio_and_ignores_the_census_factor():
    one = pd.DataFrame({"replicate": 0, "year": 2023, "subsector": SECTORS["subsector_id"],
                        "core_va_bn_yuan": 0.0})
    one.loc[one["subsector"] == "01_components", "core_va_bn_yuan"] = 22.0  # MIIT ratio 0.22
    for factor in (1.027, 1.3):
        eim = m.eim_revenue_bn_yuan(m.Simulated(annual(), one), params(factor))
        assert eim["value"].iloc[0] == pytest.approx(100.0)
    doubled = m.software_business_revenue_bn_yuan(m.Simulated(annual(), subsectors_2020(2)),
                                                  params())
    base = m.software_business_revenue_bn_yuan(m.Simulated(annual(), subsectors_2020()), params())
    assert doubled["value"].iloc[0] == pytest.approx(2 * base["value"].iloc[0])


def test_miit_series_keep_their_own_revenue_and_the_census_takes_the_sector_table_ratio():
    """The census back-cast sets sectors.csv's va_to_revenue; the MIIT and CSIA series were
    built on the ratios of their own statistics and do not move with it, census revenue does."""
    sim = m.Simulated(annual(), subsectors_2020(year=2023))
    halved = params()
    halved = m.Params(halved.census_basis_factor, halved.basis,
                      {k: v / 2 for k, v in halved.va_to_revenue.items()}, halved.sector_of)
    for series in ("software_business_revenue_bn_yuan", "eim_revenue_bn_yuan",
                   "ic_industry_sales_bn_yuan"):
        base = m.BY_NAME[series].measure(sim, params())["value"].iloc[0]
        assert m.BY_NAME[series].measure(sim, halved)["value"].iloc[0] == pytest.approx(base)
    rev = lambda p: m.census_revenue_bn_yuan(sim, p).set_index("category")["value"]  # noqa: E731
    np.testing.assert_allclose(rev(halved), 2 * rev(params()))


def test_a_missing_sub_sector_is_an_error_not_a_zero():
    partial = subsectors_2020()
    partial = partial[partial["subsector"] != "01_ic"]
    with pytest.raises(ValueError, match="01_ic"):
        m.eim_revenue_bn_yuan(m.Simulated(annual(), partial), params())
    with pytest.raises(ValueError, match="needs the simulated 'subsectors'"):
        m.eim_revenue_bn_yuan(m.Simulated(annual()), params())


def test_census_counts_by_the_four_categories_and_in_total():
    firms = pd.DataFrame({"replicate": 0, "year": [2023, 2023, 2023, 2022],
                          "sector": ["01_ic", "01_components", "03_telecom", "01_ic"],
                          "weight": [10.0, 5.0, 2.0, 99.0],
                          "employment": [3.0, 1.0, 100.0, 1.0]})
    year_end = m.year_end_from_firms(firms, params())
    sim = m.Simulated(annual(), year_end=year_end)
    ent = m.census_legal_entities(sim, params())
    emp = m.census_employment(sim, params())
    got = lambda df: {c: v for c, v in zip(df["category"], df["value"])}  # noqa: E731
    assert got(ent[ent["year"] == 2023]) == {"all": 17.0, "01": 15.0, "03": 2.0}
    assert got(emp[emp["year"] == 2023]) == {"all": 235.0, "01": 35.0, "03": 200.0}
    rev = m.census_revenue_bn_yuan(m.Simulated(annual(), subsectors_2020(year=2023)), params(1.2))
    by_cat = got(rev)
    assert by_cat["all"] == pytest.approx(sum(by_cat[c] for c in ("01", "02", "03", "04")))
    telecom = SECTORS.set_index("subsector_id").loc["03_telecom"]
    assert by_cat["03"] > 1.2 * telecom["va_share_2020_pct"] / 100 * 7910 / telecom["va_to_revenue"]


def test_observed_table_rows_have_sources_grades_and_uncertainties():
    obs = m.observed_table()
    assert set(obs["series"]) == set(m.BY_NAME)
    assert obs["year"].between(2020, 2025).all()
    assert (obs["uncertainty"] > 0).all() and (obs["source"].str.len() > 20).all()
    assert obs["grade"].isin(["A", "A-local", "B", "C"]).all()
    for s in m.SERIES:
        assert (s.observed["unit"] == s.unit).all(), s.name
    census = obs[obs["series"] == "census_legal_entities"]
    parts = census[census["category"] != "all"]["value"].sum()
    assert parts == pytest.approx(census[census["category"] == "all"]["value"].iloc[0], rel=3e-3)


def test_a_bad_observed_row_is_reported_with_file_line_and_key(tmp_path):
    bad = tmp_path / "observed.csv"
    text = (DATA_DIR / "observed.csv").read_text(encoding="utf-8").splitlines()
    row = next(i for i, t in enumerate(text) if ",9499.4," in t)
    text[row] = text[row].replace(",9499.4,", ",n/a,")
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError,
                       match=rf"observed.csv:{row + 1}: value: expected a number, got 'n/a'"):
        m.observed_table(bad)


def test_factor_parameter_bounds_and_the_scenario_route():
    p = BY_KEY["measurement.census_basis_factor"]
    assert p.min == 1.027 and p.default == p.min and p.max <= 1.3
    sc = load_scenario(None, ["measurement.census_basis_factor=1.2"])
    mp = m.params_for(sc, load_inputs(sc))
    assert mp.census_basis_factor == 1.2 and mp.basis.census_year == 2023
    with pytest.raises(ScenarioError, match="out of range"):
        load_scenario(None, ["measurement.census_basis_factor=1.0"])
