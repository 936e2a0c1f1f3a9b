"""Fixed illustrative geography of the demo: banner outline, towns, mines. Approximate (±5–10 km), invented
geometry; names of real places and mines are used for orientation only and everything is marked illustrative."""

from __future__ import annotations

from dataclasses import dataclass

#: rough outline of the banner, lon/lat CGCS2000 (illustrative, not the legal boundary)
BANNER_OUTLINE_LONLAT = [
    (109.05, 39.30),
    (109.15, 39.02),
    (109.55, 38.98),
    (109.85, 39.10),
    (110.15, 39.25),
    (110.42, 39.48),
    (110.35, 39.70),
    (110.00, 39.80),
    (109.70, 39.80),
    (109.45, 39.68),
    (109.15, 39.55),
]
BANNER_CODE = "150627"


@dataclass(frozen=True)
class TownSeed:
    code: str
    name_zh: str
    name_en: str
    lat: float
    lon: float


TOWNS = [
    TownSeed("T-ALTX", "阿勒腾席热镇", "Altan Xire", 39.60, 109.74),
    TownSeed("T-EJHR", "伊金霍洛镇", "Ejin Horo", 39.37, 109.78),
    TownSeed("T-WLML", "乌兰木伦镇", "Wulanmulun", 39.45, 110.05),
    TownSeed("T-ZSK", "札萨克镇", "Zhasake", 39.12, 109.58),
    TownSeed("T-HQH", "红庆河镇", "Hongqinghe", 39.35, 109.38),
    TownSeed("T-SBEG", "苏布尔嘎镇", "Subuerga", 39.15, 109.30),
    TownSeed("T-NLTH", "纳林陶亥镇", "Nalintaohai", 39.57, 110.24),
]


@dataclass(frozen=True)
class MineSeed:
    key: str  #: short key used in licence numbers and panel codes
    name_zh: str
    name_en: str
    town: str  #: town code near which the mine lies
    dx_km: float  #: offset of the mining-right centre from the town centre, east
    dy_km: float  #: ... north
    enterprise: str  #: enterprise key
    capacity_mt: float


MINES = [
    MineSeed("BLT", "补连塔煤矿（示例）", "Bulianta mine (illustrative)", "T-WLML", -8, -4, "SD", 28.0),
    MineSeed("SW", "上湾煤矿（示例）", "Shangwan mine (illustrative)", "T-WLML", 2, 6, "SD", 16.0),
    MineSeed("SGT", "石圪台煤矿（示例）", "Shigetai mine (illustrative)", "T-WLML", 8, -3, "SD", 12.0),
    MineSeed("LT", "柳塔煤矿（示例）", "Liuta mine (illustrative)", "T-WLML", -6, 6, "SD", 3.0),
    MineSeed("CCT", "寸草塔煤矿（示例）", "Cuncaota mine (illustrative)", "T-WLML", 0, -10, "SD2", 2.4),
    MineSeed("BET", "布尔台煤矿（示例）", "Buertai mine (illustrative)", "T-WLML", 11, 8, "SD2", 20.0),
    MineSeed("NL1", "纳林陶亥一号煤矿（示例）", "Nalintaohai No.1 mine (illustrative)", "T-NLTH", -3, 0, "NL", 4.0),
    MineSeed("NL2", "纳林陶亥二号煤矿（示例）", "Nalintaohai No.2 mine (illustrative)", "T-NLTH", 6, 3, "NL", 3.0),
    MineSeed("HQH", "红庆河煤矿（示例）", "Hongqinghe mine (illustrative)", "T-HQH", 0, 0, "HQ", 15.0),
    MineSeed("HQ2", "红庆河二号煤矿（示例）", "Hongqinghe No.2 mine (illustrative)", "T-HQH", -9, 3, "HQ", 5.0),
    MineSeed("CHS", "察哈素煤矿（示例）", "Chahasu mine (illustrative)", "T-ZSK", 0, 0, "CH", 10.0),
    MineSeed("ZSK", "札萨克一号煤矿（示例）", "Zhasake No.1 mine (illustrative)", "T-ZSK", 9, 3, "CH", 6.0),
]

ENTERPRISES = {
    "SD": ("91150627DEMO00001A", "示例神东煤炭公司（示例）", "Illustrative Shendong Coal Co."),
    "SD2": ("91150627DEMO00002B", "示例布尔台能源公司（示例）", "Illustrative Buertai Energy Co."),
    "NL": ("91150627DEMO00003C", "示例纳林能源公司（示例）", "Illustrative Nalin Energy Co."),
    "HQ": ("91150627DEMO00004D", "示例红庆河能源公司（示例）", "Illustrative Hongqinghe Energy Co."),
    "CH": ("91150627DEMO00005E", "示例察哈素煤业公司（示例）", "Illustrative Chahasu Coal Co."),
}

#: banner departments and the office (docs/domain.md §2); the office sits in the Natural Resources Bureau
UNITS = [
    ("LGO", "采煤沉陷区专项整治行动领导小组办公室", "Leading-group office", "office"),
    ("NRB", "旗自然资源局", "Natural Resources Bureau", "bureau"),
    ("AWB", "旗农牧和水利局", "Agriculture, Animal Husbandry and Water Bureau", "bureau"),
    ("ENB", "旗能源局", "Energy Bureau", "bureau"),
    ("EEB", "市生态环境局伊金霍洛旗分局", "Ecological Environment Branch", "bureau"),
    ("FGB", "旗林业和草原局", "Forestry and Grassland Bureau", "bureau"),
    ("EMB", "旗应急管理局", "Emergency Management Bureau (mine-safety supervision)", "bureau"),
    ("FIN", "旗财政局", "Finance Bureau", "bureau"),
    ("MSC", "旗矿区生态移民服务中心", "Mining-area Ecological Migration Service Centre", "centre"),
]

#: the seven tasks: (lead unit codes, cooperating unit codes); "TOWNS" means every town government
TASKS = {
    1: (["NRB"], ["TOWNS", "EMB", "EEB"]),
    2: (["NRB"], ["FIN", "EEB"]),
    3: (["TOWNS"], ["NRB"]),
    4: (["TOWNS", "MSC", "EMB"], []),
    5: (["AWB", "EEB"], ["TOWNS"]),
    6: (["NRB"], ["TOWNS", "EMB"]),
    7: (["EMB"], ["ENB", "TOWNS"]),
}
