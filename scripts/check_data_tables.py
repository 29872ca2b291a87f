import csv, sys
import pathlib
D = str(pathlib.Path(__file__).resolve().parents[1] / "sim" / "data") + "/"
def load(n):
    with open(D + n, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
reg, sec, gdp, ec, nf = (load(x) for x in ["regions.csv", "sectors.csv", "gdp.csv", "export_controls.csv", "named_firms.csv"])
err = []
def chk(c, m):
    if not c: err.append(m)
RCOLS = "region_id,name,macro_region,kind,nmc_2022,lat,lon,province,specialisations,area_km2,core_va_share_2020_pct,firms_share_2020_pct,rd_intensity_pct,attractiveness,infrastructure_index,covers,source,grade".split(",")
chk(list(reg[0].keys()) == RCOLS, "region columns/order")
chk(list(sec[0].keys()) == "subsector_id,sector,sector_name,name,va_share_2020_pct,firms_share_2020_pct,va_to_revenue,va_per_worker_k_yuan,rd_intensity_pct,agglomeration_pull,source,grade".split(","), "sector cols")
chk(list(gdp[0].keys()) == ["year", "gdp_bn_yuan", "kind", "source", "grade"], "gdp cols")
chk(list(ec[0].keys()) == "date,event_id,name,avail_frontier_ai,avail_hbm,avail_advanced_foundry,avail_equipment,entity_list_add,foreign_knowledge,listed_availability,direction,grade,source".split(","), "ec cols")
chk(list(nf[0].keys()) == "firm_id,name,region_id,subsector_id,revenue_2020_bn_yuan,employment_2020,rd_intensity_pct,va_to_revenue,equity_2020_bn_yuan,source,grade".split(","), "nf cols")
# shares
for col in ["core_va_share_2020_pct", "firms_share_2020_pct"]:
    s = sum(float(r[col]) for r in reg); chk(abs(s - 100) < 0.01, f"{col} sums {s}")
s = sum(float(r["va_share_2020_pct"]) for r in sec); chk(abs(s - 100) < 0.01, f"sector share {s}")
s = sum(float(r["firms_share_2020_pct"]) for r in sec); chk(abs(s - 100) < 0.01, f"sector firms share {s}")
# ids unique
for rows, k in [(reg, "region_id"), (sec, "subsector_id"), (ec, "event_id"), (nf, "firm_id")]:
    ids = [r[k] for r in rows]; chk(len(ids) == len(set(ids)), f"dup {k}")
    chk(all(i == i.lower() and " " not in i for i in ids), f"snake {k}")
rids = {r["region_id"] for r in reg}; sids = {r["subsector_id"] for r in sec}; fids = {r["firm_id"] for r in nf}
for r in reg:
    for sp in r["specialisations"].split(";"):
        chk(sp in sids, f"spec {sp} in {r['region_id']}")
    chk(r["macro_region"] in {"JJJ", "YRD", "GBA", "Chengdu-Chongqing", "Central", "West", "Northeast", "East-other"}, "macro")
    chk(r["kind"] in {"city_cluster", "hub", "rest"}, "kind")
    chk(r["nmc_2022"] in {"0", "1"}, "nmc")
    chk(18 <= float(r["lat"]) <= 54 and 73 <= float(r["lon"]) <= 135, "coords")
    chk(0 <= float(r["infrastructure_index"]) <= 1, "infra")
    chk(float(r["attractiveness"]) > 0 and float(r["area_km2"]) > 0, "pos")
    chk(r["grade"] in {"A", "A-local", "B", "C", "D"}, "grade")
chk(len(reg) >= 20, "n regions")
chk(sum(int(r["nmc_2022"]) for r in reg) == 12, "12 nmc")
chk(abs(sum(float(r["attractiveness"]) for r in reg) / len(reg) - 1.0) < 1e-9, "attr mean")
chk({r["region_id"] for r in reg if r["kind"] == "hub"} == {"jjj_hub", "yrd_hub", "gba_hub"}, "hubs")
coords = [(r["lat"], r["lon"]) for r in reg]; chk(len(coords) == len(set(coords)), "dup coords")
for r in sec:
    chk(r["subsector_id"][:2] == r["sector"] and r["sector"] in {"01", "02", "03", "04"}, "sector code")
    for c in ["va_to_revenue"]:
        chk(0 <= float(r[c]) <= 1, f"{c} range")
for r in nf:
    chk(r["region_id"] in rids, f"firm region {r['region_id']}"); chk(r["subsector_id"] in sids, f"firm sub {r['subsector_id']}")
    float(r["revenue_2020_bn_yuan"]); int(r["employment_2020"]); float(r["rd_intensity_pct"])
dates = [r["date"] for r in ec]; chk(dates == sorted(dates), "dates ascending"); chk(len(set(dates)) == len(dates), "dup dates")
import datetime
for r in ec:
    datetime.date.fromisoformat(r["date"])
    for c in ["avail_frontier_ai", "avail_hbm", "avail_advanced_foundry", "avail_equipment", "foreign_knowledge", "listed_availability"]:
        if r[c] != "": chk(0 <= float(r[c]) <= 1, f"{c} {r['date']}")
    if r["entity_list_add"]:
        for fid in r["entity_list_add"].split(";"): chk(fid in fids, f"EL id {fid}")
    chk(r["direction"] in {"tighten", "loosen"}, "direction")
    chk(r["grade"] in {"A", "A-local", "B", "C", "D"}, f"grade {r['date']}")
for d in ["2019-05-16", "2019-10-07", "2020-05-15", "2020-08-17", "2020-12-18", "2022-10-07", "2023-10-17", "2024-12-02", "2026-01-15"]:
    chk(d in dates, f"brief date {d}")
chk(sorted(set(r["year"] for r in gdp)) == [str(y) for y in range(2020, 2026)], "gdp years")
chk(all(r["kind"] in {"actual_final", "actual_preliminary", "census_revised", "projected"} for r in gdp), "gdp kind")
# UTF-8 and no stray CR
for n in ["regions.csv", "sectors.csv", "gdp.csv", "export_controls.csv", "named_firms.csv", "SOURCES.md"]:
    b = open(D + n, "rb").read(); b.decode("utf-8"); chk(b"\r" not in b, f"CR in {n}")
print("rows: regions", len(reg), "sectors", len(sec), "gdp", len(gdp), "export_controls", len(ec), "named_firms", len(nf))
print("ERRORS:" if err else "ALL CHECKS PASSED", *err, sep="\n  ")
sys.exit(1 if err else 0)
