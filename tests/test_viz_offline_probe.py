"""SolaraViz renders offline: Solara's JavaScript comes from .cache/solara-assets (`make assets`).

Drives scripts/viz_probe_app.py (a five-agent Mesa model) in Debian chromium; needs
`make assets browser`. Both Mesa plot backends are checked: matplotlib (a PNG from the server)
and altair (vega, vega-lite and vega-embed loaded in the browser).
"""

import pytest

try:
    from browser_helpers import REPO, chromium_page, click_button, settled_screenshot, solara_server, wait_for_redraw, wait_for_step_counter
except ImportError:  # tests/ became a package
    from tests.browser_helpers import REPO, chromium_page, click_button, settled_screenshot, solara_server, wait_for_redraw, wait_for_step_counter

PROBE_APP = REPO / "scripts" / "viz_probe_app.py"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

# the element each backend draws the plot into, inside SolaraViz's grid
PLOT_SELECTOR = {
    "matplotlib": ".vue-grid-item img",
    "altair": ".vue-grid-item .vega-embed canvas, .vue-grid-item .vega-embed svg",
}


@pytest.mark.parametrize("backend", ["matplotlib", "altair"])
def test_probe_app_renders_and_steps_offline(backend, tmp_path):
    with (
        solara_server(PROBE_APP, env={"VIZ_PROBE_BACKEND": backend}, log_path=tmp_path / "solara.log") as server,
        chromium_page() as (page, problems),
    ):
        page.goto(server.url)
        plot = page.locator(PLOT_SELECTOR[backend]).first
        try:
            wait_for_step_counter(page, 0)
            plot.wait_for(state="visible")
            page.get_by_text("Agents: 5").wait_for(state="visible")  # solara.Markdown
            page.wait_for_load_state("networkidle")  # lazily loaded JS (katex, mermaid, vega) done
        except Exception:
            page.screenshot(path=tmp_path / "failed.png", full_page=True)
            raise AssertionError(
                f"page did not render; screenshot {tmp_path / 'failed.png'}\n{problems.summary()}\n"
                f"server log:\n{server.log_tail()}"
            ) from None
        problems.assert_clean()

        plot_before = settled_screenshot(plot)
        click_button(page, "Step")
        wait_for_step_counter(page, 1)
        wait_for_redraw(plot, plot_before)  # the plot follows the counter, a little later

        shot = tmp_path / f"probe-{backend}.png"
        page.screenshot(path=shot, full_page=True)
        assert shot.stat().st_size > 0

        click_button(page, "Reset")  # rebuilds the model from model_params
        wait_for_step_counter(page, 0)
        problems.assert_clean()
