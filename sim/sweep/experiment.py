"""Experiment files: which scenario to start from, which parameters to vary and how.

An experiment is a YAML file (see experiments/*.yaml and docs/sweeps.md):

    name: controls_vs_policy
    scenario: ../scenarios/baseline.yaml     # base scenario, relative to this file
    fixed: {run.firms: 2000}                  # set on the base for every run
    design: grid                              # grid | list | lhs | sobol | morris
    parameters:
      export_controls.severity: [0, 0.5, 1]   # grid/list: values
      policy.rd_subsidy_pct: {min: 10, max: 60, distribution: uniform}   # lhs/sobol/morris
    samples: 64                               # lhs points, Sobol N, Morris trajectories
    replicates: 10                            # seeds per design point
    seed: 20240101                            # master seed
    outputs: {metrics: [core_va_end_bn_yuan], series: annual}

Every problem is a ScenarioError naming the experiment file, the line and the dotted key, as
for scenario files; the parameter keys are those of sim/parameters.py (plus sector codes of
sector maps and fields of the base scenario's extra export-control events).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from sim import reporters, targets
from sim.inputs import load_inputs
from sim.outputs import NATIONAL_COLUMNS
from sim.parameters import BY_KEY
from sim.registry import AVAILABILITY_FIELDS
from sim.scenario import (EVENT_KEYS, SECTOR_CODES, Scenario, ScenarioError, file_problem,
                          load_scenario, month_index, name_problem, read_yaml, suggest)

TOP_KEYS = ("name", "description", "scenario", "fixed", "design", "parameters", "samples",
            "levels", "second_order", "replicates", "seed", "seeds", "outputs")
DESIGNS = ("grid", "list", "lhs", "sobol", "morris")
CONTINUOUS = ("lhs", "sobol", "morris")
RANGE_KEYS = ("min", "max", "distribution", "mode", "mean", "sd")
DISTRIBUTIONS = ("uniform", "loguniform", "triangular", "normal")
SERIES = ("none", "annual", "monthly")
# Runs tables written before the reporter registry hold these metrics first, in this order;
# experiment hashes and Parquet bytes depend on it. Other reporters' metrics follow in
# registry order.
RECORDED_ORDER = ("core_va_end_bn_yuan", "chip_self_sufficiency_end_pct", "firms_end",
                  "employment_end")
ARROW_TYPE = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "str": pa.string(),
              "json": pa.string()}
# the sweep owns the calendar and the seeds; a design point varies the model, not these
NOT_SWEPT = {"run.start": "the calendar is the same for every run: set it under fixed:",
             "run.end": "the calendar is the same for every run: set it under fixed:",
             "run.seed": "seeds come from the experiment's master `seed:` and `replicates:`",
             "run.replicates": "use the experiment's `replicates:`"}
EVENT_FLOAT_FIELDS = (*AVAILABILITY_FIELDS, "foreign_knowledge")


def sweep_metrics() -> dict[str, reporters.Reporter]:
    """Per-run figures a sweep can keep besides the annual shares, target_hit and
    first_year_hit (always kept): every reporter's sweep metric, in runs-table column order."""
    metrics = reporters.sweep_metrics()
    rank = {m: i for i, m in enumerate(RECORDED_ORDER)}
    return dict(sorted(metrics.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def unavailable() -> dict[str, str]:
    """Sweep metrics whose monthly series is not in what sim.runner.run_replicate returns
    (a reporter kept out of national.csv), each with the reason."""
    return {m: f"{r.name} is not among the monthly columns sim.runner.run_replicate returns "
               "(csv=False in sim/reporters.py)"
            for m, r in reporters.sweep_metrics().items() if r.name not in NATIONAL_COLUMNS}


@dataclass
class ParamSpec:
    """One varied parameter: its scenario key and either values or a distribution."""

    key: str
    line: int | None
    kind: str                       # float | int | bool | str | json
    values: list | None = None      # grid and list designs
    lo: float | None = None         # lhs, sobol, morris
    hi: float | None = None
    distribution: str = "uniform"
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None

    @property
    def column(self) -> str:
        return self.key


@dataclass
class Experiment:
    path: Path
    name: str
    description: str
    base: Scenario                  # the base scenario with `fixed:` applied, validated
    design: str
    params: list[ParamSpec]
    samples: int | None
    levels: int
    second_order: bool
    replicates: int
    seed: int
    seeds: str                      # independent | common
    metrics: list[str]
    series: str
    spec: dict = field(repr=False, default_factory=dict)
    lines: dict[str, int] = field(repr=False, default_factory=dict)

    @property
    def years(self) -> list[int]:
        """Calendar years run completely: one share column each."""
        start, end = month_index(self.base["run.start"]), month_index(self.base["run.end"])
        first = start // 12 + (1 if start % 12 else 0)
        last = end // 12 - (0 if end % 12 == 11 else 1)
        return list(range(first, last + 1))

    @property
    def metric_meanings(self) -> dict[str, str]:
        """Each kept metric's one-line meaning, from its reporter."""
        known = sweep_metrics()
        return {m: known[m].meaning for m in self.metrics}

    @property
    def targets(self) -> list:
        """The base scenario's targets (sim/targets.py); the first core-share one is the
        headline that target_hit and first_year_hit judge."""
        return targets.targets_of(self.base)

    @property
    def target_year(self) -> int:
        return targets.headline(self.targets).year

    @property
    def share_columns(self) -> list[str]:
        return [f"share_{y}_pct" for y in self.years]

    @property
    def metric_columns(self) -> list[str]:
        return (self.share_columns + ["target_hit", "first_year_hit"]
                + targets.metric_columns(self.targets) + self.metrics)

    def runs_schema(self) -> pa.Schema:
        """The columns of a runs table: ids, parameter values, figures."""
        fields = [pa.field("run_id", pa.string(), False), pa.field("point", pa.int64(), False),
                  pa.field("replicate", pa.int64(), False), pa.field("seed", pa.int64(), False),
                  pa.field("status", pa.string(), False), pa.field("error", pa.string())]
        fields += [pa.field(p.key, ARROW_TYPE[p.kind]) for p in self.params]
        fields += [pa.field(c, pa.float64()) for c in self.share_columns]
        fields += [pa.field("target_hit", pa.bool_()), pa.field("first_year_hit", pa.int64())]
        fields += [pa.field(c, pa.bool_() if c.endswith("_reached") else pa.int64())
                   for c in targets.metric_columns(self.targets)]
        fields += [pa.field(m, pa.float64()) for m in self.metrics]
        if self.base.resolve_path("calibration.posterior") is not None:
            # the posterior row each run drew (sim/sweep/jobs.py), so a report can condition on it
            fields.append(pa.field("posterior_row", pa.int64()))
        return pa.schema(fields)

    def content_hash(self) -> str:
        """What decides the results: the experiment's settings, the resolved base scenario and the
        columns recorded (parts of one directory share one schema)."""
        spec = {k: v for k, v in self.spec.items() if k != "description"}
        blob = json.dumps({"experiment": spec, "base": self.base.tree,
                           "columns": str(self.runs_schema())}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def error(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(self.path, _line(self.lines, key), key, problem)


def _line(lines: dict[str, int], key: str) -> int | None:
    """The line of `key`, or of its closest enclosing key."""
    while key:
        if key in lines:
            return lines[key]
        key = key.rsplit(".", 1)[0] if "." in key else ""
    return None


# --------------------------------------------------------------------------- parameter keys

def param_kind(key: str, base: Scenario) -> tuple[str, float | None, float | None]:
    """(kind, min, max) of a settable scenario key, or raise KeyError with a hint."""
    if key in BY_KEY:
        p = BY_KEY[key]
        kind = {"float": "float", "int": "int", "bool": "bool", "str": "str", "month": "str"}
        return kind.get(p.kind, "json"), p.min, p.max
    head, _, last = key.rpartition(".")
    if head in BY_KEY and BY_KEY[head].kind == "sector_map":
        if last not in SECTOR_CODES:
            raise KeyError(f"unknown sector '{last}'; sectors are " + ", ".join(SECTOR_CODES)
                           + " (quote them in YAML: '03')")
        return "float", BY_KEY[head].min, BY_KEY[head].max
    parts = key.split(".")
    if key.startswith("export_controls.extra_events.") and len(parts) == 4:
        events = base.get("export_controls.extra_events")
        if not parts[2].isdigit() or int(parts[2]) >= len(events):
            raise KeyError(f"the base scenario has {len(events)} extra event(s); vary a field of "
                           "one of them as export_controls.extra_events.<index>.<field>")
        if parts[3] not in EVENT_KEYS:
            near = difflib.get_close_matches(parts[3], EVENT_KEYS, n=1)
            raise KeyError(f"unknown event field '{parts[3]}'" +
                           (f"; did you mean '{near[0]}'?" if near else ""))
        if parts[3] in EVENT_FLOAT_FIELDS:
            return "float", 0.0, 1.0
        return ("json" if parts[3] == "entity_list_add" else "str"), None, None
    raise KeyError("unknown parameter" + suggest(key))


def apply_value(sc: Scenario, key: str, value: Any) -> None:
    """Set one value, including a field of an extra event (a list element)."""
    parts = key.split(".")
    if key.startswith("export_controls.extra_events.") and len(parts) == 4:
        sc.tree["export_controls"]["extra_events"][int(parts[2])][parts[3]] = value
        sc.origin[key] = ("<set>", None)
    else:
        sc.set(key, value)


def point_scenario(base: Scenario, values: dict[str, Any]) -> Scenario:
    """The base scenario with one design point's values, validated."""
    sc = base.copy()
    for key, value in values.items():
        apply_value(sc, key, copy.deepcopy(value))
    return sc.validate()


def coerce(kind: str, value: Any) -> Any:
    """A sampled or listed value in the type the scenario expects."""
    if kind == "int":
        return int(round(float(value)))
    if kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


# --------------------------------------------------------------------------- loading

def load_experiment(path: str | Path) -> Experiment:
    """Read, check and resolve an experiment file; every problem names file, line and key."""
    path = Path(path)
    data, lines = read_yaml(path)

    def fail(key: str, problem: str) -> ScenarioError:
        return ScenarioError(path, _line(lines, key), key, problem)

    for key in data:
        if key not in TOP_KEYS:
            near = difflib.get_close_matches(str(key), TOP_KEYS, n=1)
            raise fail(str(key), "unknown key" + (f"; did you mean '{near[0]}'?" if near else
                                                  "; keys are " + ", ".join(TOP_KEYS)))
    for key in ("scenario", "design", "parameters"):
        if key not in data:
            raise ScenarioError(path, None, key, "missing (required)")

    # base scenario: the file, then `fixed:`
    if not isinstance(data["scenario"], str):
        raise fail("scenario", "expected the path of a scenario file")
    scenario_path = Path(os.path.normpath(path.parent / data["scenario"]))
    problem = file_problem(scenario_path)
    if problem:
        raise fail("scenario", f"scenario {scenario_path}: {problem}")
    base = load_scenario(scenario_path)
    fixed = data.get("fixed") or {}
    if not isinstance(fixed, dict):
        raise fail("fixed", "expected a mapping of dotted.key: value")
    for key, value in _leaves(fixed, "", lines, "fixed.", fail, fixed_mode=True):
        try:
            param_kind(key, base)
        except KeyError as exc:
            raise fail(f"fixed.{key}", exc.args[0]) from None
        if key.startswith("data.") and isinstance(value, str) and value != "builtin":
            value = str(path.resolve().parent / value)  # absolute: workers may run elsewhere
        apply_value(base, key, value)
        base.origin[key] = (str(path), _line(lines, f"fixed.{key}"))
    try:
        base.validate()
    except ScenarioError as exc:
        raise _relocate(exc, path, lines, "fixed.") from None
    try:
        load_inputs(base)  # data files of the base: fail now, not in every run
    except ScenarioError as exc:
        raise _relocate(exc, path, lines, "fixed.") from None

    design = data["design"]
    if design not in DESIGNS:
        near = difflib.get_close_matches(str(design), DESIGNS, n=1)
        raise fail("design", f"unknown design {design!r}" +
                   (f"; did you mean '{near[0]}'?" if near else "; designs are " +
                    ", ".join(DESIGNS)))

    params = _parse_parameters(data["parameters"], design, base, path, lines, fail)
    samples = data.get("samples")
    if design in CONTINUOUS:
        samples = _int(data, "samples", fail, lo=2, required=True)
        if design == "sobol" and samples & (samples - 1):
            raise fail("samples", f"Sobol' sampling needs a power of two (got {samples}; "
                                  f"e.g. {1 << samples.bit_length()}) for its convergence "
                                  "properties")
    elif samples is not None:
        raise fail("samples", f"a {design} design takes its points from the listed values; "
                              "`samples:` is for lhs, sobol and morris")
    levels = _int(data, "levels", fail, lo=2, default=4)
    if "levels" in data and design != "morris":
        raise fail("levels", "`levels:` (grid levels) applies to the morris design only")
    if levels % 2:
        raise fail("levels", f"Morris needs an even number of levels (got {levels})")
    second_order = data.get("second_order", True)
    if not isinstance(second_order, bool):
        raise fail("second_order", "expected true or false")
    if "second_order" in data and design != "sobol":
        raise fail("second_order", "applies to the sobol design only")
    replicates = _int(data, "replicates", fail, lo=1, default=1)
    seed = _int(data, "seed", fail, lo=0, default=int(base["run.seed"]))
    seeds = data.get("seeds", "independent")
    if seeds not in ("independent", "common"):
        raise fail("seeds", "expected `independent` (each design point its own seeds) or "
                            "`common` (the same seeds at every point: common random numbers)")

    outputs = data.get("outputs") or {}
    if not isinstance(outputs, dict):
        raise fail("outputs", "expected a mapping with `metrics:` and/or `series:`")
    for key in outputs:
        if key not in ("metrics", "series"):
            raise fail(f"outputs.{key}", "unknown key; outputs take `metrics:` and `series:`")
    known = sweep_metrics()
    missing = unavailable()
    metrics = outputs.get("metrics", [m for m in known if m not in missing])
    if not isinstance(metrics, list):
        raise fail("outputs.metrics", "expected a list of metric names")
    for i, m in enumerate(metrics):
        if m in missing:
            raise fail(f"outputs.metrics.{i}", f"{m} is not available: {missing[m]}")
        if m not in known:
            near = difflib.get_close_matches(str(m), list(known), n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            raise fail(f"outputs.metrics.{i}", f"unknown metric {m!r}{hint} (annual shares, "
                       "target_hit and first_year_hit are always kept; others: "
                       + ", ".join(known) + ")")
    series = outputs.get("series", "none")
    if series is None or series is False:
        series = "none"
    if series not in SERIES:
        raise fail("outputs.series", f"expected one of {', '.join(SERIES)}")

    name = str(data.get("name") or path.stem)
    problem = name_problem(name) if data.get("name") else None
    if problem:  # sweep results go to runs/sweep-<name>
        raise fail("name", problem)
    exp = Experiment(path, name, str(data.get("description", "")), base, design, params,
                     samples, levels, second_order, replicates, seed, seeds,
                     [m for m in known if m in metrics], series, data, lines)
    return exp  # the base's validation made sure the runs cover the target year


def _relocate(exc: ScenarioError, path: Path, lines: dict, prefix: str) -> ScenarioError:
    """A scenario error caused by a value this file set: point at this file's line."""
    if exc.file == str(path) and exc.key and not exc.key.startswith(prefix):
        return ScenarioError(path, exc.line, prefix + exc.key, exc.problem)
    if exc.file in ("<set>", "<scenario>") or exc.line is None:
        line = _line(lines, prefix + (exc.key or ""))
        if line is not None:
            return ScenarioError(path, line, prefix + (exc.key or ""), exc.problem)
    return exc


def _int(data, key, fail, lo=None, default=None, required=False) -> int:
    if key not in data:
        if required:
            raise fail(key, "missing (required for this design)")
        return default
    v = data[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise fail(key, f"expected an integer, got {v!r}")
    if lo is not None and v < lo:
        raise fail(key, f"must be at least {lo} (got {v})")
    return v


def _leaves(node: dict, prefix: str, lines, where: str, fail, fixed_mode=False):
    """(dotted key, value) pairs; nested and dotted spellings of a key both work."""
    for k, v in node.items():
        key = f"{prefix}{k}"
        if not isinstance(k, str):
            raise fail(f"{where}{key}", "keys must be text (quote sector codes: '03')")
        is_range = not fixed_mode and isinstance(v, dict) and any(x in v for x in RANGE_KEYS)
        if isinstance(v, dict) and v and not is_range:
            yield from _leaves(v, key + ".", lines, where, fail, fixed_mode)
        else:
            yield key, v


def _parse_parameters(node, design, base, path, lines, fail) -> list[ParamSpec]:
    if not isinstance(node, dict) or not node:
        raise fail("parameters", "expected a mapping of dotted.key: values (or {min, max})")
    specs: list[ParamSpec] = []
    for key, spec in _leaves(node, "", lines, "parameters.", fail):
        where = f"parameters.{key}"
        line = _line(lines, where)
        if key in NOT_SWEPT:
            raise fail(where, f"not a design parameter: {NOT_SWEPT[key]}")
        try:
            kind, lo, hi = param_kind(key, base)
        except KeyError as exc:
            raise fail(where, exc.args[0]) from None
        if design in ("grid", "list"):
            if not isinstance(spec, list) or not spec:
                raise fail(where, f"a {design} design needs a list of values; "
                                  "{min, max} ranges are for lhs, sobol and morris")
            values = [coerce(kind, v) for v in spec]
            if key.startswith("data.") and kind == "str":  # paths relative to this file
                values = [v if v == "builtin" or not isinstance(v, str) else
                          os.path.normpath(path.resolve().parent / v) for v in values]
            for i, v in enumerate(values):
                _check_value(base, key, v, f"{where}.{i}", path, lines)
            specs.append(ParamSpec(key, line, kind, values=values))
            continue
        if not isinstance(spec, dict):
            raise fail(where, f"a {design} design samples from a range: give "
                              "{min: ..., max: ...} (optionally distribution: ...)")
        if kind not in ("float", "int"):
            raise fail(where, f"a {kind} parameter cannot be sampled from a range; use a "
                              "grid or list design")
        for k in spec:
            if k not in RANGE_KEYS:
                near = difflib.get_close_matches(str(k), RANGE_KEYS, n=1)
                raise fail(f"{where}.{k}", "unknown key" +
                           (f"; did you mean '{near[0]}'?" if near else
                            "; ranges take " + ", ".join(RANGE_KEYS)))
            if k != "distribution" and (isinstance(spec[k], bool) or
                                        not isinstance(spec[k], (int, float))):
                raise fail(f"{where}.{k}", f"expected a number, got {spec[k]!r}")
        dist = spec.get("distribution", "uniform")
        if dist not in DISTRIBUTIONS:
            near = difflib.get_close_matches(str(dist), DISTRIBUTIONS, n=1)
            raise fail(f"{where}.distribution", f"unknown distribution {dist!r}" +
                       (f"; did you mean '{near[0]}'?" if near else "; use one of " +
                        ", ".join(DISTRIBUTIONS)))
        for k in ("min", "max"):
            if k not in spec:
                raise fail(where, f"missing `{k}:`")
        p = ParamSpec(key, line, kind, lo=float(spec["min"]), hi=float(spec["max"]),
                      distribution=dist, mode=spec.get("mode"), mean=spec.get("mean"),
                      sd=spec.get("sd"))
        if not p.lo < p.hi:
            raise fail(f"{where}.max", f"max ({p.hi:g}) must be above min ({p.lo:g})")
        for k, bound in (("min", p.lo), ("max", p.hi)):
            if (lo is not None and bound < lo) or (hi is not None and bound > hi):
                raise fail(f"{where}.{k}", f"value {bound:g} out of the parameter's range "
                                           f"[{lo}, {hi}]")
            _check_value(base, key, coerce(kind, bound), f"{where}.{k}", path, lines)
        if dist == "loguniform" and p.lo <= 0:
            raise fail(f"{where}.min", "a loguniform range needs min > 0")
        if dist == "triangular":
            if p.mode is None or not p.lo <= p.mode <= p.hi:
                raise fail(f"{where}.mode", "a triangular distribution needs `mode:` between "
                                            "min and max")
        elif "mode" in spec:
            raise fail(f"{where}.mode", "`mode:` applies to distribution: triangular")
        if dist == "normal":
            if p.mean is None or p.sd is None or p.sd <= 0:
                raise fail(where, "a normal distribution needs `mean:` and `sd:` > 0 (it is "
                                  "truncated to [min, max])")
        elif "mean" in spec or "sd" in spec:
            raise fail(where, "`mean:` and `sd:` apply to distribution: normal")
        specs.append(p)
    if design == "list":
        n = {len(s.values) for s in specs}
        if len(n) > 1:
            first = specs[0]
            for s in specs[1:]:
                if len(s.values) != len(first.values):
                    raise fail(f"parameters.{s.key}", f"a list design pairs the i-th values of "
                               f"every parameter: {len(s.values)} values here, "
                               f"{len(first.values)} for {first.key}")
    if design in ("sobol", "morris") and len(specs) < 2:
        raise fail("parameters", f"a {design} analysis needs at least two parameters")
    return specs


def _check_value(base: Scenario, key: str, value, where: str, path: Path, lines) -> None:
    sc = base.copy()
    apply_value(sc, key, copy.deepcopy(value))

    def here(exc: ScenarioError) -> ScenarioError:
        problem = exc.problem if exc.key and exc.key.startswith(key) else \
            f"{exc.key}: {exc.problem}"
        return ScenarioError(path, _line(lines, where), where, problem)

    try:
        sc.validate()
    except ScenarioError as exc:
        raise here(exc) from None
    if key.startswith("data."):
        try:
            load_inputs(sc)  # every listed table, before any run
        except ScenarioError as exc:
            if exc.file != "<set>":
                raise  # a bad cell: its table's own file and line
            raise here(exc) from None
