"""The wiring declared in one place: the step tuple, the firm columns the mechanisms own, the
reporter registry, and the docs that describe them."""

import re
from pathlib import Path

import numpy as np
import pandas as pd

from sim import reporters
from sim.firms import FIELDS, FirmTable
from sim.mechanisms import MONTH
from sim.model import ClusterModel
from sim.outputs import NATIONAL_COLUMNS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_documented_month_is_the_step_tuple():
    names = [m.name for m in ClusterModel.STEPS]
    assert ClusterModel.STEPS is MONTH and len(set(names)) == len(names)
    odd = (DOCS / "ODD.md").read_text().split("## 3.")[1].split("## 4.")[0]
    assert re.findall(r"\(mechanism `(\w+)`", odd) == names
    picture = (DOCS / "architecture.md").read_text().split("```")[1]
    assert [n for n in re.findall(r"^ (\w+)\s+\(", picture, re.M) if n in names] == names


def test_the_firm_table_is_the_union_of_the_declared_columns():
    declared = [c.name for m in MONTH for c in m.columns]
    assert len(set(declared)) == len(declared)  # each column has one owner
    assert set(FIELDS) == {"alive", *declared}
    table = FirmTable(16)
    table.add(20)  # grows: new rows start at the declared initial values
    for c in (c for m in MONTH for c in m.columns):
        column = getattr(table, c.name)
        assert column.dtype == np.dtype(c.dtype) and column.shape[1:] == c.shape
        assert (column[:table.capacity] == c.initial).all(), c.name


def test_every_reporter_is_declared_once_and_national_csv_comes_from_the_registry():
    national = reporters.national()
    names = [r.name for r in national]
    assert names[:len(reporters.CONTRACT_ORDER)] == list(reporters.CONTRACT_ORDER)
    assert len(set(names)) == len(names)
    assert sorted(names) == sorted(r.name for m in MONTH for r in m.reporters)
    assert NATIONAL_COLUMNS == ["replicate", "seed", *(r.name for r in national if r.csv)]
    assert list(reporters.sweep_metrics()) == ["core_va_end_bn_yuan", "firms_end",
                                               "employment_end", "chip_self_sufficiency_end_pct",
                                               "direct_loss_bn_yuan"]
    assert reporters.get("direct_loss_bn_yuan").reduce == "sum"


def test_sweep_values_reduce_a_run_as_each_reporter_declares():
    national = pd.DataFrame({"core_va_bn_yuan": [1.0, 2.0, 3.0], "firms": [5.0, 6.0, 7.0],
                             "direct_loss_bn_yuan": [0.5, 0.25, 0.25]})
    annual = pd.DataFrame({"year": [2020, 2021], "core_va_bn_yuan": [12.0, 30.0]})
    value = lambda name: reporters.sweep_value(reporters.get(name), national, annual)  # noqa: E731
    assert value("firms") == 7.0 and value("direct_loss_bn_yuan") == 1.0
    assert value("core_va_bn_yuan") == 30.0  # the last complete year's sum
