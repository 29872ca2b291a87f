"""Census: the firms alive as the month starts and the sums the month's rules need of them.

Jobs by region (agglomeration), employment mass and knowledge by cluster x sub-sector
(spillover, entry), the grouping by sub-sector and each sub-sector's median size (shocks, the
exit hazard). The firms' identity columns (where they are, what they make, how many real firms
they stand for) belong here too.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.mechanisms.base import Column, Mechanism, Reporter


class GroupIndex:
    """Positions of a set of firms sorted by a small integer group (sub-sector): one stable
    counting sort, after which each group is a contiguous slice, in increasing position
    order, of `order`."""

    def __init__(self, group: np.ndarray, n_groups: int):
        self.order, self.starts, self.ends = _counting_sort(group, n_groups)

    def members(self, g: int) -> np.ndarray:
        return self.order[self.starts[g]:self.ends[g]]

    def median(self, values: np.ndarray, guess: np.ndarray | None = None) -> np.ndarray:
        """np.median of `values` within each group (0 for an empty group). With a guess (last
        month's medians), each group's middle order statistics are first sought among the
        few values within 2% of the guess, which is exact whenever they lie there (counted
        in one pass); otherwise, and for groups without a guess, np.median does it."""
        out = np.zeros(len(self.ends))
        todo = self.ends > self.starts
        if guess is not None:
            found = _median_near(values, self.order, self.starts, self.ends,
                                 np.asarray(guess, float), 0.02, out)
            todo &= ~found
        if todo.any():
            by_group = values[self.order]
            for g in np.flatnonzero(todo):
                out[g] = np.median(by_group[self.starts[g]:self.ends[g]], overwrite_input=True)
        return out


@njit(cache=True)
def _counting_sort(group, n_groups):
    """The positions of `group` sorted by group, stable (as np.argsort(kind="stable")), and
    where each group's slice starts and ends: a count, then a placement pass."""
    counts = np.zeros(n_groups, np.int64)
    for i in range(len(group)):
        counts[group[i]] += 1
    ends = np.cumsum(counts)
    starts = ends - counts
    order, at = np.empty(len(group), np.intp), starts.copy()
    for i in range(len(group)):
        g = group[i]
        order[at[g]] = i
        at[g] += 1
    return order, starts, ends


@njit(cache=True)
def _median_near(values, order, starts, ends, guess, band, out):
    """For each group, the median as np.median computes it (the middle value, or the mean of
    the two middle values), if the middle order statistics lie within guess x (1 -/+ band)."""
    found = np.zeros(len(starts), np.bool_)
    for g in range(len(starts)):
        n = ends[g] - starts[g]
        if n == 0 or not guess[g] > 0:
            continue
        lo, hi = guess[g] * (1 - band), guess[g] * (1 + band)
        below, inside = 0, np.empty(n)
        m = 0
        for j in range(starts[g], ends[g]):  # without branches: x < lo is a coin toss
            x = values[order[j]]
            below += x < lo
            inside[m] = x  # kept only if counted
            m += (x >= lo) & (x <= hi)
        k_hi = n // 2  # np.median: element n//2, averaged with n//2 - 1 when n is even
        k_lo = k_hi if n % 2 else k_hi - 1
        if below <= k_lo and k_hi < below + m:
            near = np.sort(inside[:m])
            a, b = near[k_lo - below], near[k_hi - below]
            out[g] = a if n % 2 else (a + b) / 2
            found[g] = True
    return found


@njit(cache=True)
def _take_stock(rows, firms, n_subsectors, sub_out, size_out, cell_out, region_jobs, mass,
                k_mass):
    """Per firm at `rows`: its sub-sector, employment and cluster x sub-sector cell; summed in
    row order (as np.bincount): jobs by region, jobs and jobs x knowledge by cell. Returns the
    number of generic (unnamed) firms."""
    generic = 0
    for i in range(len(rows)):
        r = rows[i]
        s, reg = firms.subsector[r], firms.region[r]
        cell = reg * n_subsectors + s
        sub_out[i], size_out[i], cell_out[i] = s, firms.employment[r], cell
        jobs = firms.weight[r] * firms.employment[r]
        region_jobs[reg] += jobs
        mass[cell] += jobs
        k_mass[cell] += jobs * firms.knowledge[r]
        generic += firms.named[r] < 0
    return generic


@njit(cache=True)
def jobs_rows(rows, weight, employment):
    """Workers of the firms at `rows` (weight x employment), gathered and multiplied in one
    pass."""
    out = np.empty(len(rows))
    for i in range(len(rows)):
        out[i] = weight[rows[i]] * employment[rows[i]]
    return out


class Census(Mechanism):
    name = "census"
    columns = (
        Column("region", np.intp, meaning="cluster (row of the regions table)"),
        Column("subsector", np.intp, meaning="sub-sector (row of the sectors table)"),
        Column("sector", np.intp, meaning="NBS sector 01-04 of the sub-sector"),
        Column("weight", np.float64, meaning="real firms this agent stands for"),
        Column("named", np.int32, initial=-1,
               meaning="row of the named_firms table, -1 for generic firms"),
    )
    reporters = (
        Reporter("date", "", "Month", lambda m: m.date, meaning="calendar month, YYYY-MM"),
        Reporter("firms", "firms", "Firms", lambda m: m.real_firms, sweep_metric="firms_end",
                 meaning="real firms the agents stand for in the last month"),
        Reporter("employment", "workers", "Employment", lambda m: m.employment,
                 sweep_metric="employment_end", meaning="employment in the last month"),
    )

    def setup(self, model) -> None:
        model.median_employment = None  # by sub-sector, from the first month

    def step(self, model, month) -> None:
        rows = model.firms.rows
        R, S, n = model.n_regions, model.n_subsectors, len(rows)
        month.rows = rows
        month.subsector, month.size, month.cell = (np.empty(n, np.intp), np.empty(n),
                                                   np.empty(n, np.intp))
        month.region_jobs, month.mass, month.k_mass = np.zeros(R), np.zeros(R * S), np.zeros(R * S)
        month.generic = _take_stock(rows, model.firms.columns, S, month.subsector, month.size,
                                    month.cell, month.region_jobs, month.mass, month.k_mass)
        month.by_subsector = GroupIndex(month.subsector, S)
        model.median_employment = month.by_subsector.median(month.size, model.median_employment)


CENSUS = Census()
