"""The model the browser page runs: ClusterModel built from slider values, plus its history.

SolaraViz rebuilds the model on Reset by calling it with the values of the page's inputs as
keyword arguments, so `VizModel.__init__` takes plain values (a scenario file name, numbers,
the seed as typed) and turns them into a validated Scenario. It does not take an argument
called `scenario`: SolaraViz treats that name specially.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.mechanisms import export_controls
from sim.model import ClusterModel
from sim.registry import SECTOR_CODES
from sim.runner import replicate_setup
from sim.scenario import Scenario, ScenarioError, load_scenario

REPO = Path(__file__).resolve().parents[2]
SCENARIO_DIR = REPO / "scenarios"
# Set by `clustersim viz SCENARIO` for the `solara run` process it starts.
ENV_SCENARIO = "CLUSTERSIM_VIZ_SCENARIO"
ENV_FIRMS = "CLUSTERSIM_VIZ_FIRMS"

# The baseline scenario's run.firms, so the page runs the model `clustersim run` runs; a Step
# with its redraw takes about 0.1 s of CPU at this size (benchmarks/viz_step.py, docs/viz.md).
DEFAULT_FIRMS = 10_000

# slider name -> (scenario key, label); units and meaning: sim/parameters.py, docs/viz.md
SLIDERS: dict[str, tuple[str, str]] = {
    "severity": ("export_controls.severity", "Control severity, 0-1"),
    "spillover": ("spillover.strength", "Spillover strength /mo"),
    "agglomeration": ("agglomeration.elasticity", "Agglomeration elasticity"),
    "rd_subsidy": ("policy.rd_subsidy_pct", "R&D subsidy, % of cost"),
    "cooperation": ("policy.international_cooperation", "Intl. cooperation, 0-1"),
}


def scenario_files(directory: Path = SCENARIO_DIR, extra: Path | None = None) -> dict[str, Path]:
    """Every scenario file in `directory` (top level, sorted), by the name the picker shows.

    `extra` (the file `clustersim viz` was started with) is added when it lies elsewhere.
    """
    files = {p.name: p.resolve() for p in sorted(Path(directory).glob("*.y*ml"))
             if p.suffix in (".yaml", ".yml") and p.is_file()}
    if extra is not None:
        extra = Path(extra).resolve()
        if extra not in files.values():
            files[str(extra)] = extra
    return files


def check_scenarios(files: dict[str, Path]) -> tuple[dict[str, Path], dict[str, str]]:
    """(files that load, {file: problem} for those that do not), so that the picker offers only
    files a Reset can run and the page can say why the others are missing."""
    ok, bad = {}, {}
    for name, path in files.items():
        try:
            load_scenario(path)
            ok[name] = path
        except ScenarioError as exc:
            bad[name] = str(exc)
    return ok, bad


def default_scenario_path() -> Path:
    """The file `clustersim viz` was started with, else scenarios/baseline.yaml."""
    named = os.environ.get(ENV_SCENARIO)
    return Path(named).resolve() if named else (SCENARIO_DIR / "baseline.yaml").resolve()


def resolve_scenario(name: str | os.PathLike | None) -> Path:
    """A picker entry (file name in scenarios/, or a path) as a path."""
    if name is None or str(name).strip() == "":
        return default_scenario_path()
    path = Path(name)
    if not path.is_absolute() and not path.exists():
        path = SCENARIO_DIR / path
    return path.resolve()


def coerce_seed(value, default: int) -> int:
    """The seed as an integer: the page's text box passes what was typed as text (Mesa issue 3516).

    Digits give that number; empty gives `default` (the scenario's run.seed); any other text
    (a word, a negative number) gives a stable number derived from its bytes, so that the same
    text always reproduces the same run.
    """
    if value is None:
        return int(default)
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"seed must be a number or text, not {value!r}")
    if isinstance(value, (int, np.integer)) and value >= 0:
        return int(value)
    text = str(value).strip()
    if text == "":
        return int(default)
    if text.isdigit():
        return int(text)
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None and number.is_integer() and number >= 0:
        return int(number)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


def build_config(scenario_file=None, **values) -> Scenario:
    """Load a scenario file and apply the slider values (None keeps the file's value)."""
    path = resolve_scenario(scenario_file)
    config = load_scenario(path)
    for name, value in values.items():
        if name not in SLIDERS:
            raise TypeError(f"unknown slider {name!r}; sliders are {', '.join(SLIDERS)}")
        if value is not None:
            config.set(SLIDERS[name][0], float(value))
    try:
        return config.validate()
    except ScenarioError as exc:  # name the slider, not only the key
        raise ScenarioError(exc.file, exc.line, exc.key, exc.problem + " (set by a slider)") from None


@dataclass
class History:
    """What the page's charts show over time: one row per simulated month."""

    dates: list[str] = field(default_factory=list)
    share_pct: list[float] = field(default_factory=list)
    core_va: list[float] = field(default_factory=list)            # bn yuan, month
    gdp: list[float] = field(default_factory=list)                # bn yuan, month
    self_sufficiency_pct: list[float] = field(default_factory=list)
    region_va: list[np.ndarray] = field(default_factory=list)     # (R,) bn yuan, month
    region_lost: list[np.ndarray] = field(default_factory=list)   # (R,) output lost to chip caps
    sector_va: list[np.ndarray] = field(default_factory=list)     # (4,) bn yuan, month
    availability: list[np.ndarray] = field(default_factory=list)  # (tiers,) after cooperation

    def __len__(self) -> int:
        return len(self.dates)


def region_figures(model: ClusterModel, rows: np.ndarray,
                   w_va: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(value added, output lost to chip caps) by region of the firms at `rows`, bn yuan;
    w_va: their weight x value added.

    The loss is what the caps take from output, all else equal, as in production.
    """
    f = model.firms
    cap, reg = f.output_cap[rows], f.region[rows]
    lost = np.where(cap < 1, w_va * (1 / np.maximum(cap, 1e-12) - 1), 0.0)
    return (np.bincount(reg, w_va, model.n_regions), np.bincount(reg, lost, model.n_regions))


class RecordingModel(ClusterModel):
    """ClusterModel that records what the page's charts show after each step: the browser
    page's model, and replicate 0 of `clustersim run` when it draws the page's map and chip
    panels into figures/ (sim/runner.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.history = History()
        # the starting state, for the map before the first step and the size distribution
        rows = self.firms.rows
        self.initial_region_va, _ = region_figures(
            self, rows, self.firms.weight[rows] * self.firms.value_added[rows])
        self.initial_sizes = (self.firms.employment[rows].copy(), self.firms.weight[rows].copy())
        self.observers.append(self._record)

    def _record(self, model) -> None:
        h = self.history
        # the firms that produced this month, before exit and entry changed the population,
        # so that regions and sectors add up to core_va_bn_yuan (as in outputs.Recorder)
        month = self.last_month
        va, lost = region_figures(self, month.rows, month.w_va)
        h.dates.append(self.date)
        h.share_pct.append(self.core_va_share_gdp_pct)
        h.core_va.append(self.core_va_bn_yuan)
        h.gdp.append(self.gdp_bn_yuan)
        h.self_sufficiency_pct.append(self.chip_self_sufficiency_pct)
        h.region_va.append(va)
        h.region_lost.append(lost)
        h.sector_va.append(np.bincount(self.firms.sector[month.rows], month.w_va,
                                       len(SECTOR_CODES)))
        h.availability.append(self.chip_availability())

    def chip_availability(self) -> np.ndarray:
        """Imported supply available to ordinary firms by tier (0-1), after cooperation."""
        return np.asarray(export_controls.soften(self.controls.availability,
                                                 self.config["policy.international_cooperation"]),
                          float).copy()

    @property
    def started(self) -> bool:
        return len(self.history) > 0

    @property
    def start_label(self) -> str:
        return self.config["run.start"]

    @property
    def date_label(self) -> str:
        """What the page shows as the date: the month last simulated."""
        return self.date if self.started else f"{self.start_label} (not started)"


class VizModel(RecordingModel):
    """RecordingModel built from the page's inputs.

    Args:
        scenario_file: a file name in scenarios/ (as the picker lists it) or a path.
        severity, spillover, agglomeration, rd_subsidy, cooperation: slider values for the keys
            in SLIDERS; None keeps the scenario file's value.
        seed: number or text as typed (see coerce_seed); empty uses the file's run.seed.
        firms: number of firm agents at the start.
    """

    def __init__(self, scenario_file: str | None = None, severity: float | None = None,
                 spillover: float | None = None, agglomeration: float | None = None,
                 rd_subsidy: float | None = None, cooperation: float | None = None,
                 seed: int | str | None = None, firms: int = DEFAULT_FIRMS):
        config = build_config(scenario_file, severity=severity, spillover=spillover,
                              agglomeration=agglomeration, rd_subsidy=rd_subsidy,
                              cooperation=cooperation)
        self.scenario_path = resolve_scenario(scenario_file)
        self.seed_text = "" if seed is None else str(seed)
        # a replicate of `clustersim run` with this seed (its own GDP projection after the data,
        # the calibrated 2020 level), so the page shows that run
        super().__init__(config=config, **replicate_setup(
            config, coerce_seed(seed, config["run.seed"]), max(int(firms), 50)))


__all__ = ["VizModel", "RecordingModel", "coerce_seed", "scenario_files", "check_scenarios", "build_config", "SLIDERS",
           "DEFAULT_FIRMS", "History"]
