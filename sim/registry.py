"""The model's categories, read once from the shipped data tables: import-control tiers,
NBS sectors and sub-sectors. Every module that names a tier or a sector takes it from here,
so a new tier is one row of sim/data/tiers.csv plus its rows in chip_exposure.csv (dependence
of every sub-sector, domestic share) and its `avail_<tier>` column in export_controls.csv
(checked when the tables load).
"""

from __future__ import annotations

import csv
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


_TIER_ROWS = _rows("tiers.csv")
_SECTOR_ROWS = _rows("sectors.csv")

TIERS: tuple[str, ...] = tuple(r["tier"] for r in _TIER_ROWS)
TIER_LABELS: dict[str, str] = {r["tier"]: r["label"] for r in _TIER_ROWS}
# 1: a chip used in current output (a listed firm without it loses output); 0: capital
# (equipment: its shortfall slows capacity growth only)
TIER_CURRENT_INPUT: tuple[bool, ...] = tuple(r["current_input"] == "1" for r in _TIER_ROWS)
# NBS classification of core digital economy industries (2021), in code order
SECTORS: dict[str, str] = dict(sorted({r["sector"]: r["sector_name"] for r in _SECTOR_ROWS}.items()))
SECTOR_CODES: tuple[str, ...] = tuple(SECTORS)
SUBSECTORS: tuple[str, ...] = tuple(r["subsector_id"] for r in _SECTOR_ROWS)

# column names that carry one value per tier
AVAILABILITY_FIELDS = tuple(f"avail_{t}" for t in TIERS)   # events (tables and scenario files)

# indicators a scenario's `targets:` may name (annual.csv columns, measured as published:
# sim/measurement.py) and their units
TARGET_INDICATORS: dict[str, str] = {
    "core_va_share_gdp_official_pct": "% of GDP",
    "software_business_revenue_bn_yuan": "bn yuan",
}
