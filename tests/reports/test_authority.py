"""Who issues what: ordering documents go out in the competent authority's name, never the office's."""

from __future__ import annotations

from subsidence.render import authority as A
from subsidence.vocabulary import ProblemCategory


def test_lead_bureau_issues():
    assert A.competent_authority(ProblemCategory.FUNDS, "旗自然资源局", "bureau") == "伊金霍洛旗自然资源局"
    assert A.competent_authority(ProblemCategory.MINE_HAZARDS, "旗应急管理局", "bureau") == "伊金霍洛旗应急管理局"


def test_office_lead_falls_back_to_the_tasks_authority():
    office = "采煤沉陷区专项整治行动领导小组办公室"
    assert A.competent_authority(ProblemCategory.GROUNDWATER, office, "office") == "伊金霍洛旗农牧和水利局"
    assert A.competent_authority(ProblemCategory.MINE_HAZARDS, None, None) == "伊金霍洛旗应急管理局"
    assert not A.is_office(A.competent_authority(ProblemCategory.SUBSIDENCE_CRACKS, office, "office"))


def test_names_and_codes():
    assert A.full_name("旗自然资源局") == "伊金霍洛旗自然资源局"
    assert A.full_name("伊金霍洛旗旗自然资源局") == "伊金霍洛旗自然资源局", "a naively joined banner prefix"
    assert A.full_name("市生态环境局伊金霍洛旗分局") == "市生态环境局伊金霍洛旗分局"
    assert A.agency_code("伊金霍洛旗自然资源局") == "伊自然资"
    assert A.agency_code("伊金霍洛旗采煤沉陷区综合治理工作领导小组办公室") == "伊采沉办"
