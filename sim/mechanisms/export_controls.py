"""Export controls on chips and chip-making equipment, by tier.

Tiers: frontier AI chips, HBM, advanced-node foundry, chip-making equipment. A rule sets the
availability a_t of imported supply for ordinary firms; Entity-List firms get a fraction of it.
Each sub-sector needs tier t for a share dep_st of its output (partially-Leontief critical
inputs, Pichler et al. 2022): the firm's supply of t is dom + (1 - dom) * a, dom the share
domestic substitutes cover, and `a` already includes what re-routing through third countries
recovers: a + reroute * (1 - a). A shortfall is first met from the firm's stockpile (Inoue &
Todo 2019; Acclimate). What remains, s_i = max_t dep_st * (1 - usable_it), slows the firm's
capacity growth (Selection subtracts growth_penalty = penalty * s_i from its monthly log
growth) rather than cutting current output: chips are inputs to new capacity (servers, fabs,
base stations) more than to this month's output. Current output is cut, c_i = 1 - s_i, only
for an Entity-List firm whose stockpile of a short tier is exhausted (no substitute at all:
Huawei's revenue fell 28.6% in 2021 after the 2020 FDP rules). The share of chip needs that
imports no longer supply shifts demand to domestic chip makers: 01_ic grows faster by
substitution * gap (a negative penalty).
Domestic substitutes learn with cumulative chip R&D (a learning curve, Wright's law):
the unmet share (1 - dom) falls as (C / C_0)^-elasticity.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from sim.mechanisms.base import Column, Mechanism, Reporter
from sim.registry import TIERS


@dataclass
class ControlState:
    """Availability of imported supply for ordinary firms, by tier, and foreign openness."""

    availability: np.ndarray = field(default_factory=lambda: np.ones(len(TIERS)))
    openness: float = 1.0


def apply_rule(state, avail, foreign_knowledge, severity, direction="set"):
    """Apply one rule. A level is scaled by `severity` towards no control: 1 - s*(1 - level).
    direction "tighten" never raises a level (a stricter scenario rule stays in force when a
    milder historical rule follows), "loosen" never lowers one, "set" replaces it."""
    combine = {"tighten": min, "loosen": max, "set": lambda old, new: new}[direction]
    out = ControlState(state.availability.copy(), state.openness)
    for t, name in enumerate(TIERS):
        if name in avail:
            out.availability[t] = combine(out.availability[t], 1.0 - severity * (1.0 - avail[name]))
    if foreign_knowledge is not None:
        out.openness = combine(out.openness, 1.0 - severity * (1.0 - foreign_knowledge))
    return out


def soften(level, cooperation):
    """International cooperation closes part of the gap to no control."""
    return level + cooperation * (1.0 - level)


def firm_availability(availability, listed, listed_share):
    """(n, tiers): ordinary availability, times `listed_share` for Entity-List firms."""
    scale = np.where(listed, listed_share, 1.0)
    return scale[:, None] * availability[None, :]


def domestic_share(dom_2020, learning):
    """(S, tiers) domestic share of critical needs: the 2020 unmet share times the learning index."""
    return 1.0 - (1.0 - np.asarray(dom_2020, float))[:, None] * learning[None, :]


def learning_index(cumulative_rd, cumulative_rd_2020, elasticity):
    return (np.maximum(cumulative_rd, cumulative_rd_2020) / cumulative_rd_2020) ** (-elasticity)


@njit(cache=True, inline="always")
def stock_draw(stock, shortfall, supply, target, restock):
    """One tier's month for one firm: the stockpile (months of critical use) covers what it
    can of the shortfall; then it restocks towards the target at rate `restock`, which is 0
    while the tier is short (imports beyond current use are what restocking needs).
    Returns (usable share of needs, new stock)."""
    draw = min(stock, shortfall)
    usable = supply + draw
    stock = stock - draw
    stock = stock + max(target - stock, 0.0) * restock  # + 0.0 while short
    return min(usable, 1.0), stock


@njit(cache=True, inline="always")
def tier_cap(dependence, usable):
    """Share of output a tier allows: 1 - dep * (1 - usable); the firm's cap is the minimum."""
    return 1.0 - dependence * (1.0 - usable)


# Supply, shortfall, dependence and restock rate by (Entity-List status, sub-sector) x tier
SupplyTables = namedtuple("SupplyTables", "supply shortfall dependence restock")


def rerouted(availability, reroute_share):
    """Availability after re-routing through third countries recovers part of the gap."""
    return availability + reroute_share * (1.0 - availability)


def import_gap(dependence, domestic, availability, weights):
    """Share of critical chip needs (weights: sub-sector VA shares) that imports no longer
    supply: sum_s w_s sum_t dep_st (1 - dom_st)(1 - a_t) / sum_s w_s sum_t dep_st."""
    need = weights[:, None] * dependence
    return float((need * (1.0 - domestic) * (1.0 - availability)[None, :]).sum()
                 / max(need.sum(), 1e-300))


def import_volume(dependence, domestic, availability, output):
    """Imported chip use, output-weighted (an index: divide by its value in a base year)."""
    return float((output[:, None] * dependence * (1.0 - domestic)
                  * availability[None, :]).sum())


def supply_by_group(dependence, domestic, availability, terms, target, rows, firms, month,
                    bonus=None):
    """Chip supply, stockpile and output cap for the firms at `rows` of the firm table
    (`firms`: FirmTable.columns), in place.

    Supply, shortfall and the restock switch depend only on a firm's sub-sector and Entity-List
    status, so they are computed once per (status, sub-sector) as (2S, tiers) tables; only the
    stockpile is the firm's own (stock_draw, tier_cap).

    dependence, domestic: (S, tiers); availability: (tiers,) for ordinary firms; terms: the
    export_controls parameter record (listed_availability, restock_rate); target: the
    stockpile target, months of critical use; bonus: (S,) monthly log growth added by
    substitution demand (None: none)."""
    bonus = np.zeros(len(dependence)) if bonus is None else np.asarray(bonus, float)
    listed_share, restock_rate = terms.listed_availability, terms.restock_rate
    n_sub = len(dependence)
    availability = rerouted(availability, terms.reroute_share)
    avail = firm_availability(availability, np.repeat([False, True], n_sub), listed_share)
    dep = np.vstack([dependence, dependence])
    dom = np.vstack([domestic, domestic])
    supply = dom + (1.0 - dom) * avail
    shortfall = np.where(dep > 0, 1.0 - supply, 0.0)
    # restock only what imports beyond current use allow: nothing while a tier is short
    restock = np.where(shortfall <= 1e-12, restock_rate, 0.0)
    _supply_rows(rows, firms, month, n_sub, SupplyTables(supply, shortfall, dep, restock),
                 float(target), float(terms.growth_penalty), bonus)


@njit(cache=True)
def _supply_rows(rows, firms, month, n_sub, tables, target, penalty, bonus):
    inventory = firms.inventory  # (capacity, tiers), stored tier-major
    for i in range(len(rows)):
        r = rows[i]
        s = firms.subsector[r]
        listed = 0 <= firms.listed_month[r] <= month
        g = s + n_sub if listed else s
        cap = 1.0
        exhausted = False
        for t in range(tables.dependence.shape[1]):
            usable, stock = stock_draw(inventory[r, t], tables.shortfall[g, t],
                                       tables.supply[g, t], target, tables.restock[g, t])
            inventory[r, t] = stock
            c = tier_cap(tables.dependence[g, t], usable)
            if c < 1.0 and stock <= 0.0:
                exhausted = True
            cap = min(cap, c)
        cut = listed and exhausted
        firms.output_cap[r] = cap if cut else 1.0
        firms.growth_penalty[r] = (0.0 if cut else penalty * (1.0 - cap)) - bonus[s]


def self_sufficiency(dependence, domestic, output):
    """Share of critical chip needs met by domestic supply, weighted by output (percent)."""
    need = dependence * output[:, None]
    total = need.sum()
    return 100.0 * float((need * domestic).sum() / total) if total > 0 else 0.0


class ExportControls(Mechanism):
    """Rules dated this month take effect; then each firm's chip supply, stockpile and cap."""

    name = "export_controls"
    section = "export_controls"
    columns = (
        Column("output_cap", np.float64, initial=1.0,
               meaning="output share the scarcest chip tier allows (0..1)"),
        Column("listed_month", np.int32, initial=-1,
               meaning="month index of Entity-List addition, -1 if none"),
        Column("inventory", np.float64, (len(TIERS),),
               meaning="chip stockpile, months of critical use per tier"),
        Column("growth_penalty", np.float64,
               meaning="monthly log growth lost to chip shortfall (negative: substitution gain)"),
    )
    reporters = (
        Reporter("chip_self_sufficiency_pct", "%", "Chip self-sufficiency",
                 lambda m: m.chip_self_sufficiency_pct,
                 sweep_metric="chip_self_sufficiency_end_pct",
                 meaning="domestic share of chip supply in the last month (%)"),
        Reporter("chip_import_gap_pct", "%", "Chip needs imports no longer supply",
                 lambda m: m.chip_import_gap_pct,
                 meaning="share of critical chip needs (2020 VA weights) imports no longer "
                         "supply after re-routing (%)"),
        Reporter("chip_import_index", "2020-01 = 1", "Imported chip use",
                 lambda m: m.chip_import_index,
                 meaning="imported chip use (output-weighted) relative to the first month; "
                         "mapped onto IC import units by its 2021 mean"),
    )

    def setup(self, model) -> None:
        # rules dated before the start are already in force
        model.controls = ControlState()
        model.events = list(model.inputs.events)
        model.event_log = []
        model._next_event = 0
        apply_rules_up_to(model, model.start_month - 1)
        model.learning = 1.0
        w = model.inputs.sectors["va_share_2020_pct"].to_numpy(float)
        model.chip_weights = w / w.sum()
        model.ic_subsector = list(model.subsector_ids).index("01_ic")
        model.chip_import_gap_pct = 0.0
        model.chip_import_index = 1.0
        model._chip_import_base = None

    def step(self, model, month) -> None:
        apply_rules_up_to(model, month.index)
        model.domestic = domestic_share(model.domestic_2020, np.full(len(TIERS), model.learning))
        terms = model.p.export_controls
        avail = soften(model.controls.availability, model.p.policy.international_cooperation)
        gap = import_gap(model.dependence, model.domestic, rerouted(avail, terms.reroute_share),
                         model.chip_weights)
        bonus = np.zeros(len(model.dependence))
        bonus[model.ic_subsector] = terms.substitution_rate * gap
        supply_by_group(model.dependence, model.domestic, avail, terms, model.target_inventory,
                        month.rows, model.firms.columns, month.index, bonus)
        volume = import_volume(model.dependence, model.domestic,
                               rerouted(avail, terms.reroute_share), model.chip_weights)
        if model._chip_import_base is None:
            model._chip_import_base = volume
        model.chip_import_gap_pct = 100.0 * gap
        model.chip_import_index = volume / max(model._chip_import_base, 1e-300)


def apply_rules_up_to(model, month: int) -> None:
    """Every rule dated up to `month` not applied yet: availability and openness change, and
    named firms added to the Entity List get their listed_month."""
    severity = model.p.export_controls.severity
    named_ids = list(model.inputs.named_firms["firm_id"])
    while model._next_event < len(model.events) and model.events[model._next_event].month <= month:
        ev = model.events[model._next_event]
        model.controls = apply_rule(model.controls, ev.avail, ev.foreign_knowledge, severity,
                                    ev.direction)
        for firm_id in ev.entity_list_add:
            if firm_id in named_ids:
                f = model.firms
                rows = np.flatnonzero((f.view("named") == named_ids.index(firm_id))
                                      & (f.view("listed_month") < 0))
                f.listed_month[rows] = ev.month
        model.event_log.append((ev.date, ev.name))
        model._next_event += 1


EXPORT_CONTROLS = ExportControls()
