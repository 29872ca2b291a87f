"""The sweep's unit of work: planning jobs, and running one in a worker.

Work is cut into jobs of a few runs of the same design point, so that a worker loads the
point's inputs and calibrates its 2020 level once. A run is reduced in the worker to one row
of figures (and, if asked, its series), so only small results cross the process boundary.
"""

from __future__ import annotations

import json
import math
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass

import pandas as pd

import sim.runner
from sim import reporters
from sim.inputs import load_inputs
from sim.scenario import Scenario
from sim.sweep.designs import Design, run_seed
from sim.sweep.experiment import Experiment, point_scenario

ERROR_CHARS = 500
INPUTS_CACHED = 8  # inputs of distinct scenarios a worker keeps (a job's point reuses them)


@dataclass
class Job:
    base: Scenario
    point: int
    values: dict
    runs: list[tuple[str, int, int]]          # (run_id, replicate, seed)
    years: list[int]
    metrics: list[str]
    series: str
    attempts: int = 0                          # pool breaks it was in flight for
    alone: bool = False                        # run with nothing else in flight


@dataclass
class Outcome:
    row: dict
    series: pd.DataFrame | None = None
    traceback: str | None = None
    cpu_s: float = 0.0              # the worker's CPU time for this run (not in the rows)


def run_id(point: int, seed: int) -> str:
    return f"p{point:06d}-s{seed:010d}"


def plan_jobs(exp: Experiment, design: Design, done: set[str],
              slots: int) -> tuple[list[Job], int]:
    """Jobs for the runs not yet recorded, and the total number of runs."""
    common = exp.seeds == "common"
    todo: list[tuple[int, list[tuple[str, int, int]]]] = []
    total = 0
    for point in range(len(design)):
        runs = []
        for r in range(exp.replicates):
            seed = run_seed(exp.seed, point, r, common)
            total += 1
            rid = run_id(point, seed)
            if rid not in done:
                runs.append((rid, r, seed))
        if runs:
            todo.append((point, runs))
    remaining = sum(len(r) for _, r in todo)
    # a few runs per job keep a worker on one point, yet leave ~8 jobs per slot to balance
    size = max(1, min(exp.replicates, math.ceil(remaining / (8 * slots))))
    jobs = [Job(exp.base, point, design.points[point], runs[i:i + size], exp.years,
                exp.metrics, exp.series)
            for point, runs in todo for i in range(0, len(runs), size)]
    return jobs, total


def param_cells(values: dict, kinds: dict[str, str]) -> dict:
    return {k: (json.dumps(v, sort_keys=True) if kinds.get(k) == "json" else v)
            for k, v in values.items()}


def failed_row(job: Job, rid: str, replicate: int, seed: int, message: str,
               kinds: dict[str, str]) -> dict:
    return {"run_id": rid, "point": job.point, "replicate": replicate, "seed": seed,
            "status": "failed", "error": message, **param_cells(job.values, kinds)}


def error_message(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text if len(text) <= ERROR_CHARS else text[:ERROR_CHARS - 3] + "..."


# ------------------------------------------------------------------------ in the worker

_INPUTS: OrderedDict = OrderedDict()


def _inputs(sc: Scenario):
    """Inputs depend on a few scenario keys; keying by the whole tree is safe and cheap."""
    key = json.dumps(sc.tree, sort_keys=True, default=str)
    if key not in _INPUTS:
        _INPUTS[key] = load_inputs(sc)
        while len(_INPUTS) > INPUTS_CACHED:
            _INPUTS.popitem(last=False)
    return _INPUTS[key]


from sim import targets  # noqa: E402
from sim.outputs import share_column  # noqa: E402


def metrics_row(result, sc: Scenario, years: list[int], metrics: list[str]) -> dict:
    """Reduce one run to its figures: annual shares, target reached, and the reporters' sweep
    metrics (sim/reporters.py)."""
    annual = result.annual
    # shares on the official basis, the one targets are judged on (sim/measurement.py)
    share = dict(zip(annual["year"].astype(int), annual[share_column(annual)].astype(float)))
    row: dict = {}
    for y in years:
        if y not in share or not math.isfinite(share[y]):
            raise FloatingPointError(f"core digital VA share in {y} is {share.get(y)}")
        row[f"share_{y}_pct"] = share[y]
    listed = targets.targets_of(sc)
    head = targets.headline(listed)  # target_hit, first_year_hit: the headline, as before
    row["target_hit"] = bool(share[head.year] >= head.value) if head.year in share else None
    hits = [y for y in years if share[y] >= head.value]
    row["first_year_hit"] = min(hits) if hits else None
    row.update(targets.run_metrics(annual, listed))
    by_metric = reporters.sweep_metrics()
    for m in metrics:
        row[m] = reporters.sweep_value(by_metric[m], result.national, annual)
    return row


def _posterior_draw(sc: Scenario, seed: int, fixed: dict, row: dict) -> Scenario:
    """With `calibration.posterior`, the run's parameter set drawn for its seed as `clustersim
    run` draws it (sim/runner.py), so each design point integrates over the posterior; the
    point's own swept values are kept over the draw's."""
    draws = sim.runner.posterior_draws(sc, [seed])
    if draws is None:
        return sc
    draw = draws.iloc[0].to_dict()
    row["posterior_row"] = int(draw["posterior_row"])
    return sim.runner.with_draw(sc, {k: v for k, v in draw.items() if k not in fixed})


def run_job(job: Job, kinds: dict[str, str]) -> list[Outcome]:
    """Run every run of a job; a run that raises becomes a failed row, never an exception."""
    outcomes = []
    sc = None
    for rid, replicate, seed in job.runs:
        cpu0 = time.process_time()
        row = {"run_id": rid, "point": job.point, "replicate": replicate, "seed": seed,
               "status": "ok", "error": None, **param_cells(job.values, kinds)}
        try:
            if sc is None:
                sc = point_scenario(job.base, job.values)
            run_sc = _posterior_draw(sc, seed, job.values, row)
            result = sim.runner.run_replicate(run_sc, seed, replicate=replicate,
                                              inputs=_inputs(sc), firm_snapshots=False)
            row.update(metrics_row(result, run_sc, job.years, job.metrics))
            series = None
            if job.series != "none":
                frame = (result.annual if job.series == "annual" else result.national).copy()
                frame.insert(0, "point", job.point)
                frame.insert(0, "run_id", rid)
                series = frame
            outcomes.append(Outcome(row, series, None, time.process_time() - cpu0))
        except Exception as exc:  # isolate the run: record it and go on
            row.update(status="failed", error=error_message(exc))
            outcomes.append(Outcome(row, None, traceback.format_exc(),
                                    time.process_time() - cpu0))
    return outcomes
