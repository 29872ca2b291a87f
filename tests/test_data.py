"""The shipped data tables are consistent and every row carries a source."""

import subprocess
import sys

import pandas as pd

from sim.inputs import DATA_DIR, GRADES, load_inputs
from sim.scenario import load_scenario


def test_consistency_checks_pass():
    res = subprocess.run([sys.executable, "scripts/check_data_tables.py"], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0 and "ALL CHECKS PASSED" in res.stdout, res.stdout + res.stderr


def test_every_row_has_a_source_and_grade():
    for name in ("regions.csv", "sectors.csv", "gdp.csv", "named_firms.csv"):
        df = pd.read_csv(DATA_DIR / name, keep_default_na=False)
        assert (df["source"].str.len() > 10).all(), name
        assert df["grade"].str.match(r"^(A|A-local|B|C|D)").all(), name
    events = pd.read_csv(DATA_DIR / "export_controls.csv", keep_default_na=False)
    assert (events["source"].str.len() > 10).all()


def test_regions_cover_the_clusters_the_issue_names():
    regions = pd.read_csv(DATA_DIR / "regions.csv")
    assert len(regions) >= 20
    assert regions["nmc_2022"].sum() == 12
    assert set(regions.query("kind == 'hub'")["macro_region"]) == {"JJJ", "YRD", "GBA"}
    assert {"hefei", "hangzhou", "wuhan", "wuxi", "shenzhen", "changsha",
            "chengdu_chongqing"} <= set(regions["region_id"])


def test_gdp_path_actual_with_census_choice():
    on = load_inputs(load_scenario(None))
    off = load_inputs(load_scenario(None, ["macro.census_revision=false"]))
    assert on.gdp_by_year[2023] == 129400.0 and off.gdp_by_year[2023] == 126058.0
    assert on.gdp_kind[2025] == "actual_preliminary" and on.gdp_kind[2020] == "actual_final"
    assert on.gdp_by_year[2025] == 140187.9  # NBS preliminary, 2026-01-19


def test_export_control_history_has_the_brief_dates():
    dates = set(pd.read_csv(DATA_DIR / "export_controls.csv")["date"])
    assert {"2019-05-16", "2019-10-07", "2020-05-15", "2020-08-17", "2022-10-07", "2023-10-17",
            "2024-12-02", "2026-01-15"} <= dates


def test_every_historical_rule_is_dated_graded_sourced_and_in_order():
    """The rule table is current with its sources: each row's event graded (A .. D), dates
    ascending, and the 2025 steps both ways (tightening and loosening)."""
    events = load_inputs(load_scenario(None)).events
    table = pd.read_csv(DATA_DIR / "export_controls.csv", keep_default_na=False, dtype=str)
    assert len(events) == len(table)
    for ev in events:
        assert len(ev.date) == 10 and ev.grade in GRADES and ev.source.strip(), ev
    assert list(table["date"]) == sorted(table["date"])
    assert table["grade"].isin(GRADES).all()
    recent = {ev.direction for ev in events if ev.date >= "2025-01"}
    assert {"tighten", "loosen"} <= recent
    # the affiliates rule and its suspension are on record and change nothing in the model
    for event_id in ("affiliates_rule", "affiliates_rule_suspended"):
        row = table.set_index("event_id").loc[event_id]
        effects = [c for c in table if c.startswith("avail_")] + \
            ["entity_list_add", "foreign_knowledge", "listed_availability"]
        assert (row[effects] == "").all() and "memory" in row["source"], event_id
