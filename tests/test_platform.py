"""Platform links (sim/mechanisms/platform.py): a share pi of a cluster's knowledge links is
distance-free, so a remote cluster's reachable pool moves towards the national mean."""

from pathlib import Path

import numpy as np
import pytest

from sim.mechanisms import platform, spillover
from sim.runner import build_model
from sim.scenario import load_scenario

BASE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"


def test_share_grows_with_infrastructure_and_is_capped():
    assert platform.platform_share(0.4, [0.5, 1.0, 1.3]) == pytest.approx([0.2, 0.4, 0.4])


def test_remote_pool_moves_towards_the_other_cluster_by_the_platform_share():
    # two clusters 3,000 km apart (decay 300 km: exp(-10) ~ 0), equal mass, K = 1 and 0.5
    w = spillover.region_weights(np.array([[0.0, 3000.0], [3000.0, 0.0]]), 300.0, 1.0)
    mass, k, h = np.ones((2, 1)), np.array([[1.0], [0.5]]), np.ones((1, 1))
    alone = spillover.knowledge_pool(mass, k, platform.platform_weights(w, [0.0, 0.0]), h)
    assert alone[1, 0] == pytest.approx(0.5, abs=1e-4)
    linked = spillover.knowledge_pool(mass, k, platform.platform_weights(w, [0.0, 0.5]), h)
    # row 2 weights: 0.5 x exp(-10) + 0.5 on cluster 1 and 1 on its own: (0.5 + 0.5) / 1.5
    assert linked[1, 0] == pytest.approx(1.0 / 1.5, abs=1e-4)
    assert linked[0, 0] == pytest.approx(alone[0, 0])  # cluster 1 has no platform links


def _knowledge_by_region(reach):
    config = load_scenario(BASE, ["run.end=2021-12", "target.year=2021",
                                  f"platform.reach={reach}"])
    config.set("run.firms", 1000)
    config.validate()
    model = build_model(config, seed=5)
    model.run()
    f, rows = model.firms, model.firms.rows
    jobs = f.weight[rows] * f.employment[rows]
    num = np.bincount(f.region[rows], jobs * f.knowledge[rows], model.n_regions)
    den = np.bincount(f.region[rows], jobs, model.n_regions)
    # a small region can end the run without firms at 1,000 agents: it has no mean
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def test_platform_reach_narrows_the_knowledge_gap_between_clusters():
    """More reach, less dispersed regional mean knowledge after two years (same seed): platform
    links let lagging clusters learn from distant leaders. The effect is small (about 1% of
    the dispersion at reach 1 when written): knowledge closes only 2%/month of the gap to the
    pool, and most of the regional dispersion is the 2020 one."""
    by_reach = [_knowledge_by_region(r) for r in (0.0, 0.5, 1.0)]
    present = np.all(np.isfinite(by_reach), axis=0)  # regions with firms in all three runs
    sd = [np.std(np.log(k[present])) for k in by_reach]
    assert sd[0] > sd[1] > sd[2]
    assert sd[2] < 0.995 * sd[0]
