"""The scenario library: every file loads, tells the story it claims, and the scenarios order
as the export-control story says they must."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.inputs import load_inputs
from sim.mechanisms import export_controls
from sim.runner import run_replicate
from sim.scenario import load_scenario, month_index

SCEN = Path(__file__).resolve().parent.parent / "scenarios"
LIBRARY = ("baseline", "no_export_controls", "escalation", "loosening", "policy_push")
FIRMS = 2000
SEEDS = tuple(range(100, 108))  # 8 replicates; the same seeds in every scenario (paired)


def load(name):
    return load_scenario(SCEN / f"{name}.yaml")


@pytest.mark.parametrize("name", LIBRARY)
def test_scenario_validates_and_tells_its_story(name, capsys):
    assert main(["validate", str(SCEN / f"{name}.yaml")]) == 0
    assert f"scenario '{name}'" in capsys.readouterr().out
    text = (SCEN / f"{name}.yaml").read_text()
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert len(header) >= 8, "each scenario opens with a header comment telling its story"
    if name != "baseline":
        assert "extends: baseline.yaml" in text


def control_path(name):
    """Availability by tier and foreign openness in force at the end of each month 2020-2025,
    from the scenario's events applied as the model applies them."""
    sc = load(name)
    events = load_inputs(sc).events
    state, i, path = export_controls.ControlState(), 0, {}
    for month in range(month_index("2019-01"), month_index("2025-12") + 1):
        while i < len(events) and events[i].month <= month:
            e = events[i]
            state = export_controls.apply_rule(state, e.avail, e.foreign_knowledge,
                                               sc["export_controls.severity"], e.direction)
            i += 1
        path[month] = dict(zip(export_controls.TIERS, state.availability), openness=state.openness)
    return pd.DataFrame(path).T


def test_event_paths_of_the_library():
    base, none = control_path("baseline"), control_path("no_export_controls")
    esc, loose = control_path("escalation"), control_path("loosening")
    assert (none == 1.0).all().all()
    before_2023 = base.index < month_index("2023-01")
    pd.testing.assert_frame_equal(esc[before_2023], base[before_2023])
    embargo = esc[~before_2023]
    assert (embargo[["frontier_ai", "hbm", "equipment"]] == 0).all().all()  # to the end of 2025
    assert (embargo <= base[~before_2023]).all().all()
    before_2024 = base.index < month_index("2024-01")
    pd.testing.assert_frame_equal(loose[before_2024], base[before_2024])
    eased = loose[~before_2024]
    assert (eased >= base[~before_2024]).all().all()
    assert (eased["frontier_ai"] > base.loc[month_index("2023-12"), "frontier_ai"]).all()
    assert (eased["frontier_ai"] > base[~before_2024]["frontier_ai"]).all()
    # escalation keeps the later Entity List additions of history (Inspur, 2023-03-02)
    esc_listed = {f for e in load_inputs(load("escalation")).events for f in e.entity_list_add}
    assert "inspur" in esc_listed
    push, baseline = load("policy_push"), load("baseline")
    assert push["policy.rd_subsidy_pct"] > baseline["policy.rd_subsidy_pct"]
    assert push["policy.designation_boost"] > baseline["policy.designation_boost"]
    assert push["policy.infrastructure_growth_pct"] > baseline["policy.infrastructure_growth_pct"]


@pytest.fixture(scope="module")
def shares():
    """Annual share of GDP (replicate x year) for each scenario, same seeds everywhere."""
    out = {}
    for name in ("no_export_controls", "baseline", "escalation", "loosening", "policy_push"):
        sc = load(name)
        inputs = load_inputs(sc)
        runs = [run_replicate(sc, seed=s, firms=FIRMS, inputs=inputs, firm_snapshots=False)
                for s in SEEDS]
        out[name] = pd.DataFrame({s: r.annual.set_index("year")["core_va_share_gdp_pct"]
                                  for s, r in zip(SEEDS, runs)}).T
        out[name + "/national"] = pd.concat([r.national for r in runs], ignore_index=True)
    return out


def paired_gap(shares, a, b, year):
    """Mean and standard error of the paired difference a - b across replicates."""
    d = (shares[a][year] - shares[b][year]).to_numpy()
    return d.mean(), d.std(ddof=1) / np.sqrt(len(d)), d


def import_gap(shares, name, year):
    """Mean share of critical chip needs imports no longer supply in `year`, per replicate."""
    nat = shares[name + "/national"]
    nat = nat[nat["date"].str.startswith(str(year))]
    return nat.groupby("replicate")["chip_import_gap_pct"].mean().to_numpy()


def test_2024_import_gap_orders_no_controls_below_baseline_below_escalation(shares):
    """Controls act through the imported chip supply (and, from it, capacity growth): their
    share effect is about 0.1 pp, within replicate noise at this size (docs/validation.md
    measures it on paired runs), so the order is checked on the gap itself."""
    gap = {k: import_gap(shares, k, 2024) for k in ("no_export_controls", "baseline",
                                                   "escalation")}
    assert (gap["no_export_controls"] < gap["baseline"]).all()
    assert (gap["baseline"] < gap["escalation"]).all()


def test_escalation_is_the_baseline_until_2023(shares):
    base = shares["baseline/national"]
    esc = shares["escalation/national"]
    before = base["date"] < "2023-01"
    pd.testing.assert_frame_equal(base[before], esc[before])
    assert (esc[~before]["chip_import_gap_pct"].to_numpy()
            > base[~before]["chip_import_gap_pct"].to_numpy()).mean() > 0.9


def test_loosening_lifts_the_supply_after_2024_only(shares):
    for year in (2020, 2021, 2022, 2023):
        assert shares["loosening"][year].equals(shares["baseline"][year])
    assert (import_gap(shares, "loosening", 2025) < import_gap(shares, "baseline", 2025)).all()
    # easing is not the same as never having controls
    assert (import_gap(shares, "loosening", 2025)
            > import_gap(shares, "no_export_controls", 2025)).all()


def test_policy_push_raises_the_share(shares):
    """The push adds about +0.17 pp to the 2025 share (paired mean over seeds 100-123 at 2,000
    agents, se 0.03; +0.18, se 0.03 at 5,000 agents, seeds 100-115), +0.05 pp in 2021, against
    replicate noise of about 0.14 pp per paired run at 2,000 agents: so the library's 8 seeds
    get 8 more here (16, measured t = 4.1; 8 alone gave t = 2.8)."""
    extra = tuple(range(SEEDS[-1] + 1, SEEDS[-1] + 1 + len(SEEDS)))
    runs = {}
    for name in ("policy_push", "baseline"):
        sc = load(name)
        inputs = load_inputs(sc)
        more = pd.DataFrame({s: run_replicate(sc, seed=s, firms=FIRMS, inputs=inputs,
                                              firm_snapshots=False)
                             .annual.set_index("year")["core_va_share_gdp_pct"]
                             for s in extra}).T
        runs[name] = pd.concat([shares[name], more])
    gap, se, _ = paired_gap(runs, "policy_push", "baseline", 2025)
    assert gap > 2 * se, (2025, gap, se)
