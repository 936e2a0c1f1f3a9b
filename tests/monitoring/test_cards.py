"""Cards: Chinese PDFs with the CJK font embedded; three copies with receipts; the missing-card query."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest

from subsidence.errors import Conflict, ValidationFailed
from subsidence.monitoring import cards as C
from subsidence.monitoring import hazards as H

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
    reason="poppler-utils (pdftotext/pdffonts) not installed",
)


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_fonts(path) -> str:
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def households(session, hazard):
    hs = [
        H.add_household(
            session, hazard, code=f"HH-{i:03d}", people=p, head_role="户主", house_type="砖混", property_10k_yuan=30.0
        )
        for i, p in enumerate((4, 3, 5), start=1)
    ]
    session.flush()
    return hs


def test_danger_grade_and_counts_follow_households(session, hazard, households):
    assert hazard.threatened_households == 3 and hazard.threatened_people == 12
    assert hazard.danger_grade == "IV"  # 12 people, 3 M yuan
    H.upsert_hazard(session, {"code": hazard.code, "threatened_property_10k_yuan": 600.0})
    assert hazard.danger_grade == "III"  # 6 M yuan ≥ 5 M
    H.upsert_hazard(session, {"code": hazard.code, "people_to_relocate": 520})
    assert hazard.danger_grade == "II"
    with pytest.raises(ValidationFailed, match="unknown fields"):
        H.upsert_hazard(session, {"code": hazard.code, "danger_grade": "I"})  # derived, never typed in


@needs_poppler
def test_work_card_pdf_has_chinese_and_embedded_font(session, hazard, households, sensors, tmp_path):
    card = C.issue_work_card(
        session, "HP-T-001", issuing_unit="伊金霍洛旗自然资源局", out_dir=tmp_path, issued=date(2025, 6, 1)
    )
    text = pdf_text(card.pdf_path)
    for needle in (
        "地质灾害防灾工作明白卡",
        "测试村北侧滑坡",
        "滑坡",
        "降雨、采动",
        "3 户 12 人",
        "村委会主任",
        "13800000001",
        "鸣锣",
        "沿村道向南撤至村委会广场",
        "村委会广场",
        "旗应急管理局救援队",
        "险情等级",
    ):
        assert needle in text, needle
    assert "GNSS-01" not in text, "sensor numbers stay in the register (issue 16: no internal codes on cards)"
    fonts = pdf_fonts(card.pdf_path)
    assert "CJK" in fonts and " yes " in fonts  # embedded
    assert "\ufffd" not in text and "□" not in text


@needs_poppler
def test_household_cards_three_copies_receipts_and_missing_query(session, hazard, households, tmp_path):
    missing = C.households_missing_cards(session)
    assert [m["household"] for m in missing] == ["HH-001", "HH-002", "HH-003"]
    assert {m["status"] for m in missing} == {"no_card"}
    cards = C.issue_missing_household_cards(
        session, "HP-T-001", issuing_unit="某镇人民政府", out_dir=tmp_path, issued=date(2025, 6, 1)
    )
    assert len(cards) == 3 and all(len(c.copies) == 3 for c in cards)
    text = pdf_text(cards[0].pdf_path)
    for needle in (
        "地质灾害防灾避险明白卡",
        "住户留存",
        "村委会留存",
        "发卡单位留存",
        "户主姓名",
        "家庭人数",
        "签收",
        "鸣锣",
    ):
        assert needle in text, needle
    assert "HH-001" not in text and "HP-T-001" not in text, "no internal codes on the household's card"
    assert "CJK" in pdf_fonts(cards[0].pdf_path)
    assert text.count("\f") == 3  # one page per copy
    assert {m["status"] for m in C.households_missing_cards(session)} == {"not_signed"}
    C.record_receipt(session, cards[0].code, "household", signed_by="户主")
    C.record_receipt(session, cards[0].code, "village", signed_by="村委会文书")
    with pytest.raises(Conflict, match="already signed"):
        C.record_receipt(session, cards[0].code, "household", signed_by="户主")
    with pytest.raises(ValidationFailed):
        C.record_receipt(session, cards[0].code, "neighbour", signed_by="x")
    left = C.households_missing_cards(session, hazard_code="HP-T-001")
    assert [m["household"] for m in left] == ["HH-002", "HH-003"]
    st = C.card_status(session, cards[0].code)
    assert [c["signed_by"] for c in st["copies"]] == ["户主", "村委会文书", None]
    # re-issue (e.g. new route): the old card is superseded and the household needs to sign again
    new = C.issue_household_card(session, "HH-001", issuing_unit="某镇人民政府", out_dir=tmp_path)
    assert new.version == 2
    assert "HH-001" in [m["household"] for m in C.households_missing_cards(session)]
    with pytest.raises(Conflict, match="superseded"):
        C.record_receipt(session, cards[0].code, "issuer", signed_by="x")
