"""Firm state held in arrays owned by the model, and the thin Mesa agent that reads them.

As in Starsim, every state is a numpy array with spare capacity that grows by half when entry
overflows it; an exited firm keeps its row (alive=False), so entry and exit never reshuffle
memory and every mechanism works on whole arrays. Each `Firm` agent knows only its row.

The model's month reads and updates these columns in place through the one-pass (numba) forms
of the mechanisms, visiting the live rows in order (see ClusterModel.step).
"""

from __future__ import annotations

import gc
import logging
from collections import namedtuple

import mesa
import numpy as np
from mesa.agentset import _HardKeyAgentSet
from mesa.experimental.mesa_signals import ModelSignals
from mesa.model import _mesa_logger

from sim.mechanisms import MONTH

# Each mechanism declares the columns it owns (sim/mechanisms/base.Column); the table is their
# union: name -> (dtype, trailing shape), units per real firm that the agent stands for.
# Category codes are np.intp because numpy gathers with intp indices several times faster.
_DECLARED = {c.name: c for mechanism in MONTH for c in mechanism.columns}
FIELDS: dict[str, tuple[type, tuple[int, ...]]] = {
    "alive": (bool, ()), **{name: (c.dtype, c.shape) for name, c in _DECLARED.items()}}
# Bookkeeping columns, kept like the state above but not model state (docs/ODD.md lists FIELDS)
BOOKKEEPING: dict[str, tuple[type, tuple[int, ...]]] = {
    "firm_id": (np.int64, ()),           # unique_id of the row's Mesa agent (Recorder's firm_id)
}
COLUMNS = {**FIELDS, **BOOKKEEPING}
INITIAL = {name: c.initial for name, c in _DECLARED.items() if c.initial != 0}
# The table's arrays as one record, the form the compiled kernels take them in (numba types a
# namedtuple of arrays field by field; a module-level class keeps its on-disk cache valid).
FirmColumns = namedtuple("FirmColumns", list(COLUMNS))


def _column(capacity: int, dtype, shape: tuple[int, ...]) -> np.ndarray:
    """Zeros of shape (capacity, *shape). A field with a trailing shape (inventory by tier) is
    stored tier-major and seen through a transpose: FirmTable.inventory[row, tier] as before,
    and FirmTable.inventory.T the contiguous (tiers, capacity) storage the supply kernel reads."""
    return np.zeros((*shape[::-1], capacity), dtype=dtype).T


class FirmTable:
    """Columnar firm state with amortised growth and an alive mask.

    Firms join with `add` and leave with `remove`, which keep the cached `rows` current."""

    def __init__(self, capacity: int):
        self.capacity = max(int(capacity), 16)
        self.n = 0  # rows used (alive or not)
        self._rows: np.ndarray | None = None  # cache of `rows`, reset by add and remove
        for name, (dtype, shape) in COLUMNS.items():
            setattr(self, name, _column(self.capacity, dtype, shape))
        self._fill_initial(0)

    def _grow(self, needed: int) -> None:
        new_cap = max(needed, int(self.capacity * 1.5) + 1)
        for name, (dtype, shape) in COLUMNS.items():
            old = getattr(self, name)
            arr = _column(new_cap, dtype, shape)
            arr[: self.n] = old[: self.n]
            setattr(self, name, arr)
        self.capacity = new_cap
        self._fill_initial(self.n)

    def _fill_initial(self, start: int) -> None:
        """Rows from `start` on get their columns' declared initial values (0 otherwise)."""
        for name, value in INITIAL.items():
            getattr(self, name)[start:] = value
        self.columns = FirmColumns(*(getattr(self, name) for name in COLUMNS))

    def add(self, count: int, **values) -> np.ndarray:
        """Append `count` firms; returns their row indices. Unset fields keep their defaults."""
        if self.n + count > self.capacity:
            self._grow(self.n + count)
        rows = np.arange(self.n, self.n + count)
        self.n += count
        self.alive[rows] = True
        for name, value in values.items():
            getattr(self, name)[rows] = value
        self._rows = None
        return rows

    def remove(self, rows: np.ndarray) -> None:
        """Mark firms as exited; their rows keep their last state."""
        self.alive[rows] = False
        self._rows = None

    @property
    def rows(self) -> np.ndarray:
        """Row indices of the firms alive now (read-only; computed once per change)."""
        if self._rows is None:
            self._rows = np.flatnonzero(self.alive[: self.n])
            self._rows.flags.writeable = False
        return self._rows

    def view(self, name: str) -> np.ndarray:
        return getattr(self, name)[: self.n]

    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in COLUMNS)


class Firm(mesa.Agent):
    """A firm agent (standing for `weight` real firms). Its state lives in `model.firms`."""

    def __init__(self, model, row: int):
        super().__init__(model)
        self.row = row

    @classmethod
    def create_batch(cls, model, rows) -> list["Firm"]:
        """One agent per table row, in row order, registered with the model as Agent.__init__
        and Model.register_agent do it (in model.agents and model.agents_by_type[Firm], with
        the next unique ids), but in one pass: per agent, Mesa's path costs 3-5 us, most of
        it a signal wrapper and a debug-log string that nobody reads, i.e. seconds at 2.9
        million firms. Where anyone could tell the difference (see _batch_safe) the agents
        are created one by one the usual way."""
        rows = np.asarray(rows, np.int64).tolist()  # Python ints, made in one call
        paused = gc.isenabled()
        gc.disable()  # millions of new objects would trigger full collections over all of them
        try:
            if not _batch_safe(model, cls, ModelSignals.AGENT_ADDED):
                return [cls(model, r) for r in rows]
            first, new, agents = model.agent_id_counter, cls.__new__, []
            for i, r in enumerate(rows):
                agent = new(cls)
                agent.model, agent.unique_id, agent.pos, agent.row = model, first + i, None, r
                agents.append(agent)
            model.agent_id_counter = first + len(agents)
            model.agents._agents.update(dict.fromkeys(agents))
            same_type = model.agents_by_type.get(cls)
            if same_type is None:
                model.agents_by_type[cls] = _HardKeyAgentSet(agents, random=model.random)
            else:
                same_type._agents.update(dict.fromkeys(agents))
            return agents
        finally:
            if paused:
                gc.enable()

    @classmethod
    def remove_batch(cls, model, agents) -> None:
        """agent.remove() for each agent, in one pass (see create_batch)."""
        if not _batch_safe(model, cls, ModelSignals.AGENT_REMOVED):
            for agent in agents:
                agent.remove()
            return
        everyone, same_type = model.agents._agents, model.agents_by_type[cls]._agents
        for agent in agents:
            everyone.pop(agent, None)
            same_type.pop(agent, None)

    def _get(self, name):
        return getattr(self.model.firms, name)[self.row]

    # Read-only views so that model.agents.select/agg/groupby and DataCollector agent
    # reporters work on firms as on any Mesa agent.
    region = property(lambda self: self.model.region_ids[self._get("region")])
    subsector = property(lambda self: self.model.subsector_ids[self._get("subsector")])
    sector = property(lambda self: self.model.sector_codes[self._get("sector")])
    weight = property(lambda self: float(self._get("weight")))
    employment = property(lambda self: float(self._get("employment")))
    productivity = property(lambda self: float(self._get("productivity")))
    technology = property(lambda self: float(self._get("technology")))
    knowledge = property(lambda self: float(self._get("knowledge")))
    value_added = property(lambda self: float(self._get("value_added")))
    output_cap = property(lambda self: float(self._get("output_cap")))
    age_months = property(lambda self: int(self._get("age_months")))
    listed = property(lambda self: bool(self._get("listed_month") >= 0))

    @property
    def name(self) -> str | None:
        i = self._get("named")
        return None if i < 0 else str(self.model.inputs.named_firms["name"].iloc[i])

    def __repr__(self) -> str:
        return f"Firm(id={self.unique_id}, {self.region}, {self.subsector}, w={self.weight:.1f})"


def _batch_safe(model, cls, signal) -> bool:
    """Whether registering agents in a batch is indistinguishable from Mesa's own path: no
    subscriber to the model's agent signals, no signal batch open, no Mesa data set tracking
    this agent class, no Mesa debug logging, and the agent-set internals this relies on (Mesa
    3.5) present."""
    return (isinstance(getattr(model.agents, "_agents", None), dict)
            and getattr(model, "_batch_context", True) is None
            and not model._has_subscribers("agents", signal)
            and not cls._datasets
            and not _mesa_logger.isEnabledFor(logging.DEBUG))
