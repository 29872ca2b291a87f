"""Firm state held in arrays owned by the model, and the thin Mesa agent that reads them.

As in Starsim, every state is a numpy array with spare capacity that grows by half when entry
overflows it; an exited firm keeps its row (alive=False), so entry and exit never reshuffle
memory and every mechanism works on whole arrays. Each `Firm` agent knows only its row.
"""

from __future__ import annotations

import mesa
import numpy as np

N_TIERS = 4

# name -> (dtype, trailing shape); units are per real firm that the agent stands for
FIELDS: dict[str, tuple[type, tuple[int, ...]]] = {
    "alive": (bool, ()),
    "region": (np.int32, ()),
    "subsector": (np.int32, ()),
    "sector": (np.int32, ()),
    "weight": (np.float64, ()),          # real firms this agent stands for
    "employment": (np.float64, ()),      # workers per real firm
    "technology": (np.float64, ()),      # own technology A (what innovation improves)
    "productivity": (np.float64, ()),    # VA per worker after all multipliers, thousand yuan/yr
    "knowledge": (np.float64, ()),       # knowledge stock (foreign frontier in 2020 = 1)
    "rd_intensity": (np.float64, ()),    # R&D / revenue before the policy response
    "net_worth": (np.float64, ()),       # bn yuan per real firm
    "value_added": (np.float64, ()),     # bn yuan per real firm, this month
    "output_cap": (np.float64, ()),      # output share the scarcest chip tier allows (0..1)
    "age_months": (np.int32, ()),
    "listed_month": (np.int32, ()),      # month index of Entity-List addition, -1 if none
    "named": (np.int32, ()),             # row of named_firms table, -1 for generic firms
    "inventory": (np.float64, (N_TIERS,)),  # chip stockpile, months of critical use per tier
}


class FirmTable:
    """Columnar firm state with amortised growth and an alive mask."""

    def __init__(self, capacity: int):
        self.capacity = max(int(capacity), 16)
        self.n = 0  # rows used (alive or not)
        for name, (dtype, shape) in FIELDS.items():
            setattr(self, name, np.zeros((self.capacity, *shape), dtype=dtype))
        self.listed_month[:] = -1
        self.named[:] = -1

    def _grow(self, needed: int) -> None:
        new_cap = max(needed, int(self.capacity * 1.5) + 1)
        for name, (dtype, shape) in FIELDS.items():
            old = getattr(self, name)
            arr = np.zeros((new_cap, *shape), dtype=dtype)
            arr[: self.n] = old[: self.n]
            setattr(self, name, arr)
        self.listed_month[self.n:] = -1
        self.named[self.n:] = -1
        self.capacity = new_cap

    def add(self, count: int, **values) -> np.ndarray:
        """Append `count` firms; returns their row indices. Unset fields keep their defaults."""
        if self.n + count > self.capacity:
            self._grow(self.n + count)
        rows = np.arange(self.n, self.n + count)
        self.n += count
        self.alive[rows] = True
        for name, value in values.items():
            getattr(self, name)[rows] = value
        return rows

    @property
    def rows(self) -> np.ndarray:
        """Row indices of the firms alive now."""
        return np.flatnonzero(self.alive[: self.n])

    def view(self, name: str) -> np.ndarray:
        return getattr(self, name)[: self.n]

    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in FIELDS)


class Firm(mesa.Agent):
    """A firm agent (standing for `weight` real firms). Its state lives in `model.firms`."""

    def __init__(self, model, row: int):
        super().__init__(model)
        self.row = row

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
