"""`run` and `calibrate` never destroy what they did not write, refuse bad values before any
work, and stop on run-time failures (issue "Robustness"; exit statuses in sim/errors.py)."""

import errno
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import atomic, outputs
from sim.cli import main, run_options_tag

BASE = Path("scenarios/baseline.yaml").resolve()
REPO = BASE.parent.parent
# 400 agents: more than the fewest that hold the 2020 level (300, sim/calibration/level.py)
TINY = ["--firms", "400", "--set", "run.end=2020-12", "--set", "target.year=2020", "--quiet",
        "--no-figures"]
# blows up: the fastest replicator (innovation.selection at its maximum, 2/month) overflows
# employment to inf within months, already in a 2020 level pilot (which month and pilot seed
# depend on the population; with the census back-cast, 2020-04 in seed 2003)
BLOWS_UP = ["--firms", "400", "--seed", "8", "--set", "innovation.selection=2",
            "--set", "run.end=2028-12", "--quiet", "--no-figures"]


def run(*argv):
    return main(["run", str(BASE), *map(str, argv)])


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under root (hidden ones too) with its bytes (None for a directory)."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes())
            for p in sorted(root.rglob("*"))}


def temp_dirs(parent: Path) -> list[Path]:
    return sorted(p for p in parent.iterdir() if re.match(r"^\..+\.(tmp|old)-\d+$", p.name))


@pytest.fixture
def users_dir(tmp_path):
    """A directory of the user's own files beside which the commands write."""
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("my notes\n")
    (mine / "sub" / "data.csv").write_text("a,b\n1,2\n")
    return mine


# ------------------------------------------------------------------ 1. what --out may replace

def test_run_refuses_a_directory_it_did_not_write(users_dir, tmp_path, capsys):
    before = snapshot(tmp_path)
    for extra in ([], ["--overwrite"]):
        assert run("--out", users_dir, *TINY, *extra) == 2
        err = capsys.readouterr().err
        assert f"--out {users_dir}: the directory holds 2 entries not written by clustersim " \
               "run (notes.txt, sub/)" in err, err
    assert snapshot(tmp_path) == before


def test_run_replaces_its_own_output_only_with_overwrite(tmp_path, capsys):
    out = tmp_path / "out"
    assert run("--out", out, *TINY) == 0
    assert json.loads((out / "manifest.json").read_text())["output_of"] == "clustersim run"
    first = snapshot(out)
    assert run("--out", out, *TINY) == 2
    assert "holds an earlier output of clustersim run; pass --overwrite" in \
        capsys.readouterr().err
    assert snapshot(out) == first
    assert run("--out", out, *TINY, "--seed", "7", "--overwrite") == 0
    assert pd.read_csv(out / "national.csv")["seed"].iloc[0] == 7
    assert temp_dirs(tmp_path) == []


def test_an_output_written_before_output_of_existed_is_still_recognised(tmp_path):
    out = tmp_path / "out"
    assert run("--out", out, *TINY) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["output_of"]  # as the previous version wrote it, "command" being sys.argv
    manifest["command"] = ["/x/.venv/bin/clustersim", "run", "scenarios/baseline.yaml"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert atomic.output_of(out) == "clustersim run"
    assert run("--out", out, *TINY, "--overwrite") == 0


def test_a_file_added_to_an_earlier_output_makes_it_the_users(tmp_path, capsys):
    out = tmp_path / "out"
    assert run("--out", out, *TINY) == 0
    (out / "my_plot.png").write_bytes(b"mine")
    before = snapshot(tmp_path)
    assert run("--out", out, *TINY, "--overwrite") == 2
    assert "files clustersim run does not write (my_plot.png)" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_an_empty_directory_is_written_into_only_with_overwrite(tmp_path, capsys):
    out = tmp_path / "empty"
    out.mkdir()
    assert run("--out", out, *TINY) == 2
    assert "the directory exists (empty); pass --overwrite" in capsys.readouterr().err
    assert run("--out", out, *TINY, "--overwrite") == 0
    assert (out / "national.csv").exists()


def test_replacing_keeps_the_old_output_until_the_new_one_is_complete(tmp_path, monkeypatch,
                                                                       capsys):
    out = tmp_path / "out"
    assert run("--out", out, *TINY) == 0
    before = snapshot(tmp_path)

    def disk_full(df, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(outputs, "write_csv", disk_full)
    assert run("--out", out, *TINY, "--overwrite") == 4
    err = capsys.readouterr().err
    assert "error: cannot write " in err and "national.csv: No space left on device" in err
    assert snapshot(tmp_path) == before  # old output intact, no temporary folder left


def test_calibrate_refuses_a_directory_it_did_not_write_before_fitting(users_dir, tmp_path,
                                                                         capsys):
    before = snapshot(tmp_path)
    assert main(["calibrate", str(BASE), "--targets", str(REPO / "calibration" /
                                                            "targets_baseline.csv"),
                 "--out", str(users_dir), "--overwrite", "--quiet"]) == 2
    assert "the directory holds 2 entries not written by clustersim calibrate" in \
        capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_calibrate_replaces_its_own_output_only_with_overwrite(tmp_path, capsys):
    targets = tmp_path / "targets.csv"
    targets.write_text("type,name,value,low,high,sd,grade,source,note\n"
                       "target,software_growth_2020_2022,32.3,,,4,C,src,\n"
                       "free,production.trend_growth_pct.01,,0,25,,,,\n")
    out = tmp_path / "fit"
    argv = ["calibrate", str(BASE), "--targets", str(targets), "--seeds", "2", "--budget", "1",
            "--firms", "400", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    assert json.loads((out / "manifest.json").read_text())["output_of"] == \
        "clustersim calibrate"
    first = snapshot(out)
    assert main(argv) == 2
    assert "holds an earlier output of clustersim calibrate" in capsys.readouterr().err
    assert snapshot(out) == first
    assert main(argv + ["--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["fit_report.csv", "fit_report.md",
                                                     "fitted.yaml", "manifest.json",
                                                     "trials.csv"]
    assert temp_dirs(tmp_path) == []


def test_default_output_names_tell_runs_apart(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    tiny = [a for a in TINY if a != "--quiet"]
    assert run(*tiny) == 0
    assert "outputs: runs/baseline-" in capsys.readouterr().out  # --firms and --set change it
    tag = run_options_tag(["run.end=2020-12", "target.year=2020"], firms=400)
    assert re.fullmatch(r"[0-9a-f]{8}", tag)
    assert (tmp_path / "runs" / f"baseline-{tag}" / "national.csv").exists()
    assert run(*tiny, "--seed", "7") == 0
    assert run_options_tag(["run.end=2020-12", "target.year=2020"], firms=400, seed=7) != tag
    assert len(list((tmp_path / "runs").iterdir())) == 2
    # the order of different keys does not matter; the last value of a key wins
    assert run_options_tag(["a.b=1", "c.d=2"]) == run_options_tag(["c.d=2", "a.b=1"])
    assert run_options_tag(["a.b=1", "a.b=2"]) == run_options_tag(["a.b=2"])


def test_make_run_passes_overwrite_for_its_own_output():
    make = (REPO / "Makefile").read_text()
    assert re.search(r"clustersim run .+ \$\(RUN_OPTIONS\) --overwrite", make)


# ------------------------------------------------------------------ 2. --out checked first

@pytest.mark.parametrize("case", ["file", ".", "under a file", "too long", "control char",
                                  "cannot create"])
def test_bad_out_is_refused_before_the_simulation(case, tmp_path, users_dir, monkeypatch,
                                                  capsys):
    monkeypatch.chdir(users_dir)
    target, expect = {
        "file": (users_dir / "notes.txt", "is an existing file, not a directory"),
        ".": (".", "is the current directory or contains it"),
        "under a file": (users_dir / "notes.txt" / "out", "notes.txt is a file, not a directory"),
        "too long": (tmp_path / ("x" * 250), "directory name longer than 255 bytes"),
        "control char": (tmp_path / "a\nb", "not a valid directory name"),
        # /proc takes no new directories, even from root (mode bits would not stop root)
        "cannot create": (Path("/proc/clustersim-out"), "cannot create /proc/"),
    }[case]
    before = snapshot(tmp_path)
    ran = []
    monkeypatch.setattr("sim.runner.run_scenario", lambda *a, **k: ran.append(1))
    assert run("--out", target, *TINY) == 2
    err = capsys.readouterr().err
    assert expect in err and "--out" in err, err
    assert ran == [] and snapshot(tmp_path) == before


# ------------------------------------------------------------------ 3. kill -9 leftovers

def _start(out: Path, *extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim", "run", str(BASE), "--out", str(out),
                             "--firms", "3000", "--quiet", "--no-figures", *extra], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_staging(proc: subprocess.Popen, out: Path) -> Path:
    tmp = atomic.temp_name(out, proc.pid)
    for _ in range(600):
        if (tmp / atomic.MARKER).exists():
            return tmp
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the run never created its temporary directory")


def test_kill_9_leftovers_are_removed_by_the_next_run_beside_them(tmp_path, users_dir):
    out = tmp_path / "out"
    proc = _start(out)
    tmp = _wait_for_staging(proc, out)
    proc.kill()
    proc.wait()
    assert tmp.exists() and not out.exists()
    # a temporary-looking folder of a dead process without the marker is somebody else's
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    foreign = tmp_path / f".other.tmp-{dead}"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("not clustersim's")
    before = snapshot(users_dir)
    res = subprocess.run([sys.executable, "-m", "sim", "run", str(BASE), "--out",
                          str(tmp_path / "next"), *TINY], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"removed {tmp}: temporary folder of clustersim run (process {proc.pid}, which is " \
           "gone)" in res.stderr
    assert f"{foreign} looks like a temporary folder of process {dead} (gone) but has no " \
           f"{atomic.MARKER} marker" in res.stderr
    assert not tmp.exists() and (foreign / "keep.txt").read_text() == "not clustersim's"
    assert snapshot(users_dir) == before


# ------------------------------------------------------------------ 4. SIGTERM / SIGINT

@pytest.mark.parametrize("sig,status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stops_the_run_publishing_nothing(sig, status, tmp_path, users_dir):
    out = tmp_path / "out"
    before = snapshot(users_dir)
    proc = _start(out)
    _wait_for_staging(proc, out)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err
    assert err.strip().splitlines()[-1] == f"run: stopped by {sig.name}; nothing was published"
    assert "Traceback" not in err
    assert not out.exists() and temp_dirs(tmp_path) == []
    assert snapshot(users_dir) == before


def test_a_swallowed_sigterm_still_stops_the_run_before_it_publishes(tmp_path, monkeypatch,
                                                                     capsys):
    """The handler's exception can be lost inside a C callback (numba compiling through
    llvmlite); the run checks once a month and before it publishes."""
    from sim import errors

    monkeypatch.setattr(errors, "_terminations", [signal.SIGTERM])  # received, exception lost
    out = tmp_path / "out"
    assert run("--out", out, *TINY) == 143
    assert capsys.readouterr().err.strip() == "run: stopped by SIGTERM; nothing was published"
    assert not out.exists() and temp_dirs(tmp_path) == []


def test_a_signal_while_the_marker_is_written_leaves_no_temporary_folder(tmp_path, monkeypatch,
                                                                       capsys):
    """CI caught the race: the test saw the marker file and signalled while the run was still
    writing it, outside any checkpoint, so the interrupt left `_open_stage` undiscarded."""
    from sim.errors import Terminated

    write_text = Path.write_text

    def interrupted(self, *args, **kwargs):
        if self.name == atomic.MARKER:
            self.touch()  # the file exists, as the test's poll sees it, when the signal lands
            raise Terminated()
        return write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", interrupted)
    out = tmp_path / "deep" / "out"
    assert run("--out", out, *TINY) == 143
    assert capsys.readouterr().err.strip().endswith("run: stopped by SIGTERM; nothing was published")
    assert list(tmp_path.iterdir()) == []  # neither the temporary folder nor the parent made for it


def test_sigterm_stops_calibrate_in_one_line_publishing_nothing(tmp_path):
    out = tmp_path / "fit"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "calibrate", str(BASE), "--targets",
                             str(REPO / "calibration" / "targets_baseline.csv"), "--firms", "400",
                             "--seeds", "2", "--budget", "50", "--out", str(out)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_staging(proc, out)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143
    assert err.strip() == "calibrate: stopped by SIGTERM; nothing was published", err
    assert list(tmp_path.iterdir()) == []


def test_signal_during_a_replacement_leaves_the_old_output(tmp_path):
    out = tmp_path / "out"
    assert run("--out", out, *TINY) == 0
    before = snapshot(tmp_path)
    proc = _start(out, "--overwrite")
    _wait_for_staging(proc, out)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 143
    assert snapshot(tmp_path) == before


# ------------------------------------------------------------------ 5. numbers that blow up

def test_a_run_that_overflows_stops_with_month_and_quantity(tmp_path, capsys):
    out = tmp_path / "out"
    assert run("--out", out, *BLOWS_UP) == 3
    err = capsys.readouterr().err
    assert re.search(r"error: numerical failure in 2020-\d\d: employment is inf \(seed \d+, 400 "
                     r"firm agents at the start\); the run stopped and nothing was published",
                     err), err
    assert list(tmp_path.iterdir()) == []


def test_a_month_without_a_number_never_sums_to_a_zero_year():
    months = [f"2020-{m:02d}" for m in range(1, 13)]
    national = pd.DataFrame({"replicate": 0, "seed": 1, "date": months,
                             "core_va_bn_yuan": [1.0] * 11 + [np.nan], "gdp_bn_yuan": 10.0})
    annual = outputs.annual_from_national(national)
    assert np.isnan(annual["core_va_bn_yuan"].iloc[0])
    assert np.isnan(annual["core_va_share_gdp_pct"].iloc[0])


def test_the_recorder_names_a_regional_quantity_that_is_not_finite():
    table = np.array([[1.0, 2.0], [3.0, np.inf]])
    with pytest.raises(outputs.NumericalError, match="2024-03: employment by region is inf"):
        outputs.check_finite("2024-03", table, ("core VA", "employment"), "by region")


# ------------------------------------------------------------------ 6. too few agents

def test_too_few_agents_for_the_2020_level_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert run("--out", out, "--firms", "50", "--quiet") == 2
    err = capsys.readouterr().err
    assert "--firms 50 (run.firms): too few firm agents to hold the 2020 level" in err
    assert "use at least 300 firm agents" in err
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ 7. command-line values

@pytest.mark.parametrize("argv,expect", [
    (["run", BASE, "--replicates", "0"], "--replicates 0: expected 1 to 10,000"),
    (["run", BASE, "--replicates", "-2"], "--replicates -2: expected 1 to 10,000"),
    (["run", BASE, "--seed", "-1"], "--seed -1: expected 0 to 2,147,483,647"),
    (["run", BASE, "--seed", str(2**31 - 1), "--replicates", "2"],
     "--seed 2147483648: expected 0 to 2,147,483,647 (the last replicate's seed"),
    (["run", BASE, "--firms", "10"], "--firms 10: expected 50 to 5,000,000 (run.firms)"),
    (["calibrate", BASE, "--targets", "calibration/targets_baseline.csv", "--budget", "0"],
     "--budget 0: expected at least 1 (trials)"),
    (["calibrate", BASE, "--targets", "calibration/targets_baseline.csv", "--seeds", "1"],
     "--seeds 1: expected at least 2"),
    (["calibrate", BASE, "--targets", "calibration/targets_baseline.csv", "--firms", "5"],
     "--firms 5: expected 50 to 5,000,000"),
    (["validate-model", BASE, "--replicates", "1", "--out", "x.md"],
     "--replicates 1: expected at least 2"),
])
def test_bad_option_values_exit_2_naming_the_option(argv, expect, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    assert main([str(a) for a in argv]) == 2
    assert expect in capsys.readouterr().err


def test_params_into_a_closed_pipe_prints_no_traceback():
    proc = subprocess.Popen([sys.executable, "-m", "sim", "params", str(BASE)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line, as `| head` soon is
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 128 + signal.SIGPIPE
    assert "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.mark.parametrize("host,warned", [("0.0.0.0", "every network interface"),
                                         ("192.168.1.5", "the network at that address"),
                                         ("127.0.0.1", None), ("localhost", None)])
def test_viz_warns_when_the_page_is_served_beyond_this_machine(host, warned, tmp_path,
                                                               monkeypatch, capsys):
    from sim.viz import cli as viz_cli

    monkeypatch.setattr(viz_cli, "ASSETS_DIR", tmp_path / "none")  # stop before serving
    assert main(["viz", "--host", host]) == 2
    err = capsys.readouterr().err
    if warned:
        assert f"warning: --host {host}: the page is served to {warned} with no " \
               "authentication" in err
    else:
        assert "warning" not in err


# ------------------------------------------------------------------ 8. faults of the machine

def test_an_unreadable_input_is_exit_2_naming_it(monkeypatch, capsys):
    def unreadable(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", "/srv/s.yaml")

    monkeypatch.setattr("sim.scenario.load_scenario", unreadable)
    assert run("--quiet") == 2
    assert "error: /srv/s.yaml: Permission denied (EACCES)" in capsys.readouterr().err


def test_an_io_error_while_writing_is_exit_4_naming_the_path(tmp_path, monkeypatch, capsys):
    def broken(obj, path):
        raise OSError(errno.EIO, "Input/output error", str(path))

    monkeypatch.setattr(outputs, "write_json", broken)
    out = tmp_path / "out"
    assert run("--out", out, *TINY) == 4
    err = capsys.readouterr().err
    assert "summary.json: Input/output error; nothing was published" in err
    assert list(tmp_path.iterdir()) == []
