"""The browser page in Debian chromium, offline: `clustersim viz` as a user starts it.

One server and one page for the whole check (starting them is most of the cost): the page
loads with no page error and no failed or external request, every chart is drawn, Step
advances the date, the map's colour switch redraws it, the picker lists the scenario files,
and changed inputs followed by Reset rebuild the model. A screenshot is saved in the test's
folder (the README's docs/img/viz.png comes from `benchmarks/viz_step.py --browser
--screenshot`). Needs `make assets browser`.
"""

import re

import pytest

try:
    from browser_helpers import (chromium_page, click_button, clustersim_viz_server,
                                 settled_screenshot, wait_for_redraw, wait_for_step_counter)
except ImportError:  # tests/ became a package
    from tests.browser_helpers import (chromium_page, click_button, clustersim_viz_server,
                                       settled_screenshot, wait_for_redraw,
                                       wait_for_step_counter)

from sim.viz.panels import PANELS
from sim.viz.model import SLIDERS, coerce_seed, scenario_files

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
# the headline card of a national reporter carries the class clustersim-<reporter name>
SHARE = ".clustersim-core_va_share_gdp_pct"


def text_of(page, css: str) -> str:
    return page.locator(css).first.inner_text().strip()


def wait_for_text(page, css: str, pattern: str, timeout_ms: float = 30_000) -> str:
    """Wait until the element's text matches `pattern`; return the text."""
    locator = page.locator(css).first
    locator.filter(has_text=re.compile(pattern)).wait_for(state="visible", timeout=timeout_ms)
    return locator.inner_text().strip()


def test_page_steps_and_rebuilds_offline(tmp_path):
    with (
        clustersim_viz_server("--firms", "1500", log_path=tmp_path / "solara.log") as server,
        chromium_page(viewport=(1500, 1900)) as (page, problems),
    ):
        assert server.url.startswith("http://127.0.0.1:")  # the default bind address
        page.goto(server.url)
        try:
            wait_for_step_counter(page, 0)
            for name in PANELS:
                page.locator(f".clustersim-panel-{name} img").wait_for(state="visible")
            page.wait_for_load_state("networkidle")
        except Exception:
            page.screenshot(path=tmp_path / "failed.png", full_page=True)
            raise AssertionError(f"page did not render; screenshot {tmp_path / 'failed.png'}\n"
                                 f"{problems.summary()}\nserver log:\n{server.log_tail()}") from None
        problems.assert_clean()

        # every chart is drawn: an image of its figure's size, not blank
        for name, cls in PANELS.items():
            size = page.locator(f".clustersim-panel-{name} img").evaluate(
                "img => [img.naturalWidth, img.naturalHeight, img.complete]")
            assert size == [round(cls.size[0] * 100), round(cls.size[1] * 100), True], name
        assert text_of(page, ".clustersim-date") == "2020-01"
        assert text_of(page, SHARE) == "\u2013"  # nothing simulated yet
        card = page.locator(".clustersim-firms").locator("xpath=..").inner_text()
        agents = int(re.search(r"([\d,]+) agents", card).group(1).replace(",", ""))
        assert 1200 <= agents <= 1600  # --firms 1500 reached the page (cells round it)

        # Step simulates January 2020; the map and the share chart redraw
        map_img, share_img = (page.locator(f".clustersim-panel-{n} img") for n in ("map", "share"))
        map_before, share_before = settled_screenshot(map_img), settled_screenshot(share_img)
        click_button(page, "Step")
        wait_for_step_counter(page, 1)
        assert wait_for_text(page, SHARE, r"^\d+\.\d\d%$") != "\u2013"
        wait_for_redraw(map_img, map_before)
        wait_for_redraw(share_img, share_before)
        for n in (2, 3):
            click_button(page, "Step")
            wait_for_step_counter(page, n)
        assert wait_for_text(page, ".clustersim-date", "2020-03") == "2020-03"
        share_mar = text_of(page, SHARE)
        assert re.fullmatch(r"[5-9]\.\d\d%", share_mar)  # 7.8% of GDP in 2020, calibrated

        # the map's colour switch redraws it with the other colour scale
        grown = settled_screenshot(map_img)
        page.get_by_role("button", name="Hit by chip controls").click()
        wait_for_redraw(map_img, grown)

        shot = tmp_path / "viz.png"
        page.screenshot(path=shot)
        assert shot.stat().st_size > 50_000

        # the picker lists every scenario file
        page.locator(".v-select").filter(has_text="Scenario file").click()
        options = page.locator(".v-menu__content .v-list-item__title")
        options.first.wait_for(state="visible")
        assert options.all_inner_texts() == list(scenario_files())
        page.keyboard.press("Escape")

        # new inputs, then Reset: a different model (severity 0, seed from a word)
        severity = page.get_by_role("slider", name=SLIDERS["severity"][1])
        severity.focus()
        severity.press("Home")  # to the slider's minimum, 0
        seed = page.get_by_label(re.compile("^Seed"))
        seed.fill("dragon")
        seed.press("Enter")
        settings_before = text_of(page, ".clustersim-settings")
        click_button(page, "Reset")
        wait_for_step_counter(page, 0)
        settings = wait_for_text(page, ".clustersim-settings", r"severity 0,")
        assert settings != settings_before
        assert f"seed {coerce_seed('dragon', 0)}," in settings
        for n in (1, 2, 3):
            click_button(page, "Step")
            wait_for_step_counter(page, n)
        assert wait_for_text(page, ".clustersim-date", "2020-03") == "2020-03"
        assert text_of(page, SHARE) != share_mar  # another seed, another economy

        # Play runs month after month until paused
        click_button(page, "\u25b6")
        page.wait_for_function(  # each month shows for a moment only: read it every frame
            "() => { const m = document.body.innerText.match(/Time: (\\d+)/);"
            " return m !== null && Number(m[1]) >= 6 }", polling="raf", timeout=60_000)
        click_button(page, "\u275a\u275a")
        page.get_by_role("button", name="Step", exact=True).wait_for(state="visible")
        date, previous = text_of(page, ".clustersim-date"), None
        for _ in range(20):  # a month under way when Pause was clicked may still finish
            page.wait_for_timeout(400)
            date, previous = text_of(page, ".clustersim-date"), date
            if date == previous:
                break
        assert re.fullmatch(r"2020-(0[6-9]|1[0-2])", date)
        page.wait_for_timeout(800)  # paused: no further month (playing adds one every 0.15 s)
        assert text_of(page, ".clustersim-date") == date
        assert page.get_by_role("button", name="Step", exact=True).is_enabled()
        problems.assert_clean()
