"""ABC-SMC end to end at a small size (2020 only): parameter recovery (1,000 agents), the same
posterior on one process and on Dask with 1 or 2 workers, and kill -9 then resume giving the
posterior of the uninterrupted run."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.calibration import abc
from sim.calibration import fit as fitmod
from sim.cli import main
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios/baseline.yaml"
SHORT = ["run.end=2020-12", "target.year=2020"]
NAMES = ["software_growth_2020", "eim_growth_2020"]
FREES = [fitmod.Free("production.trend_growth_pct.03", 0, 25),
         fitmod.Free("production.trend_growth_pct.01", 0, 25)]
TRUTH = {"production.trend_growth_pct.03": 18.0, "production.trend_growth_pct.01": 4.0}


@pytest.fixture(scope="module")
def problem(tmp_path_factory):
    """Targets simulated at known parameters (seed 123), as a targets file."""
    config = load_scenario(BASE, SHORT)
    truth = abc.Simulator(config, FREES, NAMES, 400, 0).moments(TRUTH, 123)
    d = tmp_path_factory.mktemp("abc")
    rows = [f"target,{n},{truth[n]!r},,,2.0,A,simulated,\n" for n in NAMES]
    rows += [f"free,{f.key},,{f.low},{f.high},,,uniform,\n" for f in FREES]
    (d / "t.csv").write_text("type,name,value,low,high,sd,grade,source,note\n" + "".join(rows))
    return config, d, [fitmod.Target(n, truth[n], 2.0, None, None, "", "", "", 0)
                       for n in NAMES]


def command(d: Path, out: Path, *extra) -> list[str]:
    return ["calibrate", str(BASE), "--targets", str(d / "t.csv"), "--method", "abc",
            "--firms", "400", "--population", "8", "--budget", "40", "--predictive", "2",
            "--seed", "5", "--quiet", "--out", str(out), *sum((["--set", s] for s in SHORT), []),
            *extra]


@pytest.fixture(scope="module")
def reference(problem):
    _, d, _ = problem
    assert main(command(d, d / "ref")) == 0
    return d / "ref" / "posterior.parquet"


def test_abc_recovers_two_known_parameters_within_their_credible_intervals(tmp_path):
    """Targets simulated at known trend growths of sectors 03 and 01 (seed 123), then ABC-SMC
    from uniform priors: each truth inside its 90% interval, each interval narrower than 60% of
    the prior's. 1,000 agents: at 400, sector 01 has so few firms that its 2020 growth varies
    between seeds by more than the targets' sd, and its interval stayed 55% of the prior."""
    config = load_scenario(BASE, SHORT)
    truth = abc.Simulator(config, FREES, NAMES, 1000, 0).moments(TRUTH, 123)
    targets = [fitmod.Target(n, truth[n], 2.0, None, None, "", "", "", 0) for n in NAMES]
    res = abc.run_abc(config, targets, FREES, 1000, 160, 20, 1, tmp_path / "h.db")
    assert res.generations >= 3
    for f in FREES:
        x, w = res.posterior[f.key].to_numpy(), res.posterior["weight"].to_numpy()
        lo, hi = abc.weighted_quantile(x, w, [0.05, 0.95])
        assert lo <= TRUTH[f.key] <= hi, f.key
        assert hi - lo < 0.6 * 0.9 * (f.high - f.low), f.key  # narrower than the prior's 5-95%


# one worker too in the slow suite: each Dask start costs ~10 s unloaded (~4 min at load 12)
@pytest.mark.parametrize("workers", [pytest.param(1, marks=pytest.mark.slow), 2])
def test_dask_gives_the_posterior_of_one_process_to_the_byte(problem, reference, workers):
    _, d, _ = problem
    out = d / f"dask{workers}"
    assert main(command(d, out, "--dask-local", str(workers))) == 0
    assert (out / "posterior.parquet").read_bytes() == reference.read_bytes()


def test_a_dask_scheduler_given_by_address_gives_the_posterior_of_one_process(problem, reference):
    """--scheduler ADDR: a cluster that was running before the command (started here by the
    test, as an operator starts `dask scheduler` and its workers) is reached by its tcp address
    alone, and gives the posterior of one process for the same seed, to the byte: the tasks are
    seeded by (seed, generation, particle), not by where or in what order they run."""
    import logging

    from distributed import Client, LocalCluster

    _, d, _ = problem
    out = d / "address"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      scheduler_port=0, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        assert main(command(d, out, "--scheduler", address)) == 0
        # the command closed only its client: the operator's cluster still runs its workers
        with Client(address, timeout="20s") as client:
            assert len(client.nthreads()) == 2
    assert (out / "posterior.parquet").read_bytes() == reference.read_bytes()


def test_abc_writes_the_posterior_a_fitted_scenario_pointing_at_it_and_the_report(problem,
                                                                                   reference):
    """The outputs of `calibrate --method abc` (the reference run above, 2 free parameters,
    2 targets): one posterior row per particle with a column per free parameter and a weight;
    fitted.yaml extends the scenario and names posterior.parquet; the report states the number
    of simulations, the ESS and the wall time, and has the prior/posterior, correlation and
    predictive sections, with the figure beside it."""
    import json

    import pandas as pd

    _, d, _ = problem
    out = reference.parent
    post = pd.read_parquet(reference)
    assert list(post.columns) == [f.key for f in FREES] + ["weight"]
    assert len(post) == 8 and post["weight"].sum() == pytest.approx(1) and (post["weight"] >= 0).all()
    for f in FREES:  # inside the uniform priors' bounds
        assert post[f.key].between(f.low, f.high).all()
    fitted = load_scenario(out / "fitted.yaml")
    assert fitted.resolve_path("calibration.posterior") == reference.resolve()
    assert "extends:" in (out / "fitted.yaml").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["simulations"] >= 40
    report = (out / "abc_report.md").read_text()
    assert f"**{manifest['simulations']:,} simulations**" in report
    assert "effective sample size" in report and "wall time" in report
    for section in ("## Parameters: prior and posterior (weighted)",
                    "## Pairwise posterior correlations (weighted)",
                    "## Posterior-predictive check (2 draws, one run each)"):
        assert section in report
    for name in NAMES:  # every target checked against the predictive draws
        assert f"| {name} |" in report
    assert list(pd.read_csv(out / "predictive.csv").columns)[-len(NAMES):] == NAMES
    assert (out / "abc_report.png").read_bytes()[:4] == b"\x89PNG"


def _generations(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as c:
            return c.execute("select count(*) from populations where t >= 0").fetchone()[0]
    except sqlite3.Error:  # created but no tables yet, or locked by a write
        return 0


def test_kill_9_mid_calibration_then_resume_gives_the_uninterrupted_posterior(problem, reference):
    _, d, _ = problem
    out = d / "killed"
    db = out.with_name(out.name + "." + abc.HISTORY)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sim", *command(d, out)], cwd=ROOT, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    while _generations(db) < 1 and proc.poll() is None and time.monotonic() - t0 < 300:
        time.sleep(0.05)
    assert proc.poll() is None, "finished before the kill: the test needs a longer run"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert db.exists() and not out.exists()
    assert main(command(d, out)) == 0
    assert (out / "posterior.parquet").read_bytes() == reference.read_bytes()
    assert not db.exists() and (out / abc.HISTORY).exists()


def test_size_bias_shifts_each_target_by_its_measured_small_size_bias(problem, tmp_path):
    """--size-bias 800: each moment's 400-agent mean minus its 800-agent mean, at the scenario's
    values, is added to its target in the history pyabc judges particles against."""
    import pandas as pd
    import pyabc

    config, d, targets = problem
    out = tmp_path / "biased"
    assert main(command(d, out, "--size-bias", "800", "--size-bias-seeds", "2")) == 0
    bias = pd.read_csv(out / "size_bias.csv").set_index("target")
    assert list(bias.index) == NAMES
    # the table is the two sizes' means at the scenario's values, over the seeds it names
    values = {f.key: float(config.get(f.key)) for f in FREES}
    for firms, col in ((400, "small"), (800, "large")):
        sim = abc.Simulator(config, FREES, NAMES, firms, 5)
        runs = pd.DataFrame([sim.moments(values, 5 + 900_000 + i) for i in range(2)])
        assert runs.mean().to_dict() == pytest.approx(bias[col].to_dict(), rel=1e-8)  # %.10g
    assert (bias["bias"] - (bias["small"] - bias["large"])).abs().max() < 1e-6  # %.10g
    assert (bias["bias"].abs() > 0).all()  # 400 and 800 agents differ on every moment
    judged = pyabc.History(f"sqlite:///{out / abc.HISTORY}").observed_sum_stat()
    for t in targets:
        assert float(judged[t.name]) == pytest.approx(t.value + bias.at[t.name, "bias"])
    report = (out / "abc_report.md").read_text()
    assert "Small-size correction" in report and "judged as 800-agent runs" in report
