"""`clustersim compare`: paired differences, incidence by cluster, the fan chart, bad input."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.compare import DIFFERENCE_COLUMNS, INCIDENCE_COLUMNS, _unpaired_row, incidence_figure

SCENARIOS = Path("scenarios").resolve()
SMALL = ["--firms", "800", "--set", "run.end=2021-12", "--set", "target.year=2021",
         "--replicates", "2", "--no-figures", "--quiet"]


def run_cli(*argv):
    return main([str(a) for a in argv])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("runs")
    for name, extra in (("baseline", []), ("no_export_controls", []),
                        ("baseline_seed7", ["--seed", "7"])):
        scenario = SCENARIOS / f"{name.split('_seed')[0]}.yaml"
        assert run_cli("run", scenario, "--out", d / name, *SMALL, *extra) == 0
    return d


def test_a_run_paired_with_itself_differs_by_zero(runs, tmp_path):
    out = tmp_path / "self"
    assert run_cli("compare", runs / "baseline", runs / "baseline", "--paired", "--out", out,
                   "--quiet") == 0
    diff = pd.read_csv(out / "differences.csv")
    assert list(diff.columns) == DIFFERENCE_COLUMNS
    assert set(diff["method"]) == {"paired"} and (diff["n"] == 2).all()
    values = diff[["mean_difference", "median_difference", "p05", "p95", "ci90_low",
                   "ci90_high"]].to_numpy()
    assert np.all(values == 0)
    assert {"core_va_share_gdp_official_pct", "direct_loss_bn_yuan",
            "east_share_core_va_pct"} <= set(diff["indicator"])
    inc = pd.read_csv(out / "incidence.csv")
    assert (inc[["total_loss_bn_yuan", "direct_loss_bn_yuan",
                 "indirect_loss_bn_yuan"]].to_numpy() == 0).all()


def test_controls_against_none_put_the_direct_loss_where_the_capped_firm_is(runs, tmp_path):
    out = tmp_path / "controls"
    assert run_cli("compare", runs / "no_export_controls", runs / "baseline", "--paired",
                   "--svg", "--out", out, "--quiet") == 0
    inc = pd.read_csv(out / "incidence.csv")
    assert list(inc.columns) == INCIDENCE_COLUMNS
    assert set(inc["run"]) == {"no_export_controls", "baseline"}
    base = inc[inc["run"] == "baseline"]
    assert np.allclose(base["total_loss_bn_yuan"],
                       base["direct_loss_bn_yuan"] + base["indirect_loss_bn_yuan"])
    by_cluster = base.groupby("cluster_id")["direct_loss_bn_yuan"].sum()
    # the data: the chip caps bind Huawei (Entity List 2019-20), whose home is Shenzhen
    assert by_cluster.idxmax() == "shenzhen" and by_cluster["shenzhen"] > 0
    assert base.set_index("cluster_id").loc["shenzhen", "cluster"].iloc[0].startswith("Shenzhen")
    # the clusters' total loss is the national difference of value added
    diff = pd.read_csv(out / "differences.csv")
    va = diff[(diff["indicator"] == "core_va_bn_yuan")].set_index("year")["mean_difference"]
    total = base.groupby("year")["total_loss_bn_yuan"].sum()
    # to the rounding of 10 significant digits in the CSVs (VA about 9,000 bn yuan)
    assert np.allclose(-va, total, rtol=0, atol=1e-4)
    d = diff[diff["indicator"] == "direct_loss_bn_yuan"]
    # controls cap output, no controls cap nothing; a listed firm is cut only once its chip
    # stock is gone (Huawei's FDP rule of 2020-08 bites in 2021), so 2020 may show none
    assert (d["mean_difference"] >= 0).all() and d["mean_difference"].iloc[-1] > 0
    assert (out / "fan.png").stat().st_size > 0
    assert (out / "fan.svg").read_text().startswith("<?xml")
    assert (out / "incidence.png").stat().st_size > 0
    assert (out / "incidence.svg").read_text().startswith("<?xml")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["output_of"] == "clustersim compare" and manifest["paired"] is True
    assert [i["label"] for i in manifest["inputs"]] == ["no_export_controls", "baseline"]


def test_compare_reruns_byte_identical_and_replaces_only_its_own_output(runs, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert run_cli("compare", runs / "baseline", runs / "no_export_controls", "--out", out,
                       "--quiet") == 0
    for name in ("differences.csv", "incidence.csv", "fan.png", "incidence.png"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert run_cli("compare", runs / "baseline", runs / "no_export_controls", "--out", a,
                   "--quiet") == 2  # exists: only with --overwrite
    assert run_cli("compare", runs / "baseline", runs / "no_export_controls", "--out", a,
                   "--overwrite", "--quiet") == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert run_cli("compare", runs / "baseline", runs / "no_export_controls", "--out", mine,
                   "--overwrite", "--quiet") == 2
    assert (mine / "notes.txt").read_text() == "keep" and len(list(mine.iterdir())) == 1


def test_unpaired_when_seeds_differ_and_paired_refused(runs, tmp_path, capsys):
    out = tmp_path / "x"
    assert run_cli("compare", runs / "baseline", runs / "baseline_seed7", "--paired",
                   "--out", out, "--quiet") == 2
    err = capsys.readouterr().err
    assert "--paired" in err and str(runs / "baseline_seed7") in err and not out.exists()
    assert run_cli("compare", runs / "baseline", runs / "baseline_seed7", "--out", out,
                   "--quiet") == 0
    assert set(pd.read_csv(out / "differences.csv")["method"]) == {"unpaired"}


def test_bad_run_directories_exit_2_naming_the_path(runs, tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert run_cli("compare", runs / "baseline", missing, "--out", tmp_path / "o") == 2
    assert str(missing) in capsys.readouterr().err
    old = tmp_path / "old_run"
    shutil.copytree(runs / "baseline", old)
    (old / "clusters.csv").unlink()
    assert run_cli("compare", runs / "baseline", old, "--out", tmp_path / "o") == 2
    assert str(old / "clusters.csv") in capsys.readouterr().err
    assert run_cli("compare", runs / "baseline", "--out", tmp_path / "o") == 2
    assert "at least two" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_unpaired_interval_is_welch_and_spreads_every_pair():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0])
    row = _unpaired_row(x, y)
    assert row["mean_difference"] == pytest.approx(1.5)
    assert row["median_difference"] == pytest.approx(np.median([1, 2, 3, 0, 1, 2]))
    from scipy.stats import ttest_ind
    ci = ttest_ind(x, y, equal_var=False).confidence_interval(0.90)
    assert (row["ci90_low"], row["ci90_high"]) == pytest.approx((ci.low, ci.high))


def test_fan_chart_shades_projected_years_and_marks_every_share_target(tmp_path):
    from sim.compare import Run, fan_chart, targets_of
    annual = pd.DataFrame({"replicate": 0, "seed": 1, "year": [2024, 2025, 2026],
                           "core_va_bn_yuan": 1.0,
                           "core_va_share_gdp_official_pct": [9.5, 10.1, 10.6],
                           "projected": [False, False, True]})
    summary = {"targets": [{"indicator": "core_digital_VA_share_GDP", "value": 10.0,
                            "year": 2025},
                           {"indicator": "core_digital_VA_share_GDP", "value": 12.5,
                            "year": 2030},
                           {"indicator": "software_IT_services_revenue", "value": 14.0,
                            "year": 2025}]}
    assert targets_of(summary) == [(10.0, 2025), (12.5, 2030)]
    assert targets_of({"target_share_pct": 10.0, "target_year": 2025}) == [(10.0, 2025)]
    run = Run(tmp_path, "made-up", annual, pd.DataFrame(), summary, {})
    fan_chart([run], [tmp_path / "f.png", tmp_path / "f.svg"])
    svg = (tmp_path / "f.svg").read_text()
    assert "projected (2026 on)" in svg and "target 12.5% by 2030" in svg


def test_incidence_chart_names_each_cluster_and_plots_its_summed_losses(runs, tmp_path):
    import matplotlib.pyplot as plt
    out = tmp_path / "controls"
    assert run_cli("compare", runs / "no_export_controls", runs / "baseline", "--out", out,
                   "--quiet") == 0
    inc = pd.read_csv(out / "incidence.csv")
    fig = incidence_figure(inc, "no_export_controls")
    (ax,) = fig.axes  # one panel: the reference is not compared with itself
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert len(ticks) == inc["cluster_id"].nunique() == 24
    assert "Shenzhen" in ticks and not set(ticks) & set(inc["cluster_id"])  # names, not ids
    # the bars are the CSV's losses summed over the years, in the order of the tick labels
    base = inc[inc["run"] == "baseline"].groupby("cluster_id")["direct_loss_bn_yuan"].sum()
    direct = [b.get_width() for b in ax.containers[0]]
    assert sorted(direct) == pytest.approx(sorted(base))
    assert ticks[int(np.argmax(direct))] == "Shenzhen"  # the capped firm's home, as above
    plt.close(fig)
