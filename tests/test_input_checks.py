"""Every file input is checked at load time: a bad one is a ScenarioError naming its file, line
and key (exit status 2, nothing written), never a traceback or a silent acceptance."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from sim.calibration.fit import parse_free, read_targets
from sim.cli import main
from sim.inputs import DATA_DIR, load_inputs
from sim.scenario import ScenarioError, load_scenario, read_yaml
from sim.sweep.experiment import load_experiment

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "baseline.yaml"
TARGETS = ROOT / "calibration" / "targets_baseline.csv"


def refused(call, file, line, key, *words) -> ScenarioError:
    """`call()` raises a ScenarioError at file:line (line None: not checked) naming key."""
    with pytest.raises(ScenarioError) as info:
        call()
    exc, text = info.value, str(info.value)
    assert exc.file == str(file), text
    if line is not None:
        assert exc.line == line, text
        assert f"{file}:{line}: " in text, text
    if key is not None:
        assert exc.key == key and f": {key}: " in text, text
    for w in words:
        assert w in text, text
    return exc


def write(path: Path, content: str | bytes) -> Path:
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return path


def child(tmp_path, body: str) -> Path:
    return write(tmp_path / "s.yaml", f"extends: {BASE}\n{body}")


# --------------------------------------------------------------------------- 1 YAML limits

BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{c}: &{c} [{','.join('*' + p for _ in range(9))}]\n" for p, c in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("body,line,words", [
    (BOMB, 5, ("aliases expand to more than", "alias bomb")),
    ("a: " + "[" * 1000 + "]" * 1000 + "\n", 1, ("nested more than 50 deep",)),
    ("a:\n" + "".join(" " * i + "- \n" for i in range(1, 80)), 51, ("nested more than 50 deep",)),
    ("run: &a\n  x: *a\n", 2, ("recursive alias *a",)),
    ("a: &a [*a]\n", 1, ("recursive alias *a",)),
    ("a: [" + "0," * 60_000 + "]\n", 1, ("more than 50000 values",)),
    ("# " + "x" * (1 << 20) + "\n", None, ("too large", "1 MiB")),
])
def test_yaml_limits(tmp_path, body, line, words):
    path = write(tmp_path / "s.yaml", body)
    refused(lambda: read_yaml(path), path, line, None, *words)


# --------------------------------------------------------------------------- 2 duplicate keys

@pytest.mark.parametrize("body,line,key,first", [
    ("spillover:\n  decay_km: 500\n  decay_km: 900\n", 4, "spillover.decay_km", 3),
    ("spillover:\n  decay_km: 500\nspillover:\n  strength: 0.01\n", 4, "spillover", 2),
    ("production:\n  trend_growth_pct: {'03': 1, \"03\": 2}\n", 3,
     "production.trend_growth_pct.03", 3),
])
def test_duplicate_keys_name_both_lines(tmp_path, body, line, key, first):
    path = child(tmp_path, body)
    refused(lambda: load_scenario(path), path, line, key, f"duplicate key (first given at line "
                                                          f"{first})")


@pytest.mark.parametrize("body,found", [
    ("run:\n  end: 2025-12\n  end: 2026-12\nrun:\n  start: 2020-01\n",
     ["4: run.end: duplicate key (first given at line 3)",
      "5: run: duplicate key (first given at line 2)"]),
    ("spillover:\n  decay_km: .nan\nagglomeration:\n  elasticity: -.inf\n",
     ["3: spillover.decay_km: must be a finite number",
      "5: agglomeration.elasticity: must be a finite number"]),
], ids=["duplicate keys", "non-finite values"])
def test_every_problem_of_a_kind_in_a_file_is_reported_at_once(tmp_path, body, found):
    path = child(tmp_path, body)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    for problem in found:
        assert f"{path}:{problem}" in text
    assert f"({len(found)} problems)" in text


def test_merge_keys_are_not_duplicates(tmp_path):
    path = child(tmp_path, "spillover: &s\n  decay_km: 500\nagglomeration:\n  elasticity: 0.1\n")
    assert load_scenario(path).get("spillover.decay_km") == 500


# --------------------------------------------------------------------------- 3 unreadable files

@pytest.mark.parametrize("files,line,key,words", [
    ({"s.yaml": "name: caf\xe9\n".encode("latin-1")}, 1, None, ("not UTF-8", "0xe9")),
    ({"s.yaml": b"name: x\n\x00\x01"}, 2, None, ("binary",)),
    ({"s.yaml": "extends: sub\n"}, 1, "extends", ("is a directory",)),
    ({"s.yaml": "extends: b.bin\n", "b.bin": bytes(range(256))}, 1, "extends", ("b.bin", "binary")),
    ({"s.yaml": "x: 1\nextends: gone.yaml\n"}, 2, "extends", ("gone.yaml", "file not found")),
    ({"s.yaml": "# self\n\nextends: s.yaml\n"}, 3, "extends", ("circular extends",)),
])
def test_unreadable_scenario_files(tmp_path, files, line, key, words):
    (tmp_path / "sub").mkdir()
    for name, content in files.items():
        write(tmp_path / name, content)
    path = tmp_path / "s.yaml"
    refused(lambda: load_scenario(path), path.resolve(), line, key, *words)


def test_extends_cycle_names_the_closing_line(tmp_path):
    write(tmp_path / "a.yaml", "name: a\nextends: b.yaml\n")
    write(tmp_path / "b.yaml", "# b\nextends: a.yaml\n")
    refused(lambda: load_scenario(tmp_path / "a.yaml"), (tmp_path / "b.yaml").resolve(), 2,
            "extends", "circular extends: a.yaml -> b.yaml -> a.yaml")


def test_scenario_path_that_is_a_directory(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    assert f"{tmp_path.resolve()}: is a directory" in capsys.readouterr().err


# --------------------------------------------------------------------------- 4 NaN and infinities

@pytest.mark.parametrize("body,line,key", [
    ("spillover:\n  decay_km: .nan\n", 3, "spillover.decay_km"),
    ("agglomeration:\n  elasticity: -.inf\n", 3, "agglomeration.elasticity"),
    ("production:\n  trend_growth_pct: {'03': .nan}\n", 3, "production.trend_growth_pct.03"),
    ("export_controls:\n  extra_events:\n    - {date: 2024-05-01, avail_hbm: .inf}\n", 4,
     "export_controls.extra_events.0.avail_hbm"),
])
def test_non_finite_values_in_a_scenario(tmp_path, body, line, key):
    path = child(tmp_path, body)
    refused(lambda: load_scenario(path), path, line, key, "must be a finite number")


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "+inf", ".nan", "-.inf", "[1, .nan]"])
def test_non_finite_values_through_set(raw):
    refused(lambda: load_scenario(BASE, [f"spillover.decay_km={raw}"]), "--set", None,
            "spillover.decay_km", "must be a finite number")


def test_non_finite_values_set_programmatically_are_refused_by_validate():
    sc = load_scenario(BASE)
    sc.set("production.trend_growth_pct.02", float("nan"))
    refused(sc.validate, "<set>", None, "production.trend_growth_pct.02", "finite")


# --------------------------------------------------------------------------- 5 dates

@pytest.mark.parametrize("body,line,key,words", [
    ("export_controls:\n  extra_events:\n    - {date: 2023-02-30, avail_hbm: 0.1}\n", 4,
     "export_controls.extra_events.0.date", ("2023-02-30 is not a calendar date", "day")),
    ("export_controls:\n  extra_events:\n    - {date: '2023-13-01', avail_hbm: 0.1}\n", 4,
     "export_controls.extra_events.0.date", ("not a calendar date", "month")),
    ("policy:\n  designation_date: 2022-02-30\n", 3, "policy.designation_date",
     ("expected a month as YYYY-MM",)),
    ("run:\n  end: 2025-13\n", 3, "run.end", ("expected a month",)),
])
def test_impossible_dates(tmp_path, body, line, key, words):
    path = child(tmp_path, body)
    refused(lambda: load_scenario(path), path, line, key, *words)


# --------------------------------------------------------------------------- 6 target year

@pytest.mark.parametrize("body,line", [
    ("run:\n  end: 2025-06\ntarget:\n  year: 2025\n", 5),
    ("run:\n  start: 2021-03\ntarget:\n  year: 2021\n", 5),
    ("target:\n  year: 2031\n", 3),
])
def test_target_year_must_be_a_whole_year_of_the_run(tmp_path, body, line):
    path = child(tmp_path, body)
    refused(lambda: load_scenario(path), path, line, "target.year", "not a whole year of the run")


# --------------------------------------------------------------------------- 7 data tables

def edited(name: str, row: int, column: str, value: str) -> str:
    """A shipped table with one cell replaced (row 1 = first data row, file line 2)."""
    rows = list(csv.reader(io.StringIO((DATA_DIR / name).read_text(encoding="utf-8"))))
    rows[row][rows[0].index(column)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def appended(name: str, row: int) -> tuple[str, int]:
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return "\n".join(lines + [lines[row]]) + "\n", len(lines) + 1


GDP_DUP, GDP_DUP_LINE = appended("gdp.csv", 2)
EV_DUP, EV_DUP_LINE = appended("export_controls.csv", 1)
REG_DUP, REG_DUP_LINE = appended("regions.csv", 1)
TABLES = {"gdp_file": "gdp.csv", "events_file": "export_controls.csv",
          "regions_file": "regions.csv"}


@pytest.mark.parametrize("key,text,line,column,words", [
    ("gdp_file", edited("gdp.csv", 2, "gdp_bn_yuan", "-5"), 3, "gdp_bn_yuan", ("must be > 0",)),
    ("gdp_file", edited("gdp.csv", 1, "gdp_bn_yuan", "0"), 2, "gdp_bn_yuan", ("out of range",)),
    ("gdp_file", edited("gdp.csv", 3, "gdp_bn_yuan", ""), 4, "gdp_bn_yuan", ("empty cell",)),
    ("gdp_file", edited("gdp.csv", 2, "gdp_bn_yuan", "abc"), 3, "gdp_bn_yuan",
     ("expected a number, got 'abc'",)),
    ("gdp_file", edited("gdp.csv", 2, "gdp_bn_yuan", "1,5"), 3, "gdp_bn_yuan",
     ("expected a number",)),
    ("gdp_file", edited("gdp.csv", 2, "gdp_bn_yuan", "nan"), 3, "gdp_bn_yuan", ("finite",)),
    ("gdp_file", edited("gdp.csv", 2, "year", "20x1"), 3, "year", ("expected an integer",)),
    ("gdp_file", GDP_DUP, GDP_DUP_LINE, "year", ("duplicate year '2021' (first at line 3)",)),
    ("events_file", edited("export_controls.csv", 1, "avail_hbm", "5"), 2, "avail_hbm",
     ("in [0, 1]",)),
    ("events_file", edited("export_controls.csv", 1, "date", "2023-02-30"), 2, "date",
     ("not a calendar date",)),
    ("events_file", edited("export_controls.csv", 1, "date", ""), 2, "date", ("empty cell",)),
    ("events_file", edited("export_controls.csv", 1, "direction", "sideways"), 2, "direction",
     ("expected one of tighten, loosen, set",)),
    ("events_file", edited("export_controls.csv", 1, "grade", "E"), 2, "grade",
     ("expected one of A, A-local, B, C, D, got 'E'",)),
    ("events_file", edited("export_controls.csv", 3, "grade", ""), 4, "grade", ("empty cell",)),
    ("events_file", edited("export_controls.csv", 1, "entity_list_add", "acme"), 2,
     "entity_list_add", ("unknown firm 'acme'",)),
    ("events_file", EV_DUP, EV_DUP_LINE, "event_id", ("duplicate event_id", "first at line 2")),
    ("regions_file", REG_DUP, REG_DUP_LINE, "region_id", ("duplicate region_id",
                                                          "first at line 2")),
    ("regions_file", edited("regions.csv", 2, "lat", "123"), 3, "lat", ("in [-90, 90]",)),
    ("regions_file", edited("regions.csv", 1, "attractiveness", "inf"), 2, "attractiveness",
     ("finite",)),
    ("regions_file", edited("regions.csv", 1, "nmc_2022", "yes"), 2, "nmc_2022",
     ("expected a flag, 0 or 1",)),
    ("regions_file", edited("regions.csv", 1, "infrastructure_index", "5"), 2,
     "infrastructure_index", ("out of range",)),
    ("regions_file", edited("regions.csv", 1, "specialisations", "01_ic;01_icc"), 2,
     "specialisations", ("unknown sub-sector '01_icc'; did you mean '01_ic'",)),
    ("regions_file", "region_id,name\nx,y,z\n", 2, None, ("3 cells, but the header has 2",)),
])
def test_bad_table_cells_name_file_row_and_column(tmp_path, key, text, line, column, words):
    table = write(tmp_path / TABLES[key], text)
    scenario = child(tmp_path, f"data:\n  {key}: {table.name}\n")
    refused(lambda: load_inputs(load_scenario(scenario)), table.resolve(), line, column, *words)


@pytest.mark.parametrize("content,words", [
    ((DATA_DIR / "gdp.csv").read_text(encoding="utf-8").replace("NBS", "NBS caf\xe9")
     .encode("latin-1"), ("not UTF-8", "line 2")),
    (bytes(range(256)), ("binary",)),
    ("year,source\n2020,x\n", ("missing columns: gdp_bn_yuan, kind",)),
    (None, ("is a directory",)),
])
def test_unreadable_tables_are_named_where_the_scenario_points_at_them(tmp_path, content, words):
    table = tmp_path / "gdp.csv"
    table.mkdir() if content is None else write(table, content)
    scenario = child(tmp_path, "data:\n  gdp_file: gdp.csv\n")
    exc = refused(lambda: load_inputs(load_scenario(scenario)), *(
        (table.resolve(), 1, None) if "missing" in words[0] else (scenario.resolve(), 3,
                                                                   "data.gdp_file")), *words)
    assert "gdp.csv" in str(exc)


def test_an_events_table_needs_its_grade_column_but_a_scenario_event_does_not(tmp_path):
    rows = list(csv.reader(io.StringIO((DATA_DIR / "export_controls.csv").read_text("utf-8"))))
    g = rows[0].index("grade")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([r[:g] + r[g + 1:] for r in rows])
    table = write(tmp_path / "export_controls.csv", buf.getvalue())
    scenario = child(tmp_path, "data:\n  events_file: export_controls.csv\n")
    refused(lambda: load_inputs(load_scenario(scenario)), table.resolve(), 1, "grade",
            "missing columns: grade")
    # extra_events (YAML) carry no grade: the loader gives them none
    scenario = child(tmp_path, "export_controls:\n  extra_events:\n"
                               "    - {date: 2027-01-01, avail_hbm: 0.1, direction: tighten}\n")
    extra = [e for e in load_inputs(load_scenario(scenario)).events if e.source == "scenario"]
    assert len(extra) == 1 and extra[0].grade == ""


def test_cli_refuses_a_bad_table_and_writes_nothing(tmp_path, capsys):
    table = write(tmp_path / "gdp.csv", edited("gdp.csv", 2, "gdp_bn_yuan", "-5"))
    scenario = child(tmp_path, "data:\n  gdp_file: gdp.csv\n")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 2
    assert f"{table.resolve()}:3: gdp_bn_yuan: -5 out of range" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gdp.csv", "s.yaml"]


# --------------------------------------------------------------------------- 8 targets files

SHIPPED = TARGETS.read_text(encoding="utf-8")


@pytest.mark.parametrize("content,line,key,words", [
    (SHIPPED + SHIPPED.splitlines()[1] + "\n", len(SHIPPED.splitlines()) + 1, "core_share_2020",
     ("duplicate target (first at line 2)",)),
    ("type,name,value,low,high,sd\ntarget,core_share_2020,nan,,,0.1\n", 2,
     "core_share_2020.value", ("finite",)),
    ("type,name,value,low,high,sd\ntarget,core_share_2020,7,8,,,0.1\n", 2, None,
     ("7 cells, but the header has 6",)),
    ("type,name,value,low,high,sd,sdd\n", 1, "sdd", ("unknown column; did you mean 'sd'",)),
    (SHIPPED.encode("utf-8") + "# caf\xe9\n".encode("latin-1"), len(SHIPPED.splitlines()) + 1,
     None, ("not UTF-8",)),
])
def test_bad_targets_files(tmp_path, content, line, key, words):
    path = write(tmp_path / "t.csv", content)
    refused(lambda: read_targets(path), path, line, key, *words)


def test_targets_path_that_is_a_directory_and_free_nan(tmp_path):
    refused(lambda: read_targets(tmp_path), tmp_path, None, None, "is a directory")
    refused(lambda: parse_free(["innovation.selection=nan:1"]), "--free", None,
            "innovation.selection", "finite")


# --------------------------------------------------------------------------- 9 experiments

def experiment(tmp_path, body: str) -> Path:
    return write(tmp_path / "e.yaml", f"scenario: {BASE}\nfixed: {{run.firms: 300}}\n{body}")


@pytest.mark.parametrize("body,line,key,words", [
    ("design: grid\nparameters:\n  export_controls.severity: [0, .nan]\n", 5,
     "parameters.export_controls.severity.1", ("must be a finite number",)),
    ("design: lhs\nsamples: 4\nparameters:\n  export_controls.severity: {min: 0, max: .inf}\n",
     6, "parameters.export_controls.severity.max", ("finite",)),
    ("design: grid\ndesign: list\nparameters:\n  export_controls.severity: [0]\n", 4, "design",
     ("duplicate key (first given at line 3)",)),
    ("design: grid\nparameters:\n  data.gdp_file: [builtin, gone.csv]\n", 5,
     "parameters.data.gdp_file.1", ("file not found",)),
    ("name: ../up\ndesign: grid\nparameters:\n  export_controls.severity: [0]\n", 3, "name",
     ("cannot name an output folder",)),
    (BOMB, 7, None, ("alias bomb",)),
])
def test_bad_experiment_files(tmp_path, body, line, key, words):
    path = experiment(tmp_path, body)
    refused(lambda: load_experiment(path), path, line, key, *words)


def test_experiment_grid_of_tables_checks_every_cell(tmp_path):
    table = write(tmp_path / "g.csv", edited("gdp.csv", 1, "gdp_bn_yuan", "-1"))
    path = experiment(tmp_path, "design: grid\nparameters:\n  data.gdp_file: [builtin, g.csv]\n")
    refused(lambda: load_experiment(path), table, 2, "gdp_bn_yuan", "out of range")


# --------------------------------------------------------------------------- 10 scenario names

@pytest.mark.parametrize("name", ["../x", ".", "..", "/tmp/abs", "a/b", "x" * 101, "bad\\x01name",
                                  "nul\\0", ".hidden", "two words"])
def test_unsafe_scenario_names(tmp_path, capsys, name):
    path = child(tmp_path, f'name: "{name}"\n')
    refused(lambda: load_scenario(path), path, 2, "name")
    assert main(["run", str(path), "--quiet", "--no-figures"]) == 2
    assert f"{path}:2: name: " in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["s.yaml"] and not (ROOT / "x").exists()


@pytest.mark.parametrize("name", ["baseline-2", "v1.2_final", "深圳", "x" * 100])
def test_safe_scenario_names(tmp_path, name):
    assert load_scenario(child(tmp_path, f'name: "{name}"\n')).name == name


def test_shipped_inputs_load_unchanged():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        load_inputs(load_scenario(path))
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        load_experiment(path)
    for path in sorted((ROOT / "calibration").glob("targets_*.csv")):
        read_targets(path)


def test_every_problem_of_a_file_is_reported_at_once(tmp_path, capsys):
    base = Path("scenarios/baseline.yaml").resolve()
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {base}\nagglomeration:\n  elasticty: 0.1\n"
                    "spillover:\n  strenght: 2\n")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    found = [(e.line, e.key) for e in exc.value.problems]
    assert found == [(3, "agglomeration.elasticty"), (5, "spillover.strenght")]
    path.write_text(f"extends: {base}\ninnovation:\n  zeta: -5\nspillover:\n  strength: 99\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: innovation.zeta: value -5 out of range" in err
    assert f"{path}:5: spillover.strength: value 99 out of range" in err
    assert "(2 problems)" in err
    # unknown keys and bad values of known keys in one file: all of them in one pass
    path.write_text(f"extends: {base}\ninnovation:\n  zeta: -5\nspillover:\n  strenght: 2\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:5: spillover.strenght: unknown key" in err
    assert f"{path}:3: innovation.zeta: value -5 out of range" in err
    assert "(2 problems)" in err
