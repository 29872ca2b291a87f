"""One module per mechanism: its equations (plain or compiled functions over arrays, each
testable without a model) and one Mechanism object (sim/mechanisms/base.py) that declares its
parameter section, firm columns and reporters and does its part of the month.

MONTH is the month in order; ClusterModel.step runs it, docs/architecture.md draws it.
"""

from sim.mechanisms.agglomeration import AGGLOMERATION
from sim.mechanisms.census import CENSUS
from sim.mechanisms.demand import DEMAND
from sim.mechanisms.entry_exit import ENTRY_EXIT
from sim.mechanisms.export_controls import EXPORT_CONTROLS
from sim.mechanisms.innovation import INNOVATION, SELECTION
from sim.mechanisms.platform import PLATFORM
from sim.mechanisms.production import PRODUCTION
from sim.mechanisms.spillover import SPILLOVER
from sim.mechanisms.talent_migration import TALENT_MIGRATION

MONTH = (
    CENSUS,           # the firms alive now and what the month's rules need of them
    EXPORT_CONTROLS,  # rules dated this month; stockpiles, domestic substitution, output caps
    AGGLOMERATION,    # each cluster's agglomeration factor from its employment density
    PRODUCTION,       # value added, wages, R&D and profits; the chip learning curve
    INNOVATION,       # innovation and imitation change own technology
    PLATFORM,         # platform links: a distance-free share of the knowledge weights
    SPILLOVER,        # knowledge from the reachable pool, the foreign frontier and own R&D
    DEMAND,           # sector demand growth net of absorbed productivity gains -> labour trend
    SELECTION,        # replicator dynamics, sector trends, size-scaled shocks
    ENTRY_EXIT,       # exit on losses or hazard; entrants choose sub-sector and cluster
    TALENT_MIGRATION,  # workers move towards the sub-sector's more productive clusters (off)
)
