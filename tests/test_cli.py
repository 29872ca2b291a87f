"""The command line: the output contract, reproducibility, and bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.outputs import (ANNUAL_COLUMNS, FIRM_COLUMNS, NATIONAL_COLUMNS, REGION_COLUMNS,
                         SECTOR_COLUMNS)

BASE = Path("scenarios/baseline.yaml").resolve()
SMALL = ["--firms", "600", "--set", "run.end=2021-12", "--set", "target.year=2021"]


def run_cli(*argv):
    return main([str(a) for a in argv])


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    assert run_cli("run", BASE, "--out", out, "--replicates", 2, "--quiet", "--firm-snapshots",
                   *SMALL) == 0
    return out


def test_run_writes_the_output_contract(small_run):
    cols = {"national.csv": NATIONAL_COLUMNS, "annual.csv": ANNUAL_COLUMNS,
            "regions.csv": REGION_COLUMNS, "sectors.csv": SECTOR_COLUMNS,
            "firms.csv": FIRM_COLUMNS}
    for name, expected in cols.items():
        df = pd.read_csv(small_run / name, dtype={"sector": str, "date": str})
        assert list(df.columns) == expected, name
    national = pd.read_csv(small_run / "national.csv")
    assert len(national) == 2 * 24 and set(national["replicate"]) == {0, 1}
    assert national["date"].iloc[0] == "2020-01"
    assert set(pd.read_csv(small_run / "sectors.csv", dtype={"sector": str})["sector"]) == \
        {"01", "02", "03", "04"}
    firms = pd.read_csv(small_run / "firms.csv")
    assert set(firms["year"]) == {2020, 2021}
    summary = json.loads((small_run / "summary.json").read_text())
    assert summary["target_share_pct"] == 10.0 and summary["target_year"] == 2021
    assert set(summary["share_by_year"]) == {"2020", "2021"}
    assert set(summary["share_by_year"]["2021"]) >= {"median", "p05", "p95"}
    assert 0 <= summary["probability_target_hit"] <= 1
    assert set(summary["first_year_hit"]) == {"0", "1"}
    manifest = json.loads((small_run / "manifest.json").read_text())
    assert manifest["seeds"] == [42, 43]
    assert manifest["scenario"]["run"]["firms"] == 600
    assert {"mesa", "numpy", "python"} <= set(manifest["versions"])
    assert manifest["wall_time_s"] > 0 and "git_commit" in manifest
    for fig in ("share_vs_target", "va_by_region", "va_by_sector", "chip_self_sufficiency"):
        assert (small_run / "figures" / f"{fig}.png").stat().st_size > 10_000
    assert not list(small_run.parent.glob(".*tmp*"))  # no temporary directory left behind


def test_same_scenario_and_seed_give_byte_identical_csv(small_run, tmp_path):
    again = tmp_path / "again"
    assert run_cli("run", BASE, "--out", again, "--replicates", 2, "--quiet", "--no-figures",
                   "--firm-snapshots", *SMALL) == 0
    for name in ("national.csv", "annual.csv", "regions.csv", "sectors.csv", "firms.csv"):
        assert (again / name).read_bytes() == (small_run / name).read_bytes(), name


def test_firm_snapshots_are_opt_in_and_parquet_holds_the_same_tables(small_run, tmp_path):
    plain = tmp_path / "plain"
    assert run_cli("run", BASE, "--out", plain, "--replicates", 2, "--quiet", "--no-figures",
                   *SMALL) == 0
    assert not (plain / "firms.csv").exists()
    assert (plain / "annual.csv").read_bytes() == (small_run / "annual.csv").read_bytes()
    pq = tmp_path / "pq"
    assert run_cli("run", BASE, "--out", pq, "--replicates", 2, "--quiet", "--no-figures",
                   "--format", "parquet", "--firm-snapshots", *SMALL) == 0
    assert not list(pq.glob("*.csv"))
    for name in ("national", "annual", "regions", "sectors", "firms", "named_firms"):
        csv = pd.read_csv(small_run / f"{name}.csv", dtype={"sector": str, "date": str})
        got = pd.read_parquet(pq / f"{name}.parquet")
        assert list(got.columns) == list(csv.columns), name
        pd.testing.assert_frame_equal(got, csv, check_dtype=False, rtol=1e-9)
    again = tmp_path / "pq2"
    assert run_cli("run", BASE, "--out", again, "--replicates", 2, "--quiet", "--no-figures",
                   "--format", "parquet", *SMALL) == 0
    assert (again / "annual.parquet").read_bytes() == (pq / "annual.parquet").read_bytes()


def test_seed_option_changes_results(small_run, tmp_path):
    other = tmp_path / "other"
    assert run_cli("run", BASE, "--out", other, "--seed", 7, "--quiet", "--no-figures",
                   *SMALL) == 0
    a = pd.read_csv(small_run / "national.csv").query("replicate == 0")
    b = pd.read_csv(other / "national.csv")
    assert b["seed"].iloc[0] == 7
    assert not a["core_va_bn_yuan"].equals(b["core_va_bn_yuan"])


BAD = {
    "unknown key": ("agglomeration:\n  elasticty: 0.1\n", 3, "agglomeration.elasticty",
                    "did you mean 'agglomeration.elasticity'"),
    "wrong type": ("run:\n  firms: many\n", 3, "run.firms", "expected integer"),
    "out of range": ("spillover:\n  decay_km: -5\n", 3, "spillover.decay_km", "out of range"),
    "malformed": ("run:\n  firms: [1, 2\n", 4, None, "malformed YAML"),
    "events out of order": ("export_controls:\n  extra_events:\n"
                            "    - {date: 2024-05-01, avail_hbm: 0.1}\n"
                            "    - {date: 2023-05-01, avail_hbm: 0.1}\n", 5,
                            "export_controls.extra_events.1.date", "out of order"),
    "event outside run": ("export_controls:\n  extra_events:\n"
                          "    - {date: 2031-01-01, avail_hbm: 0.1}\n", 4,
                          "export_controls.extra_events.0.date", "outside the run"),
    "unknown region": ("policy:\n  designated_clusters: [hefei, atlantis]\n", 3,
                       "policy.designated_clusters", "unknown region 'atlantis'"),
    "unknown sector": ("production:\n  trend_growth_pct:\n    '07': 3\n", 4,
                       "production.trend_growth_pct.07", "unknown sector"),
    "unknown firm": ("export_controls:\n  extra_events:\n"
                     "    - {date: 2024-05-01, entity_list_add: [acme]}\n", 4,
                     "export_controls.extra_events.0.entity_list_add", "unknown firm 'acme'"),
    "missing data file": ("data:\n  regions_file: no_such.csv\n", 3, "data.regions_file",
                          "file not found"),
    "run ends before start": ("run:\n  start: 2022-01\n  end: 2021-12\n", 4, "run.end",
                              "before it starts"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_names_file_line_key_exits_2_and_writes_nothing(case, tmp_path, capsys):
    body, line, key, problem = BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {BASE}\n{body}")
    out = tmp_path / "out"
    assert run_cli("run", path, "--out", out, "--quiet") == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}:" in err, err
    if key:
        assert key in err
    assert problem in err
    assert not out.exists() and not any(tmp_path.glob(".out*"))


def test_missing_scenario_file(tmp_path, capsys):
    assert run_cli("validate", tmp_path / "nope.yaml") == 2
    assert "nope.yaml: file not found" in capsys.readouterr().err


def test_bad_set_override(capsys):
    assert run_cli("run", BASE, "--set", "innovation.zetta=2", "--quiet") == 2
    assert "--set: innovation.zetta: unknown key; did you mean 'innovation.zeta'" in \
        capsys.readouterr().err


def test_validate_and_params(capsys):
    assert run_cli("validate", BASE) == 0
    assert "OK" in capsys.readouterr().out
    assert run_cli("params", BASE, "--set", "agglomeration.elasticity=0.15") == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("agglomeration.elasticity "))
    assert "0.15" in line and line.rstrip().endswith("*")
    assert "production.trend_growth_pct.03" in out and "spillover.decay_km" in out and " km" in out


def test_extends_changes_only_what_it_sets(tmp_path):
    from sim.scenario import load_scenario

    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {BASE}\nname: child\nexport_controls:\n  severity: 0.5\n")
    sc = load_scenario(child)
    base = load_scenario(BASE)
    diff = {k for k, v in sc.flat().items() if base.flat()[k] != v}
    assert diff == {"export_controls.severity"} and sc.name == "child"
    assert sc.where("export_controls.severity") == (str(child), 4)


def test_console_script_and_module_entry_point():
    for cmd in ([str(Path(sys.executable).parent / "clustersim")], [sys.executable, "-m", "sim"]):
        res = subprocess.run(cmd + ["validate", str(BASE)], capture_output=True, text=True,
                             timeout=120)
        assert res.returncode == 0 and "OK" in res.stdout, res.stderr
