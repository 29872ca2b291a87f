"""`clustersim calibrate ... --method abc`: ABC-SMC (sim/calibration/abc.py) and its outputs:
posterior.parquet, fitted.yaml, abc_report.md with abc_report.png, predictive.csv,
manifest.json and the pyabc history.

The history is written beside --out (DIR.abc_history.db) while the run lasts, so a run killed
at any point (kill -9 too: sqlite commits each generation) resumes when the same command is
given again; the finished output is then published whole (sim/atomic.py) with the history
moved inside it."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import yaml

from sim import atomic
from sim.calibration import abc
from sim.calibration.fit import current_values, round_sig
from sim.calibration.moments import moment
from sim.errors import checkpointed
from sim.scenario import load_scenario

OUTPUT_OF = "clustersim calibrate"
FILES = frozenset({"fitted.yaml", "posterior.parquet", "abc_report.md", "abc_report.png",
                   "predictive.csv", "manifest.json", "size_bias.csv", abc.HISTORY})


def _nested(values: dict) -> dict:
    tree: dict = {}
    for key, value in values.items():
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def fitted_yaml(config, post, out: Path, command: str) -> str:
    rel = os.path.relpath(Path(config.path).resolve(), out.resolve())
    w = post["weight"].to_numpy()
    medians = {c: round_sig(float(abc.weighted_quantile(post[c].to_numpy(), w, 0.5)))
               for c in post.columns if c != "weight"}
    body = {"extends": rel, "name": f"{config.name}_fitted",
            "description": f"{config.description} Free parameters calibrated by ABC-SMC."}
    # the point values are the posterior medians, used when the posterior is switched off
    body.update(_nested(medians))
    body.setdefault("calibration", {})["posterior"] = "posterior.parquet"
    head = [f"# {config.name} calibrated by ABC-SMC (pyabc).", f"# Written by: {command}",
            "# Each replicate of `clustersim run` draws its parameters from posterior.parquet; "
            "the values below are posterior medians.", "# Report: abc_report.md beside this file."]
    return "\n".join(head) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def plot(frees, post, pred, targets, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(frees) + len(targets)
    cols = 4
    fig, axes = plt.subplots((n + 1 + cols - 1) // cols, cols, figsize=(4 * cols, 3 * ((n + cols) // cols)))
    axes = axes.ravel()
    w = post["weight"].to_numpy()
    for ax, f in zip(axes, frees):
        x = np.linspace(f.low, f.high, 200)
        ax.hist(post[f.key], bins=20, range=(f.low, f.high), weights=w, density=True,
                alpha=0.6, label="posterior")
        ax.plot(x, abc.prior_density(f, x), "k--", label="prior")
        ax.set_title(f.key, fontsize=8)
    axes[0].legend(fontsize=7)
    for ax, t in zip(axes[len(frees):], targets):
        ax.hist(pred[t.name], bins=15, alpha=0.6, color="tab:green")
        ax.axvline(t.value, color="k")
        ax.axvspan(t.value - t.sd, t.value + t.sd, color="k", alpha=0.1)
        ax.set_title(f"predictive: {t.name}", fontsize=8)
    corr = abc.weighted_corr(post)
    ax = axes[n]
    im = ax.imshow(corr.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_title("posterior correlations (p0..)", fontsize=8)
    fig.colorbar(im, ax=ax)
    for ax in axes[n + 1:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(fig)


def report(config, frees, targets, res, pred, command, wall, firms, population,
           bias: abc.SizeBias | None = None) -> str:
    post, w = res.posterior, res.posterior["weight"].to_numpy()
    lines = [f"# ABC-SMC calibration of `{config.name}`", "", f"Written by `{command}`.", "",
             f"pyabc ABC-SMC, {firms:,} firm agents, population {population}, "
             f"{res.generations} generations, **{res.simulations:,} simulations**, final "
             f"epsilon {res.epsilon:.3f}, **effective sample size {res.ess:.1f}** of "
             f"{len(post)} particles, **wall time {wall:.0f} s**"
             + (" (resumed from a history left by an earlier run)" if res.resumed else "") + ".",
             "Distance: sqrt(sum_k ((m_k - t_k) / sd_k)^2), one run per particle.", ""]
    if bias is not None:
        lines += [f"**Small-size correction** (size_bias.csv): each moment's mean at {bias.small:,} "
                  f"agents minus its mean at {bias.large:,}, at the scenario's values over "
                  f"{bias.seeds} seeds each, is subtracted from every simulated moment, so "
                  f"particles are judged as {bias.large:,}-agent runs; the predictive check "
                  "below is corrected the same way.", "",
                  "| target | bias | se | bias / target sd |", "|---|---|---|---|"]
        sd = {t.name: t.sd for t in targets}
        for r in bias.table.itertuples():
            lines.append(f"| {r.target} | {r.bias:+.4g} | {r.se:.3g} | {r.bias / sd[r.target]:+.2f} |")
        lines += [""]
    lines += ["## Parameters: prior and posterior (weighted)", "",
             "| parameter | prior | scenario value | posterior median | 5% | 95% |",
             "|---|---|---|---|---|---|"]
    start = current_values(config, frees)
    for f in frees:
        q = abc.weighted_quantile(post[f.key].to_numpy(), w, [0.05, 0.5, 0.95])
        prior = (f"uniform {f.low:g}..{f.high:g}" if f.prior == "uniform" else
                 f"{f.prior}({f.mean:g}, {f.sd:g}) on {f.low:g}..{f.high:g}")
        lines.append(f"| `{f.key}` | {prior} | {start[f.key]:g} | {q[1]:.4g} | {q[0]:.4g} | "
                     f"{q[2]:.4g} |")
    corr = abc.weighted_corr(post)
    lines += ["", "## Pairwise posterior correlations (weighted)", "",
              "| | " + " | ".join(f"p{i}" for i in range(len(frees))) + " |",
              "|---|" + "---|" * len(frees)]
    for i, f in enumerate(frees):
        lines.append(f"| p{i} `{f.key}` | " + " | ".join(f"{v:+.2f}" for v in corr.iloc[i]) + " |")
    lines += ["", f"## Posterior-predictive check ({len(pred)} draws, one run each)", "",
              "| target | unit | target +/- sd | predictive median | 5% | 95% | target inside 5-95% |",
              "|---|---|---|---|---|---|---|"]
    for t in targets:
        q = np.quantile(pred[t.name], [0.05, 0.5, 0.95])
        lines.append(f"| {t.name} | {moment(t.name).unit} | {t.value:g} +/- {t.sd:g} | "
                     f"{q[1]:.3f} | {q[0]:.3f} | {q[2]:.3f} | "
                     f"{'yes' if q[0] <= t.value <= q[2] else 'NO'} |")
    lines += ["", "Figure: abc_report.png (prior vs posterior per parameter, predictive "
              "histograms against target +/- sd, correlation matrix).", ""]
    return "\n".join(lines)


def cmd_abc(args, config, targets, frees, command: str, say) -> int:
    from sim.sweep.backends import DaskBackend

    firms, out = int(args.firms), Path(args.out) if args.out else \
        Path("calibration") / f"{config.name}_abc"
    seed = int(config["run.seed"] if args.seed is None else args.seed)
    population = int(args.population)
    db = Path(os.path.abspath(out)).with_name(Path(out).name + "." + abc.HISTORY)
    t0 = time.perf_counter()
    atomic.check_target(out, OUTPUT_OF, FILES, args.overwrite)
    say(f"calibrate {config.name} by ABC-SMC: {len(targets)} targets, {len(frees)} free "
        f"parameters, {firms} agents, population {population}, {args.budget} simulations"
        + (f"; resuming {db}" if db.exists() else f"; history {db}"))
    dask = args.scheduler or args.dask_local
    model = abc.Simulator(config, frees, [t.name for t in targets], firms, seed)
    with checkpointed(), (DaskBackend(args.dask_local, args.scheduler) if dask else
                          contextlib.nullcontext()) as backend:
        map_ = abc.dask_map(backend.client) if dask else map
        bias = None
        judged = targets
        if args.size_bias:
            bias = abc.size_bias(model, int(args.size_bias), int(args.size_bias_seeds), map_)
            say("small-size bias, in target sd: " + ", ".join(
                f"{t.name.split(':')[1] if t.name.startswith('observed:') else t.name} "
                f"{bias.of(t.name) / t.sd:+.2f}" for t in targets))
            # m - bias vs t is m vs t + bias: shift the targets, the simulator stays as it is
            judged = [dataclasses.replace(t, value=t.value + bias.of(t.name)) for t in targets]
        res = abc.run_abc(config, judged, frees, firms, args.budget, population, seed, db, map_)
        pred = abc.predictive(model, res.posterior, args.predictive, seed, map_)
        if bias is not None:
            pred = pred - bias.table.set_index("target")["bias"][pred.columns]
    wall = time.perf_counter() - t0
    with atomic.staged_directory(out, OUTPUT_OF, FILES, args.overwrite) as tmp:
        res.posterior.to_parquet(tmp / "posterior.parquet", index=False)
        (tmp / "fitted.yaml").write_text(fitted_yaml(config, res.posterior, out, command),
                                         encoding="utf-8")
        pred.to_csv(tmp / "predictive.csv", index=False, float_format="%.10g",
                    lineterminator="\n")
        if bias is not None:
            bias.table.to_csv(tmp / "size_bias.csv", index=False, float_format="%.10g",
                              lineterminator="\n")
        plot(frees, res.posterior, pred, targets, tmp / "abc_report.png")
        (tmp / "abc_report.md").write_text(report(config, frees, targets, res, pred, command,
                                                  wall, firms, population, bias),
                                           encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps({
            "output_of": OUTPUT_OF, "command": command, "method": "abc-smc (pyabc)",
            "scenario_file": str(config.path), "seed": seed, "firm_agents": firms,
            "simulations": res.simulations, "generations": res.generations,
            "size_bias_agents": args.size_bias,
            "effective_sample_size": round(res.ess, 3), "wall_time_s": round(wall, 3)},
            indent=2) + "\n", encoding="utf-8")
        shutil.copy2(db, tmp / abc.HISTORY)
        load_scenario(tmp / "fitted.yaml")
    db.unlink()
    say(f"{res.simulations} simulations, {res.generations} generations, ESS {res.ess:.1f}; "
        f"wrote {out}/ (posterior.parquet, fitted.yaml, abc_report.md) [{wall:.0f} s]")
    return 0
