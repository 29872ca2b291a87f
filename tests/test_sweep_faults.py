"""Sweeps under faults: SIGINT/SIGTERM (local pool and Dask), a full disk, an --out that cannot
be used, designs too large to run, reports of unfinished sweeps, a base scenario changed under
an unchanged experiment, and bad numbers on the command line.

The sweeps are the tiny ones of tests/test_sweep_run.py (300 agents, 2020-2021)."""

import errno
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from sim.cli import main
from sim.sweep import store as st
from sim.sweep.backends import LocalBackend
from sim.sweep.designs import build_design, run_seed
from sim.sweep.experiment import load_experiment
from sim.sweep.jobs import run_id
from sim.sweep.manifest import prepare
from test_sweep_run import BASE, CLI, GRID, ROOT, TINY, TOTAL, numbers, recorded, sweep

SMALL = TINY + "design: grid\nparameters:\n  export_controls.severity: [0.5]\nreplicates: 2\n"


def _start_sweep(exp: Path, out: Path, *backend: str) -> subprocess.Popen:
    """`clustersim sweep` in its own session (so a signal can go to its whole group)."""
    return subprocess.Popen([*CLI, "sweep", str(exp), "--out", str(out), "--quiet",
                             "--flush-seconds", "0.2", *backend], cwd=ROOT,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _wait_until_recorded(proc: subprocess.Popen, out: Path, runs: int) -> None:
    """Until `runs` results are on disk, the sweep has ended, or two minutes have passed."""
    t0 = time.monotonic()
    while recorded(out) < runs and proc.poll() is None and time.monotonic() - t0 < 120:
        time.sleep(0.02)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """The 64-run experiment and its uninterrupted sweep (2 local workers)."""
    d = tmp_path_factory.mktemp("faults")
    exp = d / "grid.yaml"
    exp.write_text(GRID)
    ref = d / "ref"
    assert sweep(exp, "--out", ref, "--workers", 2) == 0
    return exp, ref


def alive(procs: list[psutil.Process]) -> list[int]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p.pid)
        except psutil.NoSuchProcess:
            pass
    return out


# ------------------------------------------------------------------------ signals

@pytest.mark.parametrize("sig, backend, group", [
    (signal.SIGINT, ["--workers", "2"], True),     # Ctrl-C at a terminal: the whole group
    (signal.SIGTERM, ["--workers", "2"], False),   # `kill PID`
    (signal.SIGINT, ["--dask-local", "2"], True),
    (signal.SIGTERM, ["--dask-local", "2"], False),
], ids=["sigint-group-local", "sigterm-local", "sigint-group-dask", "sigterm-dask"])
def test_a_signal_stops_the_sweep_reaps_its_workers_keeps_finished_runs_and_resumes(
        grid, tmp_path, sig, backend, group):
    exp, ref = grid
    out = tmp_path / "stopped"
    proc = _start_sweep(exp, out, *backend)
    try:
        _wait_until_recorded(proc, out, 8)
        parent = psutil.Process(proc.pid)
        children = parent.children(recursive=True)
        workers = [p for p in children if p.pid != proc.pid]
        assert len(workers) >= 2, "no worker processes found"  # pool or Dask workers
        (os.killpg if group else os.kill)(proc.pid, sig)
        _, err = proc.communicate(timeout=60)  # EOF: no process still holds its stderr
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 128 + sig, err
    t0 = time.monotonic()
    while alive(children) and time.monotonic() - t0 < 5:
        time.sleep(0.05)
    assert alive(children) == [], "processes outlived the sweep"
    kept = recorded(out)
    assert 8 <= kept < TOTAL
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"interrupted by {signal.Signals(sig).name}: {kept} of {TOTAL} runs "
                           f"are kept in {out}; resume with: clustersim sweep {exp} --out {out}")
    assert "Traceback" not in err
    assert not list(out.rglob(".*.tmp"))
    session = st.read_manifest(out)["sessions"][-1]
    assert session["interrupted"] == signal.Signals(sig).name
    # the printed command resumes it to the numbers of an uninterrupted sweep
    resume = last.split("resume with: clustersim ", 1)[1].split()
    assert main([*resume, "--quiet"]) == 0
    pd.testing.assert_frame_equal(numbers(out), numbers(ref), check_exact=True)
    pd.testing.assert_frame_equal(st.read_series(out), st.read_series(ref), check_exact=True)
    assert st.read_manifest(out)["sessions"][-1]["runs_skipped"] == kept


# ------------------------------------------------------------------------ a full disk

def test_a_full_disk_mid_sweep_exits_4_shows_no_half_result_and_resumes(grid, tmp_path,
                                                                          monkeypatch, capsys):
    exp, ref = grid
    out = tmp_path / "full"
    real = st.pq.write_table
    calls = []

    def write_table(table, where, **kw):  # design, series 1, runs 1, series 2, runs 2: full
        calls.append(where)
        if len(calls) == 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(table, where, **kw)

    monkeypatch.setattr(st.pq, "write_table", write_table)
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "1", "--quiet",
                 "--flush-seconds", "0.2"]) == 4
    err = capsys.readouterr().err
    assert f"cannot write {out / 'runs' / 'part-000002.parquet'}: no space left on device" in err
    kept = recorded(out)
    assert f"; {kept} of {TOTAL} runs are kept in {out}; once it can be written again, " \
           f"resume with: clustersim sweep {exp} --out {out} --workers 1 --flush-seconds 0.2" \
           in err and "Traceback" not in err
    # nothing half-written: no temporary file, no series part without its runs part
    assert not list(out.rglob(".*.tmp"))
    assert sorted(p.name for p in (out / "series").iterdir()) == ["part-000001.parquet"]
    assert 0 < kept < TOTAL
    assert set(st.read_series(out)["run_id"]) == set(st.read_runs(out)["run_id"])
    monkeypatch.setattr(st.pq, "write_table", real)
    assert sweep(exp, "--out", out, "--workers", 2) == 0
    pd.testing.assert_frame_equal(numbers(out), numbers(ref), check_exact=True)
    pd.testing.assert_frame_equal(st.read_series(out), st.read_series(ref), check_exact=True)


@pytest.fixture
def tmpfs(tmp_path):
    """A real, small file system of our own (root only), unmounted afterwards."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                          capture_output=True)
    if done.returncode:
        pytest.skip("cannot mount a tmpfs here: " + done.stderr.decode().strip())
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=True)


def test_a_really_full_file_system_exits_4_and_resumes_once_space_is_freed(grid, tmpfs):
    exp, ref = grid
    out = tmpfs / "sweep"
    proc = _start_sweep(exp, out, "--workers", "2")
    try:
        _wait_until_recorded(proc, out, 4)
        filler = tmpfs / "filler"
        with open(filler, "wb") as fh, pytest.raises(OSError) as full:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        assert full.value.errno == errno.ENOSPC
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 4, err
    assert f"error: cannot write {out}" in err and "no space left on device" in err
    assert "Traceback" not in err and not list(out.rglob(".*.tmp"))
    kept = recorded(out)
    assert 4 <= kept < TOTAL and f"{kept} of {TOTAL} runs are kept" in err
    filler.unlink()
    assert sweep(exp, "--out", out, "--workers", 2) == 0
    pd.testing.assert_frame_equal(numbers(out), numbers(ref), check_exact=True)


# ------------------------------------------------------------------------ --out

def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def no_workers(monkeypatch):
    """Fail the test if a sweep starts any worker."""
    def refuse(self):
        raise AssertionError("workers started before --out was checked")
    monkeypatch.setattr(LocalBackend, "__enter__", refuse)


def test_an_out_that_cannot_be_a_sweep_directory_exits_2_before_anything_runs(
        tmp_path, monkeypatch, capsys, no_workers):
    exp = tmp_path / "small.yaml"
    exp.write_text(SMALL)
    (tmp_path / "afile").write_text("mine")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    run_out = tmp_path / "run_output"  # `clustersim run` writes a manifest.json too
    run_out.mkdir()
    (run_out / "manifest.json").write_text('{"scenario": "baseline", "output_of": "run"}\n')
    (run_out / "national.csv").write_text("replicate\n0\n")
    monkeypatch.chdir(tmp_path)
    cases = {
        "afile": "is an existing file, not a directory",
        "afile/sub": f"goes through the file {tmp_path / 'afile'}",
        ".": "the working directory or one above it cannot be a sweep directory",
        str(tmp_path.parent): "the working directory or one above it",
        "foreign": "exists and is not a sweep directory",
        "run_output": "exists and is not a sweep directory",
    }
    before = listing(tmp_path)
    for out, message in cases.items():
        for extra in ([], ["--restart"]):
            assert main(["sweep", str(exp), "--out", out, "--quiet", *extra]) == 2, out
            err = capsys.readouterr().err
            assert err.startswith(f"error: --out {out}" if "not a sweep" not in message
                                  else f"error: {out}") and message in err, err
    assert listing(tmp_path) == before
    assert (run_out / "manifest.json").read_text().startswith('{"scenario"')


def test_an_out_on_a_read_only_file_system_exits_2(tmp_path, capsys, no_workers):
    exp = tmp_path / "small.yaml"
    exp.write_text(SMALL)
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:  # root writes through permission bits: use a read-only mount
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)],
                              capture_output=True)
        if done.returncode:
            pytest.skip("cannot mount a read-only tmpfs here")
    else:
        ro.chmod(0o555)
    try:
        assert main(["sweep", str(exp), "--out", str(ro / "new" / "sweep"), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert f"error: --out {ro / 'new' / 'sweep'}: cannot create files in {ro} (" in err
        assert ("read-only file system" in err or "permission denied" in err)
        assert list(ro.iterdir()) == []
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", "-l", str(ro)], check=True)
        else:
            ro.chmod(0o755)


# ------------------------------------------------------------------------ design size

def test_check_counts_a_huge_design_without_building_it_and_refuses_to_run_it(tmp_path,
                                                                             capsys):
    values = "[" + ", ".join(f"{0.1 + i * 0.001:.3f}" for i in range(100)) + "]"
    keys = ["export_controls.severity", "policy.rd_subsidy_pct", "agglomeration.elasticity",
            "spillover.strength", "innovation.zeta", "policy.designation_boost"]
    huge_grid = tmp_path / "grid.yaml"
    huge_grid.write_text(TINY + "design: grid\nparameters:\n" +
                         "".join(f"  {k}: {values}\n" for k in keys))
    huge_sobol = tmp_path / "sobol.yaml"
    huge_sobol.write_text(TINY + f"design: sobol\nsamples: {2 ** 40}\nparameters:\n" +
                          "".join(f"  {k}: {{min: 0.1, max: 0.2}}\n" for k in keys[:2]))
    for path, points in ((huge_grid, 10 ** 12), (huge_sobol, 2 ** 40 * 6)):
        for extra in ([], ["--max-runs", str(10 ** 15)]):  # raising the limit cannot help
            assert main(["sweep", str(path), "--check", *extra]) == 2
            out, err = capsys.readouterr()
            assert f"{points:,} design points" in out
            assert f"error: {path}: {points:,} design points x 1 replicate(s) = {points:,} " \
                   "runs: more than 10,000,000 design points cannot be built in memory" in err
        assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
        assert not (tmp_path / "o").exists()
    # large but possible: refused unless confirmed with --max-runs
    big = tmp_path / "big.yaml"
    big.write_text(SMALL.replace("replicates: 2", "replicates: 150000"))
    assert main(["sweep", str(big), "--check"]) == 2
    err = capsys.readouterr().err
    assert "150,000 runs: more than --max-runs 100,000" in err
    assert "confirm with --max-runs 150000" in err
    assert main(["sweep", str(big), "--check", "--max-runs", "150000"]) == 0
    assert "150,000 runs" in capsys.readouterr().out


@pytest.mark.parametrize("option, value", [
    ("--workers", "0"), ("--dask-local", "-1"), ("--flush-seconds", "nan"),
    ("--flush-seconds", "inf"), ("--flush-seconds", "-2"), ("--max-runs", "0")])
def test_bad_numbers_on_the_command_line_exit_2_naming_the_option(tmp_path, capsys, option,
                                                                   value, no_workers):
    exp = tmp_path / "small.yaml"
    exp.write_text(SMALL)
    out = tmp_path / "o"
    assert main(["sweep", str(exp), "--out", str(out), option, value]) == 2
    assert capsys.readouterr().err.startswith(f"error: {option} must be ")
    assert not out.exists()


# ------------------------------------------------------------------------ reports

def partial_sweep(tmp_path, finished: int, failed: int) -> Path:
    """A sweep directory of 8 runs of which `finished` are recorded, `failed` of them failed."""
    path = tmp_path / "exp.yaml"
    path.write_text(TINY + "design: grid\nparameters:\n  export_controls.severity: "
                    "[0.0, 0.5, 1.0, 0.25]\nreplicates: 2\noutputs: {metrics: []}\n")
    exp = load_experiment(path)
    design = build_design(exp)
    out = tmp_path / "out"
    prepare(exp, design, out, False, "synthetic", [])
    store = st.Store(out, exp).open()
    runs = [(p, r) for p in range(len(design)) for r in range(exp.replicates)][:finished]
    for i, (point, r) in enumerate(runs):
        seed = run_seed(exp.seed, point, r)
        row = {"run_id": run_id(point, seed), "point": point, "replicate": r,
               "seed": seed, "status": "ok", "error": None, **design.points[point],
               "share_2020_pct": 7.8, "share_2021_pct": 7.9 - 0.1 * point,
               "target_hit": point < 1, "first_year_hit": 2021 if point < 1 else None}
        if i < failed:
            row.update(status="failed", error="RuntimeError: boom", share_2020_pct=None,
                       share_2021_pct=None, target_hit=None, first_year_hit=None)
        store.add(row)
    store.close()
    return out


def test_a_report_of_an_unfinished_sweep_says_how_much_is_missing(tmp_path, capsys):
    out = partial_sweep(tmp_path, finished=5, failed=1)
    assert main(["report", str(out)]) == 0
    printed = capsys.readouterr().out
    status = "incomplete: 5 of 8 runs finished (4 ok, 1 failed), 3 not run yet"
    assert status in printed
    md = (out / "report" / "report.md").read_text()
    assert f"**This sweep is {status}" in md and "## Failed runs" in md
    assert main(["report", str(out), "--quiet"]) == 0  # still said when quiet
    assert status in capsys.readouterr().err


def test_a_report_of_a_sweep_with_no_finished_run_exits_2_and_draws_nothing(tmp_path, capsys):
    out = partial_sweep(tmp_path, finished=0, failed=0)
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no finished run to report on (incomplete: 0 of 8 runs finished" in err
    assert not (out / "report").exists() and not list(out.glob(".report*"))


# ------------------------------------------------------------------------ changed inputs

def test_a_changed_base_scenario_or_data_table_is_refused_and_restart_sets_results_aside(
        tmp_path, capsys):
    parent = tmp_path / "parent.yaml"
    parent.write_text(BASE.read_text())
    child = tmp_path / "child.yaml"
    child.write_text("extends: parent.yaml\nname: child\ndata:\n  gdp_file: gdp.csv\n")
    gdp = tmp_path / "gdp.csv"
    shutil.copy(ROOT / "sim" / "data" / "gdp.csv", gdp)
    exp = tmp_path / "exp.yaml"
    exp.write_text(SMALL.replace(f"scenario: {BASE}", f"scenario: {child}"))
    out = tmp_path / "out"
    assert sweep(exp, "--out", out, "--workers", 1) == 0
    manifest = st.read_manifest(out)
    assert str(gdp) in manifest["base_scenario_inputs"]["data_tables_sha256"]
    capsys.readouterr()
    # a data table's content: same paths, same experiment file
    lines = gdp.read_text().splitlines()
    gdp.write_text("\n".join(lines + [lines[-1].replace(lines[-1].split(",")[0], "2099")])
                   + "\n")
    assert sweep(exp, "--out", out) == 2
    err = capsys.readouterr().err
    assert f"the experiment file is unchanged): data table {gdp} changed" in err
    assert "--restart" in err
    gdp.write_text("\n".join(lines) + "\n")
    # a value in a file the base scenario extends: the key and the file are named
    parent.write_text(parent.read_text().replace("use_historical_events: true",
                                                 "use_historical_events: false"))
    assert sweep(exp, "--out", out) == 2
    err = capsys.readouterr().err
    assert "the base scenario differs in export_controls.use_historical_events (now False, " \
           f"{parent}:" in err
    assert len(st.read_manifest(out)["sessions"]) == 1  # refused: nothing written
    before = st.read_runs(out)
    assert sweep(exp, "--out", out, "--restart", "--workers", 1) == 0
    err = capsys.readouterr().err
    aside = [p for p in out.iterdir() if p.name.startswith("previous-")]
    assert len(aside) == 1 and f"were moved to {aside[0]}/" in err
    pd.testing.assert_frame_equal(st.read_runs(aside[0]), before)
    assert st.read_manifest(aside[0])["base_scenario_hash"] != \
        st.read_manifest(out)["base_scenario_hash"]
    assert len(st.read_runs(out)) == 2 and len(st.read_manifest(out)["sessions"]) == 1
