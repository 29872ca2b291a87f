"""`clustersim decompose`: what each mechanism contributes, by switching it off.

The scenario runs as given and once per mechanism with that mechanism switched off, every run
on the same seeds (paired replicates), so the difference is the mechanism's effect and not
sampling noise. SWITCH_OFF is the one place that says what "off" means for each mechanism:
the parameter values that remove it (a rate or elasticity set to zero, a distance decay set to
the longest the parameter table allows, i.e. no decay within China).

decomposition.csv has a row per mechanism (the first row, `none`, is the scenario itself):
  mechanism, switched_off_by, share_2025_pct, share_2025_official_pct, delta_pp,
  delta_official_pp, log_growth_2020_25, contribution_log_growth
with shares the mean over replicates of the end year's core VA share of GDP, delta = scenario -
switched off, log growth ln(core VA end year / core VA 2020) and its contribution the
scenario's log growth minus the switched-off run's; cluster_growth_sd_pp and _slope_pp are the
simulated cross-section of cluster growth 2020-23 (sim/cluster_growth.py), and a last row
`observed` gives the same two statistics from sim/data/cluster_growth.csv.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim import cluster_growth, runner, scenario
from sim.inputs import load_inputs
from sim.measurement import params_for, with_official_share

# mechanism -> (--set items that switch it off). Sector maps are set key by key.
SWITCH_OFF: dict[str, tuple[str, ...]] = {
    "demand_trend": tuple(f"production.trend_growth_pct.{c}=0" for c in ("01", "02", "03", "04"))
    + tuple(f"production.demand_sd_pct.{c}=0" for c in ("01", "02", "03", "04")),
    "innovation": ("innovation.zeta=0",),
    "imitation": ("innovation.imitation_zeta=0",),
    "selection": ("innovation.selection=0",),
    "spillover": ("spillover.strength=0", "spillover.foreign_strength=0"),
    "spillover_decay": ("spillover.decay_km=10000",),
    "platform": ("platform.reach=0",),
    "knowledge_from_rd": ("innovation.knowledge_from_rd=0",),
    "agglomeration": ("agglomeration.elasticity=0", "agglomeration.congestion=0"),
    "infrastructure": ("policy.infrastructure_growth_pct=0",),
    "designation": ("policy.designation_boost=0",),
    "location_pull": ("entry_exit.pull_scale=0",),
    "spinoffs": ("entry_exit.spinoff_share=0",),
    "export_controls": ("export_controls.enabled=false",),
}

COLUMNS = ["mechanism", "switched_off_by", "share_2025_pct", "share_2025_official_pct",
           "delta_pp", "delta_official_pp", "log_growth_2020_25", "contribution_log_growth",
           "cluster_growth_sd_pp", "cluster_growth_slope_pp"]


def _end_figures(config, seeds, firms) -> dict:
    """Mean over replicates of the end year's shares and the 2020-end log growth."""
    result = runner.run_scenario(config, seeds, firms, firm_snapshots=False)
    annual = result.annual
    inputs = load_inputs(config)
    annual = with_official_share(annual, params_for(config, inputs))
    first, last = annual["year"].min(), annual["year"].max()
    by_rep = annual.set_index(["replicate", "year"])
    va0 = by_rep.xs(first, level="year")["core_va_bn_yuan"]
    end = by_rep.xs(last, level="year")
    figures = dict(share_2025_pct=end["core_va_share_gdp_pct"].mean(),
                   share_2025_official_pct=end["core_va_share_gdp_official_pct"].mean(),
                   log_growth_2020_25=float(np.mean(np.log(end["core_va_bn_yuan"] / va0))))
    rows = cluster_growth.observed()
    if last >= rows["year_to"].max():  # the cross-section needs the years it covers
        figures.update(cluster_growth.simulated_statistics(result.regions, inputs, rows))
    else:
        figures.update(cluster_growth_sd_pp=np.nan, cluster_growth_slope_pp=np.nan)
    return figures


def decompose(path, overrides=(), firms=None, replicates=None, seed=None,
              mechanisms=None, progress=print) -> pd.DataFrame:
    base = scenario.load_scenario(path, list(overrides))
    if firms is not None:
        base.set("run.firms", firms)
    base.validate()
    seeds = runner.replicate_seeds(base, replicates, seed)
    # `--only none`: the scenario alone (a scan over --set values)
    names = list(SWITCH_OFF) if mechanisms is None else [m for m in mechanisms if m != "none"]
    rows = []
    for name in ["none"] + names:
        off = () if name == "none" else SWITCH_OFF[name]
        config = scenario.load_scenario(path, list(overrides) + list(off))
        if firms is not None:
            config.set("run.firms", firms)
        config.validate()
        t0 = time.perf_counter()
        rows.append(dict(mechanism=name, switched_off_by="; ".join(off) or "(scenario)",
                         **_end_figures(config, seeds, firms)))
        if progress:
            progress(f"  {name:<18} {time.perf_counter() - t0:6.1f} s")
    df = pd.DataFrame(rows)
    ref = df.iloc[0]
    df["delta_pp"] = ref["share_2025_pct"] - df["share_2025_pct"]
    df["delta_official_pp"] = ref["share_2025_official_pct"] - df["share_2025_official_pct"]
    df["contribution_log_growth"] = ref["log_growth_2020_25"] - df["log_growth_2020_25"]
    obs = dict(mechanism="observed", switched_off_by="sim/data/cluster_growth.csv",
               **cluster_growth.observed_statistics(load_inputs(base)))
    return pd.concat([df, pd.DataFrame([obs])], ignore_index=True)[COLUMNS]


def format_table(df: pd.DataFrame) -> str:
    lines = [f"{'mechanism':<18} {'share25':>8} {'official':>8} {'delta pp':>9} "
             f"{'d official':>10} {'dlog growth':>11} {'clus sd':>7} {'clus slope':>10}"]
    for r in df.itertuples():
        lines.append(f"{r.mechanism:<18} {r.share_2025_pct:8.3f} {r.share_2025_official_pct:8.3f} "
                     f"{r.delta_pp:9.3f} {r.delta_official_pp:10.3f} "
                     f"{r.contribution_log_growth:11.4f} {r.cluster_growth_sd_pp:7.2f} "
                     f"{r.cluster_growth_slope_pp:10.2f}")
    return "\n".join(lines)


def cmd_decompose(args) -> int:
    from sim.cli import check_option
    check_option("--firms", args.firms, "run.firms")
    check_option("--replicates", args.replicates, "run.replicates")
    unknown = set(args.only or ()) - set(SWITCH_OFF) - {"none"}
    if unknown:
        from sim.errors import UsageError
        raise UsageError(f"--only {', '.join(sorted(unknown))}: unknown mechanism (known: "
                         f"{', '.join(SWITCH_OFF)})")
    df = decompose(args.scenario, args.overrides, args.firms, args.replicates, args.seed,
                   args.only, progress=None if args.quiet else print)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "decomposition.csv", index=False, float_format="%.6g")
    print(format_table(df))
    print(f"  written: {out / 'decomposition.csv'}")
    return 0


def register(sub) -> None:
    from sim.cli import _scenario_args
    p = sub.add_parser("decompose", help="switch each mechanism off in turn (paired seeds) and "
                       "write what it contributes to the end-year share and to 2020-25 growth")
    _scenario_args(p)
    p.add_argument("--out", required=True, help="output directory for decomposition.csv")
    p.add_argument("--firms", type=int, help="number of firm agents (default: run.firms)")
    p.add_argument("--replicates", type=int, help="paired replicates (default: run.replicates)")
    p.add_argument("--seed", type=int, help="master seed (default: run.seed)")
    p.add_argument("--only", action="append", metavar="MECHANISM",
                   help="switch off only these mechanisms (repeatable; `none`: only the scenario)")
    p.add_argument("--quiet", action="store_true", help="no per-run timing lines")
    p.set_defaults(func=cmd_decompose)
