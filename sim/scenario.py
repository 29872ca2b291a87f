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
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from sim.parameters import BY_KEY, PARAMETERS, SECTIONS, defaults
from sim.registry import AVAILABILITY_FIELDS, SECTOR_CODES, TARGET_INDICATORS

META_KEYS = ("name", "description", "extends")
TARGET_KEYS = ("indicator", "value", "year", "source", "name")
EVENT_KEYS = ("date", "name", *AVAILABILITY_FIELDS, "foreign_knowledge", "entity_list_add",
              "direction")
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ScenarioError(ValueError):
    """A problem in a scenario or experiment file, located by file, line and key."""

    def __init__(self, file: str | Path | None, line: int | None, key: str | None, problem: str):
        self.file, self.line, self.key, self.problem = str(file or "<scenario>"), line, key, problem
        where = self.file + (f":{line}" if line else "")
        super().__init__(f"{where}: {key + ': ' if key else ''}{problem}")
        self.problems: list[ScenarioError] = [self]


def all_of(errors: list[ScenarioError]) -> ScenarioError:
    """One error that reports every problem found in a file (a line each), so a user fixes
    them in one pass; it is located, and reads, as the first one."""
    if len(errors) == 1:
        return errors[0]
    first = errors[0]
    combined = ScenarioError(first.file, first.line, first.key, first.problem)
    combined.problems = list(errors)
    combined.args = ("\n".join(str(e) for e in errors) + f"\n({len(errors)} problems)",)
    return combined


class Problems:
    """The problems a check finds, raised together."""

    def __init__(self):
        self.found: list[ScenarioError] = []

    def add(self, error: ScenarioError) -> None:
        if all(str(e) != str(error) for e in self.found):
            self.found.append(error)

    def raise_any(self) -> None:
        if self.found:
            raise all_of(self.found)


# --------------------------------------------------------------------------- reading files

# Limits on what a user file may make the loader do: far above any real scenario or experiment
# (a few kB, nesting under 10), far below what could hang a command or exhaust memory.
MAX_YAML_BYTES = 1 << 20
MAX_TABLE_BYTES = 16 << 20
MAX_YAML_DEPTH = 50
MAX_YAML_VALUES = 50_000   # after expanding aliases
NAME_RE = re.compile(r"^(?!\.)[\w.-]+$")   # \w: letters (any script), digits and `_`
MAX_NAME_CHARS = 100
NESTED_TOO_DEEP = f"values nested more than {MAX_YAML_DEPTH} deep; refused"


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as an input file, or None."""
    if path.is_dir():
        return "is a directory, not a file"
    if not path.exists():
        return "file not found"
    return None


def read_text_file(path: Path, limit: int, cite: tuple | None = None) -> str:
    """The text of a UTF-8 input file of at most `limit` bytes.

    A problem with the file as a whole is reported at `cite` (file, line, key: where the path
    was given) if there is one, else at the file itself.
    """
    def fail(line: int | None, problem: str) -> ScenarioError:
        if cite:
            return ScenarioError(*cite, f"{path}: {problem}")
        return ScenarioError(path, line, None, problem)

    problem = file_problem(path)
    if problem:
        raise fail(None, problem)
    try:
        with path.open("rb") as fh:
            raw = fh.read(limit + 1)  # bounded: a device or pipe may never end
    except OSError as exc:
        raise fail(None, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise fail(None, f"file too large (over {limit >> 20} MiB); input files of this kind "
                         f"are limited to {limit >> 20} MiB")
    nul = raw.find(b"\0")
    if nul >= 0:
        raise fail(raw.count(b"\n", 0, nul) + 1, "binary data (a NUL byte), not a text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise fail(line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); "
                         "save the file as UTF-8") from None


def non_finite(value: Any, prefix: str = ""):
    """(dotted key, value) of every NaN or infinite number in a tree of dicts and lists.

    JSON schema's `number` admits NaN and its bounds never reject it, so this is checked
    explicitly for every numeric value a user gives.
    """
    if isinstance(value, float) and not math.isfinite(value):
        yield prefix.rstrip("."), value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from non_finite(v, f"{prefix}{k}.")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from non_finite(v, f"{prefix}{i}.")


def finite_problem(value: float) -> str:
    return f"must be a finite number, got {value}"


def date_problem(text: str) -> str | None:
    """Why `text` is not a calendar date YYYY-MM-DD, or None."""
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return f"expected a date as YYYY-MM-DD, got {text!r}"
    try:
        datetime.date.fromisoformat(text)
    except ValueError as exc:
        return f"{text} is not a calendar date ({exc})"
    return None


def name_problem(name: str) -> str | None:
    """Why `name` cannot name an output folder (runs/<name>), or None."""
    if len(name) > MAX_NAME_CHARS:
        return f"at most {MAX_NAME_CHARS} characters (it names the output folder), got {len(name)}"
    if not NAME_RE.match(name):
        return (f"{name!r} cannot name an output folder: use letters, digits, '.', '_' and '-' "
                "only, not starting with '.'")
    return None


# --------------------------------------------------------------------------- YAML with lines

# libyaml's parser where PyYAML has it (ten times faster), with PyYAML's own composer on top so
# that every node passes the limits below
try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # PyYAML built without libyaml
    _Parser = yaml.parser.Parser


class GuardedLoader(yaml.composer.Composer, _Parser, yaml.constructor.SafeConstructor,
                    yaml.resolver.Resolver):
    """PyYAML's SafeLoader with limits: no alias bomb, recursive alias or deep nesting.

    Aliases share nodes, so a few lines can stand for billions of values that every later
    walk (lines, schema, copies) would expand; the composer counts the nodes each alias
    brings in and the depth it reaches, and stops at the first one past a limit.
    """

    def __init__(self, text: str, path):
        if _Parser is yaml.parser.Parser:
            yaml.reader.Reader.__init__(self, text)
            yaml.scanner.Scanner.__init__(self)
        _Parser.__init__(self, *([text] if _Parser is not yaml.parser.Parser else []))
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self.path = path
        self._nesting = 0
        self._open_anchors: set[str] = set()   # anchors whose node is still being composed
        self._values = 0                       # nodes composed, aliases expanded
        self._extent: dict[int, tuple[int, int]] = {}   # id(node) -> (nodes, depth) expanded

    def _refuse(self, mark, problem: str):
        return ScenarioError(self.path, mark.line + 1 if mark else None, None, problem)

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open_anchors:
                raise self._refuse(event.start_mark, f"recursive alias *{event.anchor} inside "
                                   f"its own anchor &{event.anchor}")
            node = super().compose_node(parent, index)
            nodes, depth = self._extent[id(node)]
            self._values += nodes
            if self._values > MAX_YAML_VALUES:
                raise self._refuse(event.start_mark, "YAML aliases expand to more than "
                                   f"{MAX_YAML_VALUES} values (an alias bomb?); refused")
            if self._nesting + depth > MAX_YAML_DEPTH:
                raise self._refuse(event.start_mark, f"alias *{event.anchor} nests values more "
                                   f"than {MAX_YAML_DEPTH} deep; refused")
            return node
        self._nesting += 1
        self._values += 1
        if self._nesting > MAX_YAML_DEPTH:
            raise self._refuse(event.start_mark, NESTED_TOO_DEEP)
        if self._values > MAX_YAML_VALUES:
            raise self._refuse(event.start_mark, f"more than {MAX_YAML_VALUES} values in one "
                                                 "file; refused")
        anchor = event.anchor
        if anchor:
            self._open_anchors.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._nesting -= 1
            self._open_anchors.discard(anchor)
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else ()
        extents = [self._extent[id(c)] for c in children]
        self._extent[id(node)] = (1 + sum(n for n, _ in extents),
                                  1 + max((d for _, d in extents), default=0))
        return node


def _timestamp_as_text(loader, node):
    """YAML reads 2024-01-01 as a date; the schema keeps dates as ISO text, and an impossible
    date (2023-02-30) stays text for the date checks to report with its key."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node).isoformat()
    except ValueError:
        return node.value


GuardedLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def parse_yaml(text: str, path) -> tuple[Any, yaml.Node | None]:
    """The value of one YAML document and its node graph (None if empty), within the limits."""
    loader = GuardedLoader(text, path)
    try:
        node = loader.get_single_node()
        if node is not None:
            problems = Problems()
            _check_duplicate_keys(node, "", path, problems)
            problems.raise_any()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def _check_duplicate_keys(node: yaml.Node, prefix: str, path, problems: Problems) -> None:
    """YAML's last duplicate silently wins; name both lines instead (merge keys `<<` excepted)."""
    if isinstance(node, yaml.MappingNode):
        first: dict[tuple, int] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                line = k.start_mark.line + 1
                if (k.tag, k.value) in first:
                    problems.add(ScenarioError(path, line, f"{prefix}{k.value}", "duplicate key "
                                               f"(first given at line {first[k.tag, k.value]})"))
                    continue
                first[k.tag, k.value] = line
            _check_duplicate_keys(v, f"{prefix}{k.value}.", path, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _check_duplicate_keys(v, f"{prefix}{i}.", path, problems)


def read_yaml(path: Path, cite: tuple | None = None) -> tuple[dict, dict[str, int]]:
    """Load a YAML mapping safely; also return the line (1-based) of every dotted key."""
    text = read_text_file(path, MAX_YAML_BYTES, cite)
    try:
        data, node = parse_yaml(text, path)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context
        if "nesting depth" in str(problem):  # libyaml's own, lower in its scanner
            problem = NESTED_TOO_DEEP
        else:
            problem = f"malformed YAML: {problem}"
        raise ScenarioError(path, mark.line + 1 if mark else None, None, problem) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, None, None, f"malformed YAML: {exc}") from None
    if data is None:
        data = {}
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
    problems = Problems()
    for key, value in non_finite(data):
        problems.add(ScenarioError(path, lines.get(key), key, finite_problem(value)))
    problems.raise_any()
    return data, lines


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
                               **{f: unit for f in AVAILABILITY_FIELDS},
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
    target = {"type": "object", "additionalProperties": False,
              "required": ["indicator", "value", "year", "source"],
              "properties": {"indicator": {"enum": list(TARGET_INDICATORS)},
                             "value": {"type": "number", "minimum": 0},
                             "year": {"type": "integer", "minimum": 2020, "maximum": 2100},
                             "source": {"type": "string", "minLength": 1},
                             "name": {"type": "string"}}}
    props = {"name": {"type": "string"}, "description": {"type": "string"},
             "extends": {"type": "string"}, "targets": {"type": "array", "items": target},
             **sections}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "additionalProperties": False, "properties": props}


_VALIDATOR = jsonschema.Draft202012Validator(json_schema())
ALL_KEYS = list(META_KEYS) + ["targets"] + list(SECTIONS) + [p.key for p in PARAMETERS]


def suggest(key: str) -> str:
    target_field = re.match(r"^targets\.\d+\.(\w+)$", key)
    if target_field:
        near = difflib.get_close_matches(target_field.group(1), TARGET_KEYS, n=1)
        return f"; did you mean '{near[0]}'?" if near else "; target fields are " + ", ".join(TARGET_KEYS)
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

    def legacy_target_in_effect(self) -> bool:
        """The single `target.*` target counts (sim/targets.py): the scenario has no
        `targets:` list, or sets those keys itself (in its file chain or by --set)."""
        return not self.tree.get("targets") or any(
            k in self.origin for k in ("target", "target.share_pct", "target.year"))

    def validate(self) -> "Scenario":
        validate_tree(self)
        return self


def _load_chain(path: Path, seen: tuple[Path, ...],
                cite: tuple | None = None) -> tuple[dict, dict[str, tuple[str, int]]]:
    path = path.resolve()
    data, lines = read_yaml(path, cite)
    origin = {k: (str(path), ln) for k, ln in lines.items()}
    if "extends" in data:
        parent = data["extends"]
        here = (path, lines.get("extends"), "extends")
        if not isinstance(parent, str) or not parent.strip():
            raise ScenarioError(*here, "must be a file path")
        parent_path = (path.parent / parent).resolve()
        if parent_path in (*seen, path):
            raise ScenarioError(*here, "circular extends: " +
                                " -> ".join(p.name for p in (*seen, path, parent_path)))
        base, base_origin = _load_chain(parent_path, (*seen, path), cite=here)
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
        value = parse_yaml(raw, "--set")[0] if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    except ScenarioError as exc:  # a YAML limit
        raise ScenarioError("--set", None, key, exc.problem) from None
    if isinstance(value, str):
        try:  # YAML reads only .nan and .inf as numbers; nan, inf and -inf mean the same here
            number = float(value)
        except ValueError:
            number = 0.0
        if not math.isfinite(number):
            value = number
    for _, bad in non_finite(value):
        raise ScenarioError("--set", None, key, finite_problem(bad))
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
    if unknown_top.get("name"):
        problem = name_problem(str(unknown_top["name"]))
        if problem:
            file, line = origin.get("name", (str(path), None))
            raise ScenarioError(file, line, "name", problem)
    sc = Scenario(tree, Path(path) if path else None,
                  name=str(unknown_top.get("name") or (Path(path).stem if path else "defaults")),
                  description=str(unknown_top.get("description", "")), origin=origin)
    # unknown keys first (all of them): they explain most type errors
    problems = Problems()
    for key in _flatten_keys(data):
        file, line = origin.get(key, (str(path), None))
        try:
            _check_known(key, file, line)
        except ScenarioError as exc:
            problems.add(exc)
    if problems.found:
        # the known keys' values too, so that one pass shows every problem of the file (an
        # unknown key and a bad value used to take two runs). The unknown keys are reported
        # first since they explain most type errors; a value check that trips over their
        # structure in some other way is left for the next pass rather than hiding them.
        try:
            sc.validate()
        except ScenarioError as exc:
            for e in exc.problems:
                problems.add(e)
        except Exception:  # noqa: BLE001 - the unknown keys below are the error to report
            pass
    problems.raise_any()
    return sc.validate()


def _check_known(key: str, file: str, line: int | None) -> None:
    top = key.split(".")[0]
    if top in META_KEYS and "." not in key:
        return
    if key in BY_KEY or key in SECTIONS or key == "targets":
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
    """Every problem of the scenario, stage by stage (a later stage assumes the earlier holds)."""
    problems = Problems()
    for key, value in non_finite(sc.tree):
        problems.add(sc.error(key, finite_problem(value)))
    problems.raise_any()
    tree = {"name": sc.name, "description": sc.description, **sc.tree}
    errors = sorted(_VALIDATOR.iter_errors(tree), key=lambda e: list(map(str, e.absolute_path)))
    for err in errors:
        path = [str(p) for p in err.absolute_path]
        if err.validator == "additionalProperties":
            extra = [k for k in err.instance if k not in err.schema.get("properties", {})]
            for name in extra:
                key = ".".join(path + [str(name)])
                problems.add(sc.error(key, "unknown key" + suggest(key)))
            continue
        key = ".".join(path) or "(top)"
        what = err.message
        if err.validator in ("type",):
            what = f"expected {err.validator_value}, got {type(err.instance).__name__} " \
                   f"{err.instance!r}"
        elif err.validator == "enum" and path and path[0] == "targets":
            what = (f"unknown indicator {err.instance!r}; indicators are "
                    + ", ".join(TARGET_INDICATORS))
        elif err.validator == "required" and path and path[0] == "targets":
            what = f"{err.message.split(' is ')[0]} missing: each target needs " \
                   + ", ".join(TARGET_KEYS[:4])
        elif err.validator in ("minimum", "maximum"):
            lo, hi = err.schema.get("minimum"), err.schema.get("maximum")
            unit = next((f" ({q.unit})" for q in PARAMETERS if key.startswith(q.key)), "")
            what = f"value {err.instance} out of range [{lo}, {hi}]{unit}"
        problems.add(sc.error(key, what))
    problems.raise_any()
    # Checks beyond JSON schema
    for p in PARAMETERS:
        if p.kind == "month" and not MONTH_RE.match(str(sc.get(p.key))):
            problems.add(sc.error(p.key, f"expected a month as YYYY-MM, got {sc.get(p.key)!r}"))
    until = sc.get("export_controls.historical_until")
    if until != "all" and not MONTH_RE.match(str(until)):
        problems.add(sc.error("export_controls.historical_until",
                              f"expected 'all' or a month as YYYY-MM, got {until!r}"))
    problems.raise_any()
    start, end = month_index(sc.get("run.start")), month_index(sc.get("run.end"))
    if end < start:
        problems.add(sc.error("run.end", f"run ends ({sc.get('run.end')}) before it starts "
                                         f"({sc.get('run.start')})"))
    if start < month_index("2020-01"):
        problems.add(sc.error("run.start",
                              "runs start in 2020-01 or later (the calibration year is 2020)"))
    # the single legacy target must lie inside the run; listed targets after its end are
    # reported as not judged (a run cut short still reports them), before its start refused
    if sc.legacy_target_in_effect():
        tgt = sc.get("target.year")
        if not (start <= tgt * 12 and tgt * 12 + 11 <= end):  # the target is an annual share
            problems.add(sc.error("target.year", f"target year {tgt} is not a whole year of the "
                                  f"run {sc.get('run.start')}..{sc.get('run.end')} (January "
                                  "to December must be simulated)"))
    for i, t in enumerate(sc.tree.get("targets") or []):
        if t["year"] * 12 < start:
            problems.add(sc.error(f"targets.{i}.year", f"target year {t['year']} is before the "
                                  f"run starts ({sc.get('run.start')})"))
    events = sc.get("export_controls.extra_events")
    prev = None
    for i, ev in enumerate(events):
        key = f"export_controls.extra_events.{i}.date"
        d = str(ev["date"])
        problem = date_problem(d)
        if problem:
            problems.add(sc.error(key, problem))
            continue
        mi = month_index(d)
        if mi < start or mi > end:
            problems.add(sc.error(key, f"event date {d} is outside the run "
                                       f"{sc.get('run.start')}..{sc.get('run.end')}"))
        if prev is not None and d < prev:
            problems.add(sc.error(key, f"event dates out of order: {d} comes after {prev}"))
        prev = d
    for key in ("data.regions_file", "data.gdp_file", "data.events_file"):
        path = sc.resolve_path(key)
        problem = path and file_problem(path)
        if problem:
            problems.add(sc.error(key, f"{path}: {problem}"))
    problems.raise_any()
