"""Scenario files: safe YAML loading, `extends:`, `--set` overrides and validation.

Every problem is reported as `file:line: key: problem` (a ScenarioError), so that a user sees
where to look. The schema is generated from sim/parameters.py and checked with jsonschema; the
checks a JSON schema cannot express (month order, known regions and sectors, event dates inside
the run) follow it.
"""

from __future__ import annotations

import copy
import datetime
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from sim.parameters import BY_KEY, PARAMETERS, SECTIONS, defaults

META_KEYS = ("name", "description", "extends")
EVENT_KEYS = ("date", "name", "avail_frontier_ai", "avail_hbm", "avail_advanced_foundry",
              "avail_equipment", "foreign_knowledge", "entity_list_add", "direction")
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
DATE_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
SECTOR_CODES = ("01", "02", "03", "04")


class ScenarioError(ValueError):
    """A problem in a scenario or experiment file, located by file, line and key."""

    def __init__(self, file: str | Path | None, line: int | None, key: str | None, problem: str):
        self.file, self.line, self.key, self.problem = str(file or "<scenario>"), line, key, problem
        where = self.file + (f":{line}" if line else "")
        super().__init__(f"{where}: {key + ': ' if key else ''}{problem}")


# --------------------------------------------------------------------------- YAML with lines

def read_yaml(path: Path) -> tuple[dict, dict[str, int]]:
    """Load a YAML mapping safely; also return the line (1-based) of every dotted key."""
    if not path.exists():
        raise ScenarioError(path, None, None, "file not found")
    text = path.read_text(encoding="utf-8")
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else {}
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ScenarioError(path, mark.line + 1 if mark else None, None,
                            f"malformed YAML: {exc.problem or exc.context}") from None
    if data is None:
        data = {}
    data = _dates_to_text(data)
    if not isinstance(data, dict):
        raise ScenarioError(path, 1, None, "the file must be a mapping of keys to values")
    lines: dict[str, int] = {}

    def walk(n: yaml.Node, prefix: str) -> None:
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = f"{prefix}{k.value}"
                lines[key] = k.start_mark.line + 1
                walk(v, key + ".")
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                lines[f"{prefix}{i}"] = v.start_mark.line + 1
                walk(v, f"{prefix}{i}.")

    if node is not None:
        walk(node, "")
    return data, lines


def _dates_to_text(value):
    """YAML reads 2024-01-01 as a date; the schema keeps dates as ISO text."""
    if isinstance(value, dict):
        return {k: _dates_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_to_text(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _flatten_keys(tree: dict, prefix: str = "") -> list[str]:
    keys = []
    for k, v in tree.items():
        key = f"{prefix}{k}"
        keys.append(key)
        if isinstance(v, dict) and not (prefix == "" and k in META_KEYS):
            keys += _flatten_keys(v, key + ".")
    return keys


# --------------------------------------------------------------------------- schema

def _param_schema(p) -> dict:
    num = {"type": "number"} if p.kind == "float" else {"type": "integer"}
    if p.kind in ("float", "int"):
        if p.min is not None:
            num["minimum"] = p.min
        if p.max is not None:
            num["maximum"] = p.max
        return num
    if p.kind == "bool":
        return {"type": "boolean"}
    if p.kind in ("str", "month"):
        return {"type": "string"}
    if p.kind == "sector_map":
        val = {"type": "number", "minimum": p.min, "maximum": p.max}
        return {"type": "object", "propertyNames": {"enum": list(SECTOR_CODES)},
                "additionalProperties": val}
    if p.kind == "region_list":
        return {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    if p.kind == "events":
        unit = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
        item = {"type": "object", "additionalProperties": False, "required": ["date"],
                "properties": {"date": {"type": "string"}, "name": {"type": "string"},
                               "avail_frontier_ai": unit, "avail_hbm": unit,
                               "avail_advanced_foundry": unit, "avail_equipment": unit,
                               "foreign_knowledge": unit,
                               "direction": {"enum": ["tighten", "loosen", "set"]},
                               "entity_list_add": {"type": "array", "items": {"type": "string"}}}}
        return {"type": "array", "items": item}
    raise AssertionError(p.kind)


def json_schema() -> dict:
    sections: dict[str, dict] = {s: {"type": "object", "additionalProperties": False,
                                     "properties": {}} for s in SECTIONS}
    for p in PARAMETERS:
        s, name = p.key.split(".", 1)
        sections[s]["properties"][name] = _param_schema(p)
    props = {"name": {"type": "string"}, "description": {"type": "string"},
             "extends": {"type": "string"}, **sections}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "additionalProperties": False, "properties": props}


_VALIDATOR = jsonschema.Draft202012Validator(json_schema())
ALL_KEYS = list(META_KEYS) + list(SECTIONS) + [p.key for p in PARAMETERS]


def suggest(key: str) -> str:
    event_field = re.match(r"^export_controls\.extra_events\.\d+\.(\w+)$", key)
    if event_field:
        near = difflib.get_close_matches(event_field.group(1), EVENT_KEYS, n=1)
        return f"; did you mean '{near[0]}'?" if near else "; event fields are " + ", ".join(EVENT_KEYS)
    near = difflib.get_close_matches(key, ALL_KEYS, n=1, cutoff=0.6)
    if not near and "." in key:  # a misspelt section: compare the last part within all keys
        last = key.rsplit(".", 1)[1]
        near = [k for k in ALL_KEYS if k.endswith("." + last)][:1]
    return f"; did you mean '{near[0]}'?" if near else ""


# --------------------------------------------------------------------------- scenario

@dataclass
class Scenario:
    """A validated scenario: nested parameter dict plus where each value came from."""

    tree: dict
    path: Path | None = None
    name: str = "scenario"
    description: str = ""
    origin: dict[str, tuple[str, int | None]] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        node: Any = self.tree
        for part in key.split("."):
            node = node[part]
        return node

    def __getitem__(self, key: str) -> Any:
        return self.get(key)

    def set(self, key: str, value: Any) -> None:
        """Change one value (used by sweeps and the browser sliders); call validate() after."""
        parts = key.split(".")
        node = self.tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        self.origin[key] = ("<set>", None)

    def copy(self) -> "Scenario":
        return Scenario(copy.deepcopy(self.tree), self.path, self.name, self.description,
                        dict(self.origin))

    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve_path(self, key: str) -> Path | None:
        """A data-file parameter as a path (None for `builtin`)."""
        value = self.get(key)
        if value == "builtin":
            return None
        file, _ = self.origin.get(key, (None, None))
        base = Path(file).parent if file and not file.startswith("<") else self.base_dir()
        return (base / value).resolve()

    def where(self, key: str) -> tuple[str, int | None]:
        return self.origin.get(key, (str(self.path or "<defaults>"), None))

    def error(self, key: str, problem: str) -> ScenarioError:
        file, line = self.where(key)
        return ScenarioError(file, line, key, problem)

    def as_dict(self) -> dict:
        return {"name": self.name, "description": self.description, **copy.deepcopy(self.tree)}

    def flat(self) -> dict[str, Any]:
        return {p.key: self.get(p.key) for p in PARAMETERS}

    def validate(self) -> "Scenario":
        validate_tree(self)
        return self


def _load_chain(path: Path, seen: tuple[Path, ...]) -> tuple[dict, dict[str, tuple[str, int]]]:
    path = path.resolve()
    if path in seen:
        raise ScenarioError(path, None, "extends", "circular extends: " +
                            " -> ".join(p.name for p in (*seen, path)))
    data, lines = read_yaml(path)
    origin = {k: (str(path), ln) for k, ln in lines.items()}
    if "extends" in data:
        parent = data["extends"]
        if not isinstance(parent, str):
            raise ScenarioError(path, lines.get("extends"), "extends", "must be a file path")
        parent_path = (path.parent / parent)
        if not parent_path.exists():
            raise ScenarioError(path, lines.get("extends"), "extends",
                                f"base file not found: {parent_path}")
        base, base_origin = _load_chain(parent_path, (*seen, path))
        base.pop("name", None), base.pop("description", None)
        merged = deep_merge(base, {k: v for k, v in data.items() if k != "extends"})
        return merged, {**base_origin, **origin}
    return data, origin


def parse_set(item: str) -> tuple[str, Any]:
    if "=" not in item:
        raise ScenarioError("--set", None, item, "expected dotted.key=value")
    key, raw = item.split("=", 1)
    key = key.strip()
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def load_scenario(path: str | Path | None = None, overrides: list[str] | tuple = ()) -> Scenario:
    """Load and validate a scenario file (None: the defaults), then apply `key=value` overrides."""
    origin: dict[str, tuple[str, int | None]] = {}
    data: dict = {}
    if path is not None:
        data, origin = _load_chain(Path(path), ())
    tree = deep_merge(defaults(), {k: v for k, v in data.items() if k not in META_KEYS})
    unknown_top = {k: v for k, v in data.items() if k in META_KEYS}
    for item in overrides:
        key, value = parse_set(item)
        _check_known(key, "--set", None)
        parts = key.split(".")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        origin[key] = ("--set", None)
    sc = Scenario(tree, Path(path) if path else None,
                  name=str(unknown_top.get("name") or (Path(path).stem if path else "defaults")),
                  description=str(unknown_top.get("description", "")), origin=origin)
    # unknown keys first: they explain most type errors
    for key in _flatten_keys(data):
        file, line = origin.get(key, (str(path), None))
        _check_known(key, file, line)
    return sc.validate()


def _check_known(key: str, file: str, line: int | None) -> None:
    top = key.split(".")[0]
    if top in META_KEYS and "." not in key:
        return
    if key in BY_KEY or key in SECTIONS:
        return
    # inside a mapping or event list parameter
    for p in PARAMETERS:
        if key.startswith(p.key + ".") and p.kind in ("sector_map", "events", "region_list"):
            if p.kind == "sector_map" and key.count(".") == p.key.count(".") + 1:
                code = key.rsplit(".", 1)[1]
                if code not in SECTOR_CODES:
                    raise ScenarioError(file, line, key, f"unknown sector '{code}'; sectors are "
                                        + ", ".join(SECTOR_CODES))
            if p.kind == "events":
                rest = key[len(p.key) + 1:].split(".")
                if len(rest) == 2 and rest[1] not in EVENT_KEYS:
                    near = difflib.get_close_matches(rest[1], EVENT_KEYS, n=1)
                    hint = f"; did you mean '{near[0]}'?" if near else ""
                    raise ScenarioError(file, line, key, f"unknown event field '{rest[1]}'{hint}")
            return
    raise ScenarioError(file, line, key, "unknown key" + suggest(key))


def month_index(month: str) -> int:
    y, m = month.split("-")[:2]
    return int(y) * 12 + int(m) - 1


def validate_tree(sc: Scenario) -> None:
    tree = {"name": sc.name, "description": sc.description, **sc.tree}
    errors = sorted(_VALIDATOR.iter_errors(tree), key=lambda e: list(map(str, e.absolute_path)))
    for err in errors:
        path = [str(p) for p in err.absolute_path]
        if err.validator == "additionalProperties":
            extra = [k for k in err.instance if k not in err.schema.get("properties", {})]
            key = ".".join(path + [str(extra[0])])
            raise sc.error(key, "unknown key" + suggest(key))
        key = ".".join(path) or "(top)"
        what = err.message
        if err.validator in ("type",):
            what = f"expected {err.validator_value}, got {type(err.instance).__name__} " \
                   f"{err.instance!r}"
        elif err.validator in ("minimum", "maximum"):
            lo, hi = err.schema.get("minimum"), err.schema.get("maximum")
            unit = next((f" ({q.unit})" for q in PARAMETERS if key.startswith(q.key)), "")
            what = f"value {err.instance} out of range [{lo}, {hi}]{unit}"
        raise sc.error(key, what)
    # Checks beyond JSON schema
    for p in PARAMETERS:
        if p.kind == "month" and not MONTH_RE.match(str(sc.get(p.key))):
            raise sc.error(p.key, f"expected a month as YYYY-MM, got {sc.get(p.key)!r}")
    until = sc.get("export_controls.historical_until")
    if until != "all" and not MONTH_RE.match(str(until)):
        raise sc.error("export_controls.historical_until",
                       f"expected 'all' or a month as YYYY-MM, got {until!r}")
    start, end = month_index(sc.get("run.start")), month_index(sc.get("run.end"))
    if end < start:
        raise sc.error("run.end", f"run ends ({sc.get('run.end')}) before it starts "
                                  f"({sc.get('run.start')})")
    if start < month_index("2020-01"):
        raise sc.error("run.start", "runs start in 2020-01 or later (the calibration year is 2020)")
    tgt = sc.get("target.year")
    if not (start // 12 <= tgt <= end // 12):
        raise sc.error("target.year", f"target year {tgt} is outside the run "
                                      f"{sc.get('run.start')}..{sc.get('run.end')}")
    events = sc.get("export_controls.extra_events")
    prev = None
    for i, ev in enumerate(events):
        key = f"export_controls.extra_events.{i}.date"
        d = str(ev["date"])
        if not DATE_RE.match(d):
            raise sc.error(key, f"expected a date as YYYY-MM-DD, got {d!r}")
        mi = month_index(d)
        if mi < start or mi > end:
            raise sc.error(key, f"event date {d} is outside the run "
                                f"{sc.get('run.start')}..{sc.get('run.end')}")
        if prev is not None and d < prev:
            raise sc.error(key, f"event dates out of order: {d} comes after {prev}")
        prev = d
    for key in ("data.regions_file", "data.gdp_file", "data.events_file"):
        path = sc.resolve_path(key)
        if path is not None and not path.exists():
            raise sc.error(key, f"file not found: {path}")
