"""The Python API of docs/api.md: sim.api.run and mesa.batch_run over ScenarioModel."""

import mesa
import pandas as pd
import pytest

from sim.api import ScenarioModel, run
from sim.outputs import ANNUAL_COLUMNS, CLUSTER_COLUMNS
from sim.scenario import ScenarioError

ONE_YEAR = {"run.end": "2020-12", "target.year": 2020}
BASE = "scenarios/baseline.yaml"


@pytest.fixture(scope="module")
def batch():
    rows = mesa.batch_run(ScenarioModel, {"scenario": BASE, "firms": 500, **ONE_YEAR,
                                          "spillover.strength": [0.0, 0.5]},
                          rng=[42, 43], max_steps=10_000, display_progress=False)
    return pd.DataFrame(rows)


def test_batch_run_takes_scenario_keys_as_keyword_parameters(batch):
    assert len(batch) == 4  # two values x two seeds, the last step of each
    assert sorted(zip(batch["seed"], batch["spillover.strength"])) == \
        [(42, 0.0), (42, 0.5), (43, 0.0), (43, 0.5)]
    assert (batch["Step"] == 12).all() and (batch["date"] == "2020-12").all()
    # the parameter reaches the model: with the same seed, spillover changes value added
    by = batch.set_index(["seed", "spillover.strength"])["core_va_bn_yuan"]
    assert by[(42, 0.0)] != by[(42, 0.5)]


def test_a_batch_row_is_what_the_python_api_gives_for_its_seed(batch):
    result = run(BASE, replicates=1, seed=43, firms=500,
                 **ONE_YEAR, **{"spillover.strength": 0.5})
    row = batch[(batch["seed"] == 43) & (batch["spillover.strength"] == 0.5)].iloc[0]
    last = result.national.iloc[-1]
    for column in ("core_va_bn_yuan", "firms", "employment", "direct_loss_bn_yuan"):
        assert row[column] == last[column], column
    assert list(result.annual.columns) == ANNUAL_COLUMNS
    assert list(result.clusters.columns) == CLUSTER_COLUMNS and len(result.clusters) == 24


def test_iterations_without_seeds_draw_fresh_recorded_seeds():
    with pytest.warns(DeprecationWarning):  # Mesa 3.5 prefers rng=[...]
        rows = mesa.batch_run(ScenarioModel, {"scenario": BASE, "firms": 500, **ONE_YEAR,
                                              "export_controls.severity": [0.5, 1.0]},
                              iterations=2, max_steps=10_000, display_progress=False)
    df = pd.DataFrame(rows)
    assert len(df) == 4 and sorted(df["iteration"]) == [0, 0, 1, 1]
    # Mesa passes seed=None for each run: each draws its own seed, recorded to rerun it
    assert df["seed"].notna().all() and df["seed"].nunique() == 4


def test_an_unknown_or_bad_keyword_is_named():
    with pytest.raises(ScenarioError, match="spillover.strenght"):
        ScenarioModel(BASE, seed=1, firms=500, **{"spillover.strenght": 0.5})
    with pytest.raises(ScenarioError, match="spillover.strength"):
        run(BASE, replicates=1, firms=500, **ONE_YEAR, **{"spillover.strength": -3})


@pytest.mark.parametrize("scenario", [BASE, "calibration/baseline_posterior/fitted.yaml"])
def test_a_batch_row_past_the_gdp_data_is_what_the_python_api_gives(scenario):
    # 2026 is past the GDP data (a projection drawn per seed) and the second scenario names a
    # posterior (a parameter set drawn per seed): the row must follow both draws as
    # `clustersim run` does, not the mean GDP path or the file's point values
    keys = {"run.end": "2026-12", "target.year": 2025}
    rows = mesa.batch_run(ScenarioModel, {"scenario": scenario, "firms": 500, **keys},
                          rng=[44], max_steps=10_000, display_progress=False)
    row = pd.DataFrame(rows).iloc[0]
    last = run(scenario, replicates=1, seed=44, firms=500, **keys).national.iloc[-1]
    assert row["date"] == last["date"] == "2026-12"
    for column in ("gdp_bn_yuan", "core_va_bn_yuan", "firms", "employment"):
        assert row[column] == last[column], column


def test_every_python_example_of_docs_api_md_runs(tmp_path, monkeypatch):
    # the page is the API's documentation: an example that no longer runs misleads its reader
    # (one did: it called summarise with the arguments of an older signature). Run in a
    # scratch folder that sees the repository's scenarios, so nothing lands in the repository.
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    blocks = re.findall(r"```python\n(.*?)```", (root / "docs/api.md").read_text(), re.S)
    assert len(blocks) >= 4  # frames, DataCollector, batch_run, writing the files
    (tmp_path / "scenarios").symlink_to(root / "scenarios")
    monkeypatch.chdir(tmp_path)
    ran = []
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, "docs/api.md", "exec"), namespace)  # noqa: S102 - our own docs
        ran.append(namespace)
    written = next(n for n in ran if "summary" in n)
    assert (tmp_path / "runs/api-example/summary.json").exists()
    assert len(written["summary"]["targets"]) == 3 and written["summary"]["horizon"]
