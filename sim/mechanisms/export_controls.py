"""Export controls on chips and chip-making equipment, by tier.

Tiers: frontier AI chips, HBM, advanced-node foundry, chip-making equipment. A rule sets the
availability a_t of imported supply for ordinary firms; an Entity-List firm gets the share of it
that its own listing allows (`listed_share`: the rule's listed_availability in
export_controls.csv, or the parameter export_controls.listed_availability), and a later rule may
lower that share (the 2020 foreign-direct-product rules on Huawei). Listings differ because what
they cover differs: the 2019 listings cover US-origin items, which Huawei, Hikvision and Dahua
replaced or stockpiled (their 2020 revenue rose), while the FDP rules cut Huawei off every chip
made with US tools (its revenue fell 28.6% in 2021), and SMIC's 2020 listing denies only tools
uniquely needed at 10 nm and below (its revenue rose 39% in 2021).
Each sub-sector needs tier t for a share dep_st of its output (partially-Leontief critical
inputs, Pichler et al. 2022): the firm's supply of t is dom + (1 - dom) * a, dom the share
domestic substitutes cover, and `a` already includes what re-routing through third countries
recovers: a + reroute * (1 - a). A shortfall is first met from the firm's stockpile (Inoue &
Todo 2019; Acclimate). What remains, s_i = max_t dep_st * (1 - usable_it), slows the firm's
capacity growth (Selection subtracts growth_penalty = penalty * s_i from its monthly log
growth) rather than cutting current output: chips are inputs to new capacity (servers, fabs,
base stations) more than to this month's output. Current output is cut, c_i = 1 - s_i over the
chip tiers, only for an Entity-List firm whose stockpile of a short chip tier is exhausted (no
substitute at all: Huawei 2021). Equipment is capital (tiers.csv `current_input` 0): its
shortfall slows capacity growth and never cuts current output, since installed tools keep
running. The share of chip needs that imports no longer supply shifts demand to domestic chip
makers: 01_ic grows faster by substitution * gap (a negative penalty).
Domestic substitutes learn with cumulative chip R&D (a learning curve, Wright's law):
the unmet share (1 - dom) falls as (C / C_0)^-elasticity.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from sim.mechanisms.base import Column, Mechanism, Reporter
from sim.registry import TIER_CURRENT_INPUT, TIERS


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


def firm_availability(availability, share):
    """(n, tiers): ordinary availability times each firm's share (1 unless listed)."""
    return np.asarray(share, float)[:, None] * availability[None, :]


@njit(cache=True, inline="always")
def tier_supply(domestic, availability):
    """Share of a tier's needs supplied: domestic substitutes, then imports for the rest."""
    return domestic + (1.0 - domestic) * availability


def domestic_share(dom_2020, learning, n_subsectors):
    """(S, tiers) domestic share of critical needs: each tier's 2020 unmet share
    (chip_exposure.csv) times the learning index, the same in every sub-sector."""
    unmet = (1.0 - np.asarray(dom_2020, float)) * np.asarray(learning, float)
    return np.tile(1.0 - unmet, (n_subsectors, 1))


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


# What _supply_rows needs besides the firm table: domestic share and dependence (S, tiers),
# ordinary availability after re-routing (tiers,), which tiers are current inputs (tiers,)
SupplyTables = namedtuple("SupplyTables", "domestic dependence availability current restock_rate")


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
    """Chip supply, stockpile, output cap and growth penalty for the firms at `rows` of the
    firm table (`firms`: FirmTable.columns), in place.

    dependence, domestic: (S, tiers); availability: (tiers,) for ordinary firms before
    re-routing; terms: the export_controls parameter record (reroute_share, restock_rate,
    growth_penalty); target: the stockpile target, months of critical use; bonus: (S,)
    monthly log growth added by substitution demand (None: none)."""
    bonus = np.zeros(len(dependence)) if bonus is None else np.asarray(bonus, float)
    tables = SupplyTables(np.asarray(domestic, float), np.asarray(dependence, float),
                          rerouted(np.asarray(availability, float), terms.reroute_share),
                          np.asarray(TIER_CURRENT_INPUT, np.bool_), float(terms.restock_rate))
    _supply_rows(rows, firms, month, tables, float(target), float(terms.growth_penalty), bonus)


@njit(cache=True, inline="always")
def tier_terms(dependence, domestic, availability, restock_rate):
    """A tier's supply and shortfall for a firm at `availability`, and the rate at which it
    restocks: only what imports beyond current use allow, nothing while the tier is short."""
    supply = tier_supply(domestic, availability)
    shortfall = 1.0 - supply if dependence > 0 else 0.0
    restock = restock_rate if shortfall <= 1e-12 else 0.0
    return supply, shortfall, restock


@njit(cache=True)
def _supply_rows(rows, firms, month, tables, target, penalty, bonus):
    inventory = firms.inventory  # (capacity, tiers), stored tier-major
    dependence, domestic, availability = tables.dependence, tables.domestic, tables.availability
    n_subsectors, n_tiers = dependence.shape
    # tier_terms of the firms not listed: the same for all of a sub-sector, so once each
    supply_0 = np.empty((n_subsectors, n_tiers))
    shortfall_0, restock_0 = np.empty_like(supply_0), np.empty_like(supply_0)
    for s in range(n_subsectors):
        for t in range(n_tiers):
            supply_0[s, t], shortfall_0[s, t], restock_0[s, t] = tier_terms(
                dependence[s, t], domestic[s, t], availability[t], tables.restock_rate)
    for i in range(len(rows)):
        r = rows[i]
        s = firms.subsector[r]
        listed = 0 <= firms.listed_month[r] <= month
        chip_cap, capital_cap = 1.0, 1.0
        exhausted = False
        for t in range(n_tiers):
            dep = dependence[s, t]
            if listed:
                supply, shortfall, restock = tier_terms(
                    dep, domestic[s, t], availability[t] * firms.listed_share[r],
                    tables.restock_rate)
            else:
                supply, shortfall, restock = supply_0[s, t], shortfall_0[s, t], restock_0[s, t]
            usable, stock = stock_draw(inventory[r, t], shortfall, supply, target, restock)
            inventory[r, t] = stock
            c = tier_cap(dep, usable)
            if tables.current[t]:
                if c < 1.0 and stock <= 0.0:
                    exhausted = True
                chip_cap = min(chip_cap, c)
            else:
                capital_cap = min(capital_cap, c)
        cut = listed and exhausted
        firms.output_cap[r] = chip_cap if cut else 1.0
        # what the cut already takes from output does not also slow growth
        growth_cap = capital_cap if cut else min(chip_cap, capital_cap)
        firms.growth_penalty[r] = penalty * (1.0 - growth_cap) - bonus[s]


@njit(cache=True)
def _output_by_subsector(rows, subsector, firms, out):
    """Weight x value added of the firms at `rows` by sub-sector, added in row order (as
    np.bincount adds Month.w_va)."""
    for i in range(len(rows)):
        r = rows[i]
        out[subsector[i]] += firms.weight[r] * firms.value_added[r]


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
        Column("listed_share", np.float64, initial=1.0,
               meaning="share of the ordinary chip availability an Entity-List firm obtains"),
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
        Reporter("chip_import_index", "first month = 1", "Imported chip use",
                 lambda m: m.chip_import_index,
                 meaning="imported use of the chip tiers (not equipment, which customs counts "
                         "apart from ICs) at last month's sub-sector output, relative to the "
                         "first month; measured as IC imports from the 2020 level "
                         "(sim/measurement.py)"),
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
        model.domestic = domestic_share(model.domestic_2020, np.full(len(TIERS), model.learning),
                                        len(model.dependence))
        terms = model.p.export_controls
        avail = soften(model.controls.availability, model.p.policy.international_cooperation)
        gap = import_gap(model.dependence, model.domestic, rerouted(avail, terms.reroute_share),
                         model.chip_weights)
        bonus = np.zeros(len(model.dependence))
        bonus[model.ic_subsector] = terms.substitution_rate * gap
        supply_by_group(model.dependence, model.domestic, avail, terms, model.target_inventory,
                        month.rows, model.firms.columns, month.index, bonus)
        # last month's value added: this month's is produced after the controls
        output = np.zeros(len(model.dependence))
        _output_by_subsector(month.rows, month.subsector, model.firms.columns, output)
        chips = model.dependence * np.asarray(TIER_CURRENT_INPUT, float)[None, :]
        volume = import_volume(chips, model.domestic, rerouted(avail, terms.reroute_share),
                               output)
        if model._chip_import_base is None:
            model._chip_import_base = volume
        model.chip_import_gap_pct = 100.0 * gap
        model.chip_import_index = volume / max(model._chip_import_base, 1e-300)


def apply_rules_up_to(model, month: int) -> None:
    """Every rule dated up to `month` not applied yet: availability and openness change, and
    named firms added to the Entity List get their listed_month and listed_share; a later rule
    naming a listed firm lowers its share without moving its listing date."""
    severity = model.p.export_controls.severity
    default_share = model.p.export_controls.listed_availability
    while model._next_event < len(model.events) and model.events[model._next_event].month <= month:
        ev = model.events[model._next_event]
        named_ids = list(model.inputs.named_firms["firm_id"])  # read in a month with a rule only
        model.controls = apply_rule(model.controls, ev.avail, ev.foreign_knowledge, severity,
                                    ev.direction)
        for firm_id in ev.entity_list_add:
            if firm_id in named_ids:
                f = model.firms
                rows = np.flatnonzero(f.view("named") == named_ids.index(firm_id))
                f.listed_month[rows] = np.where(f.listed_month[rows] < 0, ev.month,
                                                f.listed_month[rows])
                # a listing is a tightening like any other: severity scales it; a later rule on
                # a listed firm (an FDP rule) can only tighten its share
                level = default_share if ev.listed_availability is None else ev.listed_availability
                share = 1.0 - severity * (1.0 - level)
                f.listed_share[rows] = np.minimum(f.listed_share[rows], share)
        model.event_log.append((ev.date, ev.name))
        model._next_event += 1


EXPORT_CONTROLS = ExportControls()
