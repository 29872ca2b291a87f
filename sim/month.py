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
    from sim.mechanisms.census import GroupIndex


@dataclass
class Month:
    index: int                                  # month index (year * 12 + month - 1)
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
    w_va: np.ndarray | None = None              # weight x value added per firm, bn yuan
    jobs_by_sub: np.ndarray | None = None       # jobs by sub-sector
    mean_productivity: np.ndarray | None = None  # job-weighted, by sub-sector
    rd_now: np.ndarray | None = None            # R&D / revenue per firm, after the responses
    rd_share: np.ndarray | None = None          # R&D / value added per firm
    # entry and exit
    stay: np.ndarray | None = None              # per firm: did not exit this month

    @property
    def n(self) -> int:
        return len(self.rows)

    def release_scratch(self) -> None:
        """Drop the per-firm arrays only the month's own mechanisms use, keeping the producers
        (rows, w_va) and the small sums: a kept month would otherwise hold ~65 MB at a million
        firms, and the next month could not reuse that memory (measured: +5% per step)."""
        self.subsector = self.size = self.cell = self.rd_now = self.rd_share = None
        self.stay = self.by_subsector = None
