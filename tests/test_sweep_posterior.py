"""A sweep over a scenario that names a posterior: each run draws its parameters as `clustersim
run` draws them for its seed, the swept value wins over the draw, and the numbers do not depend
on the number of workers. Tiny runs (300 agents, 2020-2021)."""

from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.runner import posterior_draws, run_replicate, with_draw
from sim.scenario import load_scenario
from sim.sweep import store as st

BASE = Path("scenarios/baseline.yaml").resolve()


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    d = tmp_path_factory.mktemp("post")
    # two far-apart parameter sets, so a run that ignored its draw would show it
    pd.DataFrame({"innovation.selection": [0.0, 0.02], "platform.reach": [0.1, 0.9],
                  "weight": [0.5, 0.5]}).to_parquet(d / "post.parquet")
    (d / "s.yaml").write_text(f"extends: {BASE}\ncalibration:\n  posterior: post.parquet\n")
    (d / "exp.yaml").write_text(
        f"scenario: {d / 's.yaml'}\nfixed:\n  run.firms: 300\n  run.end: 2021-12\n"
        "  target.year: 2021\n  target.share_pct: 7.85\ndesign: grid\nparameters:\n"
        "  platform.reach: [0.5]\nreplicates: 6\nseed: 3\n")
    outs = []
    for workers in (1, 2):
        out = d / f"w{workers}"
        assert main(["sweep", str(d / "exp.yaml"), "--out", str(out), "--workers",
                     str(workers), "--quiet"]) == 0
        outs.append(st.read_runs(out).sort_values("run_id").reset_index(drop=True))
    return d, outs


def test_each_run_draws_from_the_posterior_by_its_seed_and_keeps_the_swept_value(swept):
    d, (runs, _) = swept
    base = load_scenario(d / "s.yaml", ["run.end=2021-12", "target.year=2021",
                                          "platform.reach=0.5"])
    draws = posterior_draws(base, [int(s) for s in runs["seed"]])
    assert list(runs["posterior_row"]) == list(draws["posterior_row"])
    assert runs["posterior_row"].nunique() == 2  # both rows drawn over these six seeds
    for (_, run), draw in zip(runs.iterrows(), draws.to_dict("records")):
        draw.pop("platform.reach")  # the swept value, 0.5, is kept
        sc = with_draw(base, draw)
        annual = run_replicate(sc, int(run["seed"]), firms=300, firm_snapshots=False).annual
        share = annual.loc[annual["year"] == 2021, "core_va_share_gdp_official_pct"].iloc[0]
        assert run["share_2021_pct"] == share


def test_a_posterior_sweep_gives_the_same_numbers_on_one_or_two_workers(swept):
    _, (one, two) = swept
    pd.testing.assert_frame_equal(one.drop(columns="error"), two.drop(columns="error"))
    # the draw matters: the two parameter sets give different 2021 shares for the runs
    assert one.groupby("posterior_row")["share_2021_pct"].mean().diff().abs().iloc[-1] > 0
