"""Figures for a briefing: scenario named, published points drawn with their grades, the page's
map and chip panels written by the batch run, vector formats on request."""

import pandas as pd
import pytest

from sim import figures
from sim.cli import main
from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.viz.model import VizModel
from sim.viz.panels import panel

BASE = "scenarios/baseline.yaml"
SMALL = ["run.end=2021-12", "target.year=2021"]


@pytest.fixture(scope="module")
def small():
    config = load_scenario(BASE, SMALL)
    return config, run_scenario(config, [3], firms=600, firm_snapshots=False, panels=True)


def test_batch_run_draws_the_pages_own_panels_of_its_last_month(small):
    config, result = small
    assert set(result.panels) == {"map", "chip_availability"}
    # the page's model, same scenario and seed, stepped through the same 24 months, draws the
    # same map: the batch figure is the page's figure, not a look-alike
    page = VizModel(firms=600, seed=3)
    for _ in range(24):
        page.step()
    assert panel(page, "map", colour_by="growth").render() == result.panels["map"]
    assert result.panels["chip_availability"][:8] == b"\x89PNG\r\n\x1a\n"


def test_share_figure_names_the_scenario_and_marks_published_points_with_grades(small):
    config, result = small
    import matplotlib.pyplot as plt
    summary = {"target_share_pct": 10.0, "target_year": 2021, "probability_target_hit": 0.0,
               "target_judged_on": "core_va_share_gdp_official_pct",
               "share_by_year": {"2020": {"median": 7.8, "p05": 7.7, "p95": 7.9},
                                 "2021": {"median": 8.0, "p05": 7.9, "p95": 8.1}}}
    fig, ax = plt.subplots()
    figures.share_against_target(result.national, result.annual, summary, ax, "baseline")
    labels = ax.get_legend_handles_labels()[1]
    assert ax.get_title().startswith("baseline:")
    published = figures.observed_points()
    assert {2020, 2023} <= set(published["year"])
    for _, o in published.iterrows():
        assert f"published {int(o['year'])}: {o['value']:g}% (grade {o['grade']})" in labels
    assert "target 10% in 2021" in labels
    plt.close(fig)


def test_projection_is_shaded_from_the_first_projected_year():
    annual = pd.DataFrame({"year": [2024, 2025, 2026, 2027],
                           "projected": [False, False, True, True]})
    assert figures.projected_from(annual) == 2026
    assert figures.projected_from(annual.drop(columns="projected")) is None


def test_svg_figures_on_request_are_the_same_bytes_on_a_rerun(tmp_path):
    argv = ["run", BASE, "--firms", "500", "--quiet", "--figure-format", "svg",
            *[x for s in SMALL for x in ("--set", s)]]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    figs = tmp_path / "a" / "figures"
    assert {p.name for p in figs.iterdir()} == {
        "share_vs_target.svg", "va_by_region.svg", "va_by_sector.svg",
        "chip_self_sufficiency.svg", "map.png", "chip_availability.png"}
    for p in figs.iterdir():
        assert p.read_bytes() == (tmp_path / "b" / "figures" / p.name).read_bytes(), p.name


def test_value_added_by_region_names_the_clusters_not_their_ids(small):
    import matplotlib.pyplot as plt
    config, result = small
    fig, ax = plt.subplots()
    figures.stacked(result.regions, "region", figures.cluster_labels(result.clusters), ax)
    labels = set(ax.get_legend_handles_labels()[1])
    plt.close(fig)
    ids = set(result.clusters["cluster_id"])
    assert not labels & ids  # no bare id such as 'gfh' or 'yrd_hub' reaches the legend
    # each label is the start of the cluster's name in clusters.csv (regions.csv `name`)
    names = list(result.clusters["cluster"].unique())
    assert all(any(n.startswith(label) for n in names) for label in labels - {"others"})
    label = figures.cluster_labels(result.clusters)
    assert label("gfh") == "Guangzhou-Foshan-Huizhou" and label("yrd_hub") == \
        "Yangtze River Delta hub" and label("rest_west") == "Rest of West"


def test_the_page_model_takes_its_seeds_gdp_projection_as_the_batch_run_does():
    # past the GDP data (2026 on) each replicate draws its own growth path by its seed; the
    # page's model with the same scenario and seed must follow that path, not the mean one
    from sim.runner import build_model
    config = load_scenario(BASE)
    page = VizModel(BASE, firms=600, seed=3)
    batch = build_model(config, seed=3, firms=600)
    assert page.inputs.gdp_by_year == batch.inputs.gdp_by_year
    assert page.inputs.gdp_by_month == batch.inputs.gdp_by_month
    other = VizModel(BASE, firms=600, seed=4)
    assert other.inputs.gdp_by_year[2030] != page.inputs.gdp_by_year[2030]  # a draw per seed
    assert other.inputs.gdp_by_year[2025] == page.inputs.gdp_by_year[2025]  # data stay data
