"""The Month record: what the parts of one month share, declared once.

ClusterModel.step creates it and passes it to each mechanism in turn; each block below is filled
by the mechanism named on it and read by the ones after. Per-firm arrays are indexed like
`rows` (position i is the firm at row rows[i] of the firm table); by-cell arrays are flat
region x sub-sector (cell = region * S + sub-sector).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.firms import FirmTable
    from sim.mechanisms.census import GroupIndex


@dataclass
class Month:
    index: int                                  # month index (year * 12 + month - 1)
    table: FirmTable | None = None              # the model's firm table
    # census: the firms alive at the start of the month and sums over them
    rows: np.ndarray | None = None              # their rows in the firm table, in order
    subsector: np.ndarray | None = None         # per firm
    size: np.ndarray | None = None              # employment per firm (selection updates it)
    cell: np.ndarray | None = None              # region x sub-sector cell per firm
    region_jobs: np.ndarray | None = None       # jobs by region
    mass: np.ndarray | None = None              # jobs by cell
    k_mass: np.ndarray | None = None            # jobs x knowledge by cell
    generic: int = 0                            # firms that are not named firms
    by_subsector: GroupIndex | None = None      # the firms grouped by sub-sector
    # production
    jobs_by_sub: np.ndarray | None = None       # jobs by sub-sector
    mean_productivity: np.ndarray | None = None  # job-weighted, by sub-sector
    rd_now: np.ndarray | None = None            # R&D / revenue per firm, after the responses
    rd_share: np.ndarray | None = None          # R&D / value added per firm
    # entry and exit
    stay: np.ndarray | None = None              # per firm: did not exit this month

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def w_va(self) -> np.ndarray:
        """Weight x value added of the month's producers (rows), bn yuan: the values the
        national total sums. Read from the table when asked (value added stays as produced,
        exits keep their rows), so the month holds no copy while the other mechanisms run."""
        return np.take(self.table.weight, self.rows) * np.take(self.table.value_added, self.rows)
