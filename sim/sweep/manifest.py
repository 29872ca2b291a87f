"""A sweep directory's identity: the checks before anything runs, and its manifest.

DIR is refused before any worker starts or anything is written if it cannot be written, was
not made by a sweep, or holds results this experiment would not give (another experiment, or
the same one with changed inputs: base scenario or data tables, compared by hash).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import pyarrow as pa

from sim import targets
from sim.inputs import DATA_DIR
from sim.outputs import git_commit, package_versions
from sim.parameters import PARAMETERS
from sim.sweep import store as st
from sim.sweep.designs import Design
from sim.sweep.experiment import Experiment
from sim.sweep.jobs import param_cells

def design_table(exp: Experiment, design: Design) -> pa.Table:
    kinds = {p.key: p.kind for p in exp.params}
    cols: dict = {"point": list(range(len(design)))}
    for p in exp.params:
        cols[p.key] = [param_cells(pt, kinds)[p.key] for pt in design.points]
    if design.X is not None:
        for j, p in enumerate(exp.params):
            cols[f"sample.{p.key}"] = design.X[:, j].astype(float)
    return pa.table(cols)


def base_inputs(exp: Experiment) -> dict:
    """What the runs read besides the experiment's settings: the resolved base scenario (every
    `extends:` file merged, so an edit that changes no value does not count) and the sha256 of
    every data table a run may read (the built-in ones, the base's own, any a design varies)."""
    path_keys = {p.key for p in PARAMETERS if p.key.startswith("data.")}  # table paths
    tables = set(DATA_DIR.glob("*.csv"))
    tables.update(f for f in map(exp.base.resolve_path, sorted(path_keys)) if f is not None)
    for p in exp.params:
        if p.key in path_keys:
            tables.update(Path(v) for v in p.values or () if v != "builtin")
    tree = json.dumps(exp.base.tree, sort_keys=True, default=str)
    return {"resolved_scenario_sha256": hashlib.sha256(tree.encode()).hexdigest(),
            "data_tables_sha256": {str(f): _sha256(f) for f in sorted(tables)}}


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:  # reported as a difference, not as a crash
        return f"unreadable ({exc.strerror or exc})"


def _inputs_hash(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def check_directory(exp: Experiment, root: Path, restart: bool) -> None:
    """Refuse DIR before any worker starts or anything is written: a place that cannot be
    written, a directory no sweep made, or one holding results this experiment would not give."""
    root = Path(root)
    st.check_writable(root)
    if st.is_foreign(root):
        raise st.DirectoryError(f"{root} exists and is not a sweep directory (no sweep's "
                                "manifest.json); choose another --out (nothing in it was "
                                "changed)")
    if restart or not (root / "manifest.json").exists():
        return
    what = _mismatch(st.read_manifest(root), exp)
    if what:
        raise st.DirectoryError(f"{root} holds results of {what}. Use --restart to set them "
                                f"aside (moved into {root / (st.ASIDE_PREFIX + '<time>')}/) and "
                                "start over, or choose another --out")


def _mismatch(old: dict, exp: Experiment) -> str:
    """Why results in DIR are not this experiment's, or ''."""
    digest = exp.content_hash()
    if old.get("experiment_hash") != digest:
        what = _differences(old, exp)
        return (f"another experiment ({old.get('experiment_file')}, hash "
                f"{str(old.get('experiment_hash'))[:12]}; this one {digest[:12]}"
                f"{': ' + what if what else ''})")
    recorded = old.get("base_scenario_inputs")
    if recorded is None:  # made before the inputs were recorded: nothing to compare
        return ""
    now = base_inputs(exp)
    if _inputs_hash(recorded) == _inputs_hash(now):
        return ""
    before, after = recorded.get("data_tables_sha256", {}), now["data_tables_sha256"]
    changed = [f"data table {f} " + ("is no longer read" if f not in after else
                                     "is new" if f not in before else "changed")
               for f in sorted(set(before) | set(after)) if before.get(f) != after.get(f)]
    if recorded.get("resolved_scenario_sha256") != now["resolved_scenario_sha256"]:
        changed.insert(0, "the resolved base scenario changed")
    return ("this experiment with different inputs (the experiment file is unchanged): "
            + "; ".join(changed[:5]) + (f"; and {len(changed) - 5} more" if len(changed) > 5
                                        else ""))


def prepare(exp: Experiment, design: Design, root: Path, restart: bool, backend_name: str,
            argv: list[str]) -> dict:
    """Create or reopen DIR (under its lock); with `restart`, set earlier results aside."""
    root = Path(root)
    check_directory(exp, root, restart)
    manifest_path = root / "manifest.json"
    if restart:
        aside = st.set_aside(root)
        if aside is not None:
            print(f"--restart: the earlier results in {root} were moved to {aside}/ (delete it "
                  "when no longer needed)", file=sys.stderr)
    root.mkdir(parents=True, exist_ok=True)
    session = {"started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "command": argv, "backend": backend_name, "git_commit": git_commit(),
               "versions": package_versions(), "pid": os.getpid()}
    inputs = base_inputs(exp)
    if manifest_path.exists():
        manifest = st.read_manifest(root)
        first = manifest["sessions"][0].get("git_commit")
        if first != session["git_commit"]:
            print(f"warning: {root} holds runs made by code at commit {first}; this session "
                  f"runs {session['git_commit']} (the manifest records each session's)",
                  file=sys.stderr)
        manifest.setdefault("base_scenario_inputs", inputs)
        manifest["sessions"].append(session)
    else:
        manifest = {
            "experiment_name": exp.name, "experiment_file": str(exp.path),
            "experiment_hash": exp.content_hash(), "experiment": exp.spec,
            "description": exp.description, "base_scenario": exp.base.as_dict(),
            "base_scenario_hash": _inputs_hash(inputs), "base_scenario_inputs": inputs,
            "design": exp.design,
            "parameters": [p.key for p in exp.params],
            "parameter_kinds": {p.key: p.kind for p in exp.params},
            "problem": design.problem, "levels": exp.levels, "second_order": exp.second_order,
            "samples": exp.samples, "points": len(design), "replicates": exp.replicates,
            "seed": exp.seed, "seeds": exp.seeds, "years": exp.years,
            "target_share_pct": targets.headline(exp.targets).value,
            "target_year": exp.target_year,
            "targets": [{"columns": [f"target_{k}_reached", f"target_{k}_first_year"],
                         **dataclasses.asdict(t)} for k, t in enumerate(exp.targets, start=1)],
            "metrics": exp.metric_columns,
            "series": exp.series, "sessions": [session]}
        st.write_parquet_atomic(design_table(exp, design), root / "design.parquet")
    st.write_manifest(root, manifest)
    return manifest


def _differences(old: dict, exp: Experiment) -> str:
    def flat(d, prefix=""):
        out = {}
        for k, v in (d or {}).items():
            if isinstance(v, dict):
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out
    a = flat(old.get("experiment"))
    b = flat({k: v for k, v in exp.spec.items()})
    keys = sorted(k for k in set(a) | set(b)
                  if k != "description" and json.dumps(a.get(k), default=str) !=
                  json.dumps(b.get(k), default=str))
    if not keys:
        base_old, base_new = flat(old.get("base_scenario")), flat(exp.base.as_dict())
        keys = sorted(k for k in set(base_old) | set(base_new)
                      if k not in ("name", "description") and
                      json.dumps(base_old.get(k), default=str) !=
                      json.dumps(base_new.get(k), default=str))

        def where(key: str) -> str:
            file, line = exp.base.where(key)
            return f"{key} (now {base_new.get(key)!r}, {file}{':' + str(line) if line else ''})"
        return ("the experiment file is unchanged; the base scenario differs in " +
                ", ".join(map(where, keys[:5]))) if keys else ""
    return "differs in " + ", ".join(keys[:5])
