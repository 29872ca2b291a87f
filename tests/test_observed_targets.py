"""Observed series as calibration targets: `observed:SERIES:YEAR:CATEGORY` rows take value and sd
from sim/data/observed.csv and are measured as the statistical office would measure them."""

import pytest

from sim.calibration import fit
from sim.calibration.moments import MAPPING_SD_FLOOR, moment, observed_target
from sim.scenario import ScenarioError

HEADER = "type,name,value,low,high,sd,grade,source,note\n"


def write(tmp_path, body):
    path = tmp_path / "targets.csv"
    path.write_text(HEADER + body + "free,innovation.selection,,0,0.02,,,,\n")
    return path


def test_blank_value_and_sd_come_from_the_observed_table(tmp_path):
    targets, _ = fit.read_targets(write(
        tmp_path, "target,observed:core_va_share_gdp_official_pct:2023:all,,,,,A,,\n"))
    (t,) = targets
    assert t.value == 9.9
    # published to one decimal (0.05) but the mapping floor of 2% is larger
    assert t.sd == pytest.approx(MAPPING_SD_FLOOR * 9.9)


def test_a_value_in_the_file_overrides_the_observed_one(tmp_path):
    targets, _ = fit.read_targets(write(
        tmp_path, "target,observed:eim_revenue_bn_yuan:2022:all,15000,,,100,A,,\n"))
    assert (targets[0].value, targets[0].sd) == (15000, 100)


@pytest.mark.parametrize("name", ["observed:core_va_share_gdp_official_pct:2021:all",
                                  "observed:no_such_series:2023:all", "observed:eim:20x2:all"])
def test_unpublished_or_malformed_series_name_the_line(tmp_path, name):
    with pytest.raises(ScenarioError) as err:
        fit.read_targets(write(tmp_path, f"target,{name},,,,,A,,\n"))
    assert ":2:" in str(err.value) or "line 2" in str(err.value)
    assert name in str(err.value)


def test_software_target_measures_the_covered_sub_sectors():
    value, sd = observed_target("observed:software_business_revenue_bn_yuan:2021:all")
    assert value == 9499.4 and sd == pytest.approx(0.02 * 9499.4)
    m = moment("observed:software_business_revenue_bn_yuan:2021:all")
    assert m.unit == "bn yuan" and "MIIT" in m.definition


def test_the_official_share_moment_is_the_census_factor_times_internal(tmp_path):
    from sim.scenario import load_scenario
    cfg = load_scenario("scenarios/baseline.yaml", ["run.end=2023-12", "run.firms=600", "target.year=2023"])
    names = ["observed:core_va_share_gdp_official_pct:2023:all"]
    low = fit.simulate(fit.with_values(cfg, {"measurement.census_basis_factor": 1.027}), [1],
                       600, names)[0, 0]
    high = fit.simulate(fit.with_values(cfg, {"measurement.census_basis_factor": 1.13}), [1],
                        600, names)[0, 0]
    # same run, measured with two factors: the published share scales with the factor
    assert high / low == pytest.approx(1.13 / 1.027, rel=1e-9)
