"""The chip-exposure table: dependence by sub-sector and tier, domestic shares by tier, each
value inside its stated range; the model reads it instead of sector-table columns."""

import numpy as np
import pytest

from sim.inputs import DATA_DIR, chip_exposure, load_inputs
from sim.mechanisms import export_controls
from sim.registry import SUBSECTORS, TIERS
from sim.scenario import ScenarioError, load_scenario

TEXT = (DATA_DIR / "chip_exposure.csv").read_text(encoding="utf-8")


def test_every_judgement_row_is_marked_and_ranged():
    df = chip_exposure(list(SUBSECTORS))
    assert len(df) == len(SUBSECTORS) * len(TIERS) + len(TIERS)
    assert set(df["grade"]) <= {"judgement", "A", "B", "C"}
    judged = df[df["grade"] == "judgement"]
    assert (judged["low"] <= judged["value"]).all() and (judged["value"] <= judged["high"]).all()
    # a judgement with a positive value is never stated without width
    assert (judged[judged["value"] > 0]["high"] > judged[judged["value"] > 0]["low"]).all()


def test_the_model_reads_dependence_and_domestic_shares_from_it():
    inputs = load_inputs(load_scenario("scenarios/baseline.yaml"))
    dep = inputs.dependence
    ic = list(inputs.sectors["subsector_id"]).index("01_ic")
    assert dep.shape == (len(SUBSECTORS), len(TIERS))
    assert dep[ic, TIERS.index("equipment")] == 0.80
    # 2020 self-sufficiency of IC makers: the dependence-weighted domestic share, 6.24%
    dom = export_controls.domestic_share(inputs.domestic_2020, np.ones(len(TIERS)), len(dep))
    assert (dep[ic] * dom[ic]).sum() / dep[ic].sum() == pytest.approx(0.0811 / 1.3, rel=1e-9)


def _write(tmp_path, text):
    path = tmp_path / "chip_exposure.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_value_outside_its_range_names_file_line_and_column(tmp_path):
    lines = TEXT.splitlines()
    lines[5] = lines[5].replace(",0.10,0.050,0.150,", ",0.30,0.050,0.150,", 1)
    with pytest.raises(ScenarioError, match=r"chip_exposure.csv:6: value: 0.3 outside its range"):
        chip_exposure(list(SUBSECTORS), _write(tmp_path, "\n".join(lines) + "\n"))


def test_a_missing_row_is_named(tmp_path):
    lines = [l for l in TEXT.splitlines() if not l.startswith("dependence,01_ic,hbm,")]
    with pytest.raises(ScenarioError, match="missing rows: dependence 01_ic hbm"):
        chip_exposure(list(SUBSECTORS), _write(tmp_path, "\n".join(lines) + "\n"))
