"""How the 2020 data tables were first derived from the public figures: python
scripts/build_data_tables.py NEW_FOLDER writes regions, sectors, named_firms, gdp and
export_controls CSVs there. Only regions.csv still equals the shipped one: the others have
since been revised by hand, each change with its source in sim/data/SOURCES.md, so the shipped
tables are the truth and this script never writes over them (it refuses sim/data and any
folder that already holds one of its files)."""
import csv, math, os, sys
from pathlib import Path

NAMES = ("regions.csv", "sectors.csv", "named_firms.csv", "gdp.csv", "export_controls.csv")
if len(sys.argv) != 2:
    sys.exit("usage: python scripts/build_data_tables.py NEW_FOLDER")
OUT = sys.argv[1]
if Path(OUT).resolve() == (Path(__file__).resolve().parents[1] / "sim" / "data"):
    sys.exit(f"{OUT}: the shipped tables; name a new folder to compare them with")
if any((Path(OUT) / name).exists() for name in NAMES):
    sys.exit(f"{OUT}: already holds one of {', '.join(NAMES)}; nothing was written")
os.makedirs(OUT, exist_ok=True)
FIG = "/work/shared/data/figures_to_2020.csv"

# ---------------------------------------------------------------- figures CSV
fig = {}
with open(FIG, newline="", encoding="utf-8") as f:
    for r in csv.DictReader(f):
        fig[(r["indicator"], r["region"], r["year"])] = float(r["value"])

def F(ind, reg, yr):
    return fig[(ind, reg, str(yr))]

PROVS = ["Beijing", "Tianjin", "Hebei", "Shanxi", "Inner Mongolia", "Liaoning", "Jilin",
         "Heilongjiang", "Shanghai", "Jiangsu", "Zhejiang", "Anhui", "Fujian", "Jiangxi",
         "Shandong", "Henan", "Hubei", "Hunan", "Guangdong", "Guangxi", "Hainan", "Chongqing",
         "Sichuan", "Guizhou", "Yunnan", "Tibet", "Shaanxi", "Gansu", "Qinghai", "Ningxia",
         "Xinjiang"]
RD = {p: F("RD_expenditure", p, 2020) for p in PROVS}          # 100 million yuan, A
RDI = {p: F("RD_intensity", p, 2020) for p in PROVS}           # % of GDP, A
GDPP = {p: RD[p] / (RDI[p] / 100) for p in PROVS}              # 100 million yuan, C
GDP_SUM = sum(GDPP.values())

# ------------------------------------------------------------- national sizes
CORE_VA = F("core_digital_VA", "China", 2020)                  # 7.91 trn, C
SW = F("software_business_revenue", "China", 2020)             # 8.1616 trn, A
EIM = F("EIM_revenue_above_scale", "China", 2020)              # 12.1 trn, D
IC = F("IC_industry_sales_CSIA", "China", 2020) / 1000         # 0.8848 trn, B
SW_EMP = F("software_employment", "China", 2020)               # 7.047 million, A

# CSIA 2020 segment split (B, memory; sums to the CSV's 884.8 bn)
IC_DESIGN, IC_FAB, IC_PKG = 0.37784, 0.25601, 0.25095
assert abs(IC_DESIGN + IC_FAB + IC_PKG - IC) < 1e-4
# MIIT 2020 software bulletin components (memory; B for the four headline parts, D for sub-items)
SW_EMBEDDED = 0.7492      # embedded system software (B)
SW_CLOUD = 0.4116         # cloud + big-data services (D)
SW_ECOM = 0.9095          # e-commerce platform technical services (D)
TELECOM_REV = 1.36        # MIIT 2020 telecom business revenue (B)

sec = {}
# 01 -------------------------------------------------------------------------
cc_rev = 0.58 * EIM
ic_va = IC_DESIGN * 0.45 + IC_FAB * 0.50 + IC_PKG * 0.30
comp_rev = EIM - cc_rev - (IC_FAB + IC_PKG)
sec["01_computers_comms"] = cc_rev * 0.17
sec["01_components"] = comp_rev * 0.22
sec["01_ic"] = ic_va
# 02 -------------------------------------------------------------------------
sec["02_product_services"] = 0.35
# 03 -------------------------------------------------------------------------
sw_it_rev = SW - IC_DESIGN - SW_EMBEDDED - SW_CLOUD - SW_ECOM
# VA/revenue cross-check for software (C): compensation + profit + taxes&depreciation
comp = SW_EMP * 1e6 * 177544 * 1.25 / 1e12     # trn
profit = 1.0676
other = 0.055 * SW
sw_ratio_calc = (comp + profit + other) / SW
SW_RATIO = 0.38
sec["03_software_it"] = sw_it_rev * SW_RATIO
sec["03_telecom"] = TELECOM_REV * 0.55
residual = CORE_VA - sum(sec.values())
sec["03_internet_cloud_ai"] = residual * 0.35
sec["04_platforms"] = residual * 0.48
sec["04_data_finance"] = residual * 0.17
assert abs(sum(sec.values()) - CORE_VA) < 1e-9

def round_to_total(vals, total, dec):
    """Largest-remainder rounding so the rounded values sum exactly to total."""
    unit = 10 ** (-dec)
    raw = [v / unit for v in vals]
    fl = [math.floor(x) for x in raw]
    need = int(round(total / unit)) - sum(fl)
    order = sorted(range(len(raw)), key=lambda i: raw[i] - fl[i], reverse=True)
    for i in order[:need]:
        fl[i] += 1
    return [round(x * unit, dec) for x in fl]

# ----------------------------------------------------------------- regions
# provincial software revenue 2020, trn yuan. Macro totals = 2019 MIIT shares (A) x 2020 national (A);
# Beijing = 2019 (A) x national growth; top-5 total (A); splits inside a macro-region D.
BJ_SW = F("software_revenue", "Beijing", 2019) * (SW / F("software_business_revenue", "China", 2019))
TOP5 = F("software_revenue_top5_provinces", "BJ+GD+JS+ZJ+SH", 2020)
four = TOP5 - BJ_SW
swp = {"Beijing": BJ_SW, "Guangdong": four * 0.330, "Jiangsu": four * 0.290,
       "Zhejiang": four * 0.195, "Shanghai": four * 0.185}
east_other = F("software_revenue_share", "East", 2019) / 100 * SW - TOP5
swp.update({"Shandong": 0.56, "Fujian": 0.25, "Tianjin": 0.21, "Hebei": 0.04})
swp["Hainan"] = east_other - 0.56 - 0.25 - 0.21 - 0.04
central = F("software_revenue_share", "Central", 2019) / 100 * SW
swp.update({"Hubei": 0.20, "Hunan": 0.09, "Anhui": 0.07, "Henan": 0.05, "Jiangxi": 0.03})
swp["Shanxi"] = central - 0.44
west = F("software_revenue_share", "West", 2019) / 100 * SW
swp.update({"Sichuan": 0.42, "Chongqing": 0.22, "Shaanxi": 0.26, "Guizhou": 0.03,
            "Yunnan": 0.025, "Guangxi": 0.025})
west_small = ["Gansu", "Inner Mongolia", "Xinjiang", "Ningxia", "Qinghai", "Tibet"]
ws_rest = west - (0.42 + 0.22 + 0.26 + 0.03 + 0.025 + 0.025)
ws_gdp = sum(GDPP[p] for p in west_small)
for p in west_small:
    swp[p] = ws_rest * GDPP[p] / ws_gdp
ne = F("software_revenue_share", "Northeast", 2019) / 100 * SW
swp.update({"Liaoning": 0.20, "Jilin": 0.03})
swp["Heilongjiang"] = ne - 0.23
assert abs(sum(swp.values()) - SW) < 1e-9, sum(swp.values())
assert set(swp) == set(PROVS)

# city GDP 2020, 100 million yuan (B: city statistical communiques, from memory)
CITY_GDP = {"Shenzhen": 27670.2, "Guangzhou": 25019.1, "Foshan": 10816.5, "Huizhou": 4221.8,
            "Dongguan": 9650.2, "Nanjing": 14817.9, "Wuxi": 12370.5, "Hangzhou": 16106.0,
            "Hefei": 10045.7, "Wuhan": 15616.1, "Changsha": 12142.5, "Zhengzhou": 12003.0,
            "Chengdu": 17716.7, "Xian": 10020.4, "Guiyang": 4311.7, "Jinan": 10140.9,
            "Fuzhou": 10020.0, "Xiamen": 6384.0}
# land areas, km2 (B: provincial/city yearbooks, from memory)
PROV_AREA = {"Beijing": 16410, "Tianjin": 11966, "Hebei": 188800, "Shanxi": 156700,
             "Inner Mongolia": 1183000, "Liaoning": 148000, "Jilin": 187400,
             "Heilongjiang": 473000, "Shanghai": 6341, "Jiangsu": 107200, "Zhejiang": 105500,
             "Anhui": 140100, "Fujian": 124000, "Jiangxi": 166900, "Shandong": 155800,
             "Henan": 167000, "Hubei": 185900, "Hunan": 211800, "Guangdong": 179800,
             "Guangxi": 237600, "Hainan": 35400, "Chongqing": 82400, "Sichuan": 486000,
             "Guizhou": 176200, "Yunnan": 394100, "Tibet": 1228400, "Shaanxi": 205600,
             "Gansu": 425800, "Qinghai": 722300, "Ningxia": 66400, "Xinjiang": 1664900}
CITY_AREA = {"Shenzhen": 1997, "Guangzhou": 7434, "Foshan": 3798, "Huizhou": 11347,
             "Dongguan": 2460, "Nanjing": 6587, "Wuxi": 4627, "Hangzhou": 16850,
             "Hefei": 11445, "Wuhan": 8569, "Changsha": 11819, "Zhengzhou": 7567,
             "Chengdu": 14335, "Xian": 10752, "Guiyang": 8034, "Jinan": 10244,
             "Fuzhou": 11968, "Xiamen": 1700}

# Region definitions. parts: list of (province, city-or-None, sw_frac_of_province) ; a None city
# with frac means "rest of province" and takes (1 - sum of named city fracs) implicitly via frac.
# eim: share of national EIM revenue, % (D except where noted).
R = []
def reg(**kw):
    R.append(kw)

reg(region_id="shenzhen", name="Shenzhen new-generation information & communication cluster",
    macro="GBA", kind="city_cluster", nmc=1, lat=22.543, lon=114.058, province="Guangdong",
    spec="01_computers_comms;01_ic;03_internet_cloud_ai;03_software_it;01_components;04_platforms",
    parts=[("Guangdong", "Shenzhen", 0.56)], eim=19.0,
    covers="Shenzhen municipality (all districts)",
    eim_note="EIM share 19.0% (A-local anchor: EIM_share_of_national Shenzhen 2021 ~20%; 2020 set a little lower, D)")
reg(region_id="gfh", name="Guangzhou-Foshan-Huizhou ultra-HD video & smart home appliance cluster",
    macro="GBA", kind="city_cluster", nmc=1, lat=23.129, lon=113.264, province="Guangdong",
    spec="01_components;01_computers_comms;04_platforms;03_software_it;03_internet_cloud_ai",
    parts=[("Guangdong", "Guangzhou", 0.34), ("Guangdong", "Foshan", 0.015), ("Guangdong", "Huizhou", 0.005)],
    eim=6.2, covers="Guangzhou, Foshan and Huizhou prefecture-level cities (whole cities)",
    eim_note="EIM share 6.2% = Guangzhou 2.2 + Foshan 1.0 + Huizhou 3.0 (D)")
reg(region_id="dongguan", name="Dongguan smart mobile terminal cluster",
    macro="GBA", kind="city_cluster", nmc=1, lat=23.021, lon=113.752, province="Guangdong",
    spec="01_computers_comms;01_components;02_product_services",
    parts=[("Guangdong", "Dongguan", 0.02)], eim=7.0, covers="Dongguan prefecture-level city",
    eim_note="EIM share 7.0% (D; Huawei terminal base, OPPO, vivo)")
reg(region_id="gba_hub", name="Greater Bay Area hub (rest of Guangdong)",
    macro="GBA", kind="hub", nmc=0, lat=22.271, lon=113.577, province="Guangdong",
    spec="01_components;01_computers_comms;02_product_services;03_telecom",
    parts=[("Guangdong", None, 0.06)], eim=2.8,
    covers=("rest of the GBA not in a named cluster: Zhuhai, Zhongshan, Jiangmen, Zhaoqing; plus the "
            "non-GBA rest of Guangdong (Shantou, Shaoguan, Zhanjiang etc.) so the partition follows "
            "province borders; Hong Kong and Macao are outside NBS coverage and excluded; placed at Zhuhai"),
    eim_note="EIM share 2.8% (D)")
reg(region_id="beijing", name="Beijing (Beijing-Tianjin-Hebei new-generation IT application innovation cluster)",
    macro="JJJ", kind="city_cluster", nmc=1, lat=39.904, lon=116.407, province="Beijing",
    spec="03_software_it;04_platforms;03_internet_cloud_ai;04_data_finance;01_ic;01_computers_comms",
    parts=[("Beijing", "*", 1.0)], eim=2.5,
    covers=("Beijing municipality; core of the JJJ IT application innovation (xinchuang) cluster, whose "
            "Tianjin and Hebei parts sit in jjj_hub"),
    eim_note="EIM share 2.5% (D)")
reg(region_id="jjj_hub", name="Beijing-Tianjin-Hebei hub (Tianjin and Hebei)",
    macro="JJJ", kind="hub", nmc=0, lat=39.084, lon=117.201, province="Tianjin",
    spec="03_software_it;01_computers_comms;01_components;03_internet_cloud_ai;02_product_services",
    parts=[("Tianjin", "*", 1.0), ("Hebei", "*", 1.0)], eim=2.0,
    covers=("rest of the JJJ macro-region: Tianjin municipality (incl. Binhai xinchuang firms such as "
            "Phytium and Kylin) and Hebei province (incl. Zhangjiakou data centres); placed at Tianjin"),
    eim_note="EIM share 2.0% = Tianjin 1.5 + Hebei 0.5 (D)")
reg(region_id="shanghai", name="Shanghai integrated circuit cluster",
    macro="YRD", kind="city_cluster", nmc=1, lat=31.230, lon=121.474, province="Shanghai",
    spec="01_ic;03_software_it;04_platforms;03_internet_cloud_ai;01_computers_comms",
    parts=[("Shanghai", "*", 1.0)], eim=5.3, covers="Shanghai municipality",
    eim_note="EIM share 5.3% (D; incl. IC fabs SMIC/Hua Hong and notebook assembly)")
reg(region_id="nanjing", name="Nanjing software & information services cluster",
    macro="YRD", kind="city_cluster", nmc=1, lat=32.060, lon=118.797, province="Jiangsu",
    spec="03_software_it;03_telecom;01_ic;01_components",
    parts=[("Jiangsu", "Nanjing", 0.50)], eim=1.5, covers="Nanjing prefecture-level city",
    eim_note="EIM share 1.5% (D)")
reg(region_id="wuxi", name="Wuxi Internet of Things cluster",
    macro="YRD", kind="city_cluster", nmc=1, lat=31.491, lon=120.312, province="Jiangsu",
    spec="01_components;01_ic;03_software_it;01_computers_comms",
    parts=[("Jiangsu", "Wuxi", 0.12)], eim=2.5, covers="Wuxi prefecture-level city (incl. Jiangyin, Yixing)",
    eim_note="EIM share 2.5% (D; IoT_revenue Wuxi 2018 263.87 bn A-local is a broader revenue concept, used only as a plausibility bound)")
reg(region_id="hangzhou", name="Hangzhou digital security (surveillance) cluster",
    macro="YRD", kind="city_cluster", nmc=1, lat=30.274, lon=120.155, province="Zhejiang",
    spec="01_computers_comms;04_platforms;03_internet_cloud_ai;03_software_it;04_data_finance",
    parts=[("Zhejiang", "Hangzhou", 0.85)], eim=2.5, covers="Hangzhou prefecture-level city",
    eim_note="EIM share 2.5% (D; Hikvision+Dahua 2020 revenue ~90 bn, CSV D)")
reg(region_id="hefei", name="Hefei smart voice cluster",
    macro="YRD", kind="city_cluster", nmc=1, lat=31.821, lon=117.227, province="Anhui",
    spec="03_internet_cloud_ai;01_components;01_ic;01_computers_comms",
    parts=[("Anhui", "Hefei", 0.70)], eim=2.0, covers="Hefei prefecture-level city",
    eim_note="EIM share 2.0% (D; BOE/Visionox displays, CXMT DRAM, Lenovo Hefei PCs)")
reg(region_id="yrd_hub", name="Yangtze River Delta hub (rest of Jiangsu, Zhejiang, Anhui)",
    macro="YRD", kind="hub", nmc=0, lat=31.299, lon=120.585, province="Jiangsu",
    spec="01_computers_comms;01_components;01_ic;03_software_it;02_product_services",
    parts=[("Jiangsu", None, 0.38), ("Zhejiang", None, 0.15), ("Anhui", None, 0.30)], eim=15.95,
    covers=("rest of the YRD not in a named cluster: Jiangsu except Nanjing and Wuxi (Suzhou, Changzhou, "
            "Nantong ...), Zhejiang except Hangzhou (Ningbo, Jiaxing, Shaoxing ...), Anhui except Hefei "
            "(Wuhu ...); placed at Suzhou"),
    eim_note="EIM share 15.95% = rest Jiangsu 12.45 (Suzhou ~9) + rest Zhejiang 2.5 + rest Anhui 1.0 (D)")
reg(region_id="wuhan", name="Wuhan optoelectronic information cluster",
    macro="Central", kind="city_cluster", nmc=1, lat=30.593, lon=114.305, province="Hubei",
    spec="01_components;01_ic;01_computers_comms;03_software_it;03_telecom",
    parts=[("Hubei", "Wuhan", 0.90)], eim=2.2, covers="Wuhan sub-provincial city (incl. East Lake / Optics Valley)",
    eim_note="EIM share 2.2% (D; optoelectronic_cluster_revenue Wuhan 2019 586 bn A-local is a broad 'light-chip-screen-terminal-network' concept, plausibility bound only)")
reg(region_id="changsha", name="Changsha new-generation secure computing system cluster",
    macro="Central", kind="city_cluster", nmc=1, lat=28.228, lon=112.939, province="Hunan",
    spec="01_computers_comms;03_software_it;01_ic;01_components",
    parts=[("Hunan", "Changsha", 0.85)], eim=0.8, covers="Changsha prefecture-level city",
    eim_note="EIM share 0.8% (D)")
reg(region_id="zhengzhou", name="Zhengzhou electronics & smart terminal base",
    macro="Central", kind="city_cluster", nmc=0, lat=34.747, lon=113.625, province="Henan",
    spec="01_computers_comms;02_product_services;03_software_it",
    parts=[("Henan", "Zhengzhou", 0.70)], eim=4.0, covers="Zhengzhou prefecture-level city (incl. Airport Economy Zone)",
    eim_note="EIM share 4.0% (D; Foxconn smartphone assembly)")
reg(region_id="rest_central", name="Rest of Central",
    macro="Central", kind="rest", nmc=0, lat=28.682, lon=115.858, province="Jiangxi",
    spec="01_components;01_computers_comms;02_product_services;03_telecom;03_software_it",
    parts=[("Hubei", None, 0.10), ("Hunan", None, 0.15), ("Henan", None, 0.30), ("Jiangxi", "*", 1.0), ("Shanxi", "*", 1.0)],
    eim=4.4, covers="Hubei except Wuhan, Hunan except Changsha, Henan except Zhengzhou, all of Jiangxi and Shanxi; placed at Nanchang",
    eim_note="EIM share 4.4% = Hubei rest 0.3 + Hunan rest 0.7 + Henan rest 0.5 + Jiangxi 2.5 + Shanxi 0.4 (D)")
reg(region_id="chengdu_chongqing", name="Chengdu-Chongqing electronic information cluster (incl. Chengdu software & information services cluster)",
    macro="Chengdu-Chongqing", kind="city_cluster", nmc=1, lat=30.573, lon=104.066, province="Sichuan",
    spec="01_computers_comms;03_software_it;01_ic;01_components;03_internet_cloud_ai",
    parts=[("Sichuan", "Chengdu", 0.95), ("Chongqing", "*", 1.0)], eim=9.0,
    covers="Chengdu sub-provincial city and Chongqing municipality; rest of Sichuan is in rest_west; placed at Chengdu",
    eim_note="EIM share 9.0% (A-local anchor: cluster_size Chengdu-Chongqing electronic info 2021 >1.5 trn ~10% of national, which also counts the rest of Sichuan and some software; D)")
reg(region_id="xian", name="Xi'an semiconductors & software",
    macro="West", kind="city_cluster", nmc=0, lat=34.341, lon=108.940, province="Shaanxi",
    spec="01_ic;03_software_it;01_computers_comms",
    parts=[("Shaanxi", "Xian", 0.95)], eim=1.4, covers="Xi'an sub-provincial city (incl. Xixian New Area)",
    eim_note="EIM share 1.4% (D; Samsung NAND fab)")
reg(region_id="guiyang", name="Guiyang big data",
    macro="West", kind="city_cluster", nmc=0, lat=26.647, lon=106.630, province="Guizhou",
    spec="03_internet_cloud_ai;04_data_finance;03_telecom",
    parts=[("Guizhou", "Guiyang", 0.75)], eim=0.2, covers="Guiyang prefecture-level city (incl. Gui'an New Area data centres)",
    eim_note="EIM share 0.2% (D)")
reg(region_id="rest_west", name="Rest of West",
    macro="West", kind="rest", nmc=0, lat=24.880, lon=102.833, province="Yunnan",
    spec="03_telecom;02_product_services;01_components;03_internet_cloud_ai;03_software_it",
    parts=[("Sichuan", None, 0.05), ("Shaanxi", None, 0.05), ("Guizhou", None, 0.25), ("Yunnan", "*", 1.0),
           ("Guangxi", "*", 1.0)] + [(p, "*", 1.0) for p in west_small],
    eim=2.6, covers=("Sichuan except Chengdu, Shaanxi except Xi'an, Guizhou except Guiyang, and all of Yunnan, "
                     "Guangxi, Inner Mongolia, Gansu, Qinghai, Ningxia, Xinjiang, Tibet; placed at Kunming"),
    eim_note="EIM share 2.6% = Sichuan rest 1.0 + Shaanxi rest 0.1 + Guizhou rest 0.1 + Guangxi 0.8 + Yunnan 0.2 + others 0.4 (D)")
reg(region_id="rest_northeast", name="Rest of Northeast",
    macro="Northeast", kind="rest", nmc=0, lat=41.806, lon=123.432, province="Liaoning",
    spec="03_software_it;01_components;03_telecom;02_product_services",
    parts=[("Liaoning", "*", 1.0), ("Jilin", "*", 1.0), ("Heilongjiang", "*", 1.0)], eim=0.6,
    covers="Liaoning (incl. Dalian and Shenyang software), Jilin, Heilongjiang; placed at Shenyang",
    eim_note="EIM share 0.6% (D)")
reg(region_id="jinan", name="Jinan software & servers",
    macro="East-other", kind="city_cluster", nmc=0, lat=36.651, lon=117.120, province="Shandong",
    spec="01_computers_comms;03_software_it;03_internet_cloud_ai",
    parts=[("Shandong", "Jinan", 0.50)], eim=0.8, covers="Jinan sub-provincial city (incl. former Laiwu)",
    eim_note="EIM share 0.8% (D; Inspur servers)")
reg(region_id="fuzhou_xiamen", name="Fuzhou-Xiamen digital economy",
    macro="East-other", kind="city_cluster", nmc=0, lat=26.074, lon=119.296, province="Fujian",
    spec="01_components;01_computers_comms;03_software_it;04_platforms",
    parts=[("Fujian", "Fuzhou", 0.45), ("Fujian", "Xiamen", 0.40)], eim=2.0,
    covers="Fuzhou and Xiamen prefecture-level cities; placed at Fuzhou",
    eim_note="EIM share 2.0% (D; Tianma, TPK, Dell Xiamen, BOE Fuzhou)")
reg(region_id="rest_east", name="Rest of East",
    macro="East-other", kind="rest", nmc=0, lat=36.067, lon=120.383, province="Shandong",
    spec="01_computers_comms;01_components;02_product_services;03_software_it;03_telecom",
    parts=[("Shandong", None, 0.50), ("Fujian", None, 0.15), ("Hainan", "*", 1.0)], eim=2.75,
    covers="Shandong except Jinan (Qingdao, Yantai ...), Fujian except Fuzhou and Xiamen, Hainan; placed at Qingdao",
    eim_note="EIM share 2.75% = Shandong rest 2.2 + Fujian rest 0.5 + Hainan 0.05 (D)")

assert abs(sum(r["eim"] for r in R) - 100.0) < 1e-9, sum(r["eim"] for r in R)

# GDP, software revenue and area per region
city_of_prov = {}
for r in R:
    for p, c, _ in r["parts"]:
        if c not in (None, "*"):
            city_of_prov.setdefault(p, []).append(c)
for r in R:
    g = s = a = 0.0
    for p, c, frac in r["parts"]:
        if c == "*":
            g += GDPP[p]; s += swp[p]; a += PROV_AREA[p]
        elif c is None:
            named = city_of_prov.get(p, [])
            g += GDPP[p] - sum(CITY_GDP[x] for x in named)
            s += swp[p] * frac
            a += PROV_AREA[p] - sum(CITY_AREA[x] for x in named)
        else:
            g += CITY_GDP[c]; s += swp[p] * frac; a += CITY_AREA[c]
    r["gdp"], r["sw"], r["area"] = g, s, a
    r["rd_exp"] = None
# software fractions per province must sum to 1
for p in PROVS:
    tot = 0
    for r in R:
        for pp, c, frac in r["parts"]:
            if pp == p:
                tot += frac
    assert abs(tot - 1) < 1e-9, (p, tot)
assert abs(sum(r["gdp"] for r in R) - GDP_SUM) < 1e-6
assert abs(sum(r["sw"] for r in R) - SW) < 1e-9
TOTAL_AREA = sum(PROV_AREA.values())
assert abs(sum(r["area"] for r in R) - TOTAL_AREA) < 1e-6

VA01 = sec["01_computers_comms"] + sec["01_components"] + sec["01_ic"]
VASVC = sec["03_software_it"] + sec["03_internet_cloud_ai"] + sec["04_platforms"] + sec["04_data_finance"]
VALOC = sec["02_product_services"] + sec["03_telecom"]
for r in R:
    r["e"] = r["eim"] / 100
    r["w"] = r["sw"] / SW
    r["g"] = r["gdp"] / GDP_SUM
    r["va"] = VA01 * r["e"] + VASVC * r["w"] + VALOC * r["g"]
    r["va_svc"] = VASVC * r["w"] + VALOC * r["g"]
    r["va_01"] = VA01 * r["e"]
assert abs(sum(r["va"] for r in R) - CORE_VA) < 1e-9
va_sh = round_to_total([100 * r["va"] / CORE_VA for r in R], 100.0, 2)
# firms: service firms are many and small, manufacturing few and large; retail follows GDP
for r in R:
    r["fraw"] = 0.50 * r["va_svc"] / (VASVC + VALOC) + 0.15 * r["va_01"] / VA01 + 0.35 * r["g"]
fsum = sum(r["fraw"] for r in R)
f_sh = round_to_total([100 * r["fraw"] / fsum for r in R], 100.0, 2)

# R&D intensity: single province -> CSV value (A); several provinces -> sum R&D / sum GDP (C)
for r in R:
    provs = sorted({p for p, _, _ in r["parts"]})
    if len(provs) == 1:
        r["rdi"] = RDI[provs[0]]
        r["rdi_note"] = f"rd_intensity = RD_intensity {provs[0]} 2020 (A)"
        r["rdi_grade"] = "A"
    else:
        num = sum(RD[p] for p in provs); den = sum(GDPP[p] for p in provs)
        r["rdi"] = round(100 * num / den, 2)
        r["rdi_note"] = (f"rd_intensity = sum RD_expenditure / sum (RD_expenditure/RD_intensity) over "
                         f"{'+'.join(provs)} 2020 = {num:.1f}/{den:.0f} (C from A)")
        r["rdi_grade"] = "C"

# attractiveness
for r in R:
    r["aw"] = r["g"] ** 0.7 * (r["rdi"] / F("RD_intensity", "China", 2020)) ** 0.5 * (1 + 0.2 * r["nmc"])
aws = sum(r["aw"] for r in R)
a_vals = round_to_total([len(R) * r["aw"] / aws for r in R], float(len(R)), 3)

# infrastructure index = 0.6 connectivity + 0.4 compute (judgement, D)
CONN = {"beijing": 1.0, "shanghai": 1.0, "shenzhen": 1.0, "gfh": 0.95, "hangzhou": 0.9,
        "nanjing": 0.85, "wuxi": 0.85, "dongguan": 0.85, "chengdu_chongqing": 0.85, "wuhan": 0.85,
        "hefei": 0.8, "changsha": 0.8, "xian": 0.8, "zhengzhou": 0.8, "jinan": 0.8,
        "fuzhou_xiamen": 0.8, "guiyang": 0.75, "yrd_hub": 0.75, "gba_hub": 0.65, "jjj_hub": 0.65,
        "rest_east": 0.6, "rest_central": 0.5, "rest_northeast": 0.5, "rest_west": 0.4}
COMP = {"beijing": 0.9, "shanghai": 0.9, "shenzhen": 0.9, "gfh": 0.8, "hangzhou": 0.8,
        "nanjing": 0.7, "wuxi": 0.7, "dongguan": 0.6, "chengdu_chongqing": 1.0, "wuhan": 0.7,
        "hefei": 0.7, "changsha": 0.6, "xian": 0.6, "zhengzhou": 0.6, "jinan": 0.7,
        "fuzhou_xiamen": 0.6, "guiyang": 1.0, "yrd_hub": 1.0, "gba_hub": 1.0, "jjj_hub": 1.0,
        "rest_east": 0.5, "rest_central": 0.4, "rest_northeast": 0.4, "rest_west": 0.8}
HUBNODE = {"chengdu_chongqing", "guiyang", "yrd_hub", "gba_hub", "jjj_hub", "rest_west"}

def fmt(x, d=3):
    return f"{x:.{d}f}"

rows = []
for r, vs, fs, av in zip(R, va_sh, f_sh, a_vals):
    infra = round(0.6 * CONN[r["region_id"]] + 0.4 * COMP[r["region_id"]], 2)
    grades = ["D"]  # EIM geography and within-province splits are D in every row
    src = (f"VA {r['va']:.3f} trn = 01 VA {VA01:.3f} x EIM share {r['e']*100:.2f}% [{r['eim_note']}] + "
           f"03/04 VA {VASVC:.3f} x software-revenue share {r['w']*100:.2f}% [software revenue {r['sw']:.3f} trn "
           f"from software_revenue_share East/Central/West/Northeast 2019 (A) x software_business_revenue 2020 (A), "
           f"software_revenue Beijing 2019 (A) x 2020/2019 national growth, software_revenue_top5_provinces 2020 (A); "
           f"province and city splits D] + 02/telecom VA {VALOC:.3f} x GDP share {r['g']*100:.2f}% [GDP {r['gdp']:.0f} "
           f"(100 m yuan) from RD_expenditure/RD_intensity 2020 by province (C from A) and city GDP 2020 (B)]; "
           f"share = VA / core_digital_VA 2020 7.91 trn (C). firms share = 0.50 x services-VA share + 0.15 x 01-VA "
           f"share + 0.35 x GDP share (D). {r['rdi_note']}. area: provincial/city land areas (B). "
           f"attractiveness = 24 x w/sum(w), w = GDPshare^0.7 x (rd/2.40)^0.5 x (1+0.2 nmc) (D). "
           f"infrastructure = 0.6 x connectivity {CONN[r['region_id']]} + 0.4 x compute {COMP[r['region_id']]}"
           f"{' (national computing hub node, East Data West Computing 2022)' if r['region_id'] in HUBNODE else ''} (D)."
           + (" nmc_2022: MIIT 2022 list of 45 national advanced manufacturing clusters (B, list recalled from memory)." if r["nmc"] else ""))
    rows.append({
        "region_id": r["region_id"], "name": r["name"], "macro_region": r["macro"], "kind": r["kind"],
        "nmc_2022": r["nmc"], "lat": fmt(r["lat"]), "lon": fmt(r["lon"]), "province": r["province"],
        "specialisations": r["spec"], "area_km2": int(round(r["area"])),
        "core_va_share_2020_pct": f"{vs:.2f}", "firms_share_2020_pct": f"{fs:.2f}",
        "rd_intensity_pct": f"{r['rdi']:.2f}", "attractiveness": f"{av:.3f}",
        "infrastructure_index": f"{infra:.2f}", "covers": r["covers"], "source": src, "grade": "D",
    })

RCOLS = ["region_id", "name", "macro_region", "kind", "nmc_2022", "lat", "lon", "province",
         "specialisations", "area_km2", "core_va_share_2020_pct", "firms_share_2020_pct",
         "rd_intensity_pct", "attractiveness", "infrastructure_index", "covers", "source", "grade"]
with open(os.path.join(OUT, "regions.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, fieldnames=RCOLS, lineterminator="\n")
    w.writeheader(); w.writerows(rows)

# ------------------------------------------------------------------- sectors
S_NAME = {"01": "digital product manufacturing", "02": "digital product services",
          "03": "digital technology application", "04": "digital factor-driven industries"}
# tier substitutability 2020 (share of the tier's need domestic suppliers could meet)
SUB_T = {"fa": 0.03, "hbm": 0.0, "af": F("IC_self_sufficiency_China_HQ", "China", 2020) / 100, "eq": 0.07}
sectors = [
    dict(id="01_computers_comms", name="Computers, communication & broadcast equipment, smart consumer devices (incl. servers, phones, surveillance cameras)",
         ratio=0.17, vapw=260, rd=3.0, dep=(0.10, 0.05, 0.45, 0.05), b=0.85,
         src=(f"VA = 58% of EIM_revenue_above_scale 2020 12.1 trn (D; 58% split judgement D) = {cc_rev:.3f} trn x 0.17 = "
              f"{sec['01_computers_comms']:.3f} trn. VA/revenue 0.17: assembly-heavy (D). VA/worker 260k: implies ~4.6 m workers (D). "
              "R&D 3.0% of revenue: above-scale electronics ~2.4%, Huawei/ZTE raise it (D). "
              "Dependence: phone SoCs, base-station and server chips fabricated at <=16nm abroad (advanced_foundry 0.45); AI servers need GPUs (frontier_ai 0.10)."),
         grade="D"),
    dict(id="01_ic", name="Integrated circuits: design, fabrication, packaging & test",
         ratio=round(ic_va / IC, 3), vapw=690, rd=12.0, dep=(0.05, 0.05, 0.40, 0.80), b=0.95,
         src=(f"VA = IC_industry_sales_CSIA 2020 884.8 bn (B) split design 377.84 / fabrication 256.01 / packaging-test 250.95 bn (CSIA 2020, B, memory; sums to the CSV total) "
              f"x VA ratios 0.45 / 0.50 / 0.30 (D) = {ic_va*1000:.1f} bn; ratio {ic_va/IC:.3f} (C). "
              f"VA/worker = {ic_va*1000:.1f} bn / ~541k direct IC employees end-2020 (China IC Industry Talent White Paper 2020-21, B memory) = {ic_va*1e6/541:.0f}k (C). "
              "R&D 12%: design houses 15-20%, SMIC ~17%, packaging ~4% (D). IC design is formally NBS 03 (IT services); kept here because the shock hits it with fabrication. "
              "Dependence: fabs cannot run without imported lithography/etch/deposition tools and spares (equipment 0.80); designers need TSMC-class nodes (advanced_foundry 0.40)."),
         grade="D"),
    dict(id="01_components", name="Electronic components, displays, optoelectronics & electronic materials (excl. ICs)",
         ratio=0.22, vapw=280, rd=3.0, dep=(0.0, 0.0, 0.10, 0.25), b=0.85,
         src=(f"VA = (EIM 12.1 trn (D) - computers/comms {cc_rev:.3f} - IC fabrication+packaging 0.507) = {comp_rev:.3f} trn x 0.22 (D) = {sec['01_components']:.3f} trn. "
              "VA/worker 280k (D). Dependence mostly mature-node; display/optical fabs need some foreign tools (equipment 0.25)."),
         grade="D"),
    dict(id="02_product_services", name="Wholesale, retail, rental and repair of digital products",
         ratio=0.08, vapw=150, rd=0.5, dep=(0.02, 0.0, 0.10, 0.0), b=0.40,
         src=("VA 0.35 trn = ~4.4 trn of digital goods through domestic distribution x trade margin 0.08 (D; no figure in the CSV). "
              "VA/worker 150k, R&D 0.5% (D). Dependence only via devices sold (advanced_foundry 0.10)."),
         grade="D"),
    dict(id="03_software_it", name="Software development & IT services (excl. IC design, embedded software, cloud, e-commerce platform tech services)",
         ratio=SW_RATIO, vapw=round(SW * SW_RATIO / SW_EMP * 1000 / 10) * 10, rd=8.0, dep=(0.05, 0.02, 0.05, 0.0), b=0.70,
         src=(f"revenue = software_business_revenue 2020 8.1616 trn (A) - IC design 0.3778 (B) - embedded software 0.7492 (B, MIIT 2020 bulletin, memory; double-counted with EIM) "
              f"- cloud & big-data services 0.4116 (D) - e-commerce platform tech services 0.9095 (D) = {sw_it_rev:.4f} trn x 0.38 = {sec['03_software_it']:.3f} trn. "
              f"VA/revenue 0.38 cross-check (C): [software_employment 7.047 m (A) x avg wage 177,544 yuan (NBS 2020 ICT sector, B) x 1.25 social charges (D) = {comp:.3f} "
              f"+ total profit 1.0676 trn (MIIT 2020, B) + taxes & depreciation 5.5% of revenue (D) = {other:.3f}] / 8.1616 = {sw_ratio_calc:.3f}. "
              f"VA/worker = 8.1616 x 0.38 / 7.047 m = {SW*SW_RATIO/SW_EMP*1000:.0f}k (C). R&D 8% (D). Dependence low: runs on commodity CPUs. Grade D because cloud and e-commerce deductions are D; the A/B core is C."),
         grade="D"),
    dict(id="03_telecom", name="Telecommunications, broadcast & satellite transmission",
         ratio=0.55, vapw=750, rd=1.5, dep=(0.0, 0.0, 0.20, 0.0), b=0.25,
         src=(f"VA = telecom business revenue 2020 1.36 trn (MIIT 2020 communications bulletin, B memory) x 0.55 (D: EBITDA ~30-35% + labour) = {sec['03_telecom']:.3f} trn. "
              "VA/worker = VA / ~1.0 m operator staff (B/D) = 750k. Dependence: 5G base stations, routers and servers bought from vendors (advanced_foundry 0.20); "
              "telecom follows population, so low agglomeration pull."),
         grade="D"),
    dict(id="03_internet_cloud_ai", name="Internet services, cloud computing, data centres and AI",
         ratio=0.45, vapw=700, rd=10.0, dep=(0.45, 0.35, 0.30, 0.0), b=0.75,
         src=(f"VA = 35% (D) of the residual {residual:.3f} trn = core_digital_VA 7.91 trn (C) - all other sub-sectors; the residual covers 03 internet/cloud/AI and 04, which "
              f"the CSV's MIIT series do not measure; = {sec['03_internet_cloud_ai']:.3f} trn. Reference revenues: cloud & big data 0.41 trn (D), online games 0.28 trn (B). "
              "VA/revenue 0.45, VA/worker 700k, R&D 10% (D; Baidu ~19%, Tencent ~8%). Dependence: AI training/inference needs Nvidia-class GPUs (frontier_ai 0.45) with HBM (0.35); "
              "server CPUs/accelerators fabricated at TSMC (advanced_foundry 0.30)."),
         grade="D"),
    dict(id="04_platforms", name="Internet platforms, internet retail, digital content & media",
         ratio=0.30, vapw=450, rd=5.0, dep=(0.15, 0.10, 0.10, 0.0), b=0.50,
         src=(f"VA = 48% (D) of the residual {residual:.3f} trn = {sec['04_platforms']:.3f} trn; plausibility: Alibaba, Tencent, JD, Meituan, PDD, ByteDance, Baidu, NetEase, Kuaishou "
              "revenues ~3 trn in 2020 (B) at VA ratios 0.2-0.6. VA/worker 450k, R&D 5% (Alibaba ~8%, JD ~2%; D). Dependence: recommendation/ads engines on GPUs (frontier_ai 0.15). "
              "Agglomeration pull lower than manufacturing (brief)."),
         grade="D"),
    dict(id="04_data_finance", name="Internet finance, data resources & trading, information infrastructure construction",
         ratio=0.50, vapw=600, rd=4.0, dep=(0.10, 0.05, 0.10, 0.0), b=0.55,
         src=(f"VA = 17% (D) of the residual {residual:.3f} trn = {sec['04_data_finance']:.3f} trn (Ant Group 2020 revenue ~0.2 trn, B). VA/worker 600k, R&D 4% (D). "
              "Dependence: risk models and data centres (frontier_ai 0.10)."),
         grade="D"),
]
s_sh = round_to_total([100 * sec[s["id"]] / CORE_VA for s in sectors], 100.0, 2)
srows = []
for s, sh in zip(sectors, s_sh):
    fa, hbm, af, eq = s["dep"]
    dsum = fa + hbm + af + eq
    ds = (fa * SUB_T["fa"] + hbm * SUB_T["hbm"] + af * SUB_T["af"] + eq * SUB_T["eq"]) / dsum
    src = (s["src"] + f" VA share = {sec[s['id']]:.3f} / 7.91 trn (C). domestic_substitute = dependence-weighted mean of tier "
           f"substitutability (frontier_ai 0.03 Ascend/Cambricon volumes D; hbm 0 no domestic HBM in 2020 D; advanced_foundry 0.059 = "
           f"IC_self_sufficiency_China_HQ 2020 5.9% (B); equipment 0.07 domestic tool share D) = {ds:.3f}; the 15.9% China-located figure (B) "
           f"includes foreign-owned fabs and mature nodes and is the ceiling. agglomeration_pull is a modelling judgement (D); the dependence (dep_*) and domestic-substitute figures of this text are now rows of chip_exposure.csv.")
    srows.append({
        "subsector_id": s["id"], "sector": s["id"][:2], "sector_name": S_NAME[s["id"][:2]], "name": s["name"],
        "va_share_2020_pct": f"{sh:.2f}", "va_to_revenue": f"{s['ratio']:.3f}",
        "va_per_worker_k_yuan": str(int(s["vapw"])), "rd_intensity_pct": f"{s['rd']:.1f}",
        "agglomeration_pull": f"{s['b']:.2f}", "source": src, "grade": s["grade"],
    })
SCOLS = ["subsector_id", "sector", "sector_name", "name", "va_share_2020_pct", "va_to_revenue",
         "va_per_worker_k_yuan", "rd_intensity_pct", "agglomeration_pull", "source", "grade"]
# dependence and domestic substitutes are in chip_exposure.csv (one row per sub-sector x tier)
with open(os.path.join(OUT, "sectors.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, fieldnames=SCOLS, lineterminator="\n")
    w.writeheader(); w.writerows(srows)

# ------------------------------------------------------------------- summary
print(f"residual for 03_internet/04 = {residual:.4f} trn; sw ratio check {sw_ratio_calc:.4f}; GDP provincial sum {GDP_SUM:.0f}")
for s, sh in zip(sectors, s_sh):
    print(f"  {s['id']:22s} {sec[s['id']]:.3f} trn {sh:6.2f}%")
print(f"{'region':18s} {'VA trn':>7s} {'VA%':>6s} {'firm%':>6s} {'GDP%':>6s} {'SW%':>6s} {'a':>6s} {'area':>9s}")
for r, row in zip(R, rows):
    print(f"{r['region_id']:18s} {r['va']:7.3f} {row['core_va_share_2020_pct']:>6s} {row['firms_share_2020_pct']:>6s} "
          f"{100*r['g']:6.2f} {100*r['w']:6.2f} {row['attractiveness']:>6s} {row['area_km2']:>9d} rd={row['rd_intensity_pct']} inf={row['infrastructure_index']}")
macro = {}
for r in R:
    macro[r["macro"]] = macro.get(r["macro"], 0) + r["va"] / CORE_VA * 100
print({k: round(v, 2) for k, v in macro.items()}, "total area", TOTAL_AREA)

# --------------------------------------------------------------- named firms
USDCNY = 6.8976  # 2020 average (B); brief suggests 6.9
smic_cny = F("firm_revenue_SMIC", "Shanghai", 2020) * 6.9
firms = [
    ("huawei", "Huawei Technologies (Huawei Investment & Holding)", "shenzhen", "01_computers_comms",
     F("firm_revenue_Huawei", "Shenzhen", 2020), 197000, 15.9,
     "revenue firm_revenue_Huawei 2020 (A); employees ~197,000 and R&D 141.9 bn = 15.9% of revenue (Huawei 2020 annual report, B memory). HiSilicon (IC design) folded in. Entity List 2019-05-16.", "B"),
    ("zte", "ZTE Corporation", "shenzhen", "01_computers_comms", 101.45, 74000, 14.6,
     "revenue 101.45 bn and R&D 14.80 bn = 14.6% (ZTE 2020 annual report, B memory); employees ~74,000 (D). NOT on the Entity List 2019-2024 (listed 2016-03, removed 2017-03; 2018 denial order lifted 2018-07): control case.", "D"),
    ("hikvision", "Hangzhou Hikvision Digital Technology", "hangzhou", "01_computers_comms",
     F("firm_revenue_Hikvision", "Hangzhou", 2020), 42000, 10.0,
     "revenue firm_revenue_Hikvision 2020 (D in CSV); R&D 6.38 bn = 10.0% (2020 annual report, B memory); employees ~42,000 (D). Entity List 2019-10-07.", "D"),
    ("dahua", "Zhejiang Dahua Technology", "hangzhou", "01_computers_comms",
     F("firm_revenue_Dahua", "Hangzhou", 2020), 17000, 11.3,
     "revenue firm_revenue_Dahua 2020 (D in CSV); R&D ~3.0 bn = 11.3% (D); employees ~17,000 (D). Entity List 2019-10-07.", "D"),
    ("iflytek", "iFlytek", "hefei", "03_internet_cloud_ai",
     F("firm_revenue_iFlytek", "Hefei", 2020), 11000, round(100 * F("firm_RD_iFlytek", "Hefei", 2020) / F("firm_revenue_iFlytek", "Hefei", 2020), 1),
     "revenue firm_revenue_iFlytek 2020 13.02 bn (C in CSV; annual report 13.025 D); R&D intensity = firm_RD_iFlytek 2020 2.211 / 13.02 = 17.0% (C from B); employees ~11,000 (D). Entity List 2019-10-07.", "D"),
    ("smic", "Semiconductor Manufacturing International Corp. (SMIC)", "shanghai", "01_ic",
     round(smic_cny, 2), 17000, 17.6,
     f"revenue = firm_revenue_SMIC 2020 3.907 bn USD (A) x 6.9 yuan/USD = {smic_cny:.2f} bn (C; 2020 average rate 6.8976 would give {F('firm_revenue_SMIC','Shanghai',2020)*USDCNY:.2f}); R&D ~0.69 bn USD = 17.6% (D); employees ~17,000 (D). Entity List 2020-12-18.", "D"),
    ("sensetime", "SenseTime", "shanghai", "03_internet_cloud_ai", 3.446, 5000, 71.2,
     "revenue 3.446 bn and R&D 2.453 bn = 71.2% (HKEX prospectus 2021, B memory); employees ~5,000 (D). Placed in Shanghai (main operating base; HQ Hong Kong) although the 2019 Entity List names Beijing SenseTime. Entity List 2019-10-07.", "D"),
    ("megvii", "Megvii (Beijing Kuangshi Technology)", "beijing", "03_internet_cloud_ai", 1.39, 2500, 60.0,
     "revenue ~1.39 bn (STAR Market prospectus 2021, D memory); R&D ~60% of revenue (D); employees ~2,500 (D). Entity List 2019-10-07.", "D"),
    ("sugon", "Dawning Information Industry (Sugon)", "beijing", "01_computers_comms", 10.16, 3000, 8.0,
     "revenue ~10.16 bn (2020 annual report, D memory); R&D ~8% (D); employees ~3,000 (D). Registered in Tianjin, HQ and R&D in Beijing. Entity List 2019-06-21 (not a brief date; added row).", "D"),
    ("ymtc", "Yangtze Memory Technologies (YMTC)", "wuhan", "01_ic", 5.0, 6000, 30.0,
     "unlisted, no published 2020 figures: revenue ~5 bn, employees ~6,000, R&D ~30% are placeholders (D). Unverified List 2022-10-07 (CSV A), Entity List 2022-12-15 (added row).", "D"),
    ("inspur", "Inspur Electronic Information Industry", "jinan", "01_computers_comms", 63.04, 9000, 4.0,
     "revenue 63.04 bn (2020 annual report, B memory); R&D ~4% (D); employees ~9,000 (D). Server maker; Inspur Group units added to the Entity List 2023-03-02 (D: verify whether the listed company itself is covered).", "D"),
]
with open(os.path.join(OUT, "named_firms.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["firm_id", "name", "region_id", "subsector_id", "revenue_2020_bn_yuan", "employment_2020",
                "rd_intensity_pct", "source", "grade"])
    for fid, nm, reg_, sub, rev, emp, rdi, src, gr in firms:
        w.writerow([fid, nm, reg_, sub, f"{rev:.3f}".rstrip("0").rstrip("."), emp, f"{rdi:.1f}", src, gr])

# ---------------------------------------------------------------------- GDP
g20 = F("GDP_nominal", "China", 2020) * 1000
g21 = F("GDP_nominal_final", "China", 2021) * 1000
g22 = F("GDP_nominal_preliminary", "China", 2022) * 1000
g23 = F("GDP_nominal_census_revised", "China", 2023) * 1000
g23_pre = F("GDP_nominal_preliminary", "China", 2023) * 1000
g24 = F("GDP_nominal_preliminary", "China", 2024) * 1000
NOM25 = 0.04
g25 = g24 * (1 + NOM25)
gdp_rows = [
    (2020, g20, "actual_final", "GDP_nominal China 2020 (NBS final verification; preliminary was 101,598.6)", "A"),
    (2021, g21, "actual_final", "GDP_nominal_final China 2021 (NBS final verification Dec 2022; CSV grade D, verify); preliminary 114,367 (GDP_nominal_preliminary 2021, A)", "D"),
    (2022, g22, "actual_preliminary", "GDP_nominal_preliminary China 2022 (NBS 2023-01-17, A); final 120,472.4 (GDP_nominal_final 2022, D) not used", "A"),
    (2023, g23_pre, "actual_preliminary", "GDP_nominal_preliminary China 2023 (NBS via Sputnik 2024-04-16); pre-census basis, used when macro.census_revision is false", "A"),
    (2023, g23, "census_revised", "GDP_nominal_census_revised China 2023 (NBS 5th economic census, +3.4 trn / +2.7% over preliminary 126,058). LEVEL BREAK: 2020-2022 rows are on the pre-census basis; growth 2022->2023 in this table (6.9%) mixes real growth and the revision", "A"),
    (2024, g24, "actual_preliminary", "GDP_nominal_preliminary China 2024 (NBS 2025-01-17; on the census-revised basis)", "A"),
    (2025, g25, "projected", f"PROJECTED: 2024 x (1 + {NOM25*100:.1f}%) nominal = {g24:.1f} x {1+NOM25:.2f}; assumption: ~5% real growth with a negative GDP deflator as in 2024 (nominal 2024/2023 = {100*(g24/g23-1):.1f}%). Replace with the NBS figure when used", "D"),
]
with open(os.path.join(OUT, "gdp.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["year", "gdp_bn_yuan", "kind", "source", "grade"])
    for y, v, k, s_, gr in gdp_rows:
        w.writerow([y, f"{v:.1f}", k, s_, gr])

# ---------------------------------------------------------- export controls
E = None
ec = [
    ("2019-05-16", "huawei_entity_list", "Huawei and 68 affiliates added to the Entity List",
     E, E, E, E, "huawei", 0.95, "tighten",
     "BIS Entity List rule (announced 2019-05-15, effective 2019-05-16; B, memory). Licence needed for any EAR item to Huawei; ordinary firms unaffected (availabilities unchanged). foreign_knowledge 0.95: chilling of collaboration with listed Chinese firms (judgement D)."),
    ("2019-06-21", "supercomputing_entity_list", "Sugon, Higon and Wuxi Jiangnan computing institute added to the Entity List",
     E, E, E, E, "sugon", E, "tighten",
     "Not in MODEL_BRIEF: added so that Sugon's listing is on record. BIS added 5 entities (Sugon, Higon, two Chengdu Haiguang units, Wuxi Jiangnan Institute of Computing Technology), effective 2019-06-24 (B, memory). No change for ordinary firms."),
    ("2019-10-07", "surveillance_ai_entity_list", "28 Chinese surveillance/AI entities added to the Entity List",
     E, E, E, E, "hikvision;dahua;iflytek;sensetime;megvii", 0.90, "tighten",
     "entity_list_additions_surveillance_AI 2019 (CSV A): Hikvision, Dahua, iFlytek, SenseTime, Megvii, Yitu, Meiya Pico, Yixin + 20 Xinjiang bodies; effective 2019-10-09. Listed firms lose US chips (e.g. Intel/Nvidia for servers); others unchanged. foreign_knowledge 0.90 (D)."),
    ("2020-05-15", "huawei_fdpr_designs", "Foreign-direct-product rule on Huawei/HiSilicon designs",
     E, E, E, E, E, E, "tighten",
     "BIS FDP-rule amendment (B, memory): foreign-made chips produced from Huawei/HiSilicon designs with US tools need a licence (cuts Huawei off TSMC after a 120-day grace). Huawei-specific; ordinary firms unchanged."),
    ("2020-08-17", "huawei_fdpr_expanded", "FDP rule extended to any chip destined for Huawei; 38 affiliates listed",
     E, E, E, E, E, 0.85, "tighten",
     "entity_list_additions_Huawei_affiliates 2020 (CSV A): licence for any foreign-made item made with US technology when Huawei is a party; the 38 affiliates are Huawei (no new firm_id). Ordinary firms unchanged. foreign_knowledge 0.85: cumulative decoupling incl. US visa Proclamation 10043 (2020-05-29) (D)."),
    ("2020-12-18", "smic_entity_list", "SMIC and 10 affiliates added to the Entity List (77 entities)",
     E, E, E, E, "smic", E, "tighten",
     "entity_list_additions_incl_SMIC 2020 (CSV A): presumption of denial for items uniquely required for <=10nm, case-by-case otherwise. Hits SMIC's tool imports; other fabs' imports unchanged (equipment availability for ordinary firms unchanged)."),
    ("2022-10-07", "advanced_computing_sme_rule", "Advanced computing and semiconductor manufacturing equipment rule",
     0.60, E, 0.85, 0.45, E, 0.75, "tighten",
     "BIS 87 FR 62186 (CSV A): licence for chips above 4,800 TOPS x bit-length with >600 GB/s interconnect (A100/H100) and for tools for logic <=16/14nm, DRAM <=18nm half-pitch, NAND >=128 layers; US persons barred from supporting such fabs; 31 parties incl. YMTC to the Unverified List. Judgement (D): frontier_ai 0.60 because A800/H800 variants stayed legal; advanced_foundry 0.85 (foundries wary of Chinese AI designs); equipment 0.45 (advanced-node tools and US engineers withdrawn); foreign_knowledge 0.75 (US-persons rule)."),
    ("2022-12-15", "ymtc_entity_list", "YMTC, Cambricon and 34 others added to the Entity List",
     E, E, E, E, "ymtc", E, "tighten",
     "Not in MODEL_BRIEF: added so that YMTC's listing is on record. BIS added 36 Chinese entities incl. YMTC and Cambricon (B, memory). No change for ordinary firms."),
    ("2023-03-02", "inspur_loongson_entity_list", "Inspur Group units, Loongson and others added to the Entity List",
     E, E, E, E, "inspur", E, "tighten",
     "Not in MODEL_BRIEF: added so that Inspur's listing is on record. BIS added 28 Chinese entities incl. Inspur Group subsidiaries and Loongson (D, memory: verify the exact Inspur entities). No change for ordinary firms."),
    ("2023-10-17", "ai_chip_rule_update", "Update of the advanced computing and SME rules; Biren and Moore Threads listed",
     0.25, E, 0.70, 0.35, E, 0.70, "tighten",
     "entity_list_additions_AI_chip 2023 (CSV A): performance-density thresholds close the A800/H800 gap (only the cut-down H20 class remains), more tool types and subsidiaries of Chinese firms abroad covered, 13 entities incl. Biren and Moore Threads (not in named_firms: no 2020 revenue). Judgement (D): frontier_ai 0.25, advanced_foundry 0.70 (TSMC stops Chinese AI designs), equipment 0.35, foreign_knowledge 0.70."),
    ("2024-12-02", "hbm_sme_rule", "HBM controls, 24 tool types and 3 software tools, 140 entities",
     E, 0.20, E, 0.25, E, 0.65, "tighten",
     "entity_list_additions 2024 and SME_types_newly_controlled 2024 (CSV A): stand-alone HBM (HBM2E and above) needs a licence; 24 SME types + 3 EDA/software tools; FDP rule widened; 140 entities (mostly tool makers and fabs, none in named_firms). Judgement (D): hbm 0.20, equipment 0.25, foreign_knowledge 0.65."),
    ("2025-01-15", "foundry_due_diligence_rule", "Foundry due-diligence rule for advanced computing chips",
     E, E, 0.50, E, E, E, "tighten",
     "Not in MODEL_BRIEF: added (B/D, memory). Foundries must presume chips at <=16/14nm with >=30 bn transistors are controlled unless designer and packager are approved. Judgement (D): advanced_foundry 0.50."),
    ("2025-04-15", "h20_licence_requirement", "Licence requirement imposed on Nvidia H20-class exports",
     0.10, E, E, E, E, E, "tighten",
     "Not in MODEL_BRIEF: added (B, memory: Nvidia 8-K 2025-04-15 said the US government required a licence for H20 indefinitely). Judgement (D): frontier_ai 0.10 (stocks, grey imports and cloud access only)."),
    ("2025-07-14", "h20_licences_resumed", "US signals H20 licences will be granted",
     0.20, E, E, E, E, E, "loosen",
     "Not in MODEL_BRIEF: added (B/D, memory: Nvidia statement 2025-07-14; licences granted from August 2025). Chinese regulators then discouraged H20 purchases, so the rise is partial. Judgement (D): frontier_ai 0.20."),
    ("2026-01-15", "h200_case_by_case", "Case-by-case licensing of H200-class chips",
     0.40, 0.30, E, E, E, 0.67, "loosen",
     "Date and content from MODEL_BRIEF (not verified here). H200 (HBM3e on package) licensable case by case: frontier_ai 0.40; hbm 0.30 because HBM arrives inside GPU packages while stand-alone HBM stays controlled; foreign_knowledge 0.67 (judgement D)."),
]
with open(os.path.join(OUT, "export_controls.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["date", "event_id", "name", "avail_frontier_ai", "avail_hbm", "avail_advanced_foundry",
                "avail_equipment", "entity_list_add", "foreign_knowledge", "direction", "source"])
    for row in ec:
        w.writerow(["" if v is None else (f"{v:.2f}" if isinstance(v, float) else v) for v in row])
print("written", OUT)
