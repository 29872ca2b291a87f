"""Reliability corpus: bad inputs through the real command line.

Each case builds its files in a fresh folder, runs `clustersim` there (`sim.cli.main`, the
function behind the console script, with that folder as the working directory so that default
outputs would land in it), and asserts three things:
  - the exit status (2 for bad input, unless the case says otherwise);
  - the message: one `error:` line naming the file, the line (or row) and the key or option,
    and no traceback;
  - nothing written and nothing destroyed: every file in the folder has the same bytes after
    the command as before, and no file or folder was added.
The kinds follow docs/reliability.md. Faults (signals, kill -9, full disks) are tested where
their code lives: tests/test_output_safety.py and tests/test_sweep_faults.py.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sim.cli import main
from sim.parameters import PARAMETERS

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "baseline.yaml"
DATA = ROOT / "sim" / "data"
SMOKE = ROOT / "experiments" / "smoke.yaml"
TARGETS = ROOT / "calibration" / "targets_baseline.csv"


@dataclass
class Case:
    kind: str
    name: str
    argv: list[str]                      # "{d}" stands for the case's folder
    files: dict[str, bytes | str] = field(default_factory=dict)
    expect: tuple[str, ...] = ()         # fragments of the message ("{d}" allowed)
    line: int | None = None              # line the message must name, as FILE:LINE
    file: str | None = None              # the file it must name (default: the first of `files`)
    status: int = 2
    dirs: tuple[str, ...] = ()           # folders to create before the command

    @property
    def id(self) -> str:
        return f"{self.kind}: {self.name}"


def scenario(body: str, **files) -> dict:
    return {"s.yaml": f"extends: {BASE}\n{body}", **files}


CASES: list[Case] = []


def add(*cases: Case) -> None:
    CASES.extend(cases)


# --------------------------------------------------------------------------- parameter values
# Every numeric parameter refuses NaN and infinities in a file and through --set, and every
# bounded one refuses a value past each bound: these are generated from the parameter table.
NUMERIC = [p for p in PARAMETERS if p.kind in ("float", "int")]
for p in NUMERIC:
    section, name = p.key.split(".", 1)
    for bad in (".nan", ".inf"):
        add(Case("silently wrong", f"{p.key} = {bad} in a file", ["validate", "{d}/s.yaml"],
                 scenario(f"{section}:\n  {name}: {bad}\n"), expect=(p.key,), line=3))
for p in NUMERIC[::3]:
    add(Case("silently wrong", f"--set {p.key}=-inf", ["validate", str(BASE), "--set",
                                                        f"{p.key}=-inf"],
             expect=("--set", p.key), file="--set"))
for p in [q for q in NUMERIC if q.max is not None and math.isfinite(q.max)][::2]:
    section, name = p.key.split(".", 1)
    too_big = p.max + 1 if p.kind == "int" else p.max * 2 + 1
    add(Case("silently wrong", f"{p.key} above its maximum", ["validate", "{d}/s.yaml"],
             scenario(f"{section}:\n  {name}: {too_big}\n"), expect=(p.key, "out of range"),
             line=3))
add(
    Case("silently wrong", "NaN in a sector map", ["validate", "{d}/s.yaml"],
         scenario("production:\n  trend_growth_pct: {'03': .nan}\n"),
         expect=("production.trend_growth_pct",), line=3),
    Case("silently wrong", "inf in an event field", ["validate", "{d}/s.yaml"],
         scenario("export_controls:\n  extra_events:\n    - {date: 2024-05-01, avail_hbm: .inf}\n"),
         expect=("export_controls.extra_events.0",), line=4),
    Case("silently wrong", "a number as text", ["validate", "{d}/s.yaml"],
         scenario("spillover:\n  decay_km: 'far'\n"), expect=("spillover.decay_km",), line=3),
    Case("silently wrong", "a bool where a number goes", ["validate", "{d}/s.yaml"],
         scenario("spillover:\n  decay_km: true\n"), expect=("spillover.decay_km",), line=3),
    Case("silently wrong", "a list where a number goes", ["validate", "{d}/s.yaml"],
         scenario("agglomeration:\n  elasticity: [0.1, 0.2]\n"),
         expect=("agglomeration.elasticity",), line=3),
    Case("silently wrong", "a section that is a number", ["validate", "{d}/s.yaml"],
         scenario("spillover: 3\n"), expect=("spillover",), line=2),
    Case("silently wrong", "a misspelt key", ["validate", "{d}/s.yaml"],
         scenario("innovation:\n  zetta: 0.3\n"), expect=("innovation.zetta", "did you mean"),
         line=3),
    Case("silently wrong", "an unknown section", ["validate", "{d}/s.yaml"],
         scenario("talent:\n  migration: 0.3\n"), expect=("talent",), line=2),
    Case("silently wrong", "an unknown event field", ["validate", "{d}/s.yaml"],
         scenario("export_controls:\n  extra_events:\n    - {date: 2024-05-01, avail_hmb: 0.1}\n"),
         expect=("avail_hmb",), line=4),
    Case("silently wrong", "duplicate key in a file", ["validate", "{d}/s.yaml"],
         scenario("spillover:\n  decay_km: 500\n  decay_km: 900\n"),
         expect=("decay_km", "duplicate"), line=4),
    Case("silently wrong", "duplicate section in a file", ["validate", "{d}/s.yaml"],
         scenario("spillover:\n  decay_km: 500\nspillover:\n  strength: 0.01\n"),
         expect=("spillover", "duplicate"), line=4),
    Case("silently wrong", "target year the run does not complete", ["validate", "{d}/s.yaml"],
         scenario("run:\n  end: 2025-06\ntarget:\n  year: 2025\n"), expect=("target.year",)),
    Case("silently wrong", "target year before the run", ["validate", "{d}/s.yaml"],
         scenario("target:\n  year: 2019\n"), expect=("target.year",), line=3),
    Case("silently wrong", "run ends before it starts", ["validate", "{d}/s.yaml"],
         scenario("run:\n  start: 2022-01\n  end: 2021-12\n"), expect=("run.end",), line=4),
    Case("silently wrong", "run starts before 2020", ["validate", "{d}/s.yaml"],
         scenario("run:\n  start: 2019-01\n"), expect=("run.start",), line=3),
    Case("silently wrong", "month 13", ["validate", "{d}/s.yaml"],
         scenario("run:\n  end: 2025-13\n"), expect=("run.end",), line=3),
    Case("silently wrong", "unknown region in the designation list", ["validate", "{d}/s.yaml"],
         scenario("policy:\n  designated_clusters: [hefei, atlantis]\n"),
         expect=("atlantis",), line=3),
    Case("silently wrong", "unknown sector code", ["validate", "{d}/s.yaml"],
         scenario("production:\n  trend_growth_pct: {'07': 3}\n"), expect=("07",), line=3),
    Case("silently wrong", "unknown firm on the Entity List", ["validate", "{d}/s.yaml"],
         scenario("export_controls:\n  extra_events:\n"
                  "    - {date: 2024-05-01, entity_list_add: [acme]}\n"), expect=("acme",), line=4),
    Case("silently wrong", "unknown event direction", ["validate", "{d}/s.yaml"],
         scenario("export_controls:\n  extra_events:\n"
                  "    - {date: 2024-05-01, avail_hbm: 0.5, direction: sideways}\n"),
         expect=("direction",), line=4),
    Case("silently wrong", "availability of 5 in an event", ["validate", "{d}/s.yaml"],
         scenario("export_controls:\n  extra_events:\n    - {date: 2024-05-01, avail_hbm: 5}\n"),
         expect=("avail_hbm",), line=4),
)

# --------------------------------------------------------------------------- dates
for bad in ("2023-02-30", "2023-13-01", "2023-04-31", "2023-00-10"):
    add(Case("traceback", f"impossible event date {bad}", ["validate", "{d}/s.yaml"],
             scenario(f"export_controls:\n  extra_events:\n    - {{date: {bad}, avail_hbm: 0.1}}\n"),
             expect=("export_controls.extra_events.0",), line=4))
add(Case("traceback", "impossible date as a month", ["validate", "{d}/s.yaml"],
         scenario("policy:\n  designation_date: 2022-02-30\n"), expect=("policy.designation_date",),
         line=3))

# --------------------------------------------------------------------------- YAML itself
BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{c}: &{c} [{','.join('*' + p for _ in range(9))}]\n"
    for p, c in zip("abcdefgh", "bcdefghi"))
add(
    Case("denial of service", "billion laughs alias bomb", ["validate", "{d}/s.yaml"],
         {"s.yaml": BOMB}, expect=("alias",)),
    Case("denial of service", "alias bomb in an experiment", ["sweep", "{d}/e.yaml", "--check"],
         {"e.yaml": BOMB}, expect=("alias",)),
    Case("denial of service", "nesting a thousand deep", ["validate", "{d}/s.yaml"],
         {"s.yaml": "a: " + "[" * 1000 + "]" * 1000 + "\n"}, expect=("deep",)),
    Case("denial of service", "a 3 MB scenario file", ["validate", "{d}/s.yaml"],
         {"s.yaml": "# " + "x" * 3_000_000 + "\n"}, expect=("large",)),
    Case("traceback", "recursive alias", ["validate", "{d}/s.yaml"],
         {"s.yaml": "run: &a\n  x: *a\n"}, expect=("alias",)),
    Case("traceback", "malformed YAML", ["validate", "{d}/s.yaml"],
         scenario("run:\n  firms: [1, 2\n"), expect=("malformed",), line=4),
    Case("traceback", "tab indentation", ["validate", "{d}/s.yaml"],
         scenario("run:\n\tfirms: 100\n"), expect=("malformed",)),
    Case("traceback", "a list at the top", ["validate", "{d}/s.yaml"],
         {"s.yaml": "- run\n- target\n"}, expect=("mapping",), line=1),
    Case("traceback", "two documents", ["validate", "{d}/s.yaml"],
         {"s.yaml": "name: a\n---\nname: b\n"}, expect=()),
    Case("traceback", "Latin-1 scenario", ["validate", "{d}/s.yaml"],
         {"s.yaml": "name: caf\xe9\n".encode("latin-1")}, expect=("UTF-8",)),
    Case("traceback", "binary scenario", ["validate", "{d}/s.yaml"],
         {"s.yaml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))}, expect=()),
    Case("traceback", "scenario path is a directory", ["validate", "{d}/sc"], dirs=("sc",),
         file="{d}/sc", expect=("directory",)),
    Case("traceback", "scenario file missing", ["run", "{d}/nope.yaml", "--quiet"],
         file="{d}/nope.yaml", expect=("not found",)),
    Case("traceback", "custom YAML tag", ["validate", "{d}/s.yaml"],
         {"s.yaml": "name: !!python/object:os.system ls\n"}, expect=()),
)

# --------------------------------------------------------------------------- extends
add(
    Case("traceback", "extends a directory", ["validate", "{d}/s.yaml"],
         {"s.yaml": "extends: sub\n"}, dirs=("sub",), expect=("extends",), line=1),
    Case("traceback", "extends a binary file", ["validate", "{d}/s.yaml"],
         {"s.yaml": "extends: b.bin\n", "b.bin": bytes(range(256)) * 4},
         expect=("b.bin",)),
    Case("traceback", "extends a missing file", ["validate", "{d}/s.yaml"],
         {"s.yaml": "extends: gone.yaml\n"}, expect=("extends", "not found"), line=1),
    Case("traceback", "extends is a number", ["validate", "{d}/s.yaml"],
         {"s.yaml": "extends: 3\n"}, expect=("extends",), line=1),
    Case("lost line", "extends cycle of two files", ["validate", "{d}/a.yaml"],
         {"a.yaml": "name: a\nextends: b.yaml\n", "b.yaml": "# b\nextends: a.yaml\n"},
         expect=("circular",), file="{d}/b.yaml", line=2),
    Case("lost line", "file extends itself", ["validate", "{d}/a.yaml"],
         {"a.yaml": "# self\n\nextends: a.yaml\n"}, expect=("circular",), line=3),
    Case("lost line", "error in the base file names the base", ["validate", "{d}/child.yaml"],
         {"child.yaml": "extends: base.yaml\n", "base.yaml": "spillover:\n  decay_km: -1\n"},
         file="{d}/base.yaml", expect=("spillover.decay_km",), line=2),
)

# --------------------------------------------------------------------------- scenario names
for bad in ("../x", ".", "..", "/tmp/abs", "a/b", "x" * 300, "bad\x01name"):
    add(Case("data loss", f"scenario name {bad[:12]!r}", ["run", "{d}/s.yaml", "--quiet"],
             scenario(f"name: {bad!r}\n".replace("'", '"') if "\x01" not in bad
                      else 'name: "bad\\x01name"\n'),
             expect=("name",), line=2))

# --------------------------------------------------------------------------- data tables
GDP = (DATA / "gdp.csv").read_text(encoding="utf-8").splitlines()
EVENTS = (DATA / "export_controls.csv").read_text(encoding="utf-8").splitlines()
REGIONS = (DATA / "regions.csv").read_text(encoding="utf-8").splitlines()


def table(lines: list[str], row: int, column: str, value: str) -> str:
    """`lines` with the cell (row, column) replaced; row 1 is the first data row (file line 2)."""
    import csv
    import io

    rows = list(csv.reader(lines))
    rows[row][rows[0].index(column)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def table_case(kind, name, key, text, column, line, **kw):
    file = {"data.gdp_file": "gdp.csv", "data.events_file": "ev.csv",
            "data.regions_file": "reg.csv"}[key]
    section, k = key.split(".")
    return Case(kind, name, ["validate", "{d}/s.yaml"],
                scenario(f"{section}:\n  {k}: {file}\n", **{file: text}), file=f"{{d}}/{file}",
                line=line, expect=(column,) + kw.pop("expect", ()), **kw)


add(
    table_case("silently wrong", "negative GDP", "data.gdp_file", table(GDP, 2, "gdp_bn_yuan", "-5"),
               "gdp_bn_yuan", 3),
    table_case("silently wrong", "zero GDP", "data.gdp_file", table(GDP, 1, "gdp_bn_yuan", "0"),
               "gdp_bn_yuan", 2),
    table_case("silently wrong", "empty GDP cell", "data.gdp_file", table(GDP, 3, "gdp_bn_yuan", ""),
               "gdp_bn_yuan", 4),
    table_case("traceback", "GDP not a number", "data.gdp_file", table(GDP, 2, "gdp_bn_yuan", "abc"),
               "gdp_bn_yuan", 3),
    table_case("traceback", "GDP with a decimal comma", "data.gdp_file",
               table(GDP, 2, "gdp_bn_yuan", "1,5"), "gdp_bn_yuan", 3),
    table_case("silently wrong", "GDP is NaN", "data.gdp_file", table(GDP, 2, "gdp_bn_yuan", "nan"),
               "gdp_bn_yuan", 3),
    table_case("traceback", "GDP year not a number", "data.gdp_file", table(GDP, 2, "year", "20x1"),
               "year", 3),
    table_case("lost line", "duplicate GDP year", "data.gdp_file",
               "\n".join(GDP + [GDP[2]]) + "\n", "year", len(GDP) + 1),
    table_case("silently wrong", "availability of 5", "data.events_file",
               table(EVENTS, 1, "avail_hbm", "5"), "avail_hbm", 2),
    table_case("silently wrong", "negative availability", "data.events_file",
               table(EVENTS, 2, "avail_equipment", "-0.5"), "avail_equipment", 3),
    table_case("traceback", "availability not a number", "data.events_file",
               table(EVENTS, 2, "avail_equipment", "low"), "avail_equipment", 3),
    table_case("traceback", "impossible event date in a table", "data.events_file",
               table(EVENTS, 1, "date", "2023-02-30"), "date", 2),
    table_case("silently wrong", "empty event date", "data.events_file",
               table(EVENTS, 1, "date", ""), "date", 2),
    table_case("silently wrong", "unknown event grade", "data.events_file",
               table(EVENTS, 2, "grade", "B, memory"), "grade", 3),
    table_case("silently wrong", "empty event grade", "data.events_file",
               table(EVENTS, 1, "grade", ""), "grade", 2),
    table_case("lost line", "duplicate event id", "data.events_file",
               "\n".join(EVENTS + [EVENTS[1]]) + "\n", "event_id", len(EVENTS) + 1),
    table_case("lost line", "duplicate region id", "data.regions_file",
               "\n".join(REGIONS + [REGIONS[1]]) + "\n", "region_id", len(REGIONS) + 1),
    table_case("silently wrong", "latitude out of range", "data.regions_file",
               table(REGIONS, 2, "lat", "123"), "lat", 3),
    table_case("traceback", "latitude not a number", "data.regions_file",
               table(REGIONS, 2, "lat", "north"), "lat", 3),
    table_case("silently wrong", "negative area", "data.regions_file",
               table(REGIONS, 3, "area_km2", "-10"), "area_km2", 4),
    table_case("silently wrong", "infinite attractiveness", "data.regions_file",
               table(REGIONS, 1, "attractiveness", "inf"), "attractiveness", 2),
    table_case("traceback", "bad flag", "data.regions_file", table(REGIONS, 1, "nmc_2022", "maybe"),
               "nmc_2022", 2),
    Case("traceback", "Latin-1 table", ["validate", "{d}/s.yaml"],
         scenario("data:\n  gdp_file: gdp.csv\n",
                  **{"gdp.csv": ("\n".join(GDP) + "\n# caf\xe9\n").encode("latin-1")}),
         file="{d}/gdp.csv", expect=("UTF-8",)),
    Case("traceback", "binary table", ["validate", "{d}/s.yaml"],
         scenario("data:\n  gdp_file: gdp.csv\n", **{"gdp.csv": bytes(range(256)) * 8}),
         file="{d}/gdp.csv"),
    Case("traceback", "table path is a directory", ["validate", "{d}/s.yaml"],
         scenario("data:\n  gdp_file: tables\n"), dirs=("tables",), file="{d}/s.yaml",
         expect=("data.gdp_file",), line=3),
    Case("traceback", "table missing a column", ["validate", "{d}/s.yaml"],
         scenario("data:\n  gdp_file: gdp.csv\n",
                  **{"gdp.csv": "year,source\n2020,x\n"}), file="{d}/gdp.csv",
         expect=("gdp_bn_yuan",)),
)

# --------------------------------------------------------------------------- CLI values
add(
    Case("traceback", "--replicates 0", ["run", str(BASE), "--replicates", "0", "--quiet"],
         file="--replicates"),
    Case("traceback", "--replicates -3", ["run", str(BASE), "--replicates", "-3", "--quiet"],
         file="--replicates"),
    Case("traceback", "negative --seed", ["run", str(BASE), "--seed", "-1", "--quiet"],
         file="--seed"),
    Case("silently wrong", "--firms 10", ["run", str(BASE), "--firms", "10", "--quiet"],
         file="firms"),
    Case("silently wrong", "--firms 0", ["run", str(BASE), "--firms", "0", "--quiet"],
         file="firms"),
    Case("traceback", "--set without '='", ["validate", str(BASE), "--set", "run.firms"],
         file="--set"),
    Case("traceback", "--set unknown key", ["validate", str(BASE), "--set", "innovation.zetta=2"],
         file="--set", expect=("innovation.zeta",)),
    Case("silently wrong", "--set nan", ["run", str(BASE), "--set", "spillover.decay_km=nan",
                                         "--quiet"], file="--set", expect=("spillover.decay_km",)),
    # a listed target after the run's end is reported as not judged (sim/targets.py); the
    # single target.year, once set, must still be a year of the run
    Case("silently wrong", "--set run.end before the target year",
         ["validate", str(BASE), "--set", "run.end=2023-12", "--set", "target.year=2025"],
         file=f"--set|{BASE}", expect=("target.year",)),
    Case("traceback", "--out at an existing file", ["run", str(BASE), "--out", "{d}/f.txt",
                                                   "--quiet"],
         {"f.txt": "my notes\n"}, file="{d}/f.txt"),
    Case("traceback", "--out .", ["run", str(BASE), "--out", ".", "--quiet"], file="."),
    Case("traceback", "--out below a file", ["run", str(BASE), "--out", "{d}/f.txt/out",
                                            "--quiet"], {"f.txt": "my notes\n"}, file="f.txt"),
    Case("traceback", "calibrate --budget 0", ["calibrate", str(BASE), "--targets", str(TARGETS),
                                               "--budget", "0", "--out", "{d}/fit"],
         file="--budget"),
    Case("traceback", "calibrate --seeds 1", ["calibrate", str(BASE), "--targets", str(TARGETS),
                                              "--seeds", "1", "--out", "{d}/fit"], file="--seeds"),
    Case("traceback", "sweep --workers 0", ["sweep", str(SMOKE), "--workers", "0", "--out",
                                            "{d}/sw"], file="--workers"),
    Case("traceback", "sweep --dask-local -1", ["sweep", str(SMOKE), "--dask-local", "-1",
                                                "--out", "{d}/sw"], file="--dask-local"),
    Case("traceback", "sweep --flush-seconds nan", ["sweep", str(SMOKE), "--flush-seconds", "nan",
                                                    "--out", "{d}/sw"], file="--flush-seconds"),
)

# --------------------------------------------------------------------------- data loss
USER = {"results/thesis.tex": "\\chapter{Results}\n", "results/data.csv": "a,b\n1,2\n"}
add(
    Case("data loss", "run --out at a folder of the user's", ["run", str(BASE), "--out",
                                                              "{d}/results", "--quiet"],
         dict(USER), file="{d}/results"),
    Case("data loss", "run --out --overwrite at a folder of the user's",
         ["run", str(BASE), "--out", "{d}/results", "--overwrite", "--quiet"], dict(USER),
         file="{d}/results"),
    Case("data loss", "calibrate --out at a folder of the user's",
         ["calibrate", str(BASE), "--targets", str(TARGETS), "--budget", "1", "--out",
          "{d}/results"], dict(USER), file="{d}/results"),
    Case("data loss", "sweep --out at a folder of the user's",
         ["sweep", str(SMOKE), "--out", "{d}/results"], dict(USER), file="{d}/results"),
    Case("data loss", "run over a previous run without --overwrite",
         ["run", str(BASE), "--out", "{d}/prev", "--quiet"],
         {"prev/manifest.json": '{"output_of": "clustersim run"}\n', "prev/national.csv": "x\n"},
         file="{d}/prev", expect=("--overwrite",)),
)

# --------------------------------------------------------------------------- experiments, targets
add(
    Case("traceback", "targets file is a directory", ["calibrate", str(BASE), "--targets",
                                                      "{d}/t", "--out", "{d}/fit"], dirs=("t",),
         file="{d}/t"),
    Case("traceback", "Latin-1 targets file", ["calibrate", str(BASE), "--targets", "{d}/t.csv",
                                               "--out", "{d}/fit"],
         {"t.csv": (TARGETS.read_text(encoding="utf-8") + "# caf\xe9\n").encode("latin-1")},
         expect=("UTF-8",)),
    Case("lost line", "duplicate target", ["calibrate", str(BASE), "--targets", "{d}/t.csv",
                                           "--out", "{d}/fit"],
         {"t.csv": TARGETS.read_text(encoding="utf-8").rstrip("\n") + "\n"
          + TARGETS.read_text(encoding="utf-8").splitlines()[1] + "\n"},
         line=len(TARGETS.read_text(encoding="utf-8").splitlines()) + 1, expect=("duplicate",)),
    Case("traceback", "experiment path is a directory", ["sweep", "{d}/ex", "--check"],
         dirs=("ex",), file="{d}/ex"),
    Case("traceback", "experiment file missing", ["sweep", "{d}/none.yaml", "--check"],
         file="{d}/none.yaml", expect=("not found",)),
    Case("traceback", "report on a folder that is no sweep", ["report", "{d}/results"],
         dict(USER), file="{d}/results"),
    Case("traceback", "report on an empty folder", ["report", "{d}/empty"],
         dirs=("empty",), file="{d}/empty"),
)


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_cleanly(case: Case, tmp_path, monkeypatch, capsys):
    d = tmp_path / "case"
    d.mkdir()
    for rel in case.dirs:
        (d / rel).mkdir(parents=True)
    for rel, content in case.files.items():
        path = d / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    before = snapshot(d)
    monkeypatch.chdir(d)
    argv = [a.replace("{d}", str(d)) for a in case.argv]
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own refusals
        status = exc.code
    captured = capsys.readouterr()
    err = captured.err
    assert status == case.status, f"exit {status}, expected {case.status}\n{err}{captured.out}"
    assert "Traceback" not in err, err
    lines = [x for x in err.splitlines() if x.startswith("error:") or "error:" in x]
    assert lines, f"no error line in {err!r}"
    file = (case.file or (f"{{d}}/{next(iter(case.files))}" if case.files else "")).replace(
        "{d}", str(d))
    named = [f for f in file.split("|") if f and (f in err or Path(f).name in err)]
    assert named or not file, f"{file!r} not named in {err!r}"
    if case.line is not None:
        assert re.search(rf"{re.escape(Path(named[0]).name)}:{case.line}\b", err) or \
            re.search(rf"\b(line|row) {case.line}\b", err), f"line {case.line} not in {err!r}"
    for fragment in case.expect:
        assert fragment.replace("{d}", str(d)).lower() in err.lower(), \
            f"{fragment!r} not in {err!r}"
    assert snapshot(d) == before, "the command wrote, changed or deleted files"


def test_the_corpus_is_large_and_covers_every_kind():
    kinds = {c.kind for c in CASES}
    assert len(CASES) >= 100
    assert kinds == {"data loss", "silently wrong", "traceback", "denial of service", "lost line"}
    assert len({c.id for c in CASES}) == len(CASES)


def test_params_in_a_pipe_closes_quietly():
    """`clustersim params | head -1`: the pipe closes early; no BrokenPipeError traceback."""
    res = subprocess.run(f"{sys.executable} -m sim params {BASE} | head -1", shell=True,
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.stdout.startswith("run.start"), res.stdout
    assert "Traceback" not in res.stderr and "BrokenPipe" not in res.stderr, res.stderr
