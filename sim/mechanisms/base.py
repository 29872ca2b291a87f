"""The module protocol every mechanism follows (after Starsim's modules, in plain Python).

A mechanism is one object that declares
  name        what the month's step tuple calls it (ClusterModel.STEPS),
  section     its parameter section in the scenario (None: it has none of its own),
  columns     the firm-table columns it owns (name, dtype, trailing shape, value for new rows),
  reporters   the national figures it makes (sim/reporters.py collects them),
and does its part of the month in `step(model, month)`, `month` being the Month record the
parts share (sim/month.py). `setup(model)` runs once, in step order, after the initial
population is in the table.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Column:
    """A firm-table column: numpy dtype, trailing shape, the value a new row starts with."""

    name: str
    dtype: type
    shape: tuple[int, ...] = ()
    initial: float | int | bool = 0
    meaning: str = ""


@dataclass(frozen=True)
class Reporter:
    name: str                        # DataCollector key and national.csv column
    unit: str                        # e.g. "%", "bn yuan/month", "firms"
    label: str                       # short label for panels and figures
    read: Callable                   # read(model) -> float | str, the value after a step
    csv: bool = True                 # written to national.csv
    sweep_metric: str | None = None  # per-run sweep metric built from it
    reduce: str = "last"             # run -> metric: "last" month | "sum" | "last_year"
    meaning: str = ""                # one line for docs and `sweep --check`

    def __post_init__(self):
        if self.reduce not in ("last", "sum", "last_year"):
            raise ValueError(f"reporter {self.name}: reduce must be last, sum or last_year")


class Mechanism:
    name: str = ""
    section: str | None = None
    columns: tuple[Column, ...] = ()
    reporters: tuple[Reporter, ...] = ()

    def setup(self, model) -> None:
        """Once per model, after the initial population is in the firm table."""

    def step(self, model, month) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<mechanism {self.name}>"


_RECORD_TYPES: dict[tuple, type] = {}


def parameter_record(section: str, values: dict):
    """A scenario section as a namedtuple (attribute access, immutable), built once per model;
    the record type is made once per section and key set."""
    key = (section, tuple(values))
    if key not in _RECORD_TYPES:
        _RECORD_TYPES[key] = namedtuple(section.title().replace("_", "") + "Parameters",
                                        list(values))
    return _RECORD_TYPES[key](**values)


def parameter_records(tree: dict):
    """Every section of a scenario's parameter tree as parameter_record, in one record."""
    sections = {name: parameter_record(name, values) for name, values in tree.items()
                if isinstance(values, dict)}
    return parameter_record("scenario", sections)

