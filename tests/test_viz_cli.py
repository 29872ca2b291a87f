"""`clustersim viz`: what it checks before serving, and how it starts Solara (no browser)."""

import subprocess
import sys

import pytest

from sim.cli import main
from sim.viz import cli as viz_cli


@pytest.fixture
def launched(monkeypatch, tmp_path):
    """Run `clustersim viz` with the server start replaced by a recorder."""
    assets = tmp_path / "assets"  # what `make assets` leaves, so the test needs no npm
    for rel in viz_cli.REQUIRED_ASSETS:
        (assets / rel).parent.mkdir(parents=True, exist_ok=True)
        (assets / rel).touch()
    monkeypatch.setattr(viz_cli, "ASSETS_DIR", assets)
    calls = []
    monkeypatch.setattr(viz_cli.subprocess, "call",
                        lambda cmd, cwd=None, env=None: calls.append((cmd, env)) or 0)
    monkeypatch.setenv("VSCODE_PID", "123")  # Solara turns its asset proxy off under VS Code
    return calls


def test_serves_on_localhost_with_offline_assets(launched):
    assert main(["viz"]) == 0
    (cmd, env), = launched
    assert cmd[cmd.index("run") + 1] == "sim.viz.app"
    assert "--host=127.0.0.1" in cmd and "--port=8765" in cmd
    assert {"--production", "--no-check-version", "--no-open"} <= set(cmd)
    assert env["SOLARA_ASSETS_PROXY_CACHE_DIR"] == str(viz_cli.ASSETS_DIR)
    assert env["SOLARA_ASSETS_PROXY"] == "true"
    assert "VSCODE_PID" not in env
    assert "CLUSTERSIM_VIZ_SCENARIO" not in env  # the page starts with scenarios/baseline.yaml


def test_scenario_host_port_and_firms_reach_the_server(launched, tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"extends: {viz_cli.REPO / 'scenarios' / 'baseline.yaml'}\nname: s\n")
    assert main(["viz", str(scenario), "--host", "0.0.0.0", "--port", "9001",
                 "--firms", "1500"]) == 0
    (cmd, env), = launched
    assert "--host=0.0.0.0" in cmd and "--port=9001" in cmd
    assert env["CLUSTERSIM_VIZ_SCENARIO"] == str(scenario.resolve())
    assert env["CLUSTERSIM_VIZ_FIRMS"] == "1500"


def test_bad_scenario_fails_before_serving(launched, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nexport_controls:\n  severty: 0.5\n")
    assert main(["viz", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad.resolve()}:3: export_controls.severty: unknown key" in err
    assert "did you mean 'export_controls.severity'" in err
    assert launched == []


def test_missing_assets_tell_the_user_to_run_make_assets(launched, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(viz_cli, "ASSETS_DIR", tmp_path / "empty")
    assert main(["viz"]) == 2
    err = capsys.readouterr().err
    assert "make assets" in err and "solara-vuetify-app@10.1.1" in err
    assert launched == []


def test_too_few_firms_is_a_usage_error(launched, capsys):
    assert main(["viz", "--firms", "10"]) == 2
    assert "--firms 10" in capsys.readouterr().err


def test_help_names_the_default_host():
    out = subprocess.run([sys.executable, "-m", "sim", "viz", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "127.0.0.1" in out and "scenarios/" in out
