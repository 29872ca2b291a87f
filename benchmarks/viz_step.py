"""Time of one Step of the browser page, with its redraw, at the page's default firm count.

    python -m benchmarks.viz_step                      # in-process: step + every panel's PNG
    python -m benchmarks.viz_step --browser            # also through chromium, click to redraw
    python -m benchmarks.viz_step --browser --screenshot docs/img/viz.png

Wall time depends on what else the machine runs (the load average is printed with the
figures); the CPU time of this process is the cost on an idle machine.

In-process, a Step is VizModel.step() (the month, plus the page's history record) followed by
rendering every panel to PNG exactly as the page does after a step (sim.viz.panels.render_all:
the kept figures, static part restored, data blitted over it). The reference, measured in the
same run on the same model states, draws each panel's figure from scratch (a new Panel), as a
plain matplotlib component would; the ratio shows what the blitting saves.

With --browser, `clustersim viz` serves the page and Debian chromium (make browser) clicks Step
and waits until the step counter and all six chart images have changed: the time a user waits.
The issue's budget is 0.5 s per Step with its redraw. The last line printed is one JSON object
with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BUDGET_S = 0.5


def stats(values) -> dict:
    a = np.asarray(values, float)
    return {"median": float(np.median(a)), "p95": float(np.percentile(a, 95)),
            "max": float(a.max()), "n": int(len(a))}


def in_process(firms: int, steps: int, scenario: str | None, reference_every: int) -> dict:
    from sim.viz.model import VizModel
    from sim.viz.panels import PANELS, render_all

    t0 = time.perf_counter()
    model = VizModel(scenario_file=scenario, firms=firms)
    init_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    render_all(model)  # first draw: static parts, map outlines, fonts
    first_render_s = time.perf_counter() - t0
    step_s, redraw_s, total_s, cpu_s, reference_s = [], [], [], [], []
    for i in range(steps):
        if not model.running:
            break
        c0, t0 = time.process_time(), time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        render_all(model)
        t2 = time.perf_counter()
        cpu_s.append(time.process_time() - c0)
        step_s.append(t1 - t0)
        redraw_s.append(t2 - t1)
        total_s.append(t2 - t0)
        if i % reference_every == 0:
            t3 = time.perf_counter()
            for name, cls in PANELS.items():
                cls(model, **({"colour_by": "growth"} if name == "map" else {})).render()
            reference_s.append(time.perf_counter() - t3)
    return {"firms_requested": firms, "agents": int(len(model.firms.rows)), "date": model.date,
            "init_s": init_s, "first_render_s": first_render_s, "step_s": stats(step_s),
            "redraw_s": stats(redraw_s), "step_plus_redraw_s": stats(total_s),
            "step_plus_redraw_cpu_s": stats(cpu_s),
            "reference_full_redraw_s": stats(reference_s),
            "redraw_ratio_vs_reference": float(np.median(redraw_s) / np.median(reference_s))}


def in_browser(firms: int, steps: int, screenshot: str | None) -> dict:
    sys.path.insert(0, str(REPO / "tests"))
    from browser_helpers import (chromium_page, click_button, clustersim_viz_server,
                                 wait_for_step_counter)

    from sim.viz.panels import PANELS

    images = ",".join(f".clustersim-panel-{n} img" for n in PANELS)
    sources = f"() => Array.from(document.querySelectorAll('{images}')).map(i => i.src)"
    # checked on every animation frame (Playwright's locator waits back off to 500 ms between
    # checks, which would round the times up)
    changed = ("([prev, n]) => { const now = Array.from(document.querySelectorAll('" + images +
               "')).map(i => i.src); return now.length === prev.length && "
               "now.every((s, k) => s !== prev[k] && s !== '') && "
               "document.body.innerText.split('\\n').some(l => l.trim() === 'Time: ' + n || "
               "l.trim() === 'Time: ' + n + '.0') }")
    click_to_redraw = []
    with (clustersim_viz_server("--firms", str(firms)) as server,
          chromium_page(viewport=(1440, 1720)) as (page, problems)):
        page.goto(server.url)
        wait_for_step_counter(page, 0)
        page.locator(".clustersim-panel-map img").wait_for(state="visible")
        page.wait_for_load_state("networkidle")
        for n in range(1, steps + 1):
            before = page.evaluate(sources)
            t0 = time.perf_counter()
            click_button(page, "Step")
            page.wait_for_function(changed, arg=[before, n], polling="raf", timeout=30_000)
            click_to_redraw.append(time.perf_counter() - t0)
        if screenshot:
            page.wait_for_timeout(500)
            page.screenshot(path=screenshot)
        trouble = problems.summary()
    return {"click_to_redraw_s": stats(click_to_redraw),
            "click_to_redraw_each_s": [round(t, 3) for t in click_to_redraw],
            "page_problems": None if trouble == "no problems" else trouble}


def main(argv=None) -> int:
    from sim.viz.model import DEFAULT_FIRMS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=DEFAULT_FIRMS,
                    help=f"firm agents (default: the page's default, {DEFAULT_FIRMS})")
    ap.add_argument("--steps", type=int, default=60, help="steps timed in-process (default 60)")
    ap.add_argument("--scenario", default=None, help="scenario file (default: baseline)")
    ap.add_argument("--reference-every", type=int, default=6,
                    help="time the from-scratch reference every N steps (default 6)")
    ap.add_argument("--browser", action="store_true", help="also time Steps through chromium")
    ap.add_argument("--browser-steps", type=int, default=54,
                    help="Steps clicked in the browser (default 54: to 2024-06)")
    ap.add_argument("--screenshot", help="with --browser: save the page after the last Step")
    args = ap.parse_args(argv)

    result = {"budget_s": BUDGET_S, "in_process": in_process(args.firms, args.steps,
                                                              args.scenario, args.reference_every)}
    r = result["in_process"]
    print(f"clustersim viz, one Step with its redraw: {r['agents']:,} agents "
          f"({args.firms:,} asked), {r['step_s']['n']} steps to {r['date']}")
    print(f"  {'seconds':<36}{'median':>8}{'p95':>8}{'max':>8}")
    for label, key in (("model step", "step_s"), ("redraw, 6 panels (blitted)", "redraw_s"),
                       ("step + redraw", "step_plus_redraw_s"),
                       ("step + redraw, CPU time", "step_plus_redraw_cpu_s"),
                       ("reference: 6 panels from scratch", "reference_full_redraw_s")):
        s = r[key]
        print(f"  {label:<36}{s['median']:8.3f}{s['p95']:8.3f}{s['max']:8.3f}")
    print(f"  redraw / reference: {r['redraw_ratio_vs_reference']:.2f}; set-up {r['init_s']:.2f} s, "
          f"first draw {r['first_render_s']:.2f} s")
    if args.browser:
        result["browser"] = in_browser(args.firms, args.browser_steps, args.screenshot)
        b = result["browser"]["click_to_redraw_s"]
        print(f"  browser, click Step to all charts redrawn: median {b['median']:.3f}, "
              f"p95 {b['p95']:.3f}, max {b['max']:.3f} s over {b['n']} Steps")
        if result["browser"]["page_problems"]:
            print("  page problems:\n" + result["browser"]["page_problems"])
    worst = r["step_plus_redraw_s"]["p95"]
    print(f"  budget {BUDGET_S} s per Step: in-process p95 {worst:.3f} s "
          f"({'within' if worst <= BUDGET_S else 'OVER'})")
    result["conditions"] = {"python": platform.python_version(), "machine": platform.machine(),
                            "cpus": os.cpu_count(), "load_avg_1min": os.getloadavg()[0]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
