"""Talent migration between clusters, within a sub-sector (off by default).

Workers move towards the clusters where their sub-sector's value added per worker (the wage
proxy, production.py pays a wage in proportion to it) is above the sub-sector's mean, in
proportion to the gap: a cluster's employment in sub-sector s is multiplied by 1 + m * g_rs,
g_rs = y_rs / y_s - 1, then rescaled so that the sub-sector's employment is unchanged (workers
move, none are created). Spatial equilibrium (Roback 1982; Moretti 2011, Handbook of Labor
Economics 4b): migration closes real-wage gaps between places; Blanchard & Katz (1992) find it
absorbs a regional labour shock in about six years, hence m ~ 1/72 per month.

Applied to the firms that produced this month and stay (entrants have not produced yet), after
selection and entry, so the next month's agglomeration and production see it.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import Mechanism, Reporter


def migration_factors(jobs, output, subsector_of_cell, n_subsectors, rate):
    """Employment multiplier of each cell (cluster x sub-sector) given its jobs and output
    (jobs x productivity): 1 + rate * (y_cell / y_sub - 1), rescaled to keep each sub-sector's
    jobs; 1 for an empty cell. Clipped at zero: a cell cannot lose more workers than it has."""
    sub_jobs = np.bincount(subsector_of_cell, jobs, n_subsectors)
    sub_output = np.bincount(subsector_of_cell, output, n_subsectors)
    y_sub = sub_output / np.maximum(sub_jobs, 1e-300)
    y_cell = output / np.maximum(jobs, 1e-300)
    gap = np.where(jobs > 0, y_cell / np.maximum(y_sub[subsector_of_cell], 1e-300) - 1, 0.0)
    factor = np.maximum(1 + rate * gap, 0.0)
    moved_jobs = np.bincount(subsector_of_cell, jobs * factor, n_subsectors)
    return factor * (sub_jobs / np.maximum(moved_jobs, 1e-300))[subsector_of_cell]


class TalentMigration(Mechanism):
    name = "talent_migration"
    section = "talent_migration"
    reporters = (
        Reporter("migrating_workers", "workers/month", "Workers moving between clusters",
                 lambda m: m.migrating_workers, csv=False,
                 meaning="workers who changed cluster this month (talent_migration)"),
    )

    def setup(self, model) -> None:
        model.migrating_workers = 0.0

    def step(self, model, month) -> None:
        p = model.p.talent_migration
        if not p.enabled or p.rate == 0:
            return
        f, S = model.firms, model.n_subsectors
        rows, cell = month.rows[month.stay], month.cell[month.stay]
        jobs = f.weight[rows] * f.employment[rows]
        n_cells = model.n_regions * S
        cell_jobs = np.bincount(cell, jobs, n_cells)
        cell_output = np.bincount(cell, jobs * f.productivity[rows], n_cells)
        factor = migration_factors(cell_jobs, cell_output, np.arange(n_cells) % S, S, p.rate)
        model.migrating_workers = float(np.sum(np.abs(factor - 1) * cell_jobs)) / 2
        f.employment[rows] *= factor[cell]


TALENT_MIGRATION = TalentMigration()
