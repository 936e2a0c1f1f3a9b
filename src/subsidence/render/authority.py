"""Who issues a document, and the agency codes (机关代字) printed in document numbers.

Documents that order or refuse (限期整改通知书, 不予受理告知书, 督办通知 to an enterprise) are issued by the
competent administrative authority — the task's lead unit — never by the leading-group office, which is a
coordinating body without power to order rectification (《中华人民共和国行政处罚法》第十七条 and
《中华人民共和国行政许可法》第二十二条: powers are exercised by the organ that holds them by law).
The office issues reports upward and supervision notices to member units.

Defaults that could not be verified (listed in the issue note; the county's 机关代字 register settles them):
the 机关代字 in :data:`AGENCY_CODES`.
"""

from __future__ import annotations

from subsidence.vocabulary import ProblemCategory

BANNER = "伊金霍洛旗"

#: printed name (after the banner prefix) → 机关代字 used before 〔year〕 (illustrative defaults, see module doc)
AGENCY_CODES = {
    "自然资源局": "伊自然资",
    "应急管理局": "伊应急",
    "农牧和水利局": "伊农水",
    "林业和草原局": "伊林草",
    "能源局": "伊能源",
    "财政局": "伊财",
    "矿区生态移民服务中心": "伊移民",
    "采煤沉陷区专项整治行动领导小组办公室": "伊采沉办",
    "采煤沉陷区综合治理工作领导小组办公室": "伊采沉办",
}

#: competent authority by task when the problem has no lead unit of its own (DOMAIN.md §3; the lead unit)
CATEGORY_AUTHORITY: dict[ProblemCategory, str] = {
    ProblemCategory.SUBSIDENCE_CRACKS: "自然资源局",
    ProblemCategory.FUNDS: "自然资源局",
    ProblemCategory.VEGETATION: "林业和草原局",
    ProblemCategory.BUILDINGS: "自然资源局",
    ProblemCategory.GROUNDWATER: "农牧和水利局",
    ProblemCategory.GEOHAZARDS: "自然资源局",
    ProblemCategory.MINE_HAZARDS: "应急管理局",
}

OFFICE_WORDS = ("领导小组办公室", "领导小组")


def full_name(name: str, banner: str = BANNER) -> str:
    """ "旗自然资源局" → "伊金霍洛旗自然资源局"; names that already carry the banner (or a city) are kept."""
    name = name.strip()
    if name.startswith(banner + "旗"):  # "伊金霍洛旗" + "旗自然资源局" joined naively
        return banner + name[len(banner) + 1 :]
    if name.startswith((banner, "市")):
        return name
    if name.startswith("旗"):
        return banner + name[1:]
    return banner + name


def short_name(name: str, banner: str = BANNER) -> str:
    """The name without the banner prefix ("伊金霍洛旗自然资源局" → "自然资源局")."""
    name = name.strip()
    for prefix in (banner, "旗"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def is_office(name: str) -> bool:
    return any(w in name for w in OFFICE_WORDS)


def agency_code(name: str) -> str:
    """The 机关代字 of an authority (its printed name with or without the banner)."""
    short = short_name(name)
    if short in AGENCY_CODES:
        return AGENCY_CODES[short]
    for key, code in AGENCY_CODES.items():
        if key in short:
            return code
    return "伊" + short[:2]


def competent_authority(
    category: ProblemCategory | str | None,
    lead_unit_name: str | None = None,
    lead_unit_kind: str | None = None,
    town_name: str | None = None,
    banner: str = BANNER,
) -> str:
    """The authority that orders rectification of a problem: its lead unit when that is a bureau or a town
    government, else the lead unit of its task (:data:`CATEGORY_AUTHORITY`); never the office."""
    if lead_unit_name and lead_unit_kind in ("bureau", "town") and not is_office(lead_unit_name):
        return full_name(lead_unit_name, banner)
    if lead_unit_kind == "town" and town_name:
        return full_name(town_name, banner) + "人民政府"
    cat = category if isinstance(category, ProblemCategory) or category is None else ProblemCategory(category)
    return full_name(CATEGORY_AUTHORITY.get(cat, "自然资源局") if cat is not None else "自然资源局", banner)
