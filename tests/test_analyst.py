"""The analyst's tools: --version, params formats, compare, per-cluster outputs, Python API."""

import csv
import io
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from sim.cli import main

BASE = Path("scenarios/baseline.yaml").resolve()


def run_cli(*argv):
    return main([str(a) for a in argv])


def test_version_is_the_package_metadata(capsys):
    with pytest.raises(SystemExit) as exc:
        run_cli("--version")
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"clustersim {metadata.version('clustersim')}"


def test_params_csv_and_json_agree_and_mark_what_is_set(capsys):
    assert run_cli("params", BASE, "--format", "csv", "--set", "agglomeration.elasticity=0.15") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert run_cli("params", BASE, "--format", "json", "--set", "agglomeration.elasticity=0.15") == 0
    items = json.loads(capsys.readouterr().out)
    assert [r["key"] for r in rows] == [i["key"] for i in items]
    el = next(i for i in items if i["key"] == "agglomeration.elasticity")
    assert el["value"] == 0.15 and el["set"] is True
    assert next(r for r in rows if r["key"] == "spillover.decay_km")["unit"].startswith("km")


def test_params_in_a_closed_pipe_is_quiet():
    cmd = f"{sys.executable} -m sim params {BASE} --format json | head -c 10 >/dev/null; " \
          "echo ${PIPESTATUS[0]}"
    done = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True)
    assert done.stderr == "" and done.stdout.strip() in {"0", "141"}
